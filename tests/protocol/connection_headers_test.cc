// RFC 9113 §4.3 / §6.10 header blocks over HEADERS + CONTINUATION, §8.1-§8.5 request
// validation (malformed requests are stream errors PROTOCOL_ERROR), trailers, HPACK limits.
#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Reqd;
using protocol::Result;

void expect_malformed(Harness& h, const Fields& fields, bool end_stream = true) {
  h.request(1, fields, end_stream);
  auto out = h.drain();
  expect_rst(out, 1, ErrorCode::kProtocolError);
  EXPECT_TRUE(h.handler.requests.empty()) << "a malformed request reached the handler";
  // The connection goes on, HPACK in sync.
  h.get(3, "/next");
  EXPECT_EQ(body_of(h.drain(), 3), "ok");
}

H2_SCRIPT_TEST(Rfc9113_6_10, HeaderBlockOverContinuationFrames) {
  h.handshake();
  Fields fields = Harness::get_fields("/continued");
  fields.emplace_back("x-long", std::string(3000, 'v'));
  FrameBuilder b;
  b.header_block(1, h.block(fields), 1000, true);
  h.feed(b);
  ASSERT_EQ(h.handler.requests.size(), 1u);
  EXPECT_EQ(h.handler.requests[0].request().path, "/continued");
  ASSERT_EQ(h.handler.requests[0].request().headers.size(), 1u);
  EXPECT_EQ(h.handler.requests[0].request().headers[0].value.size(), 3000u);
}

H2_SCRIPT_TEST(Rfc9113_6_10, FrameOtherThanContinuationInsideBlockIsProtocolError) {
  h.handshake();
  std::string block = h.block(Harness::get_fields());
  FrameBuilder b;
  b.headers(1, block.substr(0, 3), flags::kEndStream).ping(1).continuation(1, block.substr(3));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_10, ContinuationOnOtherStreamIsProtocolError) {
  h.handshake();
  std::string block = h.block(Harness::get_fields());
  FrameBuilder b;
  b.headers(1, block.substr(0, 3), flags::kEndStream).continuation(3, block.substr(3));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_10, ContinuationWithoutHeadersIsProtocolError) {
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.continuation(1, "");
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Limits, TooManyContinuationFramesIsEnhanceYourCalm) {
  h.options.max_continuation_frames = 4;
  h.handshake();
  Fields fields = Harness::get_fields();
  fields.emplace_back("x-a", std::string(200, 'v'));
  FrameBuilder b;
  b.header_block(1, h.block(fields), 20, true);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kEnhanceYourCalm);
}

H2_SCRIPT_TEST(Limits, UnfinishedHeaderBlockTimesOut) {
  h.options.header_block_timeout_ms = 2000;
  h.handshake();
  std::string block = h.block(Harness::get_fields());
  FrameBuilder b;
  b.headers(1, block.substr(0, 2), flags::kEndStream);
  h.feed(b);
  ASSERT_TRUE(h.conn().next_wakeup_ms().has_value());
  EXPECT_LE(*h.conn().next_wakeup_ms(), h.now_ms + 2000);
  h.advance(2000);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_4_3, UndecodableHeaderBlockIsCompressionError) {
  h.handshake();
  FrameBuilder b;
  b.headers(1, std::string("\x80", 1), flags::kEndHeaders | flags::kEndStream);  // index 0
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kCompressionError);
}

H2_SCRIPT_TEST(Rfc9113_8_2_2, HeaderListAboveLimitIsAnswered431) {
  h.options.max_header_list_size = 1024;
  h.handshake();
  Fields fields = Harness::get_fields();
  fields.emplace_back("x-big", std::string(2000, 'b'));
  h.request(1, fields, true);
  auto out = h.drain();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->field(":status"), "431");
  EXPECT_TRUE(head->end_stream());
  EXPECT_TRUE(h.handler.requests.empty());
  h.get(3);
  EXPECT_EQ(body_of(h.drain(), 3), "ok");
}

H2_SCRIPT_TEST(Rfc9113_8_2_1, UppercaseFieldNameIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("X-Upper", "1");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_2_1, FieldValueWithNewlineIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("x-bad", "a\nb");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_2_1, FieldValueWithLeadingSpaceIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("x-bad", " a");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_2_2, ConnectionSpecificFieldIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("connection", "keep-alive");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_2_2, TransferEncodingIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("transfer-encoding", "chunked");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_2_2, TeOtherThanTrailersIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("te", "gzip");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_2_2, TeTrailersIsAccepted) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("te", "trailers");
  h.request(1, f, true);
  EXPECT_EQ(body_of(h.drain(), 1), "ok");
}

H2_SCRIPT_TEST(Rfc9113_8_3, UnknownPseudoHeaderIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back(":foo", "bar");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_3, ResponsePseudoHeaderInRequestIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.insert(f.begin(), {":status", "200"});
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_3, PseudoHeaderAfterRegularFieldIsMalformed) {
  h.handshake();
  expect_malformed(h, {{":method", "GET"}, {":scheme", "https"}, {"x-a", "1"}, {":path", "/"}});
}

H2_SCRIPT_TEST(Rfc9113_8_3_1, DuplicatePseudoHeaderIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.insert(f.begin(), {":path", "/x"});
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_3_1, MissingMethodIsMalformed) {
  h.handshake();
  expect_malformed(h, {{":scheme", "https"}, {":path", "/"}});
}

H2_SCRIPT_TEST(Rfc9113_8_3_1, MissingSchemeIsMalformed) {
  h.handshake();
  expect_malformed(h, {{":method", "GET"}, {":path", "/"}});
}

