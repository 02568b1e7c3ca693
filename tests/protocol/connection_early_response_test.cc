// RFC 9113 §8.1: a response completed before the request body was fully received, in every
// interleaving with the request's DATA and END_STREAM (and with output pulled in between or
// not); §5.1 a new request after the previous stream completed; §6.9 connection credit for
// request bodies nobody read.
#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Reqd;
using protocol::Result;
using protocol::Writer;

// When the handler completes its response, relative to the request body.
enum class When {
  kOnRequest,    // inside on_request, before any DATA
  kAfterData,    // after a DATA frame without END_STREAM was received (and buffered)
  kInsideChunk,  // from the on_chunk callback of that DATA
  kAfterEnd,     // after the final DATA with END_STREAM
};

struct EarlyCase {
  When when;
  bool streaming;      // Writer write + close (END_STREAM framed when output is pulled)
  bool drain_between;  // output pulled between the request's frames
  std::string name() const {
    static const char* kWhen[] = {"on_request", "after DATA", "inside on_chunk", "after END"};
    return std::string(kWhen[static_cast<int>(when)]) + (streaming ? ", streaming" : ", string") +
           (drain_between ? ", drained between" : ", not drained");
  }
};

void respond_fully(Reqd& r, bool streaming) {
  if (!streaming) {
    EXPECT_EQ(r.respond_with_string({200, {}}, "response"), Result::kOk);
    return;
  }
  Result result = Result::kOk;
  Writer w = r.respond_with_streaming({200, {}}, &result);
  ASSERT_EQ(result, Result::kOk);
  EXPECT_EQ(w.write("resp"), Result::kOk);
  EXPECT_EQ(w.write("onse"), Result::kOk);
  EXPECT_EQ(w.close(), Result::kOk);
}

void append(std::vector<OutFrame>& all, std::vector<OutFrame> more) {
  for (OutFrame& f : more) all.push_back(std::move(f));
}

void run_early_case(SplitMode mode, const EarlyCase& c) {
  SCOPED_TRACE(mode.name() + ": " + c.name());
  Harness h(mode);
  h.handler.respond = [&c](Reqd& r) {
    if (c.when == When::kOnRequest) respond_fully(r, c.streaming);
    if (c.when == When::kInsideChunk) {
      r.schedule_read([&c, r](std::string_view) mutable { respond_fully(r, c.streaming); }, [] {});
    }
  };
  h.handshake();
  std::vector<OutFrame> out;
  h.request(1, Harness::post_fields(), false);
  if (c.drain_between) append(out, h.drain());
  FrameBuilder b;
  b.data(1, "request ");
  h.feed(b);
  ASSERT_EQ(h.handler.requests.size(), 1u);
  if (c.when == When::kAfterData) respond_fully(h.handler.requests[0], c.streaming);
  if (c.drain_between) append(out, h.drain());
  b.data(1, "body", true);
  h.feed(b);
  if (c.when == When::kAfterEnd) respond_fully(h.handler.requests[0], c.streaming);
  append(out, h.drain());

  // The full response, ended exactly once.
  EXPECT_EQ(body_of(out, 1), "response");
  int end_index = -1, rst_index = -1, ends = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].h.stream_id != 1) continue;
    if ((out[i].h.type == FrameType::kData || out[i].h.type == FrameType::kHeaders) &&
        out[i].end_stream()) {
      ++ends;
      end_index = static_cast<int>(i);
    }
    if (out[i].h.type == FrameType::kRstStream) {
      EXPECT_EQ(out[i].code, ErrorCode::kNoError) << "§8.1: only NO_ERROR after a response";
      EXPECT_EQ(rst_index, -1) << "one RST_STREAM at most";
      rst_index = static_cast<int>(i);
    }
  }
  EXPECT_EQ(ends, 1);
  // RST_STREAM(NO_ERROR) exactly when our END_STREAM went out before the request's.
  const bool response_first = c.when != When::kAfterEnd && (!c.streaming || c.drain_between);
  EXPECT_EQ(rst_index != -1, response_first);
  if (rst_index != -1) {
    EXPECT_GT(rst_index, end_index) << "RST_STREAM before END_STREAM";
  }
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  // Nothing left waiting: the stream is closed, the handler's handle says so.
  EXPECT_EQ(h.conn().open_stream_count(), 0u);
  EXPECT_TRUE(h.handler.requests[0].is_closed());
  EXPECT_FALSE(h.conn().wants_write());
  EXPECT_TRUE(h.conn().wants_read());
  // The connection goes on.
  h.handler.respond = [](Reqd& r) { r.respond_with_string({200, {}}, "ok"); };
  h.get(3);
  out = h.drain();
  EXPECT_EQ(body_of(out, 3), "ok");
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
}

