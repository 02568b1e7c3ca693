// Unit tests of the connection's small parts: flow-control windows (RFC 9113 §6.9), the closed
// stream memory (§5.1 "closed"), the output queue's ownership rules, request-field validation.
#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <vector>

#include "protocol/detail/closed_streams.h"
#include "protocol/detail/field_chars.h"
#include "protocol/detail/flow_control.h"
#include "protocol/detail/head_cache.h"
#include "protocol/detail/output_queue.h"
#include "protocol/detail/request_validation.h"

namespace h2::protocol::detail {
namespace {

TEST(Rfc9113_6_9_1, SendWindowRejectsOverflowAndMayGoNegative) {
  SendWindow w(65535);
  EXPECT_TRUE(w.adjust(int64_t{kMaxWindowSize} - 65535));
  EXPECT_FALSE(w.adjust(1));
  EXPECT_EQ(w.available(), int64_t{kMaxWindowSize});
  SendWindow n(100);
  n.consume(100);
  EXPECT_TRUE(n.adjust(-50));  // §6.9.2 SETTINGS decrease
  EXPECT_EQ(n.available(), -50);
}

TEST(Rfc9113_6_9, RecvWindowBatchesUpdatesAtHalfTheWindow) {
  RecvWindow w(1000);
  EXPECT_TRUE(w.on_received(600));
  EXPECT_FALSE(w.on_received(401));  // overrun
  w.on_consumed(400);
  EXPECT_EQ(w.take_update(), 0u);  // below half
  w.on_consumed(200);
  EXPECT_EQ(w.take_update(), 600u);
  EXPECT_EQ(w.available(), 1000);
  EXPECT_EQ(w.grow_to(5000), 4000u);
  EXPECT_EQ(w.grow_to(10), 0u);
}

TEST(Rfc9113_5_1, ClosedStreamMemoryIsExactAndBounded) {
  ClosedStreams c(4);
  c.record(1, ClosedHow::kResetByUs);
  c.record(3, ClosedHow::kNormally);
  c.record(2, ClosedHow::kResetByPeer);
  EXPECT_EQ(c.lookup(1), ClosedHow::kResetByUs);
  EXPECT_EQ(c.lookup(3), ClosedHow::kNormally);
  EXPECT_EQ(c.lookup(2), ClosedHow::kResetByPeer);
  EXPECT_EQ(c.lookup(5), ClosedHow::kUnknown);
  for (uint32_t id = 5; id < 100; id += 2) c.record(id, ClosedHow::kNormally);
  EXPECT_EQ(c.lookup(1), ClosedHow::kUnknown);  // evicted
  EXPECT_EQ(c.lookup(99), ClosedHow::kNormally);
  EXPECT_EQ(c.lookup(2), ClosedHow::kResetByPeer);  // even ids have their own slots
}

TEST(OutputQueue, ViewsStayValidAcrossAppendsUntilWritten) {
  OutputQueue q;
  std::vector<std::string_view> first;
  q.append_control(5, [](std::string& out) { out.append("hello"); });
  q.gather(first, SIZE_MAX);
  const char* p = first[0].data();
  for (int i = 0; i < 5000; ++i) {
    q.append_control(9, [](std::string& out) { out.append("123456789"); });
  }
  EXPECT_EQ(std::string_view(p, 5), "hello");  // the first block was never reallocated
  std::vector<std::string_view> all;
  EXPECT_EQ(q.gather(all, SIZE_MAX), 5u + 45000u);
  std::vector<Holder> released;
  q.consume(3, released);
  std::vector<std::string_view> rest;
  EXPECT_EQ(q.gather(rest, 4), 4u);
  std::string joined;
  for (auto v : rest) joined.append(v);
  EXPECT_EQ(joined, "lo12");
}

// A GOAWAY to every idle connection of a worker at once (a reload) must not cost a 16 KiB block
// each: with the per-thread pool exhausted, a lone control frame gets a small block.
TEST(OutputQueue, ALoneControlFrameOnManyIdleQueuesTakesSmallBlocks) {
  constexpr size_t kQueues = 1000;
  std::vector<std::unique_ptr<OutputQueue>> queues;
  for (size_t i = 0; i < kQueues; ++i) queues.push_back(std::make_unique<OutputQueue>());
  const size_t before = mallinfo2().uordblks;
  for (auto& q : queues) q->append_control(17, [](std::string& b) { b.append(17, 'g'); });
  const size_t grown = mallinfo2().uordblks - before;
  EXPECT_LT(grown, kQueues * 1024) << "bytes per queue: " << grown / kQueues;
  for (auto& q : queues) {
    std::vector<std::string_view> views;
    EXPECT_EQ(q->gather(views, 1 << 20), 17u);
    ASSERT_EQ(views.size(), 1u);
    EXPECT_EQ(views[0], std::string(17, 'g'));
  }
  // A queue that outgrows its small block moves on without invalidating earlier views.
  OutputQueue q;
  q.append_control(17, [](std::string& b) { b.append(17, 'a'); });
  q.append_control(4000, [](std::string& b) { b.append(4000, 'b'); });
  std::vector<std::string_view> views;
  EXPECT_EQ(q.gather(views, 1 << 20), 4017u);
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0], std::string(17, 'a'));
  EXPECT_EQ(views[1], std::string(4000, 'b'));
}