H2_SCRIPT_TEST(Rfc9113_8_3_1, MissingPathIsMalformed) {
  h.handshake();
  expect_malformed(h, {{":method", "GET"}, {":scheme", "https"}});
}

H2_SCRIPT_TEST(Rfc9113_8_3_1, EmptyPathIsMalformed) {
  h.handshake();
  expect_malformed(h, {{":method", "GET"}, {":scheme", "https"}, {":path", ""}});
}

H2_SCRIPT_TEST(Rfc9113_8_3_1, HostDifferentFromAuthorityIsMalformed) {
  h.handshake();
  Fields f = Harness::get_fields();
  f.emplace_back("host", "other.example");
  expect_malformed(h, f);
}

H2_SCRIPT_TEST(Rfc9113_8_5, ConnectWithAuthorityOnlyIsAccepted) {
  h.handshake();
  h.request(1, {{":method", "CONNECT"}, {":authority", "example.com:443"}}, false);
  ASSERT_EQ(h.handler.requests.size(), 1u);
  EXPECT_EQ(h.handler.requests[0].request().method, "CONNECT");
  EXPECT_TRUE(h.handler.requests[0].request().path.empty());
}

H2_SCRIPT_TEST(Rfc9113_8_5, ConnectWithPathIsMalformed) {
  h.handshake();
  expect_malformed(h, {{":method", "CONNECT"}, {":authority", "a:1"}, {":path", "/"}}, false);
}

H2_SCRIPT_TEST(Rfc9113_8_5, ConnectWithoutAuthorityIsMalformed) {
  h.handshake();
  expect_malformed(h, {{":method", "CONNECT"}}, false);
}

H2_SCRIPT_TEST(Rfc8441_4, ExtendedConnectNeedsTheSetting) {
  h.handshake();
  expect_malformed(h,
                   {{":method", "CONNECT"},
                    {":protocol", "websocket"},
                    {":scheme", "https"},
                    {":path", "/chat"},
                    {":authority", "example.com"}},
                   false);
}

H2_SCRIPT_TEST(Rfc8441_4, ExtendedConnectAcceptedWhenEnabled) {
  h.options.enable_connect_protocol = true;
  auto out = h.handshake();
  bool advertised = false;
  for (const auto& s : out[0].settings) advertised |= s.id == 8 && s.value == 1;
  EXPECT_TRUE(advertised) << "SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (RFC 8441 §3)";
  h.request(1,
            {{":method", "CONNECT"},
             {":protocol", "websocket"},
             {":scheme", "https"},
             {":path", "/chat"},
             {":authority", "example.com"}},
            false);
  ASSERT_EQ(h.handler.requests.size(), 1u);
  EXPECT_EQ(h.handler.requests[0].request().protocol, "websocket");
}

H2_SCRIPT_TEST(Rfc9113_8_1_1, ContentLengthLargerThanDataIsMalformed) {
  h.handler.respond = nullptr;
  h.handshake();
  Fields f = Harness::post_fields();
  f.emplace_back("content-length", "10");
  h.request(1, f, false);
  FrameBuilder b;
  b.data(1, "short", true);
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_8_1_1, DataBeyondContentLengthIsMalformed) {
  h.handler.respond = nullptr;
  h.handshake();
  Fields f = Harness::post_fields();
  f.emplace_back("content-length", "3");
  h.request(1, f, false);
  FrameBuilder b;
  b.data(1, "toolong");
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_8_1_1, ContentLengthWithEndStreamOnHeadersIsMalformed) {
  h.handshake();
  Fields f = Harness::post_fields();
  f.emplace_back("content-length", "5");
  expect_malformed(h, f, true);
}

H2_SCRIPT_TEST(Rfc9113_8_1_1, MatchingContentLengthIsAccepted) {
  BodyReader reader;
  h.handler.respond = [&](Reqd& r) { reader.start(r); };
  h.handshake();
  Fields f = Harness::post_fields();
  f.emplace_back("content-length", "5");
  h.request(1, f, false);
  FrameBuilder b;
  b.data(1, "hello", true);
  h.feed(b);
  EXPECT_EQ(reader.body, "hello");
  EXPECT_TRUE(reader.eof);
  EXPECT_EQ(h.handler.requests[0].request().content_length, 5);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kRstStream), nullptr);
}

H2_SCRIPT_TEST(Rfc9113_8_1, RequestTrailersAreDelivered) {
  BodyReader reader;
  h.handler.respond = [&](Reqd& r) { reader.start(r); };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.data(1, "abc");
  h.feed(b);
  Reqd reqd = h.handler.requests.at(0);
  EXPECT_FALSE(reader.eof);
  h.request(1, {{"x-checksum", "42"}}, true);
  EXPECT_TRUE(reader.eof);
  EXPECT_EQ(reader.body, "abc");
  ASSERT_EQ(reqd.request_trailers().size(), 1u);
  EXPECT_EQ(reqd.request_trailers()[0].name, "x-checksum");
  EXPECT_EQ(reqd.request_trailers()[0].value, "42");
}

H2_SCRIPT_TEST(Rfc9113_8_1, TrailersWithoutEndStreamAreMalformed) {
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  h.request(1, {{"x-checksum", "42"}}, false);
  expect_rst(h.drain(), 1, ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_8_1, PseudoHeaderInTrailersIsMalformed) {
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  h.request(1, {{":path", "/x"}}, true);
  expect_rst(h.drain(), 1, ErrorCode::kProtocolError);
}

}  // namespace
}  // namespace h2::test
