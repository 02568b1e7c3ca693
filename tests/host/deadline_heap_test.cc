// host/deadline_heap.h: the worker's min-heap of connection deadlines; against a reference
// (a sorted multimap) under random schedules, moves and cancels, plus its promises by name.
#include "host/deadline_heap.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

namespace h2::host {
namespace {

struct Conn final : DeadlineHeap::Entry {
  void on_due(uint64_t now) override { fired_at.push_back(now); }
  std::vector<uint64_t> fired_at;
};

TEST(DeadlineHeap, PopsInDueOrderOnlyWhatIsDue) {
  DeadlineHeap heap;
  Conn a, b, c;
  heap.schedule(a, 300);
  heap.schedule(b, 100);
  heap.schedule(c, 200);
  EXPECT_EQ(heap.earliest(), 100u);
  EXPECT_EQ(heap.pop_due(99), nullptr);
  EXPECT_EQ(heap.pop_due(250), &b);
  EXPECT_FALSE(b.queued());
  EXPECT_EQ(heap.pop_due(250), &c);
  EXPECT_EQ(heap.pop_due(250), nullptr);
  EXPECT_EQ(heap.earliest(), 300u);
  EXPECT_TRUE(a.queued());
}

TEST(DeadlineHeap, ScheduleAgainMovesTheEntryEarlierOrLater) {
  DeadlineHeap heap;
  Conn a, b;
  heap.schedule(a, 100);
  heap.schedule(b, 200);
  heap.schedule(a, 300);  // later: b is first now
  EXPECT_EQ(heap.size(), 2u);
  EXPECT_EQ(heap.earliest(), 200u);
  heap.schedule(a, 50);  // earlier again
  EXPECT_EQ(heap.earliest(), 50u);
  EXPECT_EQ(a.due(), 50u);
}

TEST(DeadlineHeap, CancelRemovesAndIsHarmlessWhenNotQueued) {
  DeadlineHeap heap;
  Conn a, b;
  heap.cancel(a);  // not queued: nothing
  heap.schedule(a, 100);
  heap.schedule(b, 200);
  heap.cancel(a);
  EXPECT_FALSE(a.queued());
  EXPECT_EQ(heap.size(), 1u);
  EXPECT_EQ(heap.earliest(), 200u);
  heap.cancel(b);
  EXPECT_FALSE(heap.earliest().has_value());
}

TEST(DeadlineHeap, MatchesASortedReferenceUnderRandomOperations) {
  std::mt19937 rng(20261208);
  DeadlineHeap heap;
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < 64; ++i) conns.push_back(std::make_unique<Conn>());
  std::map<Conn*, uint64_t> reference;  // what is queued, at what time
  uint64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    Conn* c = conns[rng() % conns.size()].get();
    switch (rng() % 4) {
      case 0:
      case 1: {
        const uint64_t due = now + rng() % 1000;
        heap.schedule(*c, due);
        reference[c] = due;
        break;
      }
      case 2:
        heap.cancel(*c);
        reference.erase(c);
        break;
      case 3: {
        now += rng() % 50;
        while (DeadlineHeap::Entry* e = heap.pop_due(now)) {
          Conn* popped = static_cast<Conn*>(e);
          ASSERT_EQ(reference.count(popped), 1u);
          ASSERT_LE(reference[popped], now);
          // Due order: nothing still queued is earlier than what was popped.
          for (const auto& [other, due] : reference) ASSERT_GE(due, reference[popped]);
          reference.erase(popped);
        }
        for (const auto& [other, due] : reference) ASSERT_GT(due, now);
        break;
      }
    }
    ASSERT_EQ(heap.size(), reference.size());
    for (const auto& [conn, due] : reference) {
      ASSERT_TRUE(conn->queued());
      ASSERT_EQ(conn->due(), due);
    }
  }
}

}  // namespace
}  // namespace h2::host
