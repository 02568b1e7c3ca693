// A deterministic in-memory runtime for ServerConnection tests: a scripted client writes frames
// (FrameBuilder + its own HPACK encoder), the connection's output is pulled like a socket writer
// would and decoded back into frames with our FrameDecoder and HPACK decoder.
//
// Every script runs several times (H2_SCRIPT_TEST): input fed whole, then split at random points
// (fixed seeds) with output also pulled in random-sized partial writes. Scripts must therefore be
// deterministic given the same frames.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hpack/decoder.h"
#include "hpack/encoder.h"
#include "protocol/frame/frame_decoder.h"
#include "protocol/server_connection.h"
#include "tests/protocol/support/frame_builder.h"

namespace h2::test {

using protocol::ErrorCode;
using protocol::FrameType;
namespace flags = protocol::flags;

using Fields = std::vector<std::pair<std::string, std::string>>;

// One frame the server sent. Header blocks (HEADERS/PUSH_PROMISE + CONTINUATION) are one entry.
struct OutFrame {
  protocol::FrameHeader h{};
  std::string data;            // DATA payload (padding stripped)
  Fields fields;               // decoded header block
  uint32_t continuations = 0;  // CONTINUATION frames in the block
  bool end_headers_seen = false;
  std::vector<protocol::Setting> settings;
  uint64_t ping = 0;
  ErrorCode code = ErrorCode::kNoError;
  uint32_t last_stream_id = 0;
  uint32_t increment = 0;
  uint32_t promised = 0;
  std::string debug;
  bool end_stream() const { return h.has(flags::kEndStream); }
  bool ack() const { return h.has(flags::kAck); }
  std::string field(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (n == name) return v;
    }
    return "<absent>";
  }
};

// Decodes the server's byte stream.
class ServerOutputDecoder : public protocol::FrameVisitor, public hpack::HeaderSink {
 public:
  ServerOutputDecoder() : decoder_(this, options()) {}
  void feed(std::string_view bytes) {
    size_t n = decoder_.process_bytes(bytes);
    EXPECT_EQ(n, bytes.size()) << "server output undecodable: " << error_;
  }
  std::vector<OutFrame> take() { return std::exchange(frames_, {}); }

  void on_data_start(const protocol::FrameHeader& h) override { frames_.push_back({h}); }
  void on_data_chunk(uint32_t, std::string_view d) override { frames_.back().data.append(d); }
  void on_data_end(const protocol::FrameHeader&) override {}
  void on_headers_start(const protocol::FrameHeader& h,
                        const std::optional<protocol::PrioritySpec>&) override {
    start_block(h);
  }
  void on_push_promise_start(const protocol::FrameHeader& h, uint32_t promised) override {
    start_block(h);
    frames_.back().promised = promised;
  }
  void on_continuation_start(const protocol::FrameHeader&) override {
    EXPECT_TRUE(in_block_) << "CONTINUATION outside a block";
    ++frames_.back().continuations;
  }
  void on_header_block_fragment(std::string_view f) override { block_.append(f); }
  void on_header_frame_end(const protocol::FrameHeader& h) override {
    if (!h.has(flags::kEndHeaders)) return;
    in_block_ = false;
    frames_.back().end_headers_seen = true;
    current_ = &frames_.back();
    hpack_.begin_block(this);
    EXPECT_EQ(hpack_.process_bytes(block_), hpack::Error::kOk);
    EXPECT_EQ(hpack_.end_block(), hpack::Error::kOk);
    block_.clear();
  }
  void on_header(std::string_view n, std::string_view v) override {
    current_->fields.emplace_back(std::string(n), std::string(v));
  }
  void on_priority(const protocol::FrameHeader& h, const protocol::PrioritySpec&) override {
    frames_.push_back({h});
  }
  void on_rst_stream(const protocol::FrameHeader& h, ErrorCode code) override {
    frames_.push_back({h});
    frames_.back().code = code;
  }
  void on_settings(const protocol::FrameHeader& h, std::span<const protocol::Setting> s) override {
    frames_.push_back({h});
    frames_.back().settings.assign(s.begin(), s.end());
  }
  void on_ping(const protocol::FrameHeader& h, uint64_t opaque) override {
    frames_.push_back({h});
    frames_.back().ping = opaque;
  }
  void on_goaway(const protocol::FrameHeader& h, uint32_t last, ErrorCode code,
                 std::string_view debug) override {
    frames_.push_back({h});
    frames_.back().last_stream_id = last;
    frames_.back().code = code;
    frames_.back().debug = std::string(debug);
  }
  void on_window_update(const protocol::FrameHeader& h, uint32_t inc) override {
    frames_.push_back({h});
    frames_.back().increment = inc;
  }
  void on_priority_update(const protocol::FrameHeader& h, uint32_t, std::string_view) override {
    ADD_FAILURE() << "servers never send PRIORITY_UPDATE (RFC 9218 §7.1)";
    frames_.push_back({h});
  }
  void on_frame_error(const protocol::FrameHeader&, ErrorCode code,
                      std::string_view reason) override {
    error_ = std::string(protocol::error_code_name(code)) + ": " + std::string(reason);
    ADD_FAILURE() << "server sent a bad frame: " << error_;
  }

