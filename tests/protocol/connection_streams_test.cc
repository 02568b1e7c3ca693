// RFC 9113 §5.1 stream states, §5.1.1 stream ids, §5.1.2 concurrency, §6.1-§6.4 per-frame
// stream rules, recently closed stream memory, and the rapid-reset budget (CVE-2023-44487).
#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Result;

H2_SCRIPT_TEST(Rfc9113_5_1, DataOnIdleStreamIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.data(1, "x");
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_5_1, RstStreamOnIdleStreamIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.rst_stream(1, ErrorCode::kCancel);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_5_1, WindowUpdateOnIdleStreamIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.window_update(1, 100);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_5_1, PriorityOnIdleStreamIsAllowed) {
  h.handshake();
  FrameBuilder b;
  b.priority(3, 0);
  h.feed(b);
  h.get(3);
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_EQ(body_of(out, 3), "ok");
}

H2_SCRIPT_TEST(Rfc9113_5_1, DataOnHalfClosedRemoteIsStreamClosed) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);  // END_STREAM: half-closed (remote)
  FrameBuilder b;
  b.data(1, "late");
  h.feed(b);
  auto out = h.drain();
  expect_rst(out, 1, ErrorCode::kStreamClosed);
  ASSERT_EQ(h.handler.resets.size(), 1u);  // the handler learns its stream is gone
  EXPECT_EQ(h.handler.resets[0].second, ErrorCode::kStreamClosed);
}

H2_SCRIPT_TEST(Rfc9113_5_1, HeadersOnHalfClosedRemoteIsStreamClosed) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.request(1, Harness::get_fields(), true);
  expect_rst(h.drain(), 1, ErrorCode::kStreamClosed);
  // The block was decoded (HPACK stays in sync): a later request works.
  h.get(3, "/after");
  EXPECT_EQ(h.handler.requests.back().request().path, "/after");
}

H2_SCRIPT_TEST(Rfc9113_5_1, DataOnClosedStreamIsStreamClosed) {
  h.handshake();
  h.get(1);
  h.drain();  // response complete: stream 1 closed
  FrameBuilder b;
  b.data(1, "late");
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kStreamClosed);
}

H2_SCRIPT_TEST(Rfc9113_5_1, HeadersOnClosedStreamIsStreamClosedConnectionError) {
  // Closed by END_STREAM both ways, still remembered: §5.1 "connection error of type
  // STREAM_CLOSED" (and a reused id, §5.1.1) - not a stream error the connection survives.
  h.handshake();
  h.get(1);
  h.drain();
  h.get(1);
  expect_goaway(h.drain(), ErrorCode::kStreamClosed);
  EXPECT_EQ(h.handler.requests.size(), 1u);  // no second request on stream 1
  h.get(3, "/after");
  EXPECT_EQ(h.handler.requests.size(), 1u);  // nothing after the connection error
}

H2_SCRIPT_TEST(Rfc9113_5_1, HeadersAfterPeerResetIsStreamClosedStreamError) {
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.rst_stream(1, ErrorCode::kCancel);
  h.feed(b);
  h.request(1, {{"x-trailer", "1"}}, true);
  expect_rst(h.drain(), 1, ErrorCode::kStreamClosed);
  h.handler.respond = [](protocol::Reqd& r) { r.respond_with_string({200, {}}, "ok"); };
  h.get(3);
  EXPECT_EQ(body_of(h.drain(), 3), "ok");
}

// Trailers end the request (half-closed remote); a second trailer section is STREAM_CLOSED,
// whether the response is still running (stream half-closed) or already finished (closed).
static void second_trailers_script(Harness& h, bool answer_at_eof) {
  h.handler.respond = nullptr;
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.data(1, "a");
  h.feed(b);
  h.request(1, {{"x-t", "1"}}, true);
  if (answer_at_eof) {
    ASSERT_EQ(h.handler.requests[0].respond_with_string({200, {}}, "ok"), Result::kOk);
    EXPECT_TRUE(h.handler.requests[0].is_closed());
  }
  h.request(1, {{"x-u", "2"}}, true);
  auto out = h.drain();
  if (answer_at_eof) {
    // Closed by END_STREAM both ways: §5.1 makes further frames a connection error.
    expect_goaway(out, ErrorCode::kStreamClosed);
    return;
  }
  expect_rst(out, 1, ErrorCode::kStreamClosed);
  EXPECT_EQ(count_frames(out, FrameType::kRstStream, 1), 1u);
  h.handler.respond = [](protocol::Reqd& r) { r.respond_with_string({200, {}}, "ok"); };
  h.get(3);
  EXPECT_EQ(body_of(h.drain(), 3), "ok");
}