TEST(Rfc9113_8_1, ResponseBeforeRequestBodyEndsTheStreamInEveryInterleaving) {
  for (SplitMode mode : {SplitMode{0}, SplitMode{1}, SplitMode{2}, SplitMode{3}, SplitMode{42},
                         SplitMode{0, true}}) {
    for (When when : {When::kOnRequest, When::kAfterData, When::kInsideChunk, When::kAfterEnd}) {
      for (bool streaming : {false, true}) {
        for (bool drain_between : {false, true}) {
          run_early_case(mode, EarlyCase{when, streaming, drain_between});
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

H2_SCRIPT_TEST(Rfc9113_8_1, PendingReadEndsWhenTheResponseCompletesFirst) {
  // A read waiting for body that will never be read: on_eof, and the body is not complete.
  bool eof = false;
  h.handler.respond = [&eof](Reqd& r) {
    r.schedule_read([](std::string_view) { ADD_FAILURE() << "no chunk expected"; },
                    [&eof] { eof = true; });
  };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  Reqd r = h.handler.requests[0];
  EXPECT_EQ(r.respond_with_string({200, {}}, "done"), Result::kOk);
  EXPECT_TRUE(eof);
  EXPECT_FALSE(r.body_complete());
  EXPECT_TRUE(r.is_closed());
  auto out = h.drain();
  expect_rst(out, 1, ErrorCode::kNoError);
  EXPECT_TRUE(h.handler.resets.empty()) << "the handler ended the stream itself";
  FrameBuilder b;
  b.data(1, "late", true);
  h.feed(b);
  out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);  // §5.1: ignored after our reset
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
}

// sdk-to-host item 4: a request sent after the previous stream completed and every byte of its
// response was written (curl reusing a connection) is served, whatever the client's settings.
H2_SCRIPT_TEST(Rfc9113_5_1, NextRequestAfterThePreviousStreamCompletedIsServed) {
  // curl 7.88's preface: SETTINGS(MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 32 MiB,
  // ENABLE_PUSH 0) and a connection WINDOW_UPDATE.
  h.handshake({{3, 100}, {4, 33554432}, {2, 0}});
  FrameBuilder b;
  b.window_update(0, 33488897);
  h.feed(b);
  h.drain();
  for (uint32_t id = 1; id <= 9; id += 2) {
    SCOPED_TRACE("stream " + std::to_string(id));
    h.get(id, "/r" + std::to_string(id));
    auto out = h.drain();
    EXPECT_EQ(body_of(out, id), "ok");
    const OutFrame* data = find_frame(out, FrameType::kData, id);
    ASSERT_NE(data, nullptr);
    EXPECT_TRUE(data->end_stream());
    // Idle again: nothing to write, still reading, only the idle timer armed.
    EXPECT_EQ(h.conn().open_stream_count(), 0u);
    EXPECT_FALSE(h.conn().wants_write());
    EXPECT_TRUE(h.conn().wants_read());
    EXPECT_FALSE(h.conn().is_closed());
    ASSERT_TRUE(h.conn().next_wakeup_ms().has_value());
    EXPECT_EQ(*h.conn().next_wakeup_ms(), h.now_ms + h.options.idle_timeout_ms);
    h.handler.requests.clear();  // the handler lets go: the stream object is recycled
    h.advance(10);
    EXPECT_TRUE(h.drain().empty());
  }
  EXPECT_EQ(h.conn().last_peer_stream_id(), 9u);
}

H2_SCRIPT_TEST(Rfc9113_6_9, UnreadRequestBodyIsCreditedToTheConnection) {
  // Bodies received in full but never read (the handler answered without reading them) give
  // their connection window back when the stream ends; else the window would shrink for good
  // and, after 64 KiB here, the next DATA would be a flow-control error.
  h.options.connection_window = 65535;
  h.handler.respond = nullptr;
  h.handshake();
  uint32_t credited = 0;
  for (uint32_t i = 0; i < 8; ++i) {
    const uint32_t id = 1 + 2 * i;
    h.request(id, Harness::post_fields(), false);
    FrameBuilder b;
    b.data(id, std::string(16000, 'x'), true);
    h.feed(b);
    ASSERT_EQ(h.handler.requests.size(), i + 1);
    EXPECT_EQ(h.handler.requests.back().respond_with_string({200, {}}, "ok"), Result::kOk);
    auto out = h.drain();
    EXPECT_EQ(body_of(out, id), "ok");
    ASSERT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
    EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
    for (const OutFrame& f : out) {
      if (f.h.type == FrameType::kWindowUpdate && f.h.stream_id == 0) credited += f.increment;
    }
  }
  EXPECT_GE(credited, 8u * 16000 - 65535);
}

}  // namespace
}  // namespace h2::test
