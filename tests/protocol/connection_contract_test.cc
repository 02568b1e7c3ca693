// The embedder contract (protocol/request_handler.h, protocol/server_connection.h): exactly one
// on_stream_closed for every stream the handler saw, never from inside a Reqd call; one
// on_output_ready per batch of output queued from outside the driving calls; re-entrant driving
// calls refused; throwing callbacks contained; time given with the input; destruction ends
// streams with their callbacks.
#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Reqd;
using protocol::Result;
using protocol::StreamEnd;
using protocol::Writer;

// The closes recorded for stream `id`.
std::vector<TestHandler::Closed> closes_of(const TestHandler& handler, uint32_t id) {
  std::vector<TestHandler::Closed> out;
  for (const auto& c : handler.stream_closes) {
    if (c.id == id) out.push_back(c);
  }
  return out;
}

H2_SCRIPT_TEST(Contract, CompletedStreamIsReportedOnce) {
  h.handshake();
  h.get(1);
  h.drain();
  auto closes = closes_of(h.handler, 1);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].end, StreamEnd::kCompleted);
  EXPECT_EQ(closes[0].code, ErrorCode::kNoError);
  EXPECT_TRUE(h.handler.resets.empty());
}

H2_SCRIPT_TEST(Contract, EveryKindOfEndIsReportedExactlyOnce) {
  // 1 completes, 3 is reset by the peer, 5 breaks content-length (RFC 9113 §8.1.1 stream error),
  // 7 is reset by its handler, 9 stays open until the connection fails.
  h.handler.respond = [](Reqd& r) {
    if (r.stream_id() == 1) r.respond_with_string({200, {}}, "ok");
    if (r.stream_id() == 7) r.reset(ErrorCode::kRefusedStream);
  };
  h.handshake();
  h.get(1);
  h.request(3, Harness::get_fields(), false);
  Fields post = Harness::post_fields();
  post.emplace_back("content-length", "10");
  h.request(5, post, false);
  h.get(7);
  h.request(9, Harness::get_fields(), false);
  FrameBuilder b;
  b.rst_stream(3, ErrorCode::kCancel).data(5, "abc", true);
  h.feed(b);
  h.drain();
  b.raw(FrameType::kWindowUpdate, 0, 0, std::string(4, '\0'));  // §6.9: increment 0
  h.feed(b);
  h.drain();
  const std::pair<uint32_t, StreamEnd> expected[] = {{1, StreamEnd::kCompleted},
                                                     {3, StreamEnd::kResetByPeer},
                                                     {5, StreamEnd::kStreamError},
                                                     {7, StreamEnd::kResetByHandler},
                                                     {9, StreamEnd::kConnectionEnded}};
  for (auto [id, end] : expected) {
    SCOPED_TRACE("stream " + std::to_string(id));
    auto closes = closes_of(h.handler, id);
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_EQ(closes[0].end, end) << protocol::stream_end_name(closes[0].end);
  }
  EXPECT_EQ(closes_of(h.handler, 3)[0].code, ErrorCode::kCancel);
  EXPECT_EQ(closes_of(h.handler, 5)[0].code, ErrorCode::kProtocolError);
  EXPECT_EQ(closes_of(h.handler, 9)[0].code, ErrorCode::kProtocolError);
  EXPECT_EQ(h.handler.stream_closes.size(), 5u);
}

H2_SCRIPT_TEST(Contract, EarlyResponseWithResetNoErrorCountsAsCompleted) {
  // RFC 9113 §8.1: the response ends before the request body; RST_STREAM(NO_ERROR) follows.
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  auto out = h.drain();
  const OutFrame* rst = find_frame(out, FrameType::kRstStream, 1);
  ASSERT_NE(rst, nullptr);
  EXPECT_EQ(rst->code, ErrorCode::kNoError);
  auto closes = closes_of(h.handler, 1);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].end, StreamEnd::kCompleted);
}

H2_SCRIPT_TEST(Contract, StreamClosedNeverComesFromInsideAReqdCall) {
  bool in_reset = false;
  bool reported_inside = false;
  h.handler.respond = [&](Reqd& r) {
    in_reset = true;
    r.reset(ErrorCode::kCancel);
    in_reset = false;
  };
  h.handler.on_closed = [&](Reqd&, StreamEnd) { reported_inside = reported_inside || in_reset; };
  h.handshake();
  h.get(1);
  h.drain();
  EXPECT_FALSE(reported_inside);
  ASSERT_EQ(h.handler.stream_closes.size(), 1u);
  // Outside any driving call the report waits for the next one; on_output_ready asks for it.
  Reqd late;
  h.handler.respond = [&](Reqd& r) { late = r; };
  h.handler.on_closed = nullptr;
  h.get(3);
  h.drain();
  const size_t ready_before = h.handler.output_ready;
  EXPECT_EQ(late.reset(ErrorCode::kCancel), Result::kOk);
  EXPECT_EQ(h.handler.stream_closes.size(), 1u);
  EXPECT_EQ(h.handler.output_ready, ready_before + 1);
  expect_rst(h.drain(), 3, ErrorCode::kCancel);
  ASSERT_EQ(closes_of(h.handler, 3).size(), 1u);
  EXPECT_EQ(closes_of(h.handler, 3)[0].end, StreamEnd::kResetByHandler);
}