 private:
  static protocol::FrameDecoderOptions options() {
    protocol::FrameDecoderOptions o;
    o.max_frame_size = protocol::kMaxAllowedFrameSize;
    return o;
  }
  void start_block(const protocol::FrameHeader& h) {
    EXPECT_FALSE(in_block_) << "header blocks interleaved";
    in_block_ = true;
    frames_.push_back({h});
    block_.clear();
  }
  protocol::FrameDecoder decoder_;
  hpack::Decoder hpack_;
  std::vector<OutFrame> frames_;
  std::string block_;
  bool in_block_ = false;
  OutFrame* current_ = nullptr;
  std::string error_;
};

// Records what the connection told the handler; `respond` decides what it does on a request.
class TestHandler : public protocol::RequestHandler {
 public:
  std::function<void(protocol::Reqd&)> respond = [](protocol::Reqd& r) {
    r.respond_with_string({200, {}}, "ok");
  };
  std::vector<protocol::Reqd> requests;
  // Abnormal ends (every StreamEnd but kCompleted): (stream id, code).
  std::vector<std::pair<uint32_t, ErrorCode>> resets;
  // Every on_stream_closed, in order.
  struct Closed {
    uint32_t id;
    protocol::StreamEnd end;
    ErrorCode code;
  };
  std::vector<Closed> stream_closes;
  std::function<void(protocol::Reqd&, protocol::StreamEnd)> on_closed;
  size_t output_ready = 0;
  std::vector<ErrorCode> closed;

  void on_request(protocol::Reqd& reqd) override {
    requests.push_back(reqd);
    if (respond) respond(reqd);
  }
  void on_stream_closed(protocol::Reqd& reqd, protocol::StreamEnd end, ErrorCode code) override {
    stream_closes.push_back({reqd.stream_id(), end, code});
    if (end != protocol::StreamEnd::kCompleted) resets.emplace_back(reqd.stream_id(), code);
    if (on_closed) on_closed(reqd, end);
  }
  void on_output_ready() override { ++output_ready; }
  void on_connection_closed(ErrorCode code, std::string_view) override { closed.push_back(code); }
};

// How a script's input and output are cut.
struct SplitMode {
  uint32_t seed = 0;      // 0: whole; else random cuts from this seed
  bool bytewise = false;  // one byte at a time, output pulled one byte at a time
  std::string name() const {
    if (bytewise) return "byte by byte";
    return seed == 0 ? "whole" : "random split seed " + std::to_string(seed);
  }
};

class Harness {
 public:
  explicit Harness(SplitMode mode) : mode_(mode), rng_(mode.seed) {}

  protocol::ConnectionOptions options;
  TestHandler handler;
  uint64_t now_ms = 1000;

  // Creates the connection (with `options` and `handler` as set so far).
  protocol::ServerConnection& start() {
    conn_.emplace(&handler, options, now_ms);
    return *conn_;
  }
  protocol::ServerConnection& conn() { return *conn_; }

