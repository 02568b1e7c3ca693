// host/deadline_heap.h: the worker's min-heap of connection deadlines; against a reference
// (a sorted multimap) under random schedules, moves and cancels, plus its promises by name;
// and host/worker_deadlines.h, the worker's one timer over it.
#include "host/deadline_heap.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "host/runtime.h"
#include "host/worker_deadlines.h"

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

// WorkerDeadlines: an entry whose on_due schedules itself for a time already due again comes
// due a millisecond later, not in the same firing: the worker goes back to its I/O between.
// Without that the firing never returned (the guard below stops it after 10,000 rounds so
// that the test fails instead of hanging).
TEST(WorkerDeadlines, AnEntryThatStaysDueDoesNotHoldTheWorkerInOneFiring) {
  boost::asio::io_context ioc;
  WorkerDeadlines deadlines(ioc);
  struct Stuck final : DeadlineHeap::Entry {
    void on_due(uint64_t now) override {
      ++rounds;
      if (rounds < 10000) owner->schedule(*this, now);  // due again at once
    }
    WorkerDeadlines* owner = nullptr;
    int rounds = 0;
  } stuck;
  stuck.owner = &deadlines;
  deadlines.schedule(stuck, steady_now_ms());
  bool posted_ran = false;  // other work of the loop, queued behind the first firing
  boost::asio::post(ioc, [&] { posted_ran = true; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((stuck.rounds < 3 || !posted_ran) && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(5));
  }
  deadlines.cancel(stuck);
  EXPECT_TRUE(posted_ran);
  EXPECT_GE(stuck.rounds, 3);      // it does come due again, a millisecond later each time
  EXPECT_LT(stuck.rounds, 10000);  // not in a loop inside one firing
}

}  // namespace
}  // namespace h2::host
