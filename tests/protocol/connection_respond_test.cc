// The respond API (protocol/reqd.h): string, shared and streaming bodies, borrowed writes,
// flush, trailers (RFC 9113 §8.1), 103 Early Hints (RFC 8297), server push (RFC 9113 §8.4),
// cancellation both ways, handler errors, handle lifetimes, h2c upgrade (RFC 7540 §3.2).
#include <gtest/gtest.h>

#include <memory>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Field;
using protocol::Reqd;
using protocol::Result;
using protocol::Writer;

H2_SCRIPT_TEST(Respond, EmptyStringBodyEndsStreamOnHeaders) {
  h.handler.respond = [](Reqd& r) { r.respond_with_string({204, {}}, ""); };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_TRUE(head->end_stream());
  EXPECT_EQ(count_frames(out, FrameType::kData), 0u);
}

H2_SCRIPT_TEST(Respond, ResponseHeadersAreEncoded) {
  h.handler.respond = [](Reqd& r) {
    Field fields[] = {{"content-type", "text/plain"}, {"x-secret", "s", true}};
    EXPECT_EQ(r.respond_with_string({201, fields}, "made"), Result::kOk);
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->field(":status"), "201");
  EXPECT_EQ(head->field("content-type"), "text/plain");
  EXPECT_EQ(head->field("x-secret"), "s");
  EXPECT_EQ(body_of(out, 1), "made");
}

H2_SCRIPT_TEST(Respond, InvalidResponsesAreRejectedWithResults) {
  h.handler.respond = [](Reqd& r) {
    Field upper[] = {{"Content-Type", "x"}};
    EXPECT_EQ(r.respond_with_string({200, upper}, ""), Result::kInvalidArgument);
    Field conn[] = {{"connection", "close"}};
    EXPECT_EQ(r.respond_with_string({200, conn}, ""), Result::kInvalidArgument);
    EXPECT_EQ(r.respond_informational({101, {}}), Result::kInvalidArgument);  // §8.6
    EXPECT_EQ(r.respond_with_string({99, {}}, ""), Result::kInvalidArgument);
    EXPECT_EQ(r.respond_with_string({200, {}}, "fine"), Result::kOk);
    EXPECT_EQ(r.respond_with_string({200, {}}, "twice"), Result::kAlreadyResponded);
  };
  h.handshake();
  h.get(1);
  EXPECT_EQ(body_of(h.drain(), 1), "fine");
}

H2_SCRIPT_TEST(Respond, SharedBufferIsReferencedNotCopied) {
  auto buffer = std::make_shared<std::string>(5000, 's');
  h.handler.respond = [&](Reqd& r) {
    EXPECT_EQ(r.respond_with_shared({200, {}}, buffer, *buffer), Result::kOk);
  };
  h.handshake();
  h.get(1);
  EXPECT_GT(buffer.use_count(), 1);  // the connection holds it until written
  std::vector<std::string_view> views;
  h.conn().pending_output(views);
  bool referenced = false;
  for (auto v : views) {
    referenced |= v.data() >= buffer->data() && v.data() < buffer->data() + buffer->size();
  }
  EXPECT_TRUE(referenced) << "the body must be gathered from the shared buffer itself";
  EXPECT_EQ(body_of(h.drain(), 1), *buffer);
  h.handler.requests.clear();
  EXPECT_EQ(buffer.use_count(), 1);  // released once written
}

H2_SCRIPT_TEST(Respond, LargeStringBodyIsMovedInNotCopied) {
  std::string body(20000, 'm');
  const char* original = body.data();
  h.handler.respond = [&](Reqd& r) { r.respond_with_string({200, {}}, std::move(body)); };
  h.handshake();
  h.get(1);
  std::vector<std::string_view> views;
  h.conn().pending_output(views);
  bool referenced = false;
  for (auto v : views) referenced |= v.data() == original;
  EXPECT_TRUE(referenced) << "the moved string's own buffer is gathered";
  EXPECT_EQ(body_of(h.drain(), 1), std::string(20000, 'm'));
}

