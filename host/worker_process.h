// The worker side of the process model (host/master.h): what a forked child runs.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "host/config.h"
#include "host/listen_socket.h"
#include "serve/route_quarantine.h"
#include "serve/stats.h"

namespace h2::host {

// What the master hands a worker across fork().
struct WorkerLaunch {
  const HostConfig* config = nullptr;
  std::vector<std::shared_ptr<ListenSocket>> sockets;  // one per config listener, in order
  int report_fd = -1;                  // write end of the pipe the master reads (see below)
  std::atomic<int32_t>* route_marker = nullptr;  // shared memory for crash reports
  const serve::QuarantineTable* quarantine = nullptr;  // routes the master disabled (503)
  serve::StatsTable* stats = nullptr;            // shared status counters (serve/stats.h)
  serve::WorkerSlot* stats_slot = nullptr;       // this worker's slot in them
  size_t index = 0;  // among live workers: its rows of the per-address counts (address_limit.h)
  unsigned generation = 0;
};

// Runs in the child right after fork() and never returns. Reports on `report_fd`, one record
// per line: "P<what>" before each step that runs module code (loading, init, handler creation:
// the last one names the module if the child dies there), "R" once it serves; or "E<message>"
// and exit status 1 when the configuration cannot be served (the message is the rest of the
// stream). Then serves until SIGTERM / SIGINT / SIGQUIT and exits 0.
[[noreturn]] void run_worker_process(WorkerLaunch launch);

// Drops to `user` / `group` (names; group empty = the user's primary group) when running as
// root. Returns an error message, empty on success or when there is nothing to do.
std::string drop_privileges(const std::string& user, const std::string& group);

}  // namespace h2::host
