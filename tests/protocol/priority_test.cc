// RFC 9218 extensible priorities: the Priority field parser, the scheduler's order (urgency
// first, then round-robin among incremental streams, id order among the others), and the
// Priority header and PRIORITY_UPDATE frame deciding whose DATA goes next.
#include "protocol/detail/priority.h"

#include <gtest/gtest.h>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Reqd;
using protocol::detail::parse_priority_field;
using protocol::detail::Priority;
using protocol::detail::PriorityScheduler;
using protocol::detail::SchedNode;

TEST(Rfc9218_4, ParsesUrgencyAndIncremental) {
  Priority p = parse_priority_field("u=1, i");
  EXPECT_EQ(p.urgency, 1);
  EXPECT_TRUE(p.incremental);
  p = parse_priority_field("i=?0, u=7");
  EXPECT_EQ(p.urgency, 7);
  EXPECT_FALSE(p.incremental);
  p = parse_priority_field("");
  EXPECT_EQ(p.urgency, 3);  // RFC 9218 §4.1 default
  EXPECT_FALSE(p.incremental);
}

TEST(Rfc9218_4, IgnoresUnknownKeysAndOutOfRangeValues) {
  Priority p = parse_priority_field("u=9, foo=bar, x=\"s\", i");
  EXPECT_EQ(p.urgency, 3);  // u=9 out of range: ignored
  EXPECT_TRUE(p.incremental);
  p = parse_priority_field("u=2;param=1, i=?1");
  EXPECT_EQ(p.urgency, 2);
  EXPECT_TRUE(p.incremental);
  p = parse_priority_field("u=1.5");
  EXPECT_EQ(p.urgency, 3);  // a decimal is not an integer
}

TEST(Rfc9218_4, UnparsableValueIsIgnoredAsAWhole) {
  Priority base{5, true};
  Priority p = parse_priority_field("u=1, ,", base);
  EXPECT_EQ(p.urgency, 5);
  EXPECT_TRUE(p.incremental);
  p = parse_priority_field("U=1", base);
  EXPECT_EQ(p.urgency, 5);
}

struct Node : SchedNode {
  explicit Node(uint32_t id, Priority p) {
    sched_id = id;
    priority = p;
  }
};

TEST(Rfc9218_10, SchedulerServesLowestUrgencyFirstThenRoundRobin) {
  PriorityScheduler s;
  Node a(1, {3, false}), b(3, {1, false}), c(5, {3, true}), d(7, {3, true});
  for (Node* n : {&a, &b, &c, &d}) s.link(n);
  auto any = [](SchedNode*) { return true; };
  EXPECT_EQ(s.pick(any), &b);  // urgency 1
  s.unlink(&b);
  EXPECT_EQ(s.pick(any), &a);  // urgency 3, non-incremental first
  s.unlink(&a);
  EXPECT_EQ(s.pick(any), &c);
  s.rotate(&c);
  EXPECT_EQ(s.pick(any), &d);  // round robin among incremental
  s.rotate(&d);
  EXPECT_EQ(s.pick(any), &c);
  s.reprioritize(&d, {0, true});
  EXPECT_EQ(s.pick(any), &d);
  EXPECT_EQ(s.size(), 2u);
}

TEST(Rfc9218_10, NonIncrementalStreamsInStreamIdOrder) {
  PriorityScheduler s;
  Node a(9, {3, false}), b(3, {3, false}), c(5, {3, false});
  for (Node* n : {&a, &b, &c}) s.link(n);
  auto any = [](SchedNode*) { return true; };
  EXPECT_EQ(s.pick(any), &b);
  s.unlink(&b);
  EXPECT_EQ(s.pick(any), &c);
  EXPECT_EQ(s.pick([&](SchedNode* n) { return n != &c; }), &a);
}

// Three responses compete for a closed connection window; the window then opens.
std::vector<uint32_t> data_order(const std::vector<OutFrame>& out) {
  std::vector<uint32_t> order;
  for (const auto& f : out) {
    if (f.h.type == FrameType::kData && f.h.length > 0) order.push_back(f.h.stream_id);
  }
  return order;
}