H2_SCRIPT_TEST(Contract, OutputReadyOncePerBatchAndNeverDuringDrivingCalls) {
  std::vector<Writer> writers;
  h.handler.respond = [&](Reqd& r) { writers.push_back(r.respond_with_streaming({200, {}})); };
  h.handshake();
  h.get(1);
  h.get(3);
  h.drain();
  EXPECT_EQ(h.handler.output_ready, 0u) << "responses queued inside on_request need no notice";
  ASSERT_EQ(writers.size(), 2u);
  writers[0].write("a");
  writers[1].write("b");
  writers[0].write("c");
  EXPECT_EQ(h.handler.output_ready, 1u) << "one batch, one notice";
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), "ac");
  EXPECT_EQ(body_of(out, 3), "b");
  writers[1].close();
  EXPECT_EQ(h.handler.output_ready, 2u) << "a driving call ended the batch";
  h.drain();
  // A call that queues nothing (flush with nothing pending) is no batch.
  writers[0].flush([](bool) {});
  EXPECT_EQ(h.handler.output_ready, 2u);
}

TEST(Contract, ReentrantDrivingCallsAreRefused) {
  Harness h(SplitMode{0});
  size_t nested = SIZE_MAX;
  h.handler.respond = [&](Reqd& r) {
    nested = h.conn().process_bytes("garbage", h.now_ms);
    std::vector<std::string_view> views;
    EXPECT_EQ(h.conn().pending_output(views), 0u);
    EXPECT_TRUE(views.empty());
    r.respond_with_string({200, {}}, "ok");
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(nested, 0u);
  EXPECT_EQ(h.conn().refused_reentrant_calls(), 2u);
  EXPECT_EQ(body_of(out, 1), "ok");
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr) << "the refused bytes were not read";
}

TEST(Contract, DrivingCallsFromOnOutputReadyAreRefused) {
  struct Handler : TestHandler {
    protocol::ServerConnection* conn = nullptr;
    size_t pulled = SIZE_MAX;
    void on_output_ready() override {
      TestHandler::on_output_ready();
      std::vector<std::string_view> views;
      pulled = conn->pending_output(views);
    }
  };
  Handler handler;
  Reqd kept;
  handler.respond = [&](Reqd& r) { kept = r; };
  protocol::ServerConnection conn(&handler, {}, 0);
  handler.conn = &conn;
  FrameBuilder b;
  b.preface().settings({});
  hpack::Encoder enc;
  std::string block;
  std::vector<hpack::HeaderField> fields = {
      {":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}};
  enc.encode(fields, block);
  b.headers(1, block, flags::kEndHeaders | flags::kEndStream);
  std::string input = b.take();
  ASSERT_EQ(conn.process_bytes(input, 0), input.size());
  std::vector<std::string_view> views;
  conn.consume_output(conn.pending_output(views));
  EXPECT_EQ(kept.respond_with_string({200, {}}, "late"), Result::kOk);
  EXPECT_EQ(handler.output_ready, 1u);
  EXPECT_EQ(handler.pulled, 0u);
  EXPECT_EQ(conn.refused_reentrant_calls(), 1u);
  EXPECT_TRUE(conn.wants_write());
}

H2_SCRIPT_TEST(Contract, ThrowingOnRequestAnswers500AndTheConnectionGoesOn) {
  h.handler.respond = [](Reqd& r) {
    if (r.stream_id() == 1) throw std::runtime_error("handler bug");
    r.respond_with_string({200, {}}, "fine");
  };
  h.handshake();
  h.get(1);
  h.get(3);
  auto out = h.drain();
  const OutFrame* head1 = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head1, nullptr);
  EXPECT_EQ(head1->field(":status"), "500");
  EXPECT_EQ(body_of(out, 3), "fine");
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_EQ(h.conn().callback_exceptions(), 1u);
  EXPECT_EQ(h.handler.stream_closes.size(), 2u);
}

H2_SCRIPT_TEST(Contract, ThrowingBodyReadOnceStreamingResetsTheStream) {
  Writer writer;
  h.handler.respond = [&](Reqd& r) {
    if (r.stream_id() != 1) {
      r.respond_with_string({200, {}}, "ok");
      return;
    }
    writer = r.respond_with_streaming({200, {}});
    r.schedule_read([](std::string_view) { throw 42; }, [] {});
  };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.data(1, "body", false);
  h.feed(b);
  auto out = h.drain();
  expect_rst(out, 1, ErrorCode::kInternalError);  // report_error after the head: RST_STREAM
  EXPECT_EQ(h.conn().callback_exceptions(), 1u);
  h.get(3);
  out = h.drain();
  EXPECT_EQ(body_of(out, 3), "ok");
}

H2_SCRIPT_TEST(Contract, ThrowingNotificationsAndReleasesAreContained) {
  h.handler.respond = [](Reqd& r) {
    Writer w = r.respond_with_streaming({200, {}});
    w.write_borrowed("borrowed", [] { throw std::logic_error("release bug"); });
    w.flush([](bool) { throw std::logic_error("flush bug"); });
    w.close();
  };
  h.handler.on_closed = [](Reqd&, StreamEnd) { throw std::logic_error("close bug"); };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), "borrowed");
  EXPECT_EQ(h.conn().callback_exceptions(), 3u);
  h.handler.on_closed = nullptr;
  h.get(3);
  out = h.drain();
  EXPECT_EQ(body_of(out, 3), "borrowed");
  EXPECT_EQ(h.handler.stream_closes.size(), 2u);
}

