// One system timer per worker for the deadlines of all its connections (host/deadline_heap.h):
// armed for the earliest, lazily (a deadline that moves later leaves the timer where it is; it
// fires, finds nothing due and re-arms), the way nginx and h2o keep one timer tree per loop.
// Worker-thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>

#include "host/deadline_heap.h"

namespace h2::host {

class WorkerDeadlines {
 public:
  explicit WorkerDeadlines(boost::asio::io_context& context)
      : state_(std::make_shared<State>(context)) {}
  ~WorkerDeadlines() { stop(); }
  WorkerDeadlines(const WorkerDeadlines&) = delete;
  WorkerDeadlines& operator=(const WorkerDeadlines&) = delete;

  // `e` is called (on_due) at or after `due_ms` on the steady clock (steady_now_ms()), unless
  // cancelled or scheduled again first. `e` cancels itself before it is destroyed. Scheduled
  // from an on_due for a time already handed out, it comes due a millisecond later: a deadline
  // that stays due cannot keep the worker inside one firing (it goes back to its I/O between).
  void schedule(DeadlineHeap::Entry& e, uint64_t due_ms);
  void cancel(DeadlineHeap::Entry& e) { state_->heap.cancel(e); }
  size_t pending() const { return state_->heap.size(); }
  // Destroys the timer (before its io_context goes); schedule() queues but arms nothing after
  // it, cancel() keeps working (connections destroyed with the io_context still cancel).
  void stop() { state_->timer.reset(); }

 private:
  // Shared with the timer's handler, which holds it weakly: the io_context may outlive the worker
  // (a worker process's shared loop) and run the cancelled handler after it is gone.
  struct State {
    explicit State(boost::asio::io_context& context) : timer(std::in_place, context) {}
    DeadlineHeap heap;
    std::optional<boost::asio::steady_timer> timer;
    uint64_t armed_ms = 0;   // 0: not armed
    uint64_t firing_ms = 0;  // the time fire() is handing out, while it runs; else 0
  };
  static void arm(const std::shared_ptr<State>& state);
  static void fire(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

}  // namespace h2::host
