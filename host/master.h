// The master process (`master_process: true`, the default), as nginx's: it reads and checks the
// configuration, binds every listener, writes the pid file and forks `workers` worker processes
// (host/worker_process.h), each single-threaded on its own loop and accepting from the
// inherited listeners. The master never serves traffic and never runs module code, so a module
// that crashes takes down one worker, which the master logs and replaces.
//
// Signals (read through a signalfd; every other signal is ignored, never fatal):
//   TERM, INT  stop: workers drain (GOAWAY, streams finish within timeouts.shutdown_ms), then
//              exit; stragglers are killed shortly after that bound.
//   QUIT       graceful stop: the same drain, without the kill.
//   HUP        reload: re-read and re-check the config, bind the listeners that changed (the
//              unchanged keep their sockets, so no connection is refused), start a new generation
//              and, once all its workers serve, tell the old one to drain (SIGQUIT). On any error
//              - config, certificate, bind, a module refused or crashing in init - the error is
//              logged and the running generation stays.
//   USR1       reopen the log files (master and workers), for logrotate.
// Crashes: a worker that dies unasked is logged with its pid, signal and the route and module it
// was running (shared-memory marker, serve/running_route.h), and respawned at once; repeated
// quick deaths back off exponentially (up to crash_policy.max_backoff_ms) and are reported,
// never spun - except the last worker serving, which is always replaced at once. A route that
// crashed crash_policy.route_crashes workers within the window answers 503 for a while
// (serve/route_quarantine.h). On TERM/INT/QUIT the master closes its listening sockets at once.
// Reuseport listeners get one socket per worker slot, kept across respawns and reloads.
#pragma once

#include "host/config.h"

namespace h2::host {

// `config` passed load_config() and the TLS check. Runs until stopped; returns the exit code
// (0 after a requested stop, 1 when the first generation could not start).
int run_master(HostConfig config);

}  // namespace h2::host
