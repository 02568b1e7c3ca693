// Every vector of http2-frame-test-case (the shared fixtures): normal cases decode to the expected
// fields and re-encode to the same bytes; error cases give a code from the allowed list. Each
// vector is also decoded byte by byte and split at random points, with identical results.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "protocol/frame/frame_decoder.h"
#include "protocol/frame/frame_writer.h"
#include "tests/protocol/frame_recorder.h"
#include "tests/support/fixtures.h"

namespace h2::protocol {
namespace {

using nlohmann::json;
using test::DecodedFrame;
using test::FrameRecorder;

struct Vector {
  std::string name;
  json doc;
  std::string wire;
};

std::vector<Vector> load_vectors() {
  std::filesystem::path dir = test::fixtures_dir() / "http2-frame-test-case";
  std::vector<Vector> vectors;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    json doc = json::parse(test::read_file(entry.path()));
    std::string wire = test::from_hex(doc.at("wire").get<std::string>());
    vectors.push_back({std::filesystem::relative(entry.path(), dir).string(), doc, wire});
  }
  std::sort(vectors.begin(), vectors.end(),
            [](const Vector& a, const Vector& b) { return a.name < b.name; });
  return vectors;
}

bool is_error_case(const Vector& v) {
  return !v.doc.at("error").is_null();
}

struct Outcome {
  std::vector<DecodedFrame> frames;
  std::optional<ErrorCode> error;
  size_t consumed = 0;
  bool operator==(const Outcome&) const = default;
};

// Decodes `wire` fed in the pieces that `cuts` (sorted offsets) delimit.
Outcome decode(std::string_view wire, const std::vector<size_t>& cuts = {}) {
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  Outcome outcome;
  size_t begin = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(wire.size());
  for (size_t end : ends) {
    outcome.consumed += decoder.process_bytes(wire.substr(begin, end - begin));
    begin = end;
  }
  outcome.frames = recorder.frames;
  outcome.error = recorder.error_code();
  return outcome;
}

std::string field_string(const json& payload, const char* key) {
  const json& value = payload.at(key);
  return value.is_null() ? std::string() : value.get<std::string>();
}

// Checks the decoded frame against the vector's "frame" object (RFC 9113 §6 field by field).
void expect_fields(const DecodedFrame& got, const json& frame) {
  EXPECT_EQ(got.header.length, frame.at("length").get<uint32_t>());
  EXPECT_EQ(static_cast<int>(got.header.type), frame.at("type").get<int>());
  EXPECT_EQ(got.header.flags, frame.at("flags").get<int>());
  EXPECT_EQ(got.header.stream_id, frame.at("stream_identifier").get<uint32_t>());
  EXPECT_TRUE(got.complete);
  const json& p = frame.at("frame_payload");
  if (p.contains("padding_length")) {
    if (p.at("padding_length").is_null()) {
      EXPECT_FALSE(got.header.has(flags::kPadded));
    } else if (got.header.type == FrameType::kData) {
      ASSERT_TRUE(got.padding_and_pad_length.has_value());
      EXPECT_EQ(*got.padding_and_pad_length, p.at("padding_length").get<uint32_t>() + 1);
    } else {
      // HEADERS / PUSH_PROMISE: the padding is what the length leaves after the other fields.
      EXPECT_TRUE(got.header.has(flags::kPadded));
      size_t fixed = 1 + (got.priority ? kPrioritySpecSize : 0) +
                     (got.header.type == FrameType::kPushPromise ? 4 : 0);
      EXPECT_EQ(got.header.length - fixed - got.payload.size(),
                p.at("padding_length").get<uint32_t>());
    }
  }
  switch (got.header.type) {
    case FrameType::kData:
      EXPECT_EQ(got.payload, p.at("data").get<std::string>());
      break;
    case FrameType::kHeaders:
    case FrameType::kPushPromise:
    case FrameType::kContinuation:
      EXPECT_EQ(got.payload, p.at("header_block_fragment").get<std::string>());
      if (p.contains("promised_stream_id")) {
        EXPECT_EQ(got.promised_stream_id, p.at("promised_stream_id").get<uint32_t>());
      }
      if (got.header.type != FrameType::kHeaders) break;
      [[fallthrough]];
    case FrameType::kPriority:
      if (p.at("stream_dependency").is_null()) {
        EXPECT_FALSE(got.priority.has_value());
      } else {
        ASSERT_TRUE(got.priority.has_value());
        EXPECT_EQ(got.priority->stream_dependency, p.at("stream_dependency").get<uint32_t>());
        // The vectors give the weight as 1..256; the wire octet is weight - 1 (RFC 9113 §6.3).
        EXPECT_EQ(got.priority->weight + 1, p.at("weight").get<int>());
        EXPECT_EQ(got.priority->exclusive, p.at("exclusive").get<bool>());
      }
      break;
    case FrameType::kRstStream:
      EXPECT_EQ(got.code, p.at("error_code").get<uint32_t>());
      break;
    case FrameType::kSettings: {
      std::vector<Setting> expected;
      for (const json& pair : p.at("settings")) {
        expected.push_back({pair.at(0).get<uint16_t>(), pair.at(1).get<uint32_t>()});
      }
      EXPECT_EQ(got.settings, expected);
      break;
    }
    case FrameType::kPing: {
      std::string opaque = p.at("opaque_data").get<std::string>();
      ASSERT_EQ(opaque.size(), 8u);
      uint64_t expected = 0;
      for (unsigned char c : opaque) expected = expected << 8 | c;
      EXPECT_EQ(got.ping, expected);
      break;
    }
    case FrameType::kGoaway:
      EXPECT_EQ(got.id, p.at("last_stream_id").get<uint32_t>());
      EXPECT_EQ(got.code, p.at("error_code").get<uint32_t>());
      EXPECT_EQ(got.payload, p.at("additional_debug_data").get<std::string>());
      break;
    case FrameType::kWindowUpdate:
      EXPECT_EQ(got.increment, p.at("window_size_increment").get<uint32_t>());
      break;
    default:
      ADD_FAILURE() << "unexpected frame type in a normal vector";
      break;
  }
}

// Re-encodes a decoded frame with the writer. The decoder strips padding, so its content (non-zero
// in the vectors) comes from the vector; its length comes from the decoded frame.
std::string encode(const DecodedFrame& f, const json& payload) {
  std::string out;
  const FrameHeader& h = f.header;
  std::optional<Padding> padding;
  std::string pad_content = payload.contains("padding") ? field_string(payload, "padding") : "";
  if (h.has(flags::kPadded))
    padding = Padding{static_cast<uint8_t>(pad_content.size()), pad_content};
  switch (h.type) {
    case FrameType::kData:
      write_data(out, h.stream_id, f.payload, h.has(flags::kEndStream), padding);
      break;
    case FrameType::kHeaders:
      write_headers(out, h.stream_id, f.payload, h.has(flags::kEndStream),
                    h.has(flags::kEndHeaders), f.priority, padding);
      break;
    case FrameType::kPushPromise:
      write_push_promise(out, h.stream_id, f.promised_stream_id, f.payload,
                         h.has(flags::kEndHeaders), padding);
      break;
    case FrameType::kContinuation:
      write_continuation(out, h.stream_id, f.payload, h.has(flags::kEndHeaders));
      break;
    case FrameType::kPriority:
      write_priority(out, h.stream_id, *f.priority);
      break;
    case FrameType::kRstStream:
      write_rst_stream(out, h.stream_id, static_cast<ErrorCode>(f.code));
      break;
    case FrameType::kSettings:
      if (h.has(flags::kAck)) {
        write_settings_ack(out);
      } else {
        write_settings(out, f.settings);
      }
      break;
    case FrameType::kPing:
      write_ping(out, f.ping, h.has(flags::kAck));
      break;
    case FrameType::kGoaway:
      write_goaway(out, f.id, static_cast<ErrorCode>(f.code), f.payload);
      break;
    case FrameType::kWindowUpdate:
      write_window_update(out, h.stream_id, f.increment);
      break;
    default:
      break;
  }
  return out;
}

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> all = load_vectors();
  return all;
}

