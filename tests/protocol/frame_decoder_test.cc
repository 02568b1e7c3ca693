// FrameDecoder rules, one test per RFC clause: what a frame shows on its own (RFC 9113 §4, §5.5,
// §6; RFC 9218 §7.1), incremental delivery without copies, and the stop/error contract.
#include "protocol/frame/frame_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/protocol/frame_recorder.h"
#include "tests/protocol/support/frame_builder.h"
#include "tests/support/fixtures.h"

namespace h2::protocol {
namespace {

using test::FrameBuilder;
using test::FrameRecorder;

std::string u32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16 & 0xff),
          static_cast<char>(v >> 8 & 0xff), static_cast<char>(v & 0xff)};
}

std::string setting_bytes(uint16_t id, uint32_t value) {
  return std::string{static_cast<char>(id >> 8), static_cast<char>(id & 0xff)} + u32(value);
}

struct Decoded {
  FrameRecorder recorder;
  size_t consumed = 0;
  bool has_error = false;
};

Decoded decode(std::string_view wire, const FrameDecoderOptions& options = {}) {
  Decoded run;
  FrameDecoder decoder(&run.recorder, options);
  run.consumed = decoder.process_bytes(wire);
  run.has_error = decoder.has_error();
  return run;
}

void expect_connection_error(std::string_view wire, ErrorCode code) {
  Decoded run = decode(wire);
  EXPECT_TRUE(run.has_error);
  ASSERT_TRUE(run.recorder.error_code().has_value()) << test::to_hex(wire);
  EXPECT_EQ(*run.recorder.error_code(), code) << run.recorder.errors.back().reason;
}

// RFC 9113 §4.1: the reserved bit of the stream identifier is ignored on receipt.
TEST(FrameDecoderTest, Rfc9113_4_1_ReservedBitIsMasked) {
  Decoded run =
      decode(FrameBuilder().raw(FrameType::kWindowUpdate, 0, 0x80000003, u32(0x80000010)).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].header.stream_id, 3u);
  EXPECT_EQ(run.recorder.frames[0].increment, 0x10u);  // RFC 9113 §6.9: reserved bit too
}

// RFC 9113 §4.2: a frame above our SETTINGS_MAX_FRAME_SIZE is refused from its 9 header octets,
// before a single payload octet is read or buffered.
TEST(FrameDecoderTest, Rfc9113_4_2_OversizeFrameRejectedAfterItsHeader) {
  std::string wire = FrameBuilder().data(1, std::string(16385, 'x')).take();
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(std::string_view(wire).substr(0, 9)), 9u);
  EXPECT_EQ(recorder.error_code(), ErrorCode::kFrameSizeError);
  EXPECT_TRUE(recorder.frames.empty());  // no on_frame_header for a refused header
  EXPECT_EQ(decoder.process_bytes(std::string_view(wire).substr(9)), 0u);
}

TEST(FrameDecoderTest, Rfc9113_4_2_MaxFrameSizeFrameAcceptedAndRaisable) {
  EXPECT_FALSE(decode(FrameBuilder().data(1, std::string(16384, 'x')).view()).has_error);
  std::string big = FrameBuilder().data(1, std::string(100000, 'x')).take();
  EXPECT_TRUE(decode(big).has_error);
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  decoder.set_max_frame_size(1 << 20);
  EXPECT_EQ(decoder.max_frame_size(), 1u << 20);
  EXPECT_EQ(decoder.process_bytes(big), big.size());
  ASSERT_EQ(recorder.frames.size(), 1u);
  EXPECT_EQ(recorder.frames[0].payload.size(), 100000u);
}

TEST(FrameDecoderTest, Rfc9113_6_5_2_MaxFrameSizeIsClampedToItsRange) {
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder, FrameDecoderOptions{.max_frame_size = 100});
  EXPECT_EQ(decoder.max_frame_size(), kDefaultMaxFrameSize);
  decoder.set_max_frame_size(0xffffffff);
  EXPECT_EQ(decoder.max_frame_size(), kMaxAllowedFrameSize);
}