H2_SCRIPT_TEST(Rfc9113_5_1, HeadersAfterTrailersOnHalfClosedStreamIsStreamClosed) {
  second_trailers_script(h, false);
}

H2_SCRIPT_TEST(Rfc9113_5_1, HeadersAfterTrailersOnClosedStreamIsStreamClosed) {
  second_trailers_script(h, true);
}

H2_SCRIPT_TEST(Rfc9113_5_1, HeadersOnEvictedOrSkippedStreamIsConnectionError) {
  // Not attributable (skipped id, implicitly closed, §5.1.1): a connection error remains.
  h.handshake();
  h.get(5);
  h.drain();
  h.get(3);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

// §5.1 reserved (local): only RST_STREAM, PRIORITY and WINDOW_UPDATE may be received.
static void reserved_local_script(Harness& h, bool data) {
  h.handler.respond = [](protocol::Reqd& r) {
    if (r.stream_id() == 1) {
      protocol::PushResult p = r.push("GET", "/pushed");
      ASSERT_EQ(p.result, Result::kOk);
    }
  };
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.window_update(2, 100).priority(2, 0);
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  if (data) {
    b.data(2, "x");
    h.feed(b);
  } else {
    h.request(2, Harness::get_fields(), true);
  }
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_5_1, DataOnReservedLocalStreamIsProtocolError) {
  reserved_local_script(h, true);
}

H2_SCRIPT_TEST(Rfc9113_5_1, HeadersOnReservedLocalStreamIsProtocolError) {
  reserved_local_script(h, false);
}

H2_SCRIPT_TEST(Rfc9113_5_1, FramesAfterOurRstStreamAreIgnored) {
  h.handler.respond = [](protocol::Reqd& r) {
    if (r.stream_id() == 1)
      r.reset(ErrorCode::kCancel);
    else
      r.respond_with_string({200, {}}, "ok");
  };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  auto out = h.drain();
  expect_rst(out, 1, ErrorCode::kCancel);
  FrameBuilder b;
  b.data(1, "in flight").window_update(1, 10);
  h.feed(b);
  h.request(1, {{"x-trailer", "1"}}, true);  // trailers still decoded, then ignored
  out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
  h.get(3);
  EXPECT_EQ(body_of(h.drain(), 3), "ok");
}

H2_SCRIPT_TEST(Rfc9113_5_1, WindowUpdateAndRstOnRecentlyClosedStreamAreIgnored) {
  h.handshake();
  h.get(1);
  h.drain();
  FrameBuilder b;
  b.window_update(1, 100).rst_stream(1, ErrorCode::kCancel).priority(1, 0);
  h.feed(b);
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
}

H2_SCRIPT_TEST(Rfc9113_5_1_1, EvenStreamIdFromClientIsProtocolError) {
  h.handshake();
  h.get(2);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_5_1_1, DecreasingStreamIdIsProtocolError) {
  h.handshake();
  h.get(5);
  h.get(3);  // never opened: lower than 5
  auto out = h.drain();
  expect_goaway(out, ErrorCode::kProtocolError);
  EXPECT_EQ(find_frame(out, FrameType::kGoaway)->last_stream_id, 5u);
}

H2_SCRIPT_TEST(Rfc9113_5_1_1, SkippedIdsAreImplicitlyClosed) {
  h.handshake();
  h.get(7);
  FrameBuilder b;
  b.data(3, "x");  // 3 was skipped: closed, not idle
  h.feed(b);
  expect_rst(h.drain(), 3, ErrorCode::kStreamClosed);
}

H2_SCRIPT_TEST(Rfc9113_5_1_2, StreamsAboveMaxConcurrentAreRefused) {
  h.options.max_concurrent_streams = 2;
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  h.get(3);
  h.get(5);
  auto out = h.drain();
  expect_rst(out, 5, ErrorCode::kRefusedStream);
  EXPECT_EQ(h.handler.requests.size(), 2u);
  // Once a stream finishes, a new one is accepted.
  h.handler.requests[0].respond_with_string({204, {}}, "");
  h.drain();
  h.get(7);
  EXPECT_EQ(h.handler.requests.size(), 3u);
  // Frames on the refused stream are ignored (we reset it).
  FrameBuilder b;
  b.data(5, "x");
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
}

H2_SCRIPT_TEST(Rfc9113_6_4, PeerResetNotifiesHandlerAndStopsResponse) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.rst_stream(1, ErrorCode::kCancel);
  h.feed(b);
  ASSERT_EQ(h.handler.resets.size(), 1u);
  EXPECT_EQ(h.handler.resets[0], std::make_pair(1u, ErrorCode::kCancel));
  EXPECT_TRUE(h.handler.requests[0].is_closed());
  EXPECT_EQ(h.handler.requests[0].respond_with_string({200, {}}, "x"), Result::kStreamClosed);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kHeaders), nullptr);
}