H2_SCRIPT_TEST(Respond, StreamingWriterWithBorrowedWritesAndFlush) {
  Writer writer;
  h.handler.respond = [&](Reqd& r) { writer = r.respond_with_streaming({200, {}}); };
  h.handshake();
  h.get(1);
  h.drain();
  ASSERT_TRUE(writer);
  std::string borrowed(3000, 'b');
  int released = 0;
  std::vector<bool> flushed;
  EXPECT_EQ(writer.write("copied-"), Result::kOk);
  EXPECT_EQ(writer.write_borrowed(borrowed, [&] { ++released; }), Result::kOk);
  EXPECT_EQ(writer.flush([&](bool ok) { flushed.push_back(ok); }), Result::kOk);
  EXPECT_EQ(released, 0);
  EXPECT_TRUE(flushed.empty());
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), "copied-" + borrowed);
  EXPECT_EQ(released, 1);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_TRUE(flushed[0]);
  EXPECT_EQ(writer.close(), Result::kOk);
  out = h.drain();
  const OutFrame* end = find_frame(out, FrameType::kData, 1);
  ASSERT_NE(end, nullptr);
  EXPECT_TRUE(end->end_stream());
  EXPECT_EQ(writer.write("late"), Result::kStreamClosed);
}

H2_SCRIPT_TEST(Respond, ResponseTrailersFollowTheBody) {
  h.handler.respond = [](Reqd& r) {
    Writer w = r.respond_with_streaming({200, {}});
    w.write("body");
    Field trailers[] = {{"grpc-status", "0"}};
    EXPECT_EQ(w.close_with_trailers(trailers), Result::kOk);
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  std::vector<const OutFrame*> on1;
  for (const auto& f : out) {
    if (f.h.stream_id == 1) on1.push_back(&f);
  }
  ASSERT_EQ(on1.size(), 3u);
  EXPECT_EQ(on1[0]->h.type, FrameType::kHeaders);
  EXPECT_EQ(on1[1]->h.type, FrameType::kData);
  EXPECT_FALSE(on1[1]->end_stream());
  EXPECT_EQ(on1[2]->h.type, FrameType::kHeaders);
  EXPECT_TRUE(on1[2]->end_stream());
  EXPECT_EQ(on1[2]->field("grpc-status"), "0");
}

H2_SCRIPT_TEST(Rfc8297, EarlyHintsBeforeTheFinalResponse) {
  h.handler.respond = [](Reqd& r) {
    Field link[] = {{"link", "</style.css>; rel=preload"}};
    EXPECT_EQ(r.respond_informational({103, link}), Result::kOk);
    r.respond_with_string({200, {}}, "page");
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  ASSERT_EQ(count_frames(out, FrameType::kHeaders, 1), 2u);
  const OutFrame* first = find_frame(out, FrameType::kHeaders, 1);
  EXPECT_EQ(first->field(":status"), "103");
  EXPECT_FALSE(first->end_stream());
  EXPECT_EQ(body_of(out, 1), "page");
}

H2_SCRIPT_TEST(Rfc9113_8_4, PushPromiseThenPushedResponse) {
  h.handler.respond = [](Reqd& r) {
    protocol::PushResult pushed = r.push("GET", "/style.css");
    ASSERT_EQ(pushed.result, Result::kOk);
    EXPECT_EQ(pushed.pushed.stream_id(), 2u);
    EXPECT_EQ(pushed.pushed.request().path, "/style.css");
    r.respond_with_string({200, {}}, "page");
    pushed.pushed.respond_with_string({200, {}}, "css");
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  const OutFrame* promise = find_frame(out, FrameType::kPushPromise, 1);
  ASSERT_NE(promise, nullptr);
  EXPECT_EQ(promise->promised, 2u);
  EXPECT_EQ(promise->field(":path"), "/style.css");
  EXPECT_EQ(promise->field(":authority"), "example.com");
  // The promise precedes the parent's response (RFC 9113 §8.4.1).
  EXPECT_LT(promise - out.data(), find_frame(out, FrameType::kHeaders, 1) - out.data());
  EXPECT_EQ(body_of(out, 1), "page");
  EXPECT_EQ(body_of(out, 2), "css");
}

H2_SCRIPT_TEST(Rfc9113_8_4, PushRefusedWhenPeerDisabledIt) {
  protocol::Result result = Result::kOk;
  h.handler.respond = [&](Reqd& r) {
    result = r.push("GET", "/x").result;
    r.respond_with_string({200, {}}, "ok");
  };
  h.handshake({{2, 0}});
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(result, Result::kPushDisabled);
  EXPECT_EQ(find_frame(out, FrameType::kPushPromise), nullptr);
}

H2_SCRIPT_TEST(Rfc9113_8_4, PushRefusedAtPeersMaxConcurrentStreams) {
  std::vector<Result> results;
  std::vector<Reqd> pushed;
  h.handler.respond = [&](Reqd& r) {
    for (int i = 0; i < 3; ++i) {
      auto p = r.push("GET", "/p" + std::to_string(i));
      results.push_back(p.result);
      if (p.pushed) pushed.push_back(p.pushed);
    }
    r.respond_with_string({200, {}}, "ok");
  };
  h.handshake({{3, 2}});
  h.get(1);
  h.drain();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], Result::kOk);
  EXPECT_EQ(results[1], Result::kOk);
  EXPECT_EQ(results[2], Result::kPushLimitReached);
  // A finished pushed stream frees its slot.
  pushed[0].respond_with_string({200, {}}, "p0");
  EXPECT_EQ(body_of(h.drain(), 2), "p0");
  Reqd parent = h.handler.requests.at(0);
  EXPECT_EQ(parent.push("GET", "/again").result, Result::kStreamClosed);  // parent finished
  h.handler.respond = [&](Reqd& r) {
    results.push_back(r.push("GET", "/later").result);
    r.respond_with_string({200, {}}, "ok");
  };
  h.get(3);
  h.drain();
  EXPECT_EQ(results.back(), Result::kOk);
}

H2_SCRIPT_TEST(Cancel, HandlerErrorBeforeHeadIs500) {
  h.handler.respond = [](Reqd& r) { EXPECT_EQ(r.report_error(), Result::kOk); };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->field(":status"), "500");
  EXPECT_TRUE(head->end_stream());
}