// RFC 9113 §5.5: unknown frame types are ignored, payload skipped, next frame decoded.
TEST(FrameDecoderTest, Rfc9113_5_5_UnknownFrameTypeIsSkipped) {
  std::string wire = FrameBuilder().raw(0xfa, 0xff, 7, "whatever").ping(42).take();
  Decoded run = decode(wire);
  EXPECT_EQ(run.consumed, wire.size());
  ASSERT_EQ(run.recorder.frames.size(), 2u);
  EXPECT_TRUE(run.recorder.frames[0].unknown);
  EXPECT_EQ(static_cast<uint8_t>(run.recorder.frames[0].header.type), 0xfa);
  EXPECT_EQ(run.recorder.frames[1].ping, 42u);
}

// RFC 9113 §5.5: unknown flags are ignored; PADDED means nothing on a PING.
TEST(FrameDecoderTest, Rfc9113_5_5_UnknownFlagsAreIgnored) {
  Decoded run = decode(FrameBuilder().raw(FrameType::kPing, 0xfe, 0, u32(1) + u32(2)).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].ping, 0x100000002u);
}

// RFC 9113 §6.1: DATA is handed out as views into the caller's input, never copied.
TEST(FrameDecoderTest, Rfc9113_6_1_DataChunksPointIntoTheInput) {
  std::string wire = FrameBuilder().data(1, "Hello, world!", true).take();
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(std::string_view(wire).substr(0, 14)), 14u);
  EXPECT_EQ(decoder.process_bytes(std::string_view(wire).substr(14)), wire.size() - 14);
  ASSERT_EQ(recorder.data_chunks.size(), 2u);
  EXPECT_EQ(recorder.data_chunks[0], "Hello");
  EXPECT_EQ(recorder.data_chunks[0].data(), wire.data() + 9);
  EXPECT_EQ(recorder.data_chunks[1].data(), wire.data() + 14);
  EXPECT_TRUE(recorder.frames[0].header.has(flags::kEndStream));
}

// RFC 9113 §6.1: the whole frame counts for flow control; padding is reported with its length
// octet; the data handed out excludes both.
TEST(FrameDecoderTest, Rfc9113_6_1_PaddedDataReportsPaddingForFlowControl) {
  Decoded run = decode(FrameBuilder().data(3, "abc", false, 10).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].payload, "abc");
  EXPECT_EQ(run.recorder.frames[0].padding_and_pad_length, 11u);
  EXPECT_EQ(run.recorder.frames[0].header.length, 14u);
}

TEST(FrameDecoderTest, Rfc9113_6_1_PaddingFillingTheWholeFrameIsAllowed) {
  Decoded run =
      decode(FrameBuilder()
                 .raw(FrameType::kData, flags::kPadded, 1, std::string_view("\x03\0\0\0", 4))
                 .view());
  EXPECT_FALSE(run.has_error);
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_TRUE(run.recorder.frames[0].payload.empty());
  EXPECT_TRUE(run.recorder.data_chunks.empty());
  EXPECT_TRUE(run.recorder.frames[0].complete);
}

TEST(FrameDecoderTest, Rfc9113_6_1_PaddingAsLongAsThePayloadIsProtocolError) {
  expect_connection_error(
      FrameBuilder()
          .raw(FrameType::kData, flags::kPadded, 1, std::string_view("\x04\0\0\0", 4))
          .view(),
      ErrorCode::kProtocolError);
}

TEST(FrameDecoderTest, Rfc9113_6_1_PaddedDataWithoutPadLengthIsFrameSizeError) {
  expect_connection_error(FrameBuilder().raw(FrameType::kData, flags::kPadded, 1, "").view(),
                          ErrorCode::kFrameSizeError);
}

TEST(FrameDecoderTest, Rfc9113_6_1_DataOnStreamZeroIsProtocolError) {
  expect_connection_error(FrameBuilder().data(0, "x").view(), ErrorCode::kProtocolError);
}