H2_SCRIPT_TEST(Rfc9113_6_4, RstStreamWithWrongLengthIsFrameSizeError) {
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.raw(FrameType::kRstStream, 0, 1, std::string(3, '\0'));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kFrameSizeError);
}

H2_SCRIPT_TEST(Rfc9113_6_1, DataOnStreamZeroIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.data(0, "x");
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_2, HeadersOnStreamZeroIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.headers(0, h.block(Harness::get_fields()), flags::kEndHeaders);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_5_3_1, HeadersDependingOnItselfIsStreamError) {
  h.handshake();
  FrameBuilder b;
  b.headers(1, h.block(Harness::get_fields()), flags::kEndHeaders | flags::kEndStream,
            protocol::PrioritySpec{1, false, 15});
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kProtocolError);
  EXPECT_TRUE(h.handler.requests.empty());
  h.get(3);  // HPACK state intact
  EXPECT_EQ(body_of(h.drain(), 3), "ok");
}

H2_SCRIPT_TEST(Rfc9113_5_3_1, PriorityDependingOnItselfIsStreamError) {
  h.handshake();
  FrameBuilder b;
  b.priority(1, 1);
  h.feed(b);
  expect_rst(h.drain(), 1, ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_3, PriorityWithWrongLengthIsFrameSizeError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kPriority, 0, 1, std::string(4, '\0'));
  h.feed(b);
  auto out = h.drain();
  // A stream error (RFC 9113 §6.3); a connection error is also allowed by §5.4.
  const OutFrame* rst = find_frame(out, FrameType::kRstStream, 1);
  const OutFrame* goaway = find_frame(out, FrameType::kGoaway);
  ASSERT_TRUE(rst != nullptr || goaway != nullptr);
  EXPECT_EQ(rst ? rst->code : goaway->code, ErrorCode::kFrameSizeError);
}

H2_SCRIPT_TEST(Rfc9113_8_4, PushPromiseFromClientIsProtocolError) {
  h.handshake();
  h.get(1);
  FrameBuilder b;
  b.push_promise(1, 2, h.block(Harness::get_fields()));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(ClosedStreams, OldStreamsEvictedFromMemoryStillJudgedClosed) {
  h.options.closed_stream_memory = 4;
  h.handshake();
  for (uint32_t id = 1; id <= 41; id += 2) h.get(id);
  h.drain();
  FrameBuilder b;
  b.window_update(1, 5);  // long closed: still ignored, not "idle"
  h.feed(b);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  b.data(3, "x");
  h.feed(b);
  expect_rst(h.drain(), 3, ErrorCode::kStreamClosed);
}

H2_SCRIPT_TEST(Cve_2023_44487, RapidResetBeyondBudgetIsEnhanceYourCalm) {
  h.options.reset_budget = 10;
  h.options.reset_budget_window_ms = 1000;
  h.handler.respond = nullptr;
  h.handshake();
  uint32_t id = 1;
  for (int i = 0; i < 10; ++i, id += 2) {
    h.get(id);
    FrameBuilder b;
    b.rst_stream(id, ErrorCode::kCancel);
    h.feed(b);
  }
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  h.get(id);
  FrameBuilder b;
  b.rst_stream(id, ErrorCode::kCancel);
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kEnhanceYourCalm);
}

H2_SCRIPT_TEST(Cve_2023_44487, ResetBudgetRefillsOverTime) {
  h.options.reset_budget = 3;
  h.options.reset_budget_window_ms = 1000;
  h.options.idle_timeout_ms = 0;
  h.handler.respond = nullptr;
  h.handshake();
  uint32_t id = 1;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i, id += 2) {
      h.get(id);
      FrameBuilder b;
      b.rst_stream(id, ErrorCode::kCancel);
      h.feed(b);
    }
    h.advance(1000);
  }
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
}

H2_SCRIPT_TEST(Flood, QueuedControlFramesAboveLimitIsEnhanceYourCalm) {
  h.options.max_queued_control_frames = 50;
  h.handshake();
  FrameBuilder b;
  for (int i = 0; i < 60; ++i) b.ping(i);
  h.feed(b);  // never drained in between: the peer does not read
  expect_goaway(h.drain(), ErrorCode::kEnhanceYourCalm);
}

H2_SCRIPT_TEST(Flood, ControlFramesWrittenInTimeAreFine) {
  h.options.max_queued_control_frames = 50;
  h.handshake();
  for (int round = 0; round < 10; ++round) {
    FrameBuilder b;
    for (int i = 0; i < 20; ++i) b.ping(i);
    h.feed(b);
    EXPECT_EQ(count_frames(h.drain(), FrameType::kPing), 20u);
  }
}

}  // namespace
}  // namespace h2::test