TEST(FrameFixtureTest, AllVectorsArePresent) {
  size_t normal = 0, errors = 0;
  for (const Vector& v : vectors()) (is_error_case(v) ? errors : normal)++;
  EXPECT_EQ(normal, 12u);
  EXPECT_EQ(errors, 22u);
  EXPECT_EQ(vectors().size(), 34u);
}

// RFC 9113 §4.1, §6: decode, compare with "frame", re-encode, compare with "wire".
TEST(FrameFixtureTest, NormalVectorsDecodeAndReencode) {
  size_t checked = 0;
  for (const Vector& v : vectors()) {
    if (is_error_case(v)) continue;
    SCOPED_TRACE(v.name);
    Outcome outcome = decode(v.wire);
    EXPECT_EQ(outcome.consumed, v.wire.size());
    EXPECT_FALSE(outcome.error.has_value());
    ASSERT_EQ(outcome.frames.size(), 1u);
    const json& frame = v.doc.at("frame");
    expect_fields(outcome.frames[0], frame);
    EXPECT_EQ(test::to_hex(encode(outcome.frames[0], frame.at("frame_payload"))),
              test::to_hex(v.wire));
    ++checked;
  }
  EXPECT_EQ(checked, 12u);
}

// The one error vector the frame layer passes through by contract: a WINDOW_UPDATE with increment
// 0 is a stream error on a stream and a connection error on stream 0 (RFC 9113 §6.9), which only
// the connection can tell apart; both use PROTOCOL_ERROR. The connection's side is tested in
// connection_flow_control_test.cc (Rfc9113_6_9 ZeroIncrement*).
bool is_zero_window_increment(const Outcome& outcome) {
  return !outcome.error && outcome.frames.size() == 1 &&
         outcome.frames[0].header.type == FrameType::kWindowUpdate &&
         outcome.frames[0].increment == 0;
}