TEST(FrameDecoderTest, Rfc9113_6_1_EmptyDataGivesStartAndEndOnly) {
  Decoded run = decode(FrameBuilder().data(5, "", true).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_TRUE(run.recorder.frames[0].complete);
  EXPECT_TRUE(run.recorder.data_chunks.empty());
}

// RFC 9113 §6.2: PRIORITY and PADDED fields of HEADERS.
TEST(FrameDecoderTest, Rfc9113_6_2_HeadersWithPriorityAndPadding) {
  PrioritySpec spec{7, true, 200};
  Decoded run =
      decode(FrameBuilder().headers(9, "block", flags::kEndStream, spec, Padding{4}).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  const auto& f = run.recorder.frames[0];
  EXPECT_EQ(f.payload, "block");
  EXPECT_EQ(f.priority, spec);
  EXPECT_EQ(f.header.flags, flags::kEndStream | flags::kPadded | flags::kPriority);
}

TEST(FrameDecoderTest, Rfc9113_6_2_HeadersPaddingBeyondFieldsIsProtocolError) {
  // length 6 = pad length octet + 5 priority octets; padding 1 leaves -1 for the fragment.
  std::string payload = std::string("\x01") + u32(3) + "\x10";
  expect_connection_error(
      FrameBuilder().raw(FrameType::kHeaders, flags::kPadded | flags::kPriority, 1, payload).view(),
      ErrorCode::kProtocolError);
}

TEST(FrameDecoderTest, Rfc9113_6_2_HeadersTooShortForPriorityIsFrameSizeError) {
  expect_connection_error(
      FrameBuilder().raw(FrameType::kHeaders, flags::kPriority, 1, "abcd").view(),
      ErrorCode::kFrameSizeError);
}

// A self-dependency is a stream error judged by the connection (RFC 9113 §5.3.1): passed through.
TEST(FrameDecoderTest, Rfc9113_5_3_1_SelfDependencyIsPassedThrough) {
  Decoded run = decode(FrameBuilder().priority(5, 5).view());
  EXPECT_FALSE(run.has_error);
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].priority->stream_dependency, 5u);
}

// RFC 9113 §6.3: a PRIORITY of the wrong size is a stream error of type FRAME_SIZE_ERROR; a
// visitor that takes it as such keeps the connection going; the default escalates (§5.4).
TEST(FrameDecoderTest, Rfc9113_6_3_PriorityWrongSizeIsStreamErrorWhenAccepted) {
  std::string wire = FrameBuilder().raw(FrameType::kPriority, 0, 3, "123456").ping(7).take();
  FrameRecorder recorder;
  recorder.accept_stream_errors = true;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), wire.size());
  EXPECT_FALSE(decoder.has_error());
  ASSERT_EQ(recorder.errors.size(), 1u);
  EXPECT_TRUE(recorder.errors[0].stream_error);
  EXPECT_EQ(recorder.errors[0].code, ErrorCode::kFrameSizeError);
  EXPECT_EQ(recorder.errors[0].header.stream_id, 3u);
  // on_frame_header came first (the frame stays incomplete), then the PING after it.
  ASSERT_EQ(recorder.frames.size(), 2u);
  EXPECT_EQ(recorder.frames[0].header.type, FrameType::kPriority);
  EXPECT_FALSE(recorder.frames[0].complete);
  EXPECT_EQ(recorder.frames[1].ping, 7u);

  Decoded escalated = decode(wire);
  EXPECT_TRUE(escalated.has_error);
  EXPECT_EQ(escalated.recorder.error_code(), ErrorCode::kFrameSizeError);
}

TEST(FrameDecoderTest, Rfc9113_6_3_EmptyWrongSizePriorityAcceptedAsStreamError) {
  std::string wire = FrameBuilder().raw(FrameType::kPriority, 0, 3, "").ping(8).take();
  FrameRecorder recorder;
  recorder.accept_stream_errors = true;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), wire.size());
  ASSERT_EQ(recorder.frames.size(), 2u);
  EXPECT_EQ(recorder.frames[1].ping, 8u);
}

// The stream error is offered only after on_frame_header: a visitor that refuses the header
// (e.g. a PRIORITY inside a header block, RFC 9113 §6.10) never sees it.
TEST(FrameDecoderTest, Rfc9113_6_3_StreamErrorFollowsTheFrameHeader) {
  std::string wire = FrameBuilder().raw(FrameType::kPriority, 0, 3, "123").take();
  FrameRecorder recorder;
  recorder.accept_stream_errors = true;
  recorder.stop_after_headers = 0;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), 9u);
  EXPECT_TRUE(recorder.errors.empty());
  EXPECT_EQ(recorder.frames.size(), 1u);
}

