// The built-in `status` module (nginx's stub_status, with per-worker figures): on the route an
// operator gives it, GET answers the counters of serve/stats.h per worker process and in total,
// as JSON (the default) or Prometheus text (`config: {format: prometheus}`).
//
//   routes:
//     - {path: /status, module: status, methods: [GET, HEAD]}
//     - {path: /metrics, module: status, config: {format: prometheus}}
//
// Totals are every live worker plus every worker that has exited (crashes and reloads lose
// nothing); `open` figures are gauges of the live workers. Registered by the host into its
// ModuleRegistry like a loaded module (ModuleRegistry::add_builtin).
#pragma once

#include <string>

#include "serve/module_registry.h"
#include "serve/stats.h"

namespace h2::serve {

enum class StatusFormat { kJson, kPrometheus };

BuiltinModule status_module();

// The status document for `format`, from the shared table (or, without one, this process's own
// counters with `own_pid`). Pure apart from reading the counters.
std::string render_status(StatusFormat format, const StatsTable* table, const Counters& own,
                          int own_pid);

}  // namespace h2::serve