H2_SCRIPT_TEST(Contract, TimeComesWithTheInput) {
  // The idle clock counts from the last frame received, stamped with process_bytes' time: no
  // on_time call is needed before it.
  h.options.idle_timeout_ms = 1000;
  h.handshake();
  h.drain();
  h.now_ms += 900;
  FrameBuilder b;
  b.ping(7);
  h.feed(b);  // at +900, without on_time
  h.drain();
  ASSERT_TRUE(h.conn().next_wakeup_ms().has_value());
  EXPECT_EQ(*h.conn().next_wakeup_ms(), h.now_ms + 1000);
  h.advance(999);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
  h.advance(1);
  expect_goaway(h.drain(), ErrorCode::kNoError);
}

TEST(Contract, DestructionEndsOpenStreamsWithTheirCallbacks) {
  Harness h(SplitMode{0});
  Writer writer;
  Reqd reading;
  bool eof = false;
  std::vector<bool> flushed;
  int released = 0;
  h.handler.respond = [&](Reqd& r) {
    if (r.stream_id() == 1) {
      writer = r.respond_with_streaming({200, {}});
    } else {
      reading = r;
      r.schedule_read([](std::string_view) {}, [&] { eof = true; });
    }
  };
  h.handshake({{4, 0}});  // SETTINGS_INITIAL_WINDOW_SIZE 0: the body stays queued
  h.get(1);
  h.request(3, Harness::post_fields(), false);
  h.drain();
  writer.write_borrowed("held", [&] { ++released; });
  writer.flush([&](bool ok) { flushed.push_back(ok); });
  h.handler.stream_closes.clear();
  h.start();  // replaces (destroys) the connection
  EXPECT_TRUE(eof);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_FALSE(flushed[0]);
  EXPECT_EQ(released, 1);
  ASSERT_EQ(h.handler.stream_closes.size(), 2u);
  for (const auto& c : h.handler.stream_closes) {
    EXPECT_EQ(c.end, StreamEnd::kConnectionEnded);
    EXPECT_EQ(c.code, ErrorCode::kCancel);
  }
  ASSERT_FALSE(h.handler.closed.empty());
  EXPECT_EQ(h.handler.closed.back(), ErrorCode::kCancel);
  EXPECT_EQ(writer.write("x"), Result::kConnectionClosed);
  EXPECT_EQ(reading.respond_with_string({200, {}}, ""), Result::kConnectionClosed);
}

TEST(Contract, DestructionAfterAToldCauseDoesNotTellAgain) {
  Harness h(SplitMode{0});
  h.handshake();
  h.conn().on_peer_eof();
  ASSERT_EQ(h.handler.closed.size(), 1u);
  h.start();
  EXPECT_EQ(h.handler.closed.size(), 1u);
}

H2_SCRIPT_TEST(Contract, PushedStreamsAreReportedToo) {
  h.handler.respond = [](Reqd& r) {
    if (r.stream_id() != 1) return;
    protocol::PushResult p = r.push("GET", "/style.css");
    ASSERT_EQ(p.result, Result::kOk);
    p.pushed.respond_with_string({200, {}}, "css");
    r.respond_with_string({200, {}}, "html");
  };
  h.handshake();
  h.get(1);
  h.drain();
  auto pushed = closes_of(h.handler, 2);
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0].end, StreamEnd::kCompleted);
  ASSERT_EQ(closes_of(h.handler, 1).size(), 1u);
}

}  // namespace
}  // namespace h2::test
