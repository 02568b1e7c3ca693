// RFC 9113 §3.4 (preface), §6.5 (SETTINGS), §6.7 (PING), §6.8 (GOAWAY) and a basic exchange,
// each script replayed whole and split at random points (connection_harness.h).
#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::SettingId;

uint32_t setting_value(const OutFrame& f, SettingId id) {
  for (const auto& s : f.settings) {
    if (s.id == static_cast<uint16_t>(id)) return s.value;
  }
  return UINT32_MAX;
}

H2_SCRIPT_TEST(Rfc9113_3_4, ServerPrefaceIsSettingsWithOurLimits) {
  h.options.max_concurrent_streams = 77;
  auto out = h.handshake();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(setting_value(out[0], SettingId::kMaxConcurrentStreams), 77u);
  EXPECT_EQ(setting_value(out[0], SettingId::kInitialWindowSize), h.options.initial_stream_window);
  // RFC 9218 §2.1
  EXPECT_EQ(setting_value(out[0], SettingId::kNoRfc7540Priorities), 1u);
  // A server never sends ENABLE_PUSH=1 (RFC 9113 §6.5.2)
  EXPECT_EQ(setting_value(out[0], SettingId::kEnablePush), UINT32_MAX);
  // The connection window is raised right away (RFC 9113 §6.9.2 allows only WINDOW_UPDATE).
  const OutFrame* wu = find_frame(out, FrameType::kWindowUpdate, 0);
  ASSERT_NE(wu, nullptr);
  EXPECT_EQ(wu->increment, h.options.connection_window - 65535);
  // Our client SETTINGS is acknowledged.
  const OutFrame* ack = nullptr;
  for (const auto& f : out) {
    if (f.h.type == FrameType::kSettings && f.ack()) ack = &f;
  }
  EXPECT_NE(ack, nullptr);
}

H2_SCRIPT_TEST(Rfc9113_3_4, InvalidPrefaceIsProtocolError) {
  h.start();
  FrameBuilder b;
  b.bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  size_t consumed = h.feed(b);
  EXPECT_LT(consumed, 27u);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
  EXPECT_FALSE(h.conn().wants_read());
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Rfc9113_3_4, FirstFrameMustBeSettings) {
  h.start();
  FrameBuilder b;
  b.preface().ping(1);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_8_1, GetAnsweredWithString) {
  h.handshake();
  h.get(1, "/hello");
  auto out = h.drain();
  ASSERT_EQ(h.handler.requests.size(), 1u);
  EXPECT_EQ(h.handler.requests[0].request().path, "/hello");
  EXPECT_EQ(h.handler.requests[0].request().method, "GET");
  EXPECT_EQ(h.handler.requests[0].request().authority, "example.com");
  const OutFrame* headers = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(headers, nullptr);
  EXPECT_EQ(headers->field(":status"), "200");
  EXPECT_FALSE(headers->end_stream());
  EXPECT_EQ(body_of(out, 1), "ok");
  EXPECT_EQ(count_frames(out, FrameType::kData, 1), 1u);
  EXPECT_TRUE(find_frame(out, FrameType::kData, 1)->end_stream());
  EXPECT_EQ(h.conn().open_stream_count(), 0u);
  EXPECT_TRUE(h.conn().wants_read());
  EXPECT_FALSE(h.conn().wants_write());
}

H2_SCRIPT_TEST(Rfc9113_8_1, ManySequentialGetsOnOneConnection) {
  h.handshake();
  for (uint32_t id = 1; id < 200; id += 2) h.get(id, "/p" + std::to_string(id));
  auto out = h.drain();
  EXPECT_EQ(h.handler.requests.size(), 100u);
  for (uint32_t id = 1; id < 200; id += 2) {
    ASSERT_EQ(body_of(out, id), "ok") << id;
  }
}

H2_SCRIPT_TEST(Rfc9113_6_5_3, SettingsAckTimeoutIsSettingsTimeout) {
  h.options.settings_ack_timeout_ms = 5000;
  h.start();
  FrameBuilder b;
  b.preface().settings();
  h.feed(b);
  h.drain();
  ASSERT_TRUE(h.conn().next_wakeup_ms().has_value());
  EXPECT_EQ(*h.conn().next_wakeup_ms(), h.now_ms + 5000);
  h.advance(4999);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  h.advance(1);
  expect_goaway(h.drain(), ErrorCode::kSettingsTimeout);
}

H2_SCRIPT_TEST(Rfc9113_6_5_3, AckStopsTheTimer) {
  h.options.settings_ack_timeout_ms = 5000;
  h.options.idle_timeout_ms = 0;
  h.handshake();
  EXPECT_FALSE(h.conn().next_wakeup_ms().has_value());
  h.advance(100000);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
}

H2_SCRIPT_TEST(Rfc9113_6_5_2, InitialWindowSizeAboveMaxIsFlowControlError) {
  h.start();
  FrameBuilder b;
  b.preface().settings({{4, 0x80000000u}});
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFlowControlError);
}