TEST(OutputQueue, HoldersReleasedOnlyAfterTheirBytesAreWritten) {
  OutputQueue q;
  std::string body(1000, 'b');
  q.append_view(body);
  int released = 0;
  Holder h;
  h.release = [&] { ++released; };
  q.retire(std::move(h));
  std::vector<Holder> out;
  q.consume(999, out);
  EXPECT_TRUE(out.empty());
  q.consume(1, out);
  ASSERT_EQ(out.size(), 1u);
  out[0].finish(true);
  EXPECT_EQ(released, 1);
}

TEST(Rfc9113_8_3_1, RequestFieldsBuildTheHead) {
  RequestFields f;
  f.begin(false);
  f.add(":method", "GET");
  f.add(":scheme", "https");
  f.add(":authority", "a.example");
  f.add(":path", "/x?y");
  f.add("accept", "*/*");
  f.add("content-length", "0");
  RequestHead head;
  ASSERT_EQ(f.finish(false, &head), Malformed::kNone);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.path, "/x?y");
  EXPECT_EQ(head.authority, "a.example");
  EXPECT_EQ(head.content_length, 0);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0].name, "accept");
}

TEST(Rfc9113_8_1_1, DifferingContentLengthsAreMalformed) {
  RequestFields f;
  f.begin(false);
  f.add(":method", "POST");
  f.add(":scheme", "https");
  f.add(":path", "/");
  f.add("content-length", "5");
  f.add("content-length", "6");
  EXPECT_EQ(f.finish(false, nullptr), Malformed::kBadContentLength);
  f.begin(false);
  f.add("content-length", "5x");
  EXPECT_EQ(f.error(), Malformed::kBadContentLength);
}

}  // namespace
}  // namespace h2::protocol::detail

namespace h2::protocol::detail {
namespace {

// The eight-at-a-time checks agree with the one-octet rule for every octet at every position.
TEST(Rfc9113_8_2_1, WordAtATimeFieldChecksMatchTheOctetRule) {
  for (int c = 0; c < 256; ++c) {
    bool name_ok = c > 0x20 && c < 0x7f && !(c >= 0x41 && c <= 0x5a) && c != ':';
    bool value_ok = c != 0 && c != '\r' && c != '\n';
    for (size_t pos = 0; pos < 19; ++pos) {
      std::string s(19, 'a');
      s[pos] = static_cast<char>(c);
      ASSERT_EQ(name_octets_ok(s), name_ok) << "octet " << c << " at " << pos;
      ASSERT_EQ(value_octets_ok(s), value_ok) << "octet " << c << " at " << pos;
    }
  }
}

}  // namespace
}  // namespace h2::protocol::detail

namespace h2::protocol::detail {
namespace {

TEST(Rfc7541_6_1, HeadCacheKeepsOnlyFullyIndexedBlocks) {
  HeadCache cache;
  Field fields[] = {{"content-type", "text/plain"}};
  cache.store(200, fields, std::string("\x88\xbe", 2));  // two one-octet indexed fields
  const std::string* hit = cache.lookup(200, fields);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, std::string("\x88\xbe", 2));
  EXPECT_EQ(cache.lookup(404, fields), nullptr);
  Field other[] = {{"content-type", "text/html"}};
  EXPECT_EQ(cache.lookup(200, other), nullptr);
  Field sensitive[] = {{"content-type", "text/plain", true}};
  EXPECT_EQ(cache.lookup(200, sensitive), nullptr);
  cache.store(200, fields, std::string("\x88\x5f\x01x", 4));  // a literal: not cacheable
  EXPECT_EQ(cache.lookup(200, fields), nullptr);
  cache.store(200, fields, std::string("\x88\xff\x05", 3));  // multi-octet index: not cached
  EXPECT_EQ(cache.lookup(200, fields), nullptr);
  cache.store(200, fields, std::string("\x88", 1));
  cache.invalidate();
  EXPECT_EQ(cache.lookup(200, fields), nullptr);
}

}  // namespace
}  // namespace h2::protocol::detail