TEST(FrameDecoderTest, Rfc9113_6_3_PriorityOnStreamZeroIsProtocolError) {
  expect_connection_error(FrameBuilder().priority(0, 1).view(), ErrorCode::kProtocolError);
}

// RFC 9113 §6.4 and §7: unknown error codes are passed on untouched.
TEST(FrameDecoderTest, Rfc9113_6_4_RstStreamCarriesAnyCode) {
  Decoded run = decode(FrameBuilder().raw(FrameType::kRstStream, 0, 1, u32(0xdeadbeef)).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].code, 0xdeadbeefu);
  expect_connection_error(FrameBuilder().raw(FrameType::kRstStream, 0, 1, "abc").view(),
                          ErrorCode::kFrameSizeError);
  expect_connection_error(FrameBuilder().rst_stream(0, ErrorCode::kCancel).view(),
                          ErrorCode::kProtocolError);
}

// RFC 9113 §6.5: entries in wire order, duplicates and unknown identifiers kept.
TEST(FrameDecoderTest, Rfc9113_6_5_SettingsEntriesInOrder) {
  std::vector<Setting> sent = {{1, 0}, {0x99, 123}, {1, 4096}, {4, 0x7fffffff}, {5, 16777215}};
  Decoded run = decode(FrameBuilder().settings(sent).settings_ack().view());
  ASSERT_EQ(run.recorder.frames.size(), 2u);
  EXPECT_EQ(run.recorder.frames[0].settings, sent);
  EXPECT_TRUE(run.recorder.frames[1].header.has(flags::kAck));
  EXPECT_TRUE(run.recorder.frames[1].settings.empty());
}

TEST(FrameDecoderTest, Rfc9113_6_5_SettingsFrameRules) {
  expect_connection_error(
      FrameBuilder().raw(FrameType::kSettings, flags::kAck, 0, setting_bytes(1, 1)).view(),
      ErrorCode::kFrameSizeError);
  expect_connection_error(FrameBuilder().raw(FrameType::kSettings, 0, 0, "12345").view(),
                          ErrorCode::kFrameSizeError);
  expect_connection_error(FrameBuilder().raw(FrameType::kSettings, 0, 1, "").view(),
                          ErrorCode::kProtocolError);
}

// RFC 9113 §6.5.2 (and RFC 8441 §3, RFC 9218 §2.1): value ranges.
TEST(FrameDecoderTest, Rfc9113_6_5_2_SettingValuesAreValidated) {
  struct Case {
    uint16_t id;
    uint32_t value;
    std::optional<ErrorCode> error;
  };
  const Case cases[] = {
      {2, 0, {}},
      {2, 1, {}},
      {2, 2, ErrorCode::kProtocolError},
      {4, 0x7fffffff, {}},
      {4, 0x80000000, ErrorCode::kFlowControlError},
      {5, 16383, ErrorCode::kProtocolError},
      {5, 16384, {}},
      {5, 16777215, {}},
      {5, 16777216, ErrorCode::kProtocolError},
      {8, 1, {}},
      {8, 2, ErrorCode::kProtocolError},
      {9, 1, {}},
      {9, 2, ErrorCode::kProtocolError},
      {1, 0xffffffff, {}},  // HEADER_TABLE_SIZE: any value
      {3, 0, {}},           // MAX_CONCURRENT_STREAMS 0 is legal
      {6, 0xffffffff, {}},
      {0xff, 0xffffffff, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "id " << c.id << " value " << c.value);
    // The bad entry second: the first is not delivered when the frame fails.
    Decoded run = decode(FrameBuilder().settings({{3, 100}, {c.id, c.value}}).view());
    EXPECT_EQ(run.recorder.error_code(), c.error);
    if (!c.error) {
      ASSERT_EQ(run.recorder.frames.size(), 1u);
      EXPECT_EQ(run.recorder.frames[0].settings.size(), 2u);
    } else {
      EXPECT_FALSE(run.recorder.frames.at(0).complete);
    }
  }
}