TEST(FrameFixtureTest, ErrorVectorsGiveAnAllowedCode) {
  size_t judged_here = 0, passed_to_connection = 0;
  for (const Vector& v : vectors()) {
    if (!is_error_case(v)) continue;
    SCOPED_TRACE(v.name);
    std::vector<int> allowed = v.doc.at("error").get<std::vector<int>>();
    Outcome outcome = decode(v.wire);
    if (is_zero_window_increment(outcome)) {
      EXPECT_EQ(v.name, "error/window_update-frame-increment.json");
      EXPECT_NE(
          std::find(allowed.begin(), allowed.end(), static_cast<int>(ErrorCode::kProtocolError)),
          allowed.end());
      ++passed_to_connection;
      continue;
    }
    ASSERT_TRUE(outcome.error.has_value()) << "no error for " << v.doc.at("description");
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), static_cast<int>(*outcome.error)),
              allowed.end())
        << "got " << error_code_name(*outcome.error);
    // An erroneous frame is never completed: errors seen in the header come before
    // on_frame_header, errors in the fixed fields (padding, promised id) right after it.
    EXPECT_LE(outcome.frames.size(), 1u);
    for (const DecodedFrame& f : outcome.frames) EXPECT_FALSE(f.complete);
    ++judged_here;
  }
  EXPECT_EQ(judged_here, 21u);
  EXPECT_EQ(passed_to_connection, 1u);
}

// RFC 9113 §4.2: "data-frame-size" announces 32768 > 16384; the error comes with the 9th byte.
TEST(FrameFixtureTest, OversizeVectorJudgedAfterNineBytes) {
  const Vector* oversize = nullptr;
  for (const Vector& v : vectors()) {
    if (v.name == "error/data-frame-size.json") oversize = &v;
  }
  ASSERT_NE(oversize, nullptr);
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(oversize->wire.substr(0, 8)), 8u);
  EXPECT_TRUE(recorder.errors.empty());
  EXPECT_EQ(decoder.process_bytes(oversize->wire.substr(8, 1)), 1u);
  ASSERT_EQ(recorder.error_code(), ErrorCode::kFrameSizeError);
  EXPECT_TRUE(decoder.has_error());
  EXPECT_EQ(decoder.process_bytes(oversize->wire.substr(9)), 0u);
}

TEST(FrameFixtureTest, EveryVectorByteByByteMatchesWholeDecode) {
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(v.name);
    std::vector<size_t> cuts;
    for (size_t i = 1; i < v.wire.size(); ++i) cuts.push_back(i);
    EXPECT_EQ(decode(v.wire, cuts), decode(v.wire));
  }
}

TEST(FrameFixtureTest, EveryVectorSplitAtRandomPointsMatchesWholeDecode) {
  std::mt19937 rng(20261125);
  size_t runs = 0;
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(v.name);
    Outcome whole = decode(v.wire);
    for (int round = 0; round < 50; ++round) {
      std::uniform_int_distribution<size_t> count(1, 4), at(0, v.wire.size());
      std::vector<size_t> cuts;
      for (size_t i = count(rng); i > 0; --i) cuts.push_back(at(rng));
      std::sort(cuts.begin(), cuts.end());
      EXPECT_EQ(decode(v.wire, cuts), whole);
      ++runs;
    }
  }
  EXPECT_EQ(runs, 34u * 50u);
}

// All normal vectors back to back in one stream: frame boundaries inside one input.
TEST(FrameFixtureTest, ConcatenatedNormalVectorsDecodeInOrder) {
  std::string stream;
  std::vector<DecodedFrame> expected;
  for (const Vector& v : vectors()) {
    if (is_error_case(v)) continue;
    stream += v.wire;
    expected.push_back(decode(v.wire).frames.at(0));
  }
  Outcome all = decode(stream);
  EXPECT_EQ(all.consumed, stream.size());
  EXPECT_EQ(all.frames, expected);
}

}  // namespace
}  // namespace h2::protocol
