// Routes taken out of service after their module code crashed workers again and again (the
// master's crash policy, host/master.h): dispatch_request answers them 503 instead of running the
// module, so one crashing module costs its own route and the rest of the site keeps serving.
//
// The table lives in memory the master shares with its workers (mapped before the first fork):
// the master writes, a worker reads one relaxed atomic per request. Rows are per generation
// (parity): a reload's new routes never inherit the old generation's indexes, and an entry only
// counts for the generation that stamped it. A process with no table (a single process, tests)
// pays nothing and quarantines nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace h2::serve {

struct QuarantineTable {
  static constexpr size_t kRoutes = 4096;  // routes beyond this index are never quarantined
  // [generation & 1][route index]: the generation number that disabled the route; 0 = serving.
  std::atomic<uint32_t> disabled[2][kRoutes];

  // The master's side.
  void disable(uint32_t generation, int32_t route) {
    if (valid(route)) row(generation)[route].store(generation, std::memory_order_relaxed);
  }
  void enable(uint32_t generation, int32_t route) {
    if (valid(route)) row(generation)[route].store(0, std::memory_order_relaxed);
  }
  void clear(uint32_t generation) {
    for (auto& entry : disabled[generation & 1]) entry.store(0, std::memory_order_relaxed);
  }
  bool is_disabled(uint32_t generation, int32_t route) const {
    return valid(route) &&
           disabled[generation & 1][route].load(std::memory_order_relaxed) == generation;
  }
  static bool valid(int32_t route) { return route >= 0 && static_cast<size_t>(route) < kRoutes; }

 private:
  std::atomic<uint32_t>* row(uint32_t generation) { return disabled[generation & 1]; }
};

// Process-wide, set once before serving (a worker process: the master's table and its own
// generation). nullptr = no quarantine (the default).
void set_quarantine_table(const QuarantineTable* table, uint32_t generation);

// Whether dispatch should answer `route` (a Router index) with 503 instead of its module.
bool route_quarantined(int32_t route);

}  // namespace h2::serve