TEST(FrameDecoderTest, SettingsEntryBoundIsEnhanceYourCalm) {
  std::vector<Setting> many(2730, Setting{3, 100});
  Decoded ok = decode(FrameBuilder().settings(many).view());
  EXPECT_FALSE(ok.has_error);
  EXPECT_EQ(ok.recorder.frames.at(0).settings.size(), 2730u);

  FrameDecoderOptions options;
  options.max_settings_entries = 4;
  Decoded refused =
      decode(FrameBuilder().settings(std::vector<Setting>(5, Setting{3, 1})).view(), options);
  EXPECT_EQ(refused.recorder.error_code(), ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(refused.consumed, 9u);
}

// SETTINGS entries and GOAWAY debug data live in buffers the decoder reuses: after the first
// frame, later frames of the same or smaller size are delivered from the same memory.
TEST(FrameDecoderTest, SettingsAndGoawayBuffersAreReused) {
  struct Addresses : FrameRecorder {
    std::vector<const void*> settings, debug;
    void on_settings(const FrameHeader& h, std::span<const Setting> s) override {
      settings.push_back(s.data());
      FrameRecorder::on_settings(h, s);
    }
    void on_goaway(const FrameHeader& h, uint32_t id, ErrorCode c, std::string_view d) override {
      debug.push_back(d.data());
      FrameRecorder::on_goaway(h, id, c, d);
    }
  } visitor;
  FrameDecoder decoder(&visitor);
  FrameBuilder b;
  for (int i = 0; i < 20; ++i) {
    b.settings({{1, 4096}, {3, 100}, {4, 65535}, {5, 16384}, {6, 8192}});
    b.goaway(1, ErrorCode::kNoError, "debug data of the same size " + std::to_string(i % 10));
  }
  EXPECT_EQ(decoder.process_bytes(b.view()), b.size());
  ASSERT_EQ(visitor.settings.size(), 20u);
  ASSERT_EQ(visitor.debug.size(), 20u);
  for (int i = 1; i < 20; ++i) {
    EXPECT_EQ(visitor.settings[i], visitor.settings[0]);
    EXPECT_EQ(visitor.debug[i], visitor.debug[0]);
  }
}

// RFC 9113 §6.6: PUSH_PROMISE fields and rules.
TEST(FrameDecoderTest, Rfc9113_6_6_PushPromise) {
  Decoded run = decode(FrameBuilder().push_promise(1, 2, "frag", false).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].promised_stream_id, 2u);
  EXPECT_EQ(run.recorder.frames[0].payload, "frag");
  expect_connection_error(FrameBuilder().push_promise(1, 3, "").view(), ErrorCode::kProtocolError);
  expect_connection_error(FrameBuilder().push_promise(1, 0, "").view(), ErrorCode::kProtocolError);
  expect_connection_error(FrameBuilder().push_promise(0, 2, "").view(), ErrorCode::kProtocolError);
  expect_connection_error(FrameBuilder().raw(FrameType::kPushPromise, 0, 1, "abc").view(),
                          ErrorCode::kFrameSizeError);
}

// RFC 9113 §6.7: PING is 8 octets on stream 0.
TEST(FrameDecoderTest, Rfc9113_6_7_Ping) {
  Decoded run = decode(FrameBuilder().ping(0x0102030405060708, true).view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].ping, 0x0102030405060708u);
  EXPECT_TRUE(run.recorder.frames[0].header.has(flags::kAck));
  expect_connection_error(FrameBuilder().raw(FrameType::kPing, 0, 0, "1234567").view(),
                          ErrorCode::kFrameSizeError);
  expect_connection_error(FrameBuilder().raw(FrameType::kPing, 0, 0, "123456789").view(),
                          ErrorCode::kFrameSizeError);
  expect_connection_error(FrameBuilder().raw(FrameType::kPing, 0, 1, "12345678").view(),
                          ErrorCode::kProtocolError);
}

