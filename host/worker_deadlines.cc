#include "host/worker_deadlines.h"

#include <chrono>

#include "host/runtime.h"

namespace h2::host {

void WorkerDeadlines::schedule(DeadlineHeap::Entry& e, uint64_t due_ms) {
  if (state_->firing_ms != 0 && due_ms <= state_->firing_ms) due_ms = state_->firing_ms + 1;
  state_->heap.schedule(e, due_ms);
  arm(state_);
}

void WorkerDeadlines::arm(const std::shared_ptr<State>& state) {
  const std::optional<uint64_t> earliest = state->heap.earliest();
  // Lazy: armed at or before the earliest already (a deadline that moved later, a cancelled
  // one) - the timer fires early, finds nothing due and re-arms, instead of a timerfd_settime
  // system call per change.
  if (!state->timer || !earliest || (state->armed_ms != 0 && state->armed_ms <= *earliest)) {
    return;
  }
  state->armed_ms = *earliest;
  state->timer->expires_at(
      std::chrono::steady_clock::time_point(std::chrono::milliseconds(*earliest)));
  state->timer->async_wait(
      [weak = std::weak_ptr<State>(state), due = *earliest](boost::system::error_code ec) {
        const std::shared_ptr<State> s = weak.lock();
        if (!s || s->armed_ms != due) return;  // gone, or re-armed earlier meanwhile
        s->armed_ms = 0;
        if (ec) return arm(s);
        fire(s);
      });
}

void WorkerDeadlines::fire(const std::shared_ptr<State>& state) {
  const uint64_t now = steady_now_ms();
  state->firing_ms = now;
  while (DeadlineHeap::Entry* e = state->heap.pop_due(now)) e->on_due(now);
  state->firing_ms = 0;
  arm(state);
}

}  // namespace h2::host
