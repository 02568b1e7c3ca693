// Defenses that cost an attacker no bandwidth: a peer that keeps a flow-control window closed
// (ConnectionOptions::flow_control_stall_timeout_ms) and a peer that keeps sending DATA on a
// stream we reset (RFC 9113 §5.1 "closed": only frames already in flight are tolerated).
#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Reqd;

constexpr uint64_t kStall = 5000;

void serve_big(Harness& h, size_t size) {
  h.options.flow_control_stall_timeout_ms = kStall;
  h.handler.respond = [size](Reqd& r) { r.respond_with_string({200, {}}, std::string(size, 'x')); };
}

H2_SCRIPT_TEST(FlowControlStall, StreamWindowClosedForTheTimeoutIsCancelled) {
  serve_big(h, 100000);
  h.handshake({{4, 0}});  // SETTINGS_INITIAL_WINDOW_SIZE 0: not one DATA byte may go out
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), "");
  ASSERT_TRUE(h.conn().next_wakeup_ms().has_value());
  EXPECT_EQ(*h.conn().next_wakeup_ms(), h.now_ms + kStall);
  h.advance(kStall - 1);
  EXPECT_TRUE(h.drain().empty()) << "not before the timeout";
  h.advance(1);
  out = h.drain();
  expect_rst(out, 1, ErrorCode::kCancel);
  ASSERT_EQ(h.handler.stream_closes.size(), 1u);
  EXPECT_EQ(h.handler.stream_closes[0].end, protocol::StreamEnd::kStreamError);
  EXPECT_EQ(h.conn().open_stream_count(), 0u);
  // The connection goes on: the next request is served.
  h.handler.respond = [](Reqd& r) { r.respond_with_string({200, {}}, ""); };
  h.get(3);
  out = h.drain();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 3);
  ASSERT_NE(head, nullptr);
  EXPECT_TRUE(head->end_stream());
}

H2_SCRIPT_TEST(FlowControlStall, AWindowUpdateRestartsTheClock) {
  serve_big(h, 100000);
  h.handshake({{4, 0}});
  h.get(1);
  h.drain();
  h.advance(kStall - 1000);
  FrameBuilder b;
  b.window_update(1, 1000);  // a slow reader takes 1000 bytes
  h.feed(b);
  EXPECT_EQ(body_of(h.drain(), 1).size(), 1000u);
  h.advance(kStall - 1);  // the window closed again 4999 ms ago: still within the timeout
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
  h.advance(1);
  expect_rst(h.drain(), 1, ErrorCode::kCancel);
}

H2_SCRIPT_TEST(FlowControlStall, OnlyTheStalledStreamEnds) {
  h.options.flow_control_stall_timeout_ms = kStall;
  h.handler.respond = [](Reqd& r) {
    r.respond_with_string({200, {}}, std::string(r.request().path == "/big" ? 70000 : 10, 'y'));
  };
  h.handshake();
  FrameBuilder b;
  b.window_update(0, 1 << 20);  // the connection window is not the limit
  h.feed(b);
  h.get(1, "/big");  // 65535 bytes go, 4465 wait on the stream window
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1).size(), 65535u);
  h.advance(kStall / 2);
  h.get(3, "/small");
  out = h.drain();
  EXPECT_EQ(body_of(out, 3).size(), 10u);
  h.advance(kStall / 2);
  out = h.drain();
  expect_rst(out, 1, ErrorCode::kCancel);
  EXPECT_EQ(find_frame(out, FrameType::kRstStream, 3), nullptr);
}

H2_SCRIPT_TEST(FlowControlStall, ConnectionWindowClosedForTheTimeoutIsGoaway) {
  serve_big(h, 100000);
  h.handshake({{4, 1 << 20}});  // stream windows open; the connection window stays 65535
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1).size(), 65535u);
  h.advance(kStall - 1);
  EXPECT_TRUE(h.drain().empty());
  h.advance(1);
  expect_goaway(h.drain(), ErrorCode::kEnhanceYourCalm);
}

H2_SCRIPT_TEST(FlowControlStall, ALateAnswerStartsItsClockWhenItIsGiven) {
  // The handler answers long after the request, from outside any driving call (a posted task):
  // no time comes with that call, so the stall clock must not start at the request's time.
  h.options.flow_control_stall_timeout_ms = kStall;
  h.handler.respond = nullptr;
  h.handshake();  // the default 65,535-byte window: a 100 KB answer stalls
  h.get(1);
  h.drain();
  EXPECT_FALSE(h.conn().next_wakeup_ms().has_value());  // nothing to wake the runtime for
  h.now_ms += 10 * kStall;  // time passes; the connection is not told (no wakeup was due)
  EXPECT_EQ(h.handler.requests[0].respond_with_string({200, {}}, std::string(100000, 'l')),
            protocol::Result::kOk);
  EXPECT_EQ(body_of(h.drain(), 1).size(), 65535u);
  h.advance(kStall - 1);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kRstStream), nullptr) << "stamped with a stale time";
  h.advance(1);
  expect_rst(h.drain(), 1, ErrorCode::kCancel);
}

