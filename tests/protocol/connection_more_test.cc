// More RFC rules end to end: peer HPACK table size, padded HEADERS/DATA, large response header
// blocks cut into CONTINUATION, PRIORITY_UPDATE frame rules, peer GOAWAY and pushed streams.
#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Field;
using protocol::Reqd;
using protocol::Result;

H2_SCRIPT_TEST(Rfc7541_4_2, PeerHeaderTableSizeZeroIsHonoured) {
  h.handler.respond = [](Reqd& r) {
    Field f[] = {{"content-type", "text/html"}, {"x-custom", "some-value"}};
    r.respond_with_string({200, f}, "ok");
  };
  h.handshake({{1, 0}});  // SETTINGS_HEADER_TABLE_SIZE = 0
  for (uint32_t id = 1; id <= 5; id += 2) h.get(id);
  auto out = h.drain();  // the harness's decoder verifies every block
  for (uint32_t id = 1; id <= 5; id += 2) {
    const OutFrame* head = find_frame(out, FrameType::kHeaders, id);
    ASSERT_NE(head, nullptr);
    EXPECT_EQ(head->field("x-custom"), "some-value");
  }
}

// The HPACK state is made at the first header block (an idle connection holds none): changes of
// the peer's table size before it must still all be signalled, the smallest first, then the last.
TEST(Rfc7541_4_2, TableSizeChangesBeforeTheFirstBlockAreSignalledSmallestThenLast) {
  struct Answer final : protocol::RequestHandler {
    void on_request(Reqd& r) override { r.respond_with_string({200, {}}, "ok"); }
  } handler;
  protocol::ServerConnection conn(&handler, {}, 0);
  FrameBuilder b;
  b.preface().settings({{1, 0}}).settings({{1, 4096}});
  b.headers(1, Harness::literal_block(Harness::get_fields()),
            flags::kEndHeaders | flags::kEndStream);
  conn.process_bytes(b.take(), 0);
  std::vector<std::string_view> views;
  conn.pending_output(views, SIZE_MAX);
  std::string out;
  for (auto v : views) out.append(v);
  // Frames: SETTINGS, 2 x SETTINGS ACK, then HEADERS on stream 1.
  size_t at = 0;
  std::string_view block;
  while (at + 9 <= out.size()) {
    const size_t n = (size_t(uint8_t(out[at])) << 16) | (size_t(uint8_t(out[at + 1])) << 8) |
                     uint8_t(out[at + 2]);
    if (out[at + 3] == 0x1 && out[at + 8] == 1) block = std::string_view(out).substr(at + 9, n);
    at += 9 + n;
  }
  ASSERT_GE(block.size(), 4u);
  // RFC 7541 §6.3: size update to 0 (0x20), then to 4096 (0x3f 0xe1 0x1f).
  EXPECT_EQ(block.substr(0, 4), std::string_view("\x20\x3f\xe1\x1f", 4));
}

H2_SCRIPT_TEST(Rfc9113_6_2, PaddedHeadersWithPriorityAreAccepted) {
  h.handshake();
  FrameBuilder b;
  b.headers(1, h.block(Harness::get_fields("/padded")), flags::kEndHeaders | flags::kEndStream,
            protocol::PrioritySpec{0, false, 200}, protocol::Padding{10});
  h.feed(b);
  ASSERT_EQ(h.handler.requests.size(), 1u);
  EXPECT_EQ(h.handler.requests[0].request().path, "/padded");
}

H2_SCRIPT_TEST(Rfc9113_6_1, PaddedDataDeliversOnlyTheData) {
  BodyReader reader;
  h.handler.respond = [&](Reqd& r) { reader.start(r); };
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.data(1, "abc", false, 5).data(1, "def", true, 0);
  h.feed(b);
  EXPECT_EQ(reader.body, "abcdef");
  EXPECT_TRUE(reader.eof);
}

H2_SCRIPT_TEST(Rfc9113_6_1, PaddingLongerThanPayloadIsProtocolError) {
  h.handshake();
  h.request(1, Harness::post_fields(), false);
  FrameBuilder b;
  b.raw(FrameType::kData, flags::kPadded, 1,
        std::string("\x05"
                    "ab",
                    3));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_4_3, LargeResponseHeaderBlockIsCutIntoContinuation) {
  std::string big(40000, 'h');
  h.handler.respond = [&](Reqd& r) {
    Field f[] = {{"x-big", big}};
    r.respond_with_string({200, f}, "ok");
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  const OutFrame* head = find_frame(out, FrameType::kHeaders, 1);
  ASSERT_NE(head, nullptr);
  EXPECT_GE(head->continuations, 1u);
  EXPECT_LE(head->h.length, 16384u);  // the peer's MAX_FRAME_SIZE (RFC 9113 §4.2)
  EXPECT_EQ(head->field("x-big"), big);
  EXPECT_EQ(body_of(out, 1), "ok");
}

H2_SCRIPT_TEST(Rfc9218_7_1, PriorityUpdateForStreamZeroIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.priority_update(0, "u=1");
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9218_7_1, PriorityUpdateOnAStreamIsProtocolError) {
  h.handshake();
  FrameBuilder b;
  b.raw(FrameType::kPriorityUpdate, 0, 1, std::string("\0\0\0\x01u=1", 7));
  h.feed(b);
  expect_goaway(h.drain(), ErrorCode::kProtocolError);
}

H2_SCRIPT_TEST(Rfc9113_6_8, PeerGoawayEndsPushedStreamsAboveItsLastId) {
  Reqd pushed;
  h.handler.respond = [&](Reqd& r) {
    pushed = r.push("GET", "/p").pushed;
    r.respond_with_string({200, {}}, "ok");
  };
  h.handshake();
  h.get(1);
  h.drain();
  ASSERT_TRUE(pushed);
  EXPECT_FALSE(pushed.is_closed());
  FrameBuilder b;
  b.goaway(1, ErrorCode::kNoError);  // the client never saw stream 2's promise processed
  h.feed(b);
  EXPECT_TRUE(pushed.is_closed());
  EXPECT_EQ(pushed.respond_with_string({200, {}}, "x"), Result::kStreamClosed);
  EXPECT_EQ(h.handler.closed.size(), 1u);
  // RFC 9113 §6.8: no stream left, our GOAWAY(NO_ERROR, 1) goes out; closed once it is written.
  EXPECT_FALSE(h.conn().is_closed());
  auto out = h.drain();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().h.type, FrameType::kGoaway);
  EXPECT_EQ(out.back().last_stream_id, 1u);
  EXPECT_EQ(out.back().code, ErrorCode::kNoError);
  EXPECT_TRUE(h.conn().is_closed());
}

