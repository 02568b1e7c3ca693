// FrameWriter: exact octets against RFC 9113 §4.1/§6 layouts, and every writer decoded back by
// FrameDecoder to the fields it was given. Also the test FrameBuilder's own helpers.
#include "protocol/frame/frame_writer.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/frame/frame_decoder.h"
#include "tests/protocol/frame_recorder.h"
#include "tests/protocol/support/frame_builder.h"
#include "tests/support/fixtures.h"

namespace h2::protocol {
namespace {

using test::DecodedFrame;
using test::FrameBuilder;
using test::FrameRecorder;
using test::to_hex;

DecodedFrame decode_one(std::string_view wire) {
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), wire.size());
  EXPECT_FALSE(decoder.has_error());
  EXPECT_EQ(recorder.frames.size(), 1u);
  return recorder.frames.empty() ? DecodedFrame{} : recorder.frames[0];
}

// RFC 9113 §4.1: 24-bit length, type, flags, R bit + 31-bit stream id.
TEST(FrameWriterTest, Rfc9113_4_1_FrameHeaderLayout) {
  std::string out;
  write_frame_header(out, 0x123456, FrameType::kContinuation, 0xa5, 0xffffffff);
  EXPECT_EQ(to_hex(out), "12345609a57fffffff");
}

TEST(FrameWriterTest, Rfc9113_6_1_DataHeaderIsNineOctetsAndNoBody) {
  std::string out = "prefix";
  write_data_header(out, 3, 5, true);
  EXPECT_EQ(to_hex(out.substr(6)), "000005000100000003");
  out.clear();
  write_padded_data_header(out, 3, 5, false, 2);
  EXPECT_EQ(to_hex(out), "00000800080000000302");
  write_padding_bytes(out, 2);
  EXPECT_EQ(out.size(), 12u);
}

TEST(FrameWriterTest, Rfc9113_6_1_DataRoundTrip) {
  std::string out;
  write_data(out, 7, "body", true, Padding{5});
  DecodedFrame f = decode_one(out);
  EXPECT_EQ(f.payload, "body");
  EXPECT_EQ(f.padding_and_pad_length, 6u);
  EXPECT_EQ(f.header.flags, flags::kEndStream | flags::kPadded);
  EXPECT_EQ(out.substr(out.size() - 5), std::string(5, '\0'));  // RFC 9113 §6.1: zero padding
}

TEST(FrameWriterTest, Rfc9113_6_2_HeadersRoundTrip) {
  std::string out;
  PrioritySpec spec{0x7fffffff, true, 255};
  write_headers(out, 1, "fragment", false, true, spec);
  DecodedFrame f = decode_one(out);
  EXPECT_EQ(f.payload, "fragment");
  EXPECT_EQ(f.priority, spec);
  EXPECT_EQ(f.header.flags, flags::kEndHeaders | flags::kPriority);
  EXPECT_EQ(f.header.length, 13u);
}

TEST(FrameWriterTest, Rfc9113_6_3_PriorityExactOctets) {
  std::string out;
  write_priority(out, 9, PrioritySpec{11, false, 7});
  EXPECT_EQ(to_hex(out), "0000050200000000090000000b07");
  out.clear();
  write_priority(out, 3, PrioritySpec{1, true, 0});
  EXPECT_EQ(decode_one(out).priority, (PrioritySpec{1, true, 0}));
}

TEST(FrameWriterTest, Rfc9113_6_4_RstStreamExactOctets) {
  std::string out;
  write_rst_stream(out, 5, ErrorCode::kCancel);
  EXPECT_EQ(to_hex(out), "00000403000000000500000008");
}

TEST(FrameWriterTest, Rfc9113_6_5_SettingsExactOctets) {
  std::string out;
  const Setting settings[] = {{1, 8192}, {3, 5000}};
  write_settings(out, settings);
  EXPECT_EQ(to_hex(out), "00000c040000000000000100002000000300001388");
  out.clear();
  write_settings_ack(out);
  EXPECT_EQ(to_hex(out), "000000040100000000");
  out.clear();
  write_settings(out, {});
  EXPECT_EQ(to_hex(out), "000000040000000000");
}

TEST(FrameWriterTest, Rfc9113_6_6_PushPromiseRoundTrip) {
  std::string out;
  write_push_promise(out, 3, 0x80000004, "frag", true, Padding{2, "xy"});
  DecodedFrame f = decode_one(out);
  EXPECT_EQ(f.promised_stream_id, 4u);
  EXPECT_EQ(f.payload, "frag");
  EXPECT_EQ(f.header.length, 1u + 4 + 4 + 2);
  EXPECT_EQ(out.substr(out.size() - 2), "xy");
}

