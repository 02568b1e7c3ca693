// RFC 9110 §9.3.2 / RFC 9113 §8.1: a response to HEAD carries no content, whatever respond mode
// the handler uses; its header fields (content-length included) are sent as given.
#include <gtest/gtest.h>

#include <memory>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Field;
using protocol::Reqd;
using protocol::Result;
using protocol::Writer;

Fields head_fields(std::string path = "/") {
  Fields f = Harness::get_fields(std::move(path));
  f[0].second = "HEAD";
  return f;
}

H2_SCRIPT_TEST(Rfc9110_9_3_2, StringBodyIsDroppedAndHeadersEndTheStream) {
  h.handler.respond = [](Reqd& r) {
    static const Field kFields[] = {{"content-length", "15"}, {"content-type", "text/plain"}};
    EXPECT_EQ(r.respond_with_string({200, kFields}, "non-empty data."), Result::kOk);
  };
  h.handshake();
  h.request(1, head_fields(), true);
  auto out = h.drain();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_TRUE(head->end_stream());
  EXPECT_EQ(head->field(":status"), "200");
  EXPECT_EQ(head->field("content-length"), "15");  // kept: what a GET would get
  EXPECT_EQ(count_frames(out, FrameType::kData, 1), 0u);
  EXPECT_EQ(h.conn().open_stream_count(), 0u);
  // The same handler answers GET with its body.
  h.get(3);
  out = h.drain();
  EXPECT_EQ(body_of(out, 3), "non-empty data.");
}

H2_SCRIPT_TEST(Rfc9110_9_3_2, LargeStringBodyIsDroppedToo) {
  h.handler.respond = [](Reqd& r) {
    EXPECT_EQ(r.respond_with_string({200, {}}, std::string(100000, 'x')), Result::kOk);
  };
  h.handshake();
  h.request(1, head_fields(), true);
  auto out = h.drain();
  ASSERT_NE(find_frame(out, FrameType::kHeaders, 1), nullptr);
  EXPECT_TRUE(find_frame(out, FrameType::kHeaders, 1)->end_stream());
  EXPECT_EQ(count_frames(out, FrameType::kData), 0u);
}

H2_SCRIPT_TEST(Rfc9110_9_3_2, SharedBodyIsDroppedAndItsOwnerReleased) {
  auto owner = std::make_shared<std::string>("shared body bytes");
  h.handler.respond = [&owner](Reqd& r) {
    EXPECT_EQ(r.respond_with_shared({200, {}}, owner, *owner), Result::kOk);
  };
  h.handshake();
  h.request(1, head_fields(), true);
  EXPECT_EQ(owner.use_count(), 1) << "the core keeps no reference to a body it never sends";
  auto out = h.drain();
  ASSERT_NE(find_frame(out, FrameType::kHeaders, 1), nullptr);
  EXPECT_TRUE(find_frame(out, FrameType::kHeaders, 1)->end_stream());
  EXPECT_EQ(count_frames(out, FrameType::kData), 0u);
}

H2_SCRIPT_TEST(Rfc9110_9_3_2, StreamingWritesAreAcceptedAndDiscarded) {
  Writer writer;
  h.handler.respond = [&writer](Reqd& r) {
    static const Field kFields[] = {{"content-length", "6000"}};
    writer = r.respond_with_streaming({200, kFields});
  };
  h.handshake();
  h.request(1, head_fields(), true);
  ASSERT_TRUE(writer);
  std::string borrowed(3000, 'b');
  int released = 0;
  std::vector<bool> flushed;
  EXPECT_EQ(writer.write(std::string(2000, 'c')), Result::kOk);
  EXPECT_EQ(writer.write_borrowed(borrowed, [&released] { ++released; }), Result::kOk);
  EXPECT_EQ(released, 1) << "a borrowed buffer that is never sent is released at once";
  EXPECT_EQ(writer.write_shared(std::make_shared<std::string>(1000, 's'), "s"), Result::kOk);
  EXPECT_EQ(writer.buffered_bytes(), 0u);
  EXPECT_EQ(writer.flush([&flushed](bool ok) { flushed.push_back(ok); }), Result::kOk);
  auto out = h.drain();
  ASSERT_EQ(flushed.size(), 1u);  // completes once what was queued before it is written
  EXPECT_TRUE(flushed[0]);
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->field("content-length"), "6000");
  EXPECT_FALSE(head->end_stream());  // the stream ends when the writer closes
  EXPECT_EQ(count_frames(out, FrameType::kData), 0u);
  EXPECT_FALSE(h.handler.requests[0].is_closed());
  // Trailers are content-related: a HEAD response has none either.
  static const Field kTrailers[] = {{"x-checksum", "1"}};
  EXPECT_EQ(writer.close_with_trailers(kTrailers), Result::kOk);
  out = h.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].h.type, FrameType::kData);
  EXPECT_EQ(out[0].h.length, 0u);
  EXPECT_TRUE(out[0].end_stream());
  EXPECT_EQ(h.conn().open_stream_count(), 0u);
  EXPECT_EQ(writer.write("late"), Result::kStreamClosed);
}

