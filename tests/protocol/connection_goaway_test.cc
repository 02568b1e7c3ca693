// RFC 9113 §6.8 after the client's GOAWAY: the open streams finish, then our own
// GOAWAY(NO_ERROR, last processed id) is the last frame, and the connection is closed only once
// that GOAWAY was written ("Endpoints SHOULD always send a GOAWAY frame before closing").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/protocol/support/connection_harness.h"
#include "tests/support/fixtures.h"

namespace h2::test {
namespace {

using protocol::Reqd;
using protocol::Writer;

// Our GOAWAY is the last frame, exactly once, NO_ERROR with `last_id`.
void expect_final_goaway(const std::vector<OutFrame>& out, uint32_t last_id) {
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(count_frames(out, FrameType::kGoaway), 1u);
  const OutFrame& g = out.back();
  ASSERT_EQ(g.h.type, FrameType::kGoaway) << "RFC 9113 §6.8: GOAWAY after the final DATA";
  EXPECT_EQ(g.last_stream_id, last_id);
  EXPECT_EQ(g.code, ErrorCode::kNoError);
}

H2_SCRIPT_TEST(Rfc9113_6_8, ClientGoawayWithNoOpenStreamIsAnsweredAtOnce) {
  h.handshake();
  h.get(1);
  EXPECT_EQ(body_of(h.drain(), 1), "ok");
  FrameBuilder b;
  b.goaway(1, ErrorCode::kNoError);
  h.feed(b);
  // Pulled by hand: the 17 octets of our GOAWAY (RFC 9113 §6.8), closed only once all written.
  EXPECT_FALSE(h.conn().is_closed());
  EXPECT_TRUE(h.conn().wants_write());
  std::vector<std::string_view> views;
  size_t n = h.conn().pending_output(views, SIZE_MAX);
  ASSERT_EQ(n, 17u);
  std::string bytes;
  for (std::string_view v : views) bytes.append(v);
  EXPECT_EQ(to_hex(bytes),
            "000008070000000000"
            "00000001"
            "00000000");
  h.conn().consume_output(16);
  EXPECT_FALSE(h.conn().is_closed());
  h.conn().consume_output(1);
  EXPECT_TRUE(h.conn().is_closed());
  EXPECT_FALSE(h.conn().wants_write());
}

H2_SCRIPT_TEST(Rfc9113_6_8, ClientGoawayBeforeAnyRequestSendsLastIdZero) {
  h.handshake();
  FrameBuilder b;
  b.goaway(0, ErrorCode::kNoError);
  h.feed(b);
  EXPECT_FALSE(h.conn().is_closed());
  expect_final_goaway(h.drain(), 0);
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Rfc9113_6_8, ClientGoawayWithOneOpenStreamIsAnsweredAfterItsEndStream) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.drain();
  FrameBuilder b;
  b.goaway(1, ErrorCode::kNoError);
  h.feed(b);
  EXPECT_EQ(count_frames(h.drain(), FrameType::kGoaway), 0u) << "stream 1 is still open";
  EXPECT_FALSE(h.conn().is_closed());
  ASSERT_EQ(h.handler.requests.size(), 1u);
  h.handler.requests[0].respond_with_string({200, {}}, "done");
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), "done");
  ASSERT_GE(out.size(), 2u);
  const OutFrame& end = out[out.size() - 2];
  EXPECT_EQ(end.h.type, FrameType::kData);
  EXPECT_EQ(end.h.stream_id, 1u);
  EXPECT_TRUE(end.end_stream());
  expect_final_goaway(out, 1);
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Rfc9113_6_8, ClientGoawayWithTwoOpenStreamsWaitsForFlowControlledData) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.get(3);
  h.drain();
  FrameBuilder b;
  b.goaway(3, ErrorCode::kNoError);
  h.feed(b);
  ASSERT_EQ(h.handler.requests.size(), 2u);
  // Stream 3 ends; stream 1 streams more than the initial 65535-octet windows allow.
  h.handler.requests[1].respond_with_string({200, {}}, "three");
  Writer w = h.handler.requests[0].respond_with_streaming({200, {}});
  const std::string big(100000, 'x');
  w.write(big);
  w.close();
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 3), "three");
  const size_t first = body_of(out, 1).size();
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, big.size());
  EXPECT_EQ(count_frames(out, FrameType::kGoaway), 0u) << "stream 1 blocked by flow control";
  EXPECT_FALSE(h.conn().is_closed());
  b.window_update(0, 100000).window_update(1, 100000);
  h.feed(b);
  out = h.drain();
  EXPECT_EQ(first + body_of(out, 1).size(), big.size());
  ASSERT_GE(out.size(), 2u);
  const OutFrame& end = out[out.size() - 2];
  EXPECT_EQ(end.h.type, FrameType::kData);
  EXPECT_EQ(end.h.stream_id, 1u);
  EXPECT_TRUE(end.end_stream());
  expect_final_goaway(out, 3);
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Rfc9113_6_8, ClientGoawayDuringOurShutdownAddsNoGoaway) {
  h.options.idle_timeout_ms = 0;
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.drain();
  h.conn().start_graceful_shutdown(h.now_ms);
  auto out = h.drain();
  EXPECT_EQ(count_frames(out, FrameType::kGoaway), 1u);
  FrameBuilder b;
  b.goaway(1, ErrorCode::kNoError);
  h.feed(b);
  h.handler.requests[0].respond_with_string({200, {}}, "bye");
  out = h.drain();
  EXPECT_EQ(body_of(out, 1), "bye");
  EXPECT_EQ(count_frames(out, FrameType::kGoaway), 0u) << "our shutdown sends its own GOAWAYs";
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Rfc9113_6_8, ConnectionErrorAfterClientGoawaySendsOnlyItsGoaway) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.drain();
  FrameBuilder b;
  b.goaway(1, ErrorCode::kNoError);
  b.raw(FrameType::kPing, 0, 1, std::string(8, '\0'));  // RFC 9113 §6.7: connection error
  h.feed(b);
  auto out = h.drain();
  EXPECT_EQ(count_frames(out, FrameType::kGoaway), 1u);
  expect_goaway(out, ErrorCode::kProtocolError);
  EXPECT_TRUE(h.conn().is_closed());
}

}  // namespace
}  // namespace h2::test