H2_SCRIPT_TEST(Idle, TheIdleClockOfALateAnswerStartsWhenItsStreamEnds) {
  h.options.idle_timeout_ms = kStall;
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.drain();
  EXPECT_FALSE(h.conn().next_wakeup_ms().has_value());  // a stream is open: no idle timer
  h.now_ms += 10 * kStall;  // time passes; the connection is not told (no wakeup was due)
  h.handler.requests[0].respond_with_string({200, {}}, "late");
  EXPECT_EQ(body_of(h.drain(), 1), "late");
  h.advance(kStall - 1);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  h.advance(1);
  expect_goaway(h.drain(), ErrorCode::kNoError);
}

H2_SCRIPT_TEST(FlowControlStall, ZeroDisablesIt) {
  serve_big(h, 100000);
  h.options.flow_control_stall_timeout_ms = 0;
  h.handshake({{4, 0}});
  h.get(1);
  h.drain();
  EXPECT_FALSE(h.conn().next_wakeup_ms().has_value());
  h.advance(24 * 3600 * 1000);
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(h.conn().open_stream_count(), 1u);
}

H2_SCRIPT_TEST(FlowControlStall, ACompletedResponseLeavesNoTimer) {
  serve_big(h, 100);
  h.handshake();
  h.get(1);
  EXPECT_EQ(body_of(h.drain(), 1).size(), 100u);
  h.advance(kStall);
  EXPECT_TRUE(h.drain().empty());
}

// ---- DATA on a stream we reset -------------------------------------------------------------

// A POST answered at once (405 style) while its body is still coming: RST_STREAM(NO_ERROR).
void answer_post_early(Harness& h) {
  h.options.initial_stream_window = 65535;
  h.options.connection_window = 65535;  // credit returned once half of it was consumed
  h.handler.respond = [](Reqd& r) { r.respond_with_string({405, {}}, ""); };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  expect_rst(h.drain(), 1, ErrorCode::kNoError);
}

H2_SCRIPT_TEST(LateData, DataInFlightAfterOurResetIsIgnoredAndCredited) {
  answer_post_early(h);
  FrameBuilder b;
  for (int i = 0; i < 3; ++i) b.data(1, std::string(16384, 'd'), false);  // 49152 < 65535
  h.feed(b);
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);  // §5.1: ignored
  // The connection window is credited back (the bytes were in flight legitimately).
  size_t credited = 0;
  for (const OutFrame& f : out) {
    if (f.h.type == FrameType::kWindowUpdate && f.h.stream_id == 0) credited += f.increment;
  }
  EXPECT_GT(credited, 0u);
}

H2_SCRIPT_TEST(LateData, DataBeyondTheWindowTheStreamHadIsFlowControlError) {
  answer_post_early(h);
  FrameBuilder b;
  for (int i = 0; i < 3; ++i) b.data(1, std::string(16384, 'd'), false);
  b.data(1, std::string(16383, 'd'), false);  // 65535: the whole window, still legitimate
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  b.data(1, "x", false);  // one byte more than the peer was ever allowed
  h.feed(b);
  auto out = h.drain();
  expect_goaway(out, ErrorCode::kFlowControlError);  // RFC 9113 §6.9.1
  for (const OutFrame& f : out) {
    EXPECT_FALSE(f.h.type == FrameType::kWindowUpdate && f.h.stream_id == 0)
        << "no credit for bytes sent on a stream the peer was told is gone";
  }
}

H2_SCRIPT_TEST(LateData, DataAfterOurStreamErrorOnAClosedStreamEndsTheConnection) {
  // A stream closed both ways, then DATA on it twice: the first is the §5.1 STREAM_CLOSED
  // stream error; the second ignores that reset.
  h.handler.respond = [](Reqd& r) { r.respond_with_string({200, {}}, "ok"); };
  h.handshake();
  h.get(1);
  h.drain();
  FrameBuilder b;
  b.data(1, "late", false);
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kStreamClosed);
  b.data(1, "again", false);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFlowControlError);
}