H2_SCRIPT_TEST(Rfc9110_9_3_2, PeerResetStillFailsWritesOnHead) {
  Writer writer;
  h.handler.respond = [&writer](Reqd& r) { writer = r.respond_with_streaming({200, {}}); };
  h.handshake();
  h.request(1, head_fields(), true);
  h.drain();
  FrameBuilder b;
  b.rst_stream(1, ErrorCode::kCancel);
  h.feed(b);
  int released = 0;
  EXPECT_EQ(writer.write_borrowed("x", [&released] { ++released; }), Result::kStreamClosed);
  EXPECT_EQ(released, 1);
  std::vector<bool> flushed;
  EXPECT_EQ(writer.flush([&flushed](bool ok) { flushed.push_back(ok); }), Result::kStreamClosed);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_FALSE(flushed[0]);
}

H2_SCRIPT_TEST(Rfc9110_9_3_2, PushedHeadResponseHasNoContent) {
  h.handler.respond = [](Reqd& r) {
    if (r.stream_id() != 1) return;
    protocol::PushResult p = r.push("HEAD", "/pushed");
    ASSERT_EQ(p.result, Result::kOk);
    EXPECT_EQ(p.pushed.respond_with_string({200, {}}, "pushed body"), Result::kOk);
    EXPECT_EQ(r.respond_with_string({200, {}}, "main"), Result::kOk);
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  const OutFrame* promise = find_frame(out, FrameType::kPushPromise, 1);
  ASSERT_NE(promise, nullptr);
  const uint32_t pushed = promise->promised;
  ASSERT_NE(find_frame(out, FrameType::kHeaders, pushed), nullptr);
  EXPECT_TRUE(find_frame(out, FrameType::kHeaders, pushed)->end_stream());
  EXPECT_EQ(count_frames(out, FrameType::kData, pushed), 0u);
  EXPECT_EQ(body_of(out, 1), "main");
}

TEST(Rfc9110_9_3_2, H2cUpgradedHeadRequestHasNoContent) {
  // RFC 7540 §3.2: the HTTP/1.1 request that upgraded becomes stream 1; HEAD rules apply too.
  TestHandler handler;
  handler.respond = [](Reqd& r) {
    EXPECT_EQ(r.respond_with_string({200, {}}, "not sent"), Result::kOk);
  };
  protocol::UpgradeRequest request{"HEAD", "http", "example.com", "/", {}, ""};
  protocol::ServerConnection conn(&handler, {}, 0, std::string_view(), std::move(request));
  FrameBuilder b;
  b.preface().settings();
  conn.process_bytes(b.take(), 0);
  ASSERT_EQ(handler.requests.size(), 1u);
  ServerOutputDecoder decoder;
  std::vector<std::string_view> views;
  size_t n = conn.pending_output(views);
  for (auto v : views) decoder.feed(v);
  conn.consume_output(n);
  auto out = decoder.take();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_TRUE(head->end_stream());
  EXPECT_EQ(count_frames(out, FrameType::kData), 0u);
}

}  // namespace
}  // namespace h2::test