H2_SCRIPT_TEST(Cancel, HandlerErrorAfterHeadIsRstInternalErrorAndConnectionGoesOn) {
  h.handler.respond = [](Reqd& r) {
    if (r.stream_id() == 1) {
      Writer w = r.respond_with_streaming({200, {}});
      w.write("partial");
      EXPECT_EQ(r.report_error(), Result::kOk);
      EXPECT_EQ(w.write("more"), Result::kStreamClosed);
    } else {
      r.respond_with_string({200, {}}, "ok");
    }
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  expect_rst(out, 1, ErrorCode::kInternalError);
  h.get(3);
  EXPECT_EQ(body_of(h.drain(), 3), "ok");
}

H2_SCRIPT_TEST(Cancel, HandlerResetSendsItsCode) {
  h.handler.respond = [](Reqd& r) { EXPECT_EQ(r.reset(ErrorCode::kRefusedStream), Result::kOk); };
  h.handshake();
  h.get(1);
  expect_rst(h.drain(), 1, ErrorCode::kRefusedStream);
  // The handler is told once, as for every stream, with its own code (connection_contract_test).
  ASSERT_EQ(h.handler.stream_closes.size(), 1u);
  EXPECT_EQ(h.handler.stream_closes[0].end, protocol::StreamEnd::kResetByHandler);
  EXPECT_EQ(h.handler.stream_closes[0].code, ErrorCode::kRefusedStream);
}

H2_SCRIPT_TEST(Cancel, PeerResetFailsPendingFlushAndReleasesBorrowedData) {
  Writer writer;
  h.handler.respond = [&](Reqd& r) { writer = r.respond_with_streaming({200, {}}); };
  h.handshake({{4, 10}});
  h.get(1);
  h.drain();
  int released = 0;
  std::vector<bool> flushed;
  writer.write_borrowed(std::string_view("0123456789abcdefghij"), [&] { ++released; });
  writer.flush([&](bool ok) { flushed.push_back(ok); });
  h.drain();  // 10 bytes out, 10 blocked
  FrameBuilder b;
  b.rst_stream(1, ErrorCode::kCancel);
  h.feed(b);
  h.drain();
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_FALSE(flushed[0]);
  EXPECT_EQ(released, 1);
  ASSERT_EQ(h.handler.resets.size(), 1u);
  EXPECT_EQ(h.handler.resets[0].second, ErrorCode::kCancel);
}

H2_SCRIPT_TEST(Lifetime, AsyncHandlerRespondsLater) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1, "/a");
  h.get(3, "/b");
  h.drain();
  Reqd second = h.handler.requests.at(1);
  Reqd first = h.handler.requests.at(0);
  h.handler.requests.clear();
  second.respond_with_string({200, {}}, std::string(second.request().path));
  first.respond_with_string({200, {}}, std::string(first.request().path));
  auto out = h.drain();
  EXPECT_EQ(body_of(out, 1), "/a");
  EXPECT_EQ(body_of(out, 3), "/b");
}

