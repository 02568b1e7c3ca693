// Counters for the status module (serve/status_module.h): one relaxed atomic add per event, no
// lock, no allocation, so they stay on even when nobody reads them.
//
// Where they live: in the process model every worker process owns one WorkerSlot of a
// StatsTable that the master maps shared before forking (host/master.cc) and hands to the worker
// (attach_stats); the master folds a dead worker's counters into `retired`, so totals survive
// crashes and reloads. Without a master (master_process: false, tests) the process counts into a
// private slot and the table is absent.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace h2::serve {

struct Counters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<int64_t> connections_open{0};  // serving (after TLS / protocol detection)
  std::atomic<int64_t> exchanges_open{0};    // requests a handler holds (streams in progress)
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses[6]{};      // by status class: [1] 1xx ... [5] 5xx; [0] none
  std::atomic<uint64_t> bytes_sent{0};       // response body bytes
  std::atomic<uint64_t> bytes_received{0};   // request body bytes read by handlers

  // Adds `other`'s totals (the gauges too, when `with_gauges`).
  void add(const Counters& other, bool with_gauges);
  void clear();
};

struct WorkerSlot {
  std::atomic<int32_t> pid{0};  // 0: free
  std::atomic<uint32_t> generation{0};
  Counters counters;
};

struct StatsTable {
  static constexpr size_t kSlots = 1024;  // live worker processes, all generations
  Counters retired;                       // workers that exited
  WorkerSlot slots[kSlots];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "counters are shared between processes");

// This process's counters.
Counters& stats();
// Called once in a worker process, before it serves: count into `slot` of `table`.
void attach_stats(StatsTable* table, WorkerSlot* slot);
// The shared table, or nullptr in a process without a master.
const StatsTable* stats_table();

// An exchange ended (its handler let go of it): the answer's class and the body bytes both ways.
inline void count_finished(int status, uint64_t sent, uint64_t received) {
  Counters& c = stats();
  constexpr auto relaxed = std::memory_order_relaxed;
  c.exchanges_open.fetch_sub(1, relaxed);
  c.responses[status >= 100 && status <= 599 ? status / 100 : 0].fetch_add(1, relaxed);
  c.bytes_sent.fetch_add(sent, relaxed);
  c.bytes_received.fetch_add(received, relaxed);
}

// The class index of an HTTP status for Counters::responses (0 when never answered).
inline size_t status_class(int status) {
  return status >= 100 && status <= 599 ? static_cast<size_t>(status / 100) : 0;
}

}  // namespace h2::serve