H2_SCRIPT_TEST(Respond, TrailersWithoutBody) {
  h.handler.respond = [](Reqd& r) {
    protocol::Writer w = r.respond_with_streaming({200, {}});
    Field t[] = {{"grpc-status", "0"}};
    w.close_with_trailers(t);
  };
  h.handshake();
  h.get(1);
  auto out = h.drain();
  EXPECT_EQ(count_frames(out, FrameType::kHeaders, 1), 2u);
  EXPECT_EQ(count_frames(out, FrameType::kData, 1), 0u);
}

H2_SCRIPT_TEST(Rfc9113_5_1_2, ConcurrencyLimitCountsOnlyOpenStreams) {
  h.options.max_concurrent_streams = 1;
  h.handshake();
  // Each request is answered at once, so one open stream at a time is enough for many.
  for (uint32_t id = 1; id < 41; id += 2) h.get(id);
  auto out = h.drain();
  EXPECT_EQ(find_frame(out, FrameType::kRstStream), nullptr);
  EXPECT_EQ(h.handler.requests.size(), 20u);
}

}  // namespace
}  // namespace h2::test

namespace h2::test {
namespace {

// Repeated identical heads reuse their indexed HPACK block; any change (other fields, trailers,
// a push promise, a peer table size change) must keep our encoder and the client's decoder in
// sync (the harness decodes every block with its own HPACK decoder).
H2_SCRIPT_TEST(Rfc7541_2_3, RepeatedResponseHeadsStayInSyncWithThePeer) {
  int n = 0;
  h.handler.respond = [&](Reqd& r) {
    ++n;
    Field plain[] = {{"content-type", "text/plain"}, {"server", "h2"}};
    Field html[] = {{"content-type", "text/html"}, {"server", "h2"}};
    if (n % 5 == 3) {
      protocol::Writer w = r.respond_with_streaming({200, plain});
      std::string value = std::to_string(n);
      Field t[] = {{"x-trailer", value}};
      w.close_with_trailers(t);
    } else if (n % 7 == 6) {
      r.push("GET", "/pushed-" + std::to_string(n)).pushed.respond_with_string({200, html}, "p");
      r.respond_with_string({200, plain}, "x");
    } else {
      r.respond_with_string({200, n % 4 == 0 ? html : plain}, "x");
    }
  };
  h.handshake();
  for (uint32_t id = 1; id < 80; id += 2) {
    if (id == 41) {
      FrameBuilder b;
      b.settings({{1, 100}});  // shrink the peer table mid-way
      h.feed(b);
    }
    h.get(id);
  }
  auto out = h.drain();
  size_t heads = 0;
  for (const auto& f : out) {
    if (f.h.type == FrameType::kHeaders && f.h.stream_id % 2 == 1 && f.field(":status") == "200") {
      ++heads;
      EXPECT_EQ(f.field("server"), "h2");
    }
  }
  EXPECT_EQ(heads, 40u);
}

// SharedOptions: the connection keeps a reference to the caller's options for its whole life
// (no copy per connection) and serves by them: the server preface's SETTINGS (RFC 9113 §6.5.2)
// carry SETTINGS_MAX_CONCURRENT_STREAMS (0x3) from them.
TEST(ConnectionOptions, SharedOptionsAreReferencedForTheConnectionsLifeAndApplied) {
  struct Answer final : protocol::RequestHandler {
    void on_request(Reqd& r) override { r.respond_with_string({200, {}}, "ok"); }
  } handler;
  auto options = std::make_shared<protocol::ConnectionOptions>();
  options->max_concurrent_streams = 7;
  {
    protocol::ServerConnection conn(&handler, protocol::SharedOptions(options), 0);
    EXPECT_EQ(options.use_count(), 2);
    std::vector<std::string_view> views;
    conn.pending_output(views, SIZE_MAX);
    std::string out;
    for (auto v : views) out.append(v);
    ASSERT_GE(out.size(), 9u);
    ASSERT_EQ(out[3], 0x4);  // SETTINGS
    const size_t n = (size_t(uint8_t(out[0])) << 16) | (size_t(uint8_t(out[1])) << 8) |
                     uint8_t(out[2]);
    bool found = false;
    for (size_t at = 9; at + 6 <= 9 + n; at += 6) {
      if (out[at] == 0 && out[at + 1] == 0x3) {
        found = true;
        EXPECT_EQ(uint8_t(out[at + 5]), 7);
      }
    }
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(options.use_count(), 1);
}

}  // namespace
}  // namespace h2::test