// RFC 9113 §6.8: GOAWAY; debug data kept up to the configured bound.
TEST(FrameDecoderTest, Rfc9113_6_8_Goaway) {
  Decoded run =
      decode(FrameBuilder().goaway(0x80000007, ErrorCode::kEnhanceYourCalm, "calm").view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].id, 7u);
  EXPECT_EQ(run.recorder.frames[0].code, static_cast<uint32_t>(ErrorCode::kEnhanceYourCalm));
  EXPECT_EQ(run.recorder.frames[0].payload, "calm");

  FrameDecoderOptions options;
  options.max_goaway_debug_size = 3;
  std::string wire = FrameBuilder().goaway(1, ErrorCode::kNoError, "abcdef").ping(1).take();
  Decoded capped = decode(wire, options);
  EXPECT_EQ(capped.consumed, wire.size());
  ASSERT_EQ(capped.recorder.frames.size(), 2u);
  EXPECT_EQ(capped.recorder.frames[0].payload, "abc");
  expect_connection_error(FrameBuilder().raw(FrameType::kGoaway, 0, 0, "1234567").view(),
                          ErrorCode::kFrameSizeError);
}

// RFC 9113 §6.9: WINDOW_UPDATE of 4 octets on any stream; increment 0 is the connection's call.
TEST(FrameDecoderTest, Rfc9113_6_9_WindowUpdate) {
  Decoded run = decode(FrameBuilder().window_update(0, 0).window_update(5, kMaxWindowSize).view());
  EXPECT_FALSE(run.has_error);
  ASSERT_EQ(run.recorder.frames.size(), 2u);
  EXPECT_EQ(run.recorder.frames[0].increment, 0u);
  EXPECT_EQ(run.recorder.frames[1].increment, kMaxWindowSize);
  expect_connection_error(FrameBuilder().raw(FrameType::kWindowUpdate, 0, 1, "12345").view(),
                          ErrorCode::kFrameSizeError);
}

// RFC 9113 §6.10: CONTINUATION must name a stream; fragments streamed.
TEST(FrameDecoderTest, Rfc9113_6_10_Continuation) {
  std::string wire = FrameBuilder().header_block(1, "abcdefghij", 4, true).take();
  Decoded run = decode(wire);
  ASSERT_EQ(run.recorder.frames.size(), 3u);
  EXPECT_EQ(run.recorder.frames[0].payload, "abcd");
  EXPECT_EQ(run.recorder.frames[2].payload, "ij");
  EXPECT_TRUE(run.recorder.frames[2].header.has(flags::kEndHeaders));
  EXPECT_FALSE(run.recorder.frames[0].header.has(flags::kEndHeaders));
  expect_connection_error(FrameBuilder().continuation(0, "x").view(), ErrorCode::kProtocolError);
}

// RFC 9218 §7.1: PRIORITY_UPDATE on stream 0, naming a non-zero stream.
TEST(FrameDecoderTest, Rfc9218_7_1_PriorityUpdate) {
  Decoded run = decode(FrameBuilder().priority_update(5, "u=0, i").view());
  ASSERT_EQ(run.recorder.frames.size(), 1u);
  EXPECT_EQ(run.recorder.frames[0].id, 5u);
  EXPECT_EQ(run.recorder.frames[0].payload, "u=0, i");
  expect_connection_error(FrameBuilder().priority_update(0, "u=1").view(),
                          ErrorCode::kProtocolError);
  expect_connection_error(FrameBuilder().raw(FrameType::kPriorityUpdate, 0, 1, u32(1)).view(),
                          ErrorCode::kProtocolError);
  expect_connection_error(FrameBuilder().raw(FrameType::kPriorityUpdate, 0, 0, "abc").view(),
                          ErrorCode::kFrameSizeError);
}

TEST(FrameDecoderTest, Rfc9218_7_1_OverlongPriorityUpdateIsIgnored) {
  FrameDecoderOptions options;
  options.max_priority_update_size = 8;
  std::string wire = FrameBuilder().priority_update(5, "u=1, i, x=123456").ping(3).take();
  Decoded run = decode(wire, options);
  EXPECT_EQ(run.consumed, wire.size());
  ASSERT_EQ(run.recorder.frames.size(), 2u);
  EXPECT_TRUE(run.recorder.frames[0].unknown);
  EXPECT_EQ(run.recorder.frames[1].ping, 3u);
}

