// RFC 9113 §5.2 / §6.9 flow control in both directions, §4.2 DATA cut to the peer's
// MAX_FRAME_SIZE, request-body backpressure, and ocaml-h2 issue #278 (a closed writer's body
// blocked by flow control is still sent whole).
#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Reqd;
using protocol::Result;
using protocol::Writer;

size_t max_data_frame(const std::vector<OutFrame>& out, uint32_t stream) {
  size_t m = 0;
  for (const auto& f : out) {
    if (f.h.type == FrameType::kData && f.h.stream_id == stream)
      m = std::max<size_t>(m, f.h.length);
  }
  return m;
}

bool stream_ended(const std::vector<OutFrame>& out, uint32_t stream) {
  for (const auto& f : out) {
    if (f.h.stream_id == stream && f.end_stream() &&
        (f.h.type == FrameType::kData || f.h.type == FrameType::kHeaders)) {
      return true;
    }
  }
  return false;
}

H2_SCRIPT_TEST(Rfc9113_6_9, ResponseStopsAtThePeersInitialWindowAndResumes) {
  std::string big(100000, 'a');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  h.handler.respond = [&](Reqd& r) { r.respond_with_string({200, {}}, big); };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1).size(), 65535u);  // RFC 9113 §6.9.2 default window
  EXPECT_FALSE(stream_ended(out, 1));
  EXPECT_FALSE(h.conn().wants_write());
  FrameBuilder b;
  b.window_update(1, 50000);  // stream window opens, connection window still 0
  h.feed(b);
  EXPECT_TRUE(h.drain().empty());
  b.window_update(0, 50000);
  h.feed(b);
  out = h.drain();
  EXPECT_EQ(body_of(out, 1), big.substr(65535));
  EXPECT_TRUE(stream_ended(out, 1));
}

H2_SCRIPT_TEST(Rfc9113_4_2, DataFramesCutToPeersMaxFrameSize) {
  std::string big(60000, 'z');
  h.handler.respond = [&](Reqd& r) { r.respond_with_string({200, {}}, big); };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), big);
  EXPECT_EQ(max_data_frame(out, 1), 16384u);
}

H2_SCRIPT_TEST(Rfc9113_6_5_2, LargerPeerMaxFrameSizeIsUsed) {
  std::string big(60000, 'z');
  h.handler.respond = [&](Reqd& r) { r.respond_with_string({200, {}}, big); };
  h.handshake({{5, 20000}, {4, 1 << 20}});
  FrameBuilder b;
  b.window_update(0, 1 << 20);
  h.feed(b);
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), big);
  EXPECT_EQ(max_data_frame(out, 1), 20000u);
}

H2_SCRIPT_TEST(Rfc9113_6_9_1, ConnectionWindowOverflowIsFlowControlError) {
  h.handshake();
  FrameBuilder b;
  b.window_update(0, 0x7fffffff);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFlowControlError);
}

H2_SCRIPT_TEST(Rfc9113_6_9_1, StreamWindowOverflowIsStreamFlowControlError) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.window_update(1, 0x7fffffff);
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kFlowControlError);
}

H2_SCRIPT_TEST(Rfc9113_6_9, ZeroIncrementOnConnectionIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.window_update(0, 0);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_9, ZeroIncrementOnStreamIsStreamProtocolError) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.window_update(1, 0);
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_9, WindowUpdateWithWrongLengthIsFrameSizeError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kWindowUpdate, 0, 0, std::string(3, '\0'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFrameSizeError);
}

H2_SCRIPT_TEST(Rfc9113_6_9_2, InitialWindowChangeAppliesToOpenStreams) {
  Writer writer;
  h.handler.respond = [&](Reqd& r) { writer = r.respond_with_streaming({200, {}}); };
  h.handshake({{4, 100}});
  h.get(1);
  h.drain();
  ASSERT_TRUE(writer);
  writer.write(std::string(1000, 'x'));
  EXPECT_EQ(body_of(h.drain(), 1).size(), 100u);
  // Shrinking below what was sent makes the window negative (-50): nothing goes out...
  FrameBuilder b;
  b.settings({{4, 50}});
  h.feed(b);
  EXPECT_TRUE(body_of(h.drain(), 1).empty());
  // ...and growing by 1050 leaves 1000 to send (-50 + 1050): the rest (900) goes.
  b.settings({{4, 1100}});
  h.feed(b);
  EXPECT_EQ(body_of(h.drain(), 1).size(), 900u);
}

H2_SCRIPT_TEST(Rfc9113_6_9_2, InitialWindowChangeOverflowingAStreamIsFlowControlError) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.window_update(1, 0x7fffffff - 65535);  // stream window exactly 2^31-1
  b.settings({{4, 65536}});
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFlowControlError);
}

H2_SCRIPT_TEST(OcamlH2Issue278, ClosedWriterBlockedByFlowControlIsSentWhole) {
  Writer writer;
  std::string body;
  for (int i = 0; i < 20000; ++i) body += std::to_string(i % 10);
  h.handler.respond = [&](Reqd& r) { writer = r.respond_with_streaming({200, {}}); };
  h.handshake({{4, 1000}});
  h.get(1);
  h.drain();
  writer.write(body.substr(0, 15000));
  writer.write_borrowed(std::string_view(body).substr(15000), [] {});
  EXPECT_EQ(writer.close(), Result::kOk);  // closed while 19000 bytes are still blocked
  auto out = h.drain();
  std::string received = body_of(out, 1);
  EXPECT_EQ(received.size(), 1000u);
  EXPECT_FALSE(stream_ended(out, 1));
  for (int i = 0; i < 40 && !stream_ended(out, 1); ++i) {
    FrameBuilder b;
    b.window_update(1, 700);
    h.feed(b);
    out = h.drain();
    received += body_of(out, 1);
  }
  EXPECT_EQ(received, body);
  EXPECT_TRUE(stream_ended(out, 1));
}