  // Feeds bytes (cut at random points in split mode); returns the bytes consumed.
  size_t feed(std::string_view bytes) {
    size_t consumed = 0;
    while (!bytes.empty()) {
      size_t n = bytes.size();
      if (mode_.bytewise)
        n = 1;
      else if (mode_.seed != 0)
        n = std::uniform_int_distribution<size_t>(1, bytes.size())(rng_);
      size_t c = conn_->process_bytes(bytes.substr(0, n), now_ms);
      consumed += c;
      if (c < n) return consumed;
      bytes.remove_prefix(n);
    }
    return consumed;
  }
  size_t feed(FrameBuilder& b) { return feed(b.take()); }

  // Pulls and decodes everything the connection has to send (partial writes in split mode).
  std::vector<OutFrame> drain() {
    for (int guard = 0; guard < 10000000 && conn_->wants_write(); ++guard) {
      std::vector<std::string_view> views;
      size_t max = SIZE_MAX;
      if (mode_.bytewise)
        max = 1;
      else if (mode_.seed != 0)
        max = std::uniform_int_distribution<size_t>(1, 40000)(rng_);
      size_t n = conn_->pending_output(views, max);
      if (n == 0) break;
      std::string bytes;
      for (std::string_view v : views) bytes.append(v);
      EXPECT_EQ(bytes.size(), n);
      // A writer may accept less than offered.
      size_t written = n;
      if (mode_.seed != 0) written = std::uniform_int_distribution<size_t>(1, n)(rng_);
      output_.feed(std::string_view(bytes).substr(0, written));
      conn_->consume_output(written);
    }
    // As a runtime does after every driving call: a wakeup already due is honoured at once
    // (timers started while no time was given get theirs now, server_connection.h).
    if (auto due = conn_->next_wakeup_ms(); due && *due <= now_ms) conn_->on_time(now_ms);
    return output_.take();
  }

  // Client preface + SETTINGS, checks the server preface (SETTINGS first), ACKs it.
  std::vector<OutFrame> handshake(std::initializer_list<protocol::Setting> settings = {}) {
    start();
    FrameBuilder b;
    b.preface().settings(settings);
    EXPECT_EQ(feed(b), 24u + 9 + 6 * settings.size());
    std::vector<OutFrame> out = drain();
    EXPECT_FALSE(out.empty());
    if (!out.empty()) {
      EXPECT_EQ(out[0].h.type, FrameType::kSettings) << "RFC 9113 §3.4: SETTINGS first";
      EXPECT_FALSE(out[0].ack());
    }
    b.settings_ack();
    feed(b);
    return out;
  }

  // The client's HPACK encoder (its dynamic table persists across requests, like a real client).
  std::string block(const Fields& fields) {
    for (const auto& [n, v] : fields) {
      for (char c : n) {
        if (c >= 'A' && c <= 'Z') return literal_block(fields);  // our encoder refuses those
      }
    }
    std::vector<hpack::HeaderField> hf;
    for (const auto& [n, v] : fields) hf.push_back({n, v});
    std::string out;
    client_encoder_.encode(hf, out);
    return out;
  }
  // "Literal without indexing, new name" for every field (RFC 7541 §6.2.2): any bytes, and the
  // client's dynamic table is untouched.
  static std::string literal_block(const Fields& fields) {
    std::string out;
    auto put = [&out](std::string_view str) {
      size_t n = str.size();
      if (n < 127) {
        out.push_back(static_cast<char>(n));
      } else {
        out.push_back(static_cast<char>(127));
        for (n -= 127; n >= 128; n /= 128) out.push_back(static_cast<char>(n % 128 + 128));
        out.push_back(static_cast<char>(n));
      }
      out.append(str);
    };
    for (const auto& [n, v] : fields) {
      out.push_back('\0');
      put(n);
      put(v);
    }
    return out;
  }
  static Fields get_fields(std::string path = "/") {
    return {{":method", "GET"},
            {":scheme", "https"},
            {":authority", "example.com"},
            {":path", std::move(path)}};
  }
  static Fields post_fields(std::string path = "/upload") {
    return {{":method", "POST"},
            {":scheme", "https"},
            {":authority", "example.com"},
            {":path", std::move(path)}};
  }
  // HEADERS for a request on `stream`.
  size_t request(uint32_t stream, const Fields& fields, bool end_stream) {
    FrameBuilder b;
    b.headers(stream, block(fields), flags::kEndHeaders | (end_stream ? flags::kEndStream : 0));
    return feed(b);
  }
  size_t get(uint32_t stream, std::string path = "/") {
    return request(stream, get_fields(std::move(path)), true);
  }
  void advance(uint64_t ms) {
    now_ms += ms;
    conn_->on_time(now_ms);
  }