// The stop contract: on_frame_header returning false stops right after that header.
TEST(FrameDecoderTest, VisitorCanStopAtAFrameHeader) {
  std::string wire = FrameBuilder().ping(1).ping(2).ping(3).take();
  FrameRecorder recorder;
  recorder.stop_after_headers = 1;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), 17u + 9u);
  EXPECT_TRUE(decoder.stopped());
  EXPECT_FALSE(decoder.has_error());
  EXPECT_EQ(decoder.process_bytes(wire), 0u);
  ASSERT_EQ(recorder.frames.size(), 2u);
  EXPECT_TRUE(recorder.frames[0].complete);
  EXPECT_FALSE(recorder.frames[1].complete);
}

// stop() from inside a DATA chunk: the decoder consumed that chunk and nothing after it.
TEST(FrameDecoderTest, VisitorCanStopFromADataChunk) {
  struct Stopper : FrameRecorder {
    FrameDecoder* decoder = nullptr;
    void on_data_chunk(uint32_t id, std::string_view data) override {
      FrameRecorder::on_data_chunk(id, data);
      decoder->stop();
    }
  } stopper;
  FrameDecoder decoder(&stopper);
  stopper.decoder = &decoder;
  std::string wire = FrameBuilder().data(1, "abcdef").ping(1).take();
  EXPECT_EQ(decoder.process_bytes(wire), 15u);
  EXPECT_EQ(stopper.frames.size(), 1u);
  EXPECT_FALSE(stopper.frames[0].complete);
}

TEST(FrameDecoderTest, ErrorStopsForGood) {
  std::string wire = FrameBuilder().ping(1).raw(FrameType::kPing, 0, 0, "").ping(2).take();
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), 17u + 9u);
  EXPECT_TRUE(decoder.has_error());
  EXPECT_EQ(decoder.process_bytes("more"), 0u);
  EXPECT_EQ(recorder.errors.size(), 1u);
}

TEST(FrameDecoderTest, FrameBoundaryIsReported) {
  std::string wire = FrameBuilder().data(1, "abc").take();
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_TRUE(decoder.at_frame_boundary());
  decoder.process_bytes(std::string_view(wire).substr(0, 10));
  EXPECT_FALSE(decoder.at_frame_boundary());
  decoder.process_bytes(std::string_view(wire).substr(10));
  EXPECT_TRUE(decoder.at_frame_boundary());
}

// A conversation of every frame type, split at random points: same frames every time.
TEST(FrameDecoderTest, EveryFrameTypeSplitAnywhereDecodesTheSame) {
  std::string wire = FrameBuilder()
                         .settings({{1, 4096}, {4, 1 << 20}})
                         .settings_ack()
                         .headers(1, "hdr", 0, PrioritySpec{0, false, 15}, Padding{3})
                         .continuation(1, "more", true)
                         .data(1, std::string(3000, 'd'), false, 17)
                         .data(1, "", true)
                         .priority(3, 1, 200, true)
                         .rst_stream(3, ErrorCode::kCancel)
                         .push_promise(1, 2, "pp")
                         .ping(99)
                         .window_update(0, 1000)
                         .priority_update(1, "u=2")
                         .raw(0x42, 0, 0, "unknown")
                         .goaway(1, ErrorCode::kNoError, "bye")
                         .take();
  Decoded whole = decode(wire);
  EXPECT_EQ(whole.consumed, wire.size());
  EXPECT_FALSE(whole.has_error);
  ASSERT_EQ(whole.recorder.frames.size(), 14u);
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    FrameRecorder recorder;
    FrameDecoder decoder(&recorder);
    size_t at = 0, consumed = 0;
    while (at < wire.size()) {
      size_t n = std::uniform_int_distribution<size_t>(0, 40)(rng);
      n = std::min(n, wire.size() - at);
      consumed += decoder.process_bytes(std::string_view(wire).substr(at, n));
      at += n;
    }
    EXPECT_EQ(consumed, wire.size());
    ASSERT_EQ(recorder.frames, whole.recorder.frames) << "round " << round;
  }
}

}  // namespace
}  // namespace h2::protocol
