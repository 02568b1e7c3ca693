// Which route's module code this process is running, for crash reports: set around the handle
// hook (serve/dispatch.cc) and around every module callback and posted task (serve/sdk_bridge.cc,
// which remembers the route of each exchange handle). A process that can be
// watched from outside (a worker under the master, host/master.h) points the marker at memory
// shared with its watcher; when the process dies on a signal the watcher reads the route index
// left there and names the route and module in its log line. Two relaxed stores per request:
// nothing on the hot path beyond that, and nothing at all when no marker is set.
#pragma once

#include <atomic>
#include <cstdint>

namespace h2::serve {

inline constexpr int32_t kNoRoute = -1;

// Process-wide; set once, before serving. nullptr = no marker (the default).
void set_running_route_marker(std::atomic<int32_t>* marker);
std::atomic<int32_t>* running_route_marker();

// Marks `route_index` (a Router index) for the scope of a call into a module.
class RunningRoute {
 public:
  explicit RunningRoute(int32_t route_index) : marker_(running_route_marker()) {
    if (marker_ != nullptr) {
      previous_ = marker_->load(std::memory_order_relaxed);
      marker_->store(route_index, std::memory_order_relaxed);
    }
  }
  ~RunningRoute() {
    if (marker_ != nullptr) marker_->store(previous_, std::memory_order_relaxed);
  }
  RunningRoute(const RunningRoute&) = delete;
  RunningRoute& operator=(const RunningRoute&) = delete;

 private:
  std::atomic<int32_t>* marker_;
  int32_t previous_ = kNoRoute;
};

}  // namespace h2::serve