H2_SCRIPT_TEST(Lifetime, ReqdOutlivesTheConnection) {
  h.handler.respond = nullptr;
  h.handshake();
  h.get(1, "/kept");
  Reqd kept = h.handler.requests.at(0);
  h.handler.requests.clear();
  int released = 0;
  Writer w = kept.respond_with_streaming({200, {}});
  w.write_borrowed("borrowed", [&] { ++released; });
  h.start();  // replaces (destroys) the connection
  EXPECT_EQ(released, 1);
  EXPECT_EQ(kept.request().path, "/kept");  // views still valid
  EXPECT_TRUE(kept.is_closed());
  EXPECT_EQ(kept.respond_with_string({200, {}}, "x"), Result::kConnectionClosed);
  EXPECT_EQ(w.write("x"), Result::kConnectionClosed);
}

H2_SCRIPT_TEST(Respond, EchoPostBody) {
  h.handler.respond = [](Reqd& r) {
    auto body = std::make_shared<std::string>();
    auto reader = std::make_shared<std::function<void()>>();
    *reader = [r, body, reader]() mutable {
      r.schedule_read(
          [body, reader](std::string_view d) {
            body->append(d);
            (*reader)();
          },
          [r, body, reader]() mutable {
            r.respond_with_string({200, {}}, *body);
            *reader = nullptr;  // breaks the cycle
          });
    };
    (*reader)();
  };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.data(1, "hello ").data(1, "world", true);
  h.feed(b);
  EXPECT_EQ(body_of(h.drain(), 1), "hello world");
}

H2_SCRIPT_TEST(Rfc9113_8_1, EarlyResponseResetsWithNoErrorAndDiscardsTheRestOfTheBody) {
  h.options.initial_stream_window = 65535;
  h.options.connection_window = 65535;
  h.handler.respond = [](Reqd& r) { r.respond_with_string({413, {}}, ""); };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kHeaders, 1)->field(":status"), "413");
  expect_rst(out, 1, ErrorCode::kNoError);  // after the complete response (§8.1)
  EXPECT_EQ(h.conn().open_stream_count(), 0u);
  // Body in flight when the client saw the reset: ignored, but the connection window is
  // credited back (the client can go on sending on other streams).
  FrameBuilder b;
  for (int i = 0; i < 3; ++i) b.data(1, std::string(16000, 'x'));
  b.data(1, "", true);
  h.feed(b);
  out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
  EXPECT_EQ(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_NE(find_frame(out, FrameType::kWindowUpdate, 0), nullptr);
}

TEST(Rfc7540_3_2, H2cUpgradeRequestBecomesStream1) {
  TestHandler handler;
  handler.respond = [](Reqd& r) {
    EXPECT_EQ(r.request().path, "/upgraded");
    BodyReader reader;
    reader.start(r);
    EXPECT_EQ(reader.body, "form=1");
    EXPECT_TRUE(reader.eof);
    r.respond_with_string({200, {}}, "via h2c");
  };
  std::string settings_payload("\x00\x03\x00\x00\x00\x64", 6);  // MAX_CONCURRENT_STREAMS=100
  Field headers[] = {{"user-agent", "test"}};
  protocol::UpgradeRequest request{"POST", "http", "example.com", "/upgraded", headers, "form=1"};
  protocol::ServerConnection conn(&handler, {}, 0, settings_payload, std::move(request));
  EXPECT_TRUE(handler.requests.empty());  // dispatched once the client preface arrives
  FrameBuilder b;
  b.preface().settings();
  EXPECT_EQ(conn.process_bytes(b.take(), 0), 33u);
  ASSERT_EQ(handler.requests.size(), 1u);
  ServerOutputDecoder decoder;
  std::vector<std::string_view> views;
  size_t n = conn.pending_output(views);
  for (auto v : views) decoder.feed(v);
  conn.consume_output(n);
  auto out = decoder.take();
  EXPECT_EQ(out.at(0).h.type, FrameType::kSettings);
  EXPECT_EQ(body_of(out, 1), "via h2c");
  EXPECT_EQ(find_frame(out, FrameType::kHeaders, 1)->field(":status"), "200");
}

TEST(Rfc7540_3_2, MalformedHttp2SettingsFailsTheConnection) {
  TestHandler handler;
  protocol::ServerConnection conn(&handler, {}, 0, std::string_view("\x00\x03\x00", 3),
                                  protocol::UpgradeRequest{"GET", "http", "a", "/", {}, ""});
  ServerOutputDecoder decoder;
  std::vector<std::string_view> views;
  size_t n = conn.pending_output(views);
  for (auto v : views) decoder.feed(v);
  conn.consume_output(n);
  auto out = decoder.take();
  ASSERT_NE(find_frame(out, FrameType::kGoaway), nullptr);
  EXPECT_TRUE(conn.is_closed());
}

}  // namespace
}  // namespace h2::test