H2_SCRIPT_TEST(Rfc9113_6_5_2, EnablePushAboveOneIsProtocolError) {
  h.start();
  FrameBuilder b;
  b.preface().settings({{2, 2}});
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_5_2, MaxFrameSizeOutOfRangeIsProtocolError) {
  h.start();
  FrameBuilder b;
  b.preface().settings({{5, 16383}});
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_5_2, UnknownSettingIsIgnored) {
  h.handshake({{0x99, 7}});
  h.get(1);
  EXPECT_EQ(body_of(h.drain(), 1), "ok");
}

H2_SCRIPT_TEST(Rfc9113_6_5, SettingsWithLengthNotMultipleOfSixIsFrameSizeError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kSettings, 0, 0, std::string(5, '\0'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFrameSizeError);
}

H2_SCRIPT_TEST(Rfc9113_6_5, SettingsAckWithPayloadIsFrameSizeError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kSettings, flags::kAck, 0, std::string(6, '\0'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFrameSizeError);
}

H2_SCRIPT_TEST(Rfc9113_6_5, SettingsOnAStreamIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kSettings, 0, 1, "");
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_7, PingIsAnsweredWithSameOpaqueData) {
  h.handshake();
  FrameBuilder b;
  b.ping(0x0102030405060708ull);
  h.feed(b);
  auto out = h.drain();
  const OutFrame* p = find_frame(out, FrameType::kPing);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->ack());
  EXPECT_EQ(p->ping, 0x0102030405060708ull);
}

H2_SCRIPT_TEST(Rfc9113_6_7, PingAckIsNotAnswered) {
  h.handshake();
  FrameBuilder b;
  b.ping(5, true);
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kPing), nullptr);
}

H2_SCRIPT_TEST(Rfc9113_6_7, PingWithWrongLengthIsFrameSizeError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kPing, 0, 0, std::string(7, '\0'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFrameSizeError);
}

H2_SCRIPT_TEST(Rfc9113_6_7, PingOnAStreamIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kPing, 0, 1, std::string(8, '\0'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_8, GracefulShutdownSendsTwoGoawaysAroundAPing) {
  h.options.idle_timeout_ms = 0;
  h.handler.respond = nullptr;  // the request stays open until we answer it below
  h.handshake();
  h.get(1);
  h.drain();
  h.conn().start_graceful_shutdown(h.now_ms);
  auto out = h.drain();
  ASSERT_EQ(count_frames(out, FrameType::kGoaway), 1u);
  EXPECT_EQ(find_frame(out, FrameType::kGoaway)->last_stream_id, protocol::kMaxStreamId);
  const OutFrame* ping = find_frame(out, FrameType::kPing);
  ASSERT_NE(ping, nullptr);
  EXPECT_FALSE(ping->ack());
  // A request that was in flight before the client saw the first GOAWAY is still served.
  h.get(3);
  FrameBuilder b;
  b.ping(ping->ping, true);
  h.feed(b);
  out = h.drain();
  const OutFrame* last = find_frame(out, FrameType::kGoaway);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->last_stream_id, 3u);
  EXPECT_EQ(last->code, ErrorCode::kNoError);
  // Streams above the last id are ignored now.
  h.get(5);
  EXPECT_EQ(h.handler.requests.size(), 2u);
  EXPECT_FALSE(h.conn().is_closed());  // two streams still open
  for (auto& r : h.handler.requests) r.respond_with_string({200, {}}, "bye");
  out = h.drain();
  EXPECT_EQ(body_of(out, 1), "bye");
  EXPECT_EQ(body_of(out, 3), "bye");
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Rfc9113_6_8, PeerGoawayLetsOpenStreamsFinishThenCloses) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.goaway(1, ErrorCode::kNoError);
  h.feed(b);
  EXPECT_FALSE(h.conn().is_closed());
  h.handler.requests[0].respond_with_string({200, {}}, "done");
  EXPECT_EQ(body_of(h.drain(), 1), "done");
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Rfc9113_6_8, GoawayOnAStreamIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kGoaway, 0, 1, std::string(8, '\0'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_5_5, UnknownFrameTypesAreIgnored) {
  h.handshake();
  FrameBuilder b;
  b.raw(0xfa, 0xff, 1, "whatever");
  h.feed(b);
  h.get(1);
  EXPECT_EQ(body_of(h.drain(), 1), "ok");
}

H2_SCRIPT_TEST(Rfc9113_4_2, FrameAboveOurMaxFrameSizeIsFrameSizeError) {
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.data(1, std::string(16385, 'x'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFrameSizeError);
}

H2_SCRIPT_TEST(Idle, IdleTimeoutSendsGoawayAndCloses) {
  h.options.idle_timeout_ms = 30000;
  h.handshake();
  h.get(1);
  h.drain();
  h.advance(29999);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  h.advance(1);
  auto out = h.drain();
  const OutFrame* g = find_frame(out, FrameType::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code, ErrorCode::kNoError);
  EXPECT_EQ(g->last_stream_id, 1u);
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(PeerEof, OpenStreamsAreResetAndConnectionCloses) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.drain();
  h.conn().on_peer_eof();
  ASSERT_EQ(h.handler.resets.size(), 1u);
  EXPECT_EQ(h.handler.resets[0].second, ErrorCode::kCancel);
  EXPECT_TRUE(h.conn().is_closed());
  EXPECT_EQ(h.handler.requests[0].respond_with_string({200, {}}, "late"),
            protocol::Result::kStreamClosed);
}

}  // namespace
}  // namespace h2::test
