// From a validated HostConfig to a running Snapshot: load the modules (directory and files),
// initialise them with their config, and build the route table. Used by main() at start-up, by
// `h2host -t` (so a refused module or a route to an unknown module fails the test) and on SIGHUP.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "host/runtime.h"

namespace h2::host {

// The directory whose modules are loaded when modules.directory is not set: the installed
// PREFIX/lib/h2/modules next to the running binary (PREFIX/bin/h2host) when it exists, else the
// build tree's module directory (so ./build/host/h2host -c config.yaml works without install).
std::filesystem::path default_module_directory();

// Returns nullptr and sets *error to the problem (the loader's exact message - one line per
// refused file of the module directory - or "FILE:LINE:COL: ..." for a module config or route).
// `progress`, when given, is told each step that runs module code before it runs ("loading
// module file F", "initialising module M", "creating the handler of route FILE:L:C (module M)"),
// so a watcher can name the module when the process dies inside it.
using StartupProgress = std::function<void(const std::string& step)>;
std::shared_ptr<const Snapshot> build_snapshot(HostConfig config, std::string* error,
                                               const StartupProgress& progress = {});

}  // namespace h2::host