TEST(FrameWriterTest, Rfc9113_6_7_PingExactOctets) {
  std::string out;
  write_ping(out, 0x6465616462656566, false);
  EXPECT_EQ(to_hex(out), "0000080600000000006465616462656566");
  out.clear();
  write_ping(out, 1, true);
  EXPECT_EQ(decode_one(out).header.flags, flags::kAck);
}

TEST(FrameWriterTest, Rfc9113_6_8_GoawayExactOctets) {
  std::string out;
  write_goaway(out, 30, ErrorCode::kCompressionError, "hpack is broken");
  EXPECT_EQ(to_hex(out), "0000170700000000000000001e00000009687061636b2069732062726f6b656e");
}

TEST(FrameWriterTest, Rfc9113_6_9_WindowUpdateExactOctets) {
  std::string out;
  write_window_update(out, 50, 1000);
  EXPECT_EQ(to_hex(out), "000004080000000032000003e8");
}

TEST(FrameWriterTest, Rfc9113_6_10_ContinuationRoundTrip) {
  std::string out;
  write_continuation(out, 50, "this is dummy", false);
  EXPECT_EQ(to_hex(out), "00000d090000000032746869732069732064756d6d79");
}

TEST(FrameWriterTest, Rfc9218_7_1_PriorityUpdateExactOctets) {
  std::string out;
  write_priority_update(out, 1, "u=0");
  EXPECT_EQ(to_hex(out),
            "000007100000000000"
            "00000001"
            "753d30");
  DecodedFrame f = decode_one(out);
  EXPECT_EQ(f.id, 1u);
  EXPECT_EQ(f.payload, "u=0");
}

// The writer appends and never reallocates more than the string's own growth.
TEST(FrameWriterTest, AppendsToExistingContent) {
  std::string out = "abc";
  write_settings_ack(out);
  write_ping(out, 0, true);
  EXPECT_EQ(out.size(), 3u + 9 + 17);
  EXPECT_EQ(out.substr(0, 3), "abc");
}

TEST(FrameBuilderTest, Rfc9113_3_4_PrefaceThenSettings) {
  std::string wire = FrameBuilder().preface().settings({{4, 65535}}).take();
  EXPECT_EQ(wire.substr(0, 24), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  EXPECT_EQ(to_hex(wire.substr(24)),
            "0000060400000000000004"
            "0000ffff");
}

TEST(FrameBuilderTest, RawWithLyingLengthAndReservedBit) {
  std::string wire = FrameBuilder().raw_with_length(100, 0x06, 0, 0x80000000, "x").take();
  EXPECT_EQ(to_hex(wire),
            "0000640600800000"
            "0078");
}

TEST(FrameBuilderTest, HeaderBlockSplitsIntoContinuations) {
  std::string wire = FrameBuilder().header_block(3, "0123456789", 3, true).take();
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), wire.size());
  ASSERT_EQ(recorder.frames.size(), 4u);
  EXPECT_EQ(recorder.frames[0].header.type, FrameType::kHeaders);
  EXPECT_TRUE(recorder.frames[0].header.has(flags::kEndStream));
  EXPECT_EQ(recorder.frames[3].header.type, FrameType::kContinuation);
  EXPECT_EQ(recorder.frames[3].payload, "9");
  EXPECT_TRUE(recorder.frames[3].header.has(flags::kEndHeaders));
}

// RFC 7541 §6.2.2 / §5.1: literal without indexing, new name, with a multi-octet length.
TEST(FrameBuilderTest, LiteralBlockEncoding) {
  EXPECT_EQ(to_hex(FrameBuilder::literal_block({{":path", "/"}})), "00053a70617468012f");
  std::string block = FrameBuilder::literal_block({{"x", std::string(200, 'v')}});
  // 200 = 127 + 73: prefix 0x7f then 73 (0x49).
  EXPECT_EQ(to_hex(block.substr(0, 5)),
            "000178"
            "7f49");
  EXPECT_EQ(block.size(), 1u + 2 + 2 + 200);
}

TEST(FrameTypesTest, Rfc9113_7_ErrorCodeNames) {
  EXPECT_EQ(error_code_name(ErrorCode::kNoError), "NO_ERROR");
  EXPECT_EQ(error_code_name(ErrorCode::kProtocolError), "PROTOCOL_ERROR");
  EXPECT_EQ(error_code_name(ErrorCode::kHttp11Required), "HTTP_1_1_REQUIRED");
  EXPECT_EQ(error_code_name(static_cast<ErrorCode>(0xe)), "UNKNOWN");
  EXPECT_EQ(frame_type_name(FrameType::kPriorityUpdate), "PRIORITY_UPDATE");
  EXPECT_EQ(frame_type_name(static_cast<FrameType>(0xb)), "UNKNOWN");
  EXPECT_EQ(kConnectionPreface.size(), 24u);
}

}  // namespace
}  // namespace h2::protocol
