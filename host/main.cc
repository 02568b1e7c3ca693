// h2host: an HTTP/2 (and HTTP/1.1) server that runs handler modules. See host/README.md.
//
//   h2host [-c FILE]   run with FILE (default: config.yaml in the current directory)
//   h2host -t [-c FILE] check FILE (syntax, files, modules, routes) and exit 0 / 1
//   h2host -s SIGNAL [-c FILE]  signal the running h2host named by FILE's pid file
//   h2host --version | --help
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "host/config.h"
#include "serve/host_fields.h"
#include "serve/log.h"
#include "serve/module_registry.h"
#include "host/master.h"
#include "host/pid_file.h"
#include "host/server.h"
#include "host/startup.h"
#include "host/tls.h"

namespace {

constexpr const char* kUsage =
    "Usage: h2host [-t] [-s SIGNAL] [-c FILE]\n"
    "\n"
    "Options:\n"
    "  -c FILE, --config FILE   configuration file (default: config.yaml)\n"
    "  -t, --test               check the configuration (and load its modules), then exit\n"
    "  -s SIGNAL                send SIGNAL to the running master (its pid from the `pid:`\n"
    "                           file of the configuration): stop, quit, reload, reopen\n"
    "  -v, --version            print the version and exit\n"
    "  -h, --help               print this help and exit\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop (streams may finish for timeouts.shutdown_ms), SIGQUIT stops\n"
    "gracefully, SIGHUP reloads everything (config, modules, certificates, listeners), SIGUSR1\n"
    "reopens the log files. Other signals are ignored.\n";

// nginx-style: every line of a (possibly multi-line) error gets the "[emerg]" prefix.
void print_emerg(const std::string& error) {
  size_t start = 0;
  while (start <= error.size()) {
    const size_t end = std::min(error.find('\n', start), error.size());
    std::fprintf(stderr, "h2host: [emerg] %.*s\n", static_cast<int>(end - start),
                 error.data() + start);
    start = end + 1;
  }
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "h2host: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace h2::host;
  namespace serve = h2::serve;
  std::string file = "config.yaml";
  bool test = false;
  std::string control;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-t" || arg == "--test") {
      test = true;
    } else if (arg == "-s") {
      if (i + 1 >= argc) return usage_error("option \"-s\" needs a signal");
      control = argv[++i];
    } else if (arg == "-c" || arg == "--config") {
      if (i + 1 >= argc) return usage_error("option \"" + arg + "\" needs a file");
      file = argv[++i];
    } else if (arg == "-v" || arg == "--version") {
      std::printf("h2host %s (module ABI %u.%u, build %s)\n", H2_VERSION,
                  serve::ModuleRegistry::abi_major(), serve::ModuleRegistry::abi_minor(),
                  serve::ModuleRegistry::build_signature().c_str());
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return usage_error("unknown option \"" + arg + "\"");
    }
  }

  ConfigResult loaded = load_config(file);
  if (!control.empty()) {
    if (!loaded) {
      print_emerg(loaded.error);
      return 1;
    }
    if (std::string e = signal_running(loaded.config->pid_file, control); !e.empty()) {
      std::fprintf(stderr, "h2host: [error] %s\n", e.c_str());
      return 1;
    }
    return 0;
  }
  for (int ignored : {SIGPIPE, SIGUSR2, SIGWINCH, SIGALRM, SIGTTIN, SIGTTOU}) {
    std::signal(ignored, SIG_IGN);  // never fatal; the handled ones are taken by the runtime
  }
  std::shared_ptr<const Snapshot> snapshot;
  std::string error = loaded.error;
  if (loaded) {
    if (test) {
      std::fprintf(stderr, "h2host: the configuration file %s syntax is ok\n", file.c_str());
    }
    // TLS certificates and keys are loaded here too, so -t catches a bad PEM or a key that
    // does not match its certificate (the contexts are rebuilt by Server::open()).
    for (const ListenerConfig& listener : loaded.config->listeners) {
      if (listener.tls && !make_tls_context(listener, &error)) break;
    }
    if (error.empty() && !test && loaded.config->master_process) {
      // Module code runs in the workers only (host/master.h).
      if (std::string log_error = serve::Log::open(loaded.config->logs); !log_error.empty()) {
        std::fprintf(stderr, "h2host: [emerg] %s\n", log_error.c_str());
        return 1;
      }
      return run_master(std::move(*loaded.config));
    }
    if (error.empty()) snapshot = build_snapshot(std::move(*loaded.config), &error);
  }
  if (test) {
    if (!snapshot) {
      print_emerg(error);
      std::fprintf(stderr, "h2host: configuration file %s test failed\n", file.c_str());
      return 1;
    }
    for (const serve::ModuleInfo& m : snapshot->registry->modules()) {
      if (m.file == "(built in)") {
        std::fprintf(stderr, "h2host: module %s (built in)\n", m.name.c_str());
        continue;
      }
      std::fprintf(stderr, "h2host: module %s %s (ABI %u.%u) from %s\n", m.name.c_str(),
                   m.version.c_str(), m.abi_major, m.abi_minor, m.file.c_str());
    }
    std::fprintf(stderr, "h2host: configuration file %s test is successful\n", file.c_str());
    return 0;
  }
  if (!snapshot) {
    print_emerg(error);
    return 1;
  }
  if (std::string log_error = serve::Log::open(snapshot->config.logs); !log_error.empty()) {
    std::fprintf(stderr, "h2host: [emerg] %s\n", log_error.c_str());
    return 1;
  }

  serve::set_server_header(snapshot->config.server_header);
  Server server(snapshot, [config_file = snapshot->config.file](std::string* reload_error) {
    ConfigResult fresh = load_config(config_file);
    if (!fresh) {
      *reload_error = fresh.error;
      return std::shared_ptr<const Snapshot>();
    }
    if (std::string log_error = serve::Log::open(fresh.config->logs); !log_error.empty()) {
      *reload_error = log_error;
      return std::shared_ptr<const Snapshot>();
    }
    auto built = build_snapshot(std::move(*fresh.config), reload_error);
    if (built) serve::set_server_header(built->config.server_header);
    return built;
  });
  if (std::string open_error = server.open(); !open_error.empty()) {
    std::fprintf(stderr, "h2host: [emerg] %s\n", open_error.c_str());
    return 1;
  }
  if (std::string pid_error = write_pid_file(snapshot->config.pid_file); !pid_error.empty()) {
    std::fprintf(stderr, "h2host: [emerg] %s\n", pid_error.c_str());
    return 1;
  }
  H2_LOG(kNotice, "h2host " H2_VERSION " started with " + std::to_string(snapshot->config.workers) +
                      " worker thread(s) in one process, " +
                      std::to_string(snapshot->router->size()) + " route(s)");
  const int code = server.run();
  remove_pid_file(snapshot->config.pid_file);
  return code;
}