 private:
  SplitMode mode_;
  std::mt19937 rng_;
  std::optional<protocol::ServerConnection> conn_;
  ServerOutputDecoder output_;
  hpack::Encoder client_encoder_;
};

// Reads a request body to the end, re-arming schedule_read after each chunk. The callbacks
// point at this object: it must outlive the request (keep it in the test's scope).
struct BodyReader {
  std::string body;
  bool eof = false;
  size_t chunks = 0;
  void start(protocol::Reqd reqd) {
    reqd.schedule_read(
        [this, reqd](std::string_view d) {
          body.append(d);
          ++chunks;
          start(reqd);
        },
        [this] { eof = true; });
  }
};

// Frame search helpers.
inline const OutFrame* find_frame(const std::vector<OutFrame>& frames, FrameType type,
                                  uint32_t stream = UINT32_MAX) {
  for (const OutFrame& f : frames) {
    if (f.h.type == type && (stream == UINT32_MAX || f.h.stream_id == stream)) return &f;
  }
  return nullptr;
}
inline size_t count_frames(const std::vector<OutFrame>& frames, FrameType type,
                           uint32_t stream = UINT32_MAX) {
  size_t n = 0;
  for (const OutFrame& f : frames) {
    if (f.h.type == type && (stream == UINT32_MAX || f.h.stream_id == stream)) ++n;
  }
  return n;
}
inline std::string body_of(const std::vector<OutFrame>& frames, uint32_t stream) {
  std::string body;
  for (const OutFrame& f : frames) {
    if (f.h.type == FrameType::kData && f.h.stream_id == stream) body += f.data;
  }
  return body;
}
// Asserts a GOAWAY with `code` (a connection error, RFC 9113 §5.4.1).
inline void expect_goaway(const std::vector<OutFrame>& frames, ErrorCode code) {
  const OutFrame* g = find_frame(frames, FrameType::kGoaway);
  ASSERT_NE(g, nullptr) << "no GOAWAY, expected " << protocol::error_code_name(code);
  EXPECT_EQ(g->code, code) << "GOAWAY " << protocol::error_code_name(g->code) << ", expected "
                           << protocol::error_code_name(code);
}
// Asserts RST_STREAM(stream, code) and no GOAWAY (a stream error, RFC 9113 §5.4.2).
inline void expect_rst(const std::vector<OutFrame>& frames, uint32_t stream, ErrorCode code) {
  const OutFrame* r = find_frame(frames, FrameType::kRstStream, stream);
  ASSERT_NE(r, nullptr) << "no RST_STREAM on " << stream << ", expected "
                        << protocol::error_code_name(code);
  EXPECT_EQ(r->code, code) << "RST_STREAM " << protocol::error_code_name(r->code);
  EXPECT_EQ(find_frame(frames, FrameType::kGoaway), nullptr) << "stream error became GOAWAY";
}

// Runs a script whole, split at random points with a few fixed seeds, then byte by byte.
inline void run_script(void (*script)(Harness&)) {
  for (SplitMode mode : {SplitMode{0}, SplitMode{1}, SplitMode{2}, SplitMode{3}, SplitMode{42},
                         SplitMode{0, true}}) {
    SCOPED_TRACE(mode.name());
    Harness h(mode);
    script(h);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

#define H2_SCRIPT_TEST(suite, name)                            \
  static void suite##_##name##_script(::h2::test::Harness& h); \
  TEST(suite, name) {                                          \
    ::h2::test::run_script(&suite##_##name##_script);          \
  }                                                            \
  static void suite##_##name##_script(::h2::test::Harness& h)

}  // namespace h2::test