H2_SCRIPT_TEST(Rfc9218_4, PriorityHeaderDecidesWhoseDataGoesFirst) {
  // Stream 1's 100000 bytes exhaust the connection window (65535); the others compete.
  h.handler.respond = [](Reqd& r) {
    r.respond_with_string({200, {}}, std::string(r.stream_id() == 1 ? 100000 : 40000, 'x'));
  };
  h.handshake({{4, 1 << 20}});
  // Exhaust the connection window (65535) with a first response.
  h.get(1);
  h.drain();
  Fields low = Harness::get_fields("/low");
  low.emplace_back("priority", "u=5");
  Fields high = Harness::get_fields("/high");
  high.emplace_back("priority", "u=0");
  h.request(3, low, true);
  h.request(5, Harness::get_fields("/default"), true);  // u=3
  h.request(7, high, true);
  h.drain();
  FrameBuilder b;
  b.window_update(0, 1 << 20);
  h.feed(b);
  auto order = data_order(h.drain());
  // Whatever was left of stream 1 may come first (it was blocked first); then 7, 5, 3.
  std::vector<uint32_t> rest;
  for (uint32_t id : order) {
    if (id != 1 && (rest.empty() || rest.back() != id)) rest.push_back(id);
  }
  EXPECT_EQ(rest, (std::vector<uint32_t>{7, 5, 3}));
}

H2_SCRIPT_TEST(Rfc9218_7_1, PriorityUpdateReordersAndIncrementalInterleaves) {
  // Stream 1's 100000 bytes exhaust the connection window (65535); the others compete.
  h.handler.respond = [](Reqd& r) {
    r.respond_with_string({200, {}}, std::string(r.stream_id() == 1 ? 100000 : 40000, 'x'));
  };
  h.handshake({{4, 1 << 20}});
  h.get(1);
  h.drain();  // connection window exhausted
  h.get(3);
  h.get(5);
  FrameBuilder b;
  b.priority_update(3, "u=2, i").priority_update(5, "u=2, i");
  b.priority_update(9, "u=0");  // idle stream: remembered until it opens
  b.window_update(0, 1 << 20);
  h.feed(b);
  auto order = data_order(h.drain());
  std::vector<uint32_t> interleaved;
  for (uint32_t id : order) {
    if (id != 1) interleaved.push_back(id);
  }
  ASSERT_GE(interleaved.size(), 4u);
  // Round robin: no stream sends two frames in a row while the other still has data.
  EXPECT_NE(interleaved[0], interleaved[1]);
  EXPECT_NE(interleaved[1], interleaved[2]);
  EXPECT_EQ(find_frame(h.drain(), FrameType::kGoaway), nullptr);
}

H2_SCRIPT_TEST(Rfc9218_7_1, UpdatesForStreamsThatCanNoLongerOpenAreDropped) {
  // The list of PRIORITY_UPDATEs for idle streams is bounded (by max_concurrent_streams). Entries
  // for ids a later HEADERS skipped over can never apply (RFC 9113 §5.1.1) and must not keep a
  // newer update out.
  h.handler.respond = [](Reqd& r) {
    r.respond_with_string({200, {}}, std::string(r.stream_id() == 1 ? 100000 : 40000, 'x'));
  };
  h.handshake({{4, 1 << 20}});
  h.get(1);
  h.drain();  // connection window exhausted
  FrameBuilder fill;
  for (uint32_t id = 101; id < 101 + 2 * 100; id += 2) fill.priority_update(id, "u=1");
  h.feed(fill);
  h.get(301);  // skips 101..299: their updates are dead
  FrameBuilder update;
  update.priority_update(303, "u=0");  // before its HEADERS: must be remembered
  h.feed(update);
  h.get(303);
  FrameBuilder open_window;
  open_window.window_update(0, 1 << 20);
  h.feed(open_window);
  std::vector<uint32_t> rest;
  for (uint32_t id : data_order(h.drain())) {
    if (id != 1 && (rest.empty() || rest.back() != id)) rest.push_back(id);
  }
  EXPECT_EQ(rest, (std::vector<uint32_t>{303, 301}));
}

}  // namespace
}  // namespace h2::test
