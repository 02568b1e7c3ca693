// The thread a connection runs on, as module serving sees it: the one thing module threads may
// touch. Each runtime implements it once per event loop (host/: one per Asio worker).
//
// Why a separate object and not the exchange: a module's thread pool must never touch an
// exchange (its handles are single-threaded, like the core's Reqd). It holds a Loop, posts a
// task, and the task touches the exchange on the right thread.
#pragma once

#include <functional>
#include <memory>

namespace h2::serve {

class UpstreamClient;

class Loop {
 public:
  // run == true: on the loop's thread. run == false: the loop has stopped (or stops before the
  // task ran); the task runs on whichever thread found out and should only free memory.
  using Task = std::function<void(bool run)>;

  virtual ~Loop() = default;
  // Any thread, any time. Calls `task` exactly once (never inline with run == true).
  virtual void post(Task task) = 0;
  // The loop's client for requests modules send upstream (serve/upstream.h), or null when the
  // runtime has none. On the loop's thread only; valid until the loop stops.
  virtual UpstreamClient* upstream() { return nullptr; }
};

// A loop that has stopped: every task runs at once with run == false (for exchanges whose
// connection is already gone).
std::shared_ptr<Loop> stopped_loop();

}  // namespace h2::serve
