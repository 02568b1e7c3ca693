#include "serve/stats.h"

namespace h2::serve {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

WorkerSlot own_slot;  // a process without a master
std::atomic<WorkerSlot*> current{&own_slot};
std::atomic<StatsTable*> table{nullptr};

}  // namespace

void Counters::add(const Counters& o, bool with_gauges) {
  connections_accepted.fetch_add(o.connections_accepted.load(kRelaxed), kRelaxed);
  if (with_gauges) {
    connections_open.fetch_add(o.connections_open.load(kRelaxed), kRelaxed);
    exchanges_open.fetch_add(o.exchanges_open.load(kRelaxed), kRelaxed);
  }
  requests.fetch_add(o.requests.load(kRelaxed), kRelaxed);
  for (size_t i = 0; i < 6; ++i) responses[i].fetch_add(o.responses[i].load(kRelaxed), kRelaxed);
  bytes_sent.fetch_add(o.bytes_sent.load(kRelaxed), kRelaxed);
  bytes_received.fetch_add(o.bytes_received.load(kRelaxed), kRelaxed);
}

void Counters::clear() {
  connections_accepted.store(0, kRelaxed);
  connections_open.store(0, kRelaxed);
  exchanges_open.store(0, kRelaxed);
  requests.store(0, kRelaxed);
  for (auto& r : responses) r.store(0, kRelaxed);
  bytes_sent.store(0, kRelaxed);
  bytes_received.store(0, kRelaxed);
}

Counters& stats() {
  return current.load(kRelaxed)->counters;
}

void attach_stats(StatsTable* t, WorkerSlot* slot) {
  table.store(t);
  current.store(slot);
}

const StatsTable* stats_table() {
  return table.load();
}

}  // namespace h2::serve