// ---- receiving: our windows -------------------------------------------------------------

H2_SCRIPT_TEST(Rfc9113_6_9_1, DataBeyondStreamWindowIsFlowControlError) {
  h.options.initial_stream_window = 65535;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  for (int i = 0; i < 4; ++i) b.data(1, std::string(16384, 'x'));  // 65536 > 65535
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kFlowControlError);
}

// §6.5.3 / §6.9.2: our smaller SETTINGS_INITIAL_WINDOW_SIZE binds the client from its ACK on.
// Before it, a stream may take the default 65,535 bytes; at the ACK its window shrinks by the
// difference (here to 1,000 - 20,000 < 0), so one more byte overruns it.
H2_SCRIPT_TEST(Rfc9113_6_9_2, SmallerInitialWindowAppliesFromTheSettingsAck) {
  h.options.initial_stream_window = 1000;
  h.handler.respond = nullptr;
  h.start();
  FrameBuilder b;
  b.preface().settings({});
  h.feed(b);
  h.drain();
  h.request(1, Harness::post_fields(), false);
  b.data(1, std::string(16384, 'x')).data(1, std::string(3616, 'x'));  // 20,000 > 1,000
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kRstStream, 1), nullptr);
  b.settings_ack();
  b.data(1, "y");
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kFlowControlError);
}

H2_SCRIPT_TEST(Rfc9113_6_9_1, DataBeyondConnectionWindowIsFlowControlError) {
  h.options.initial_stream_window = 1 << 20;
  h.options.connection_window = 65535;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  for (int i = 0; i < 4; ++i) b.data(1, std::string(16384, 'x'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFlowControlError);
}

H2_SCRIPT_TEST(Backpressure, WindowReopensOnlyAsTheHandlerConsumes) {
  h.options.initial_stream_window = 65535;
  h.options.connection_window = 1 << 20;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  for (int i = 0; i < 3; ++i) b.data(1, std::string(16000, 'x'));
  h.feed(b);
  // Nothing read yet: no WINDOW_UPDATE for the stream (the body is buffered, window closing).
  EXPECT_EQ(find_frame(h.drain(), FrameType::kWindowUpdate, 1), nullptr);
  Reqd reqd = h.handler.requests.at(0);
  size_t got = 0;
  ASSERT_EQ(reqd.schedule_read([&](std::string_view d) { got += d.size(); }, [] {}), Result::kOk);
  EXPECT_EQ(got, 48000u);
  auto out = h.drain();
  // Batched: one update covering what was consumed (>= half the window).
  ASSERT_EQ(count_frames(out, FrameType::kWindowUpdate, 1), 1u);
  EXPECT_EQ(find_frame(out, FrameType::kWindowUpdate, 1)->increment, 48000u);
}

H2_SCRIPT_TEST(Backpressure, SmallReadsAreBatchedIntoFewWindowUpdates) {
  h.options.initial_stream_window = 65535;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  Reqd reqd = h.handler.requests.at(0);
  size_t got = 0;
  std::function<void(std::string_view)> on_chunk = [&](std::string_view d) {
    got += d.size();
    reqd.schedule_read(on_chunk, [] {});
  };
  reqd.schedule_read(on_chunk, [] {});
  FrameBuilder b;
  for (int i = 0; i < 100; ++i) b.data(1, std::string(1000, 'x'));
  h.feed(b);
  EXPECT_EQ(got, 100000u);
  auto out = h.drain();
  size_t updates = count_frames(out, FrameType::kWindowUpdate, 1);
  EXPECT_GE(updates, 1u);
  EXPECT_LE(updates, 4u);  // ~every 32 KiB, not one per DATA frame
}

H2_SCRIPT_TEST(Rfc9113_6_1, PaddingCountsTowardFlowControlAndIsCredited) {
  h.options.initial_stream_window = 65535;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  std::string body;
  Reqd reqd = h.handler.requests.at(0);
  std::function<void(std::string_view)> on_chunk = [&](std::string_view d) {
    body.append(d);
    reqd.schedule_read(on_chunk, [] {});
  };
  reqd.schedule_read(on_chunk, [] {});
  FrameBuilder b;
  // 200 frames of 100 data bytes + 201 flow-controlled padding bytes (60200 bytes in all):
  // within the window only because padding is credited back as it arrives.
  for (int i = 0; i < 200; ++i) b.data(1, std::string(100, 'p'), false, 200);
  for (int i = 0; i < 200; ++i) b.data(1, std::string(100, 'q'), false, 200);
  h.feed(b);
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
  EXPECT_EQ(body.size(), 40000u);
}

}  // namespace
}  // namespace h2::test

namespace h2::test {
namespace {

H2_SCRIPT_TEST(Backpressure, PeerThatDoesNotReadStopsBeingRead) {
  h.options.max_unwritten_output = 1700;  // 100 PING ACKs
  h.options.max_queued_control_frames = 100000;
  h.handshake();
  h.drain();
  int pings = 0;
  while (h.conn().wants_read() && pings < 1000) {
    FrameBuilder b;
    b.ping(pings++);
    h.feed(b);  // the answers are never written
  }
  EXPECT_FALSE(h.conn().wants_read());
  EXPECT_EQ(pings, 101);
  EXPECT_EQ(count_frames(h.drain(), FrameType::kPing), 101u);
  EXPECT_TRUE(h.conn().wants_read());
}

}  // namespace
}  // namespace h2::test