// ---- a request body that never comes ------------------------------------------------------

H2_SCRIPT_TEST(RequestBodyTimeout, ASilentUploadIsCancelled) {
  h.options.request_body_timeout_ms = kStall;
  h.handler.respond = nullptr;  // the handler waits for the body
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  h.drain();
  ASSERT_TRUE(h.conn().next_wakeup_ms().has_value());
  h.advance(kStall - 1000);
  FrameBuilder b;
  b.data(1, "part", false);  // progress: the clock restarts
  h.feed(b);
  h.advance(kStall - 1);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kRstStream), nullptr);
  h.advance(1);
  expect_rst(h.drain(), 1, ErrorCode::kCancel);
  ASSERT_EQ(h.handler.stream_closes.size(), 1u);
  EXPECT_EQ(h.handler.stream_closes[0].end, protocol::StreamEnd::kStreamError);
}

H2_SCRIPT_TEST(RequestBodyTimeout, AWindowTheHandlerKeepsClosedIsNotThePeersSilence) {
  // The handler does not read: the stream window fills and the peer cannot send. That wait is
  // ours; once the handler reads and the window reopens, the peer's clock starts again.
  h.options.request_body_timeout_ms = kStall;
  h.options.initial_stream_window = 65535;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  for (int i = 0; i < 3; ++i) b.data(1, std::string(16384, 'p'), false);
  b.data(1, std::string(16383, 'p'), false);  // the whole window, unread
  h.feed(b);
  h.drain();
  h.advance(10 * kStall);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kRstStream), nullptr) << "our wait, not the peer's";
  BodyReader reader;
  reader.start(h.handler.requests[0]);  // consumes: WINDOW_UPDATE, the peer may send again
  EXPECT_EQ(reader.body.size(), 65535u);
  h.drain();
  h.advance(kStall - 1);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kRstStream), nullptr);
  h.advance(1);
  expect_rst(h.drain(), 1, ErrorCode::kCancel);
}

H2_SCRIPT_TEST(RequestBodyTimeout, RequestsWithoutABodyAndZeroAreExempt) {
  h.options.request_body_timeout_ms = 0;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  h.get(3);
  h.drain();
  h.advance(24 * 3600 * 1000);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kRstStream), nullptr);
  EXPECT_EQ(h.conn().open_stream_count(), 2u);
}

// ---- frames that carry nothing ----------------------------------------------------------------

H2_SCRIPT_TEST(EmptyFrames, ConsecutiveEmptyDataFramesAreEnhanceYourCalm) {
  // CVE-2019-9518: zero-length DATA frames cost no flow-control window.
  h.options.max_consecutive_empty_frames = 4;
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  for (int i = 0; i < 4; ++i) b.data(1, "", false);
  b.data(1, "x", false);  // a byte of body resets the count
  for (int i = 0; i < 4; ++i) b.data(1, "", false);
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  b.data(1, "", false);  // the fifth in a row
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kEnhanceYourCalm);
}

H2_SCRIPT_TEST(EmptyFrames, AnEmptyDataFrameEndingTheStreamIsNotCounted) {
  h.options.max_consecutive_empty_frames = 0;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.data(1, "", true);  // how many clients end a body
  h.feed(b);
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_EQ(body_of(out, 1), "ok");
}

H2_SCRIPT_TEST(EmptyFrames, WindowUpdatesBeyondTheDataWeSentAreEnhanceYourCalm) {
  h.options.max_window_updates_per_data_frame = 3;
  h.handshake();
  FrameBuilder b;
  for (int i = 0; i < 3; ++i) b.window_update(0, 1);  // 3 x (0 DATA frames + 0 streams + 1)
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  h.get(1);  // one stream opened and one DATA frame sent: 3 x 2 more allowed
  EXPECT_EQ(body_of(h.drain(), 1), "ok");
  for (int i = 0; i < 6; ++i) b.window_update(0, 1);
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  b.window_update(0, 1);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kEnhanceYourCalm);
}

H2_SCRIPT_TEST(EmptyFrames, PriorityFramesBeyondTheStreamsOpenedAreEnhanceYourCalm) {
  h.options.max_priority_frames_per_stream = 2;
  h.handshake();
  FrameBuilder b;
  b.priority(3, 0, 16).priority(5, 0, 16);  // 2 x (0 streams + 1)
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  h.get(1);
  h.drain();
  b.priority(7, 0, 16).priority(9, 0, 16);  // 2 more for the stream opened
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  b.priority(11, 0, 16);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kEnhanceYourCalm);
}

}  // namespace
}  // namespace h2::test
