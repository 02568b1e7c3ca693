// The h2host configuration: the typed result of validating config.yaml.
//
// load_config() is called once at start-up (and again on SIGHUP); it never throws. Every error
// names FILE:LINE:COLUMN (1-based) of the offending YAML node and, for unknown keys, the nearest
// valid key. Relative paths are resolved against the directory of the configuration file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lwip_runtime/tap_config.h"
#include "serve/config_value.h"
#include "serve/first_bytes.h"
#include "serve/log.h"
#include "serve/route_config.h"
#include "protocol/options.h"

namespace h2::host {

struct TlsConfig {
  std::filesystem::path certificate;  // PEM chain; must exist and be readable
  std::filesystem::path key;          // PEM private key; must exist and be readable
};

// The I/O runtime that serves a listener's connections: Asio (epoll), io_uring (host/uring/) or
// lwIP on a TAP device (lwip_runtime/, a listener with `tap:`); all serve the same modules
// through serve/.
enum class Runtime { kAsio, kIoUring, kLwip };
const char* runtime_name(Runtime runtime);

// One listening socket. By default a listener serves HTTP/1.1, HTTP/1.1 with Upgrade: h2c and
// h2c with prior knowledge on the same port; with `tls`, ALPN chooses h2 or http/1.1 instead.
// `protocols:` narrows that (nginx `listen ... http2`, h2o `http2-*`): h2 only, HTTP/1.1 only.
struct ListenerConfig {
  // kTap: the listener is a whole network host of its own: lwIP on a TAP device (`tap:`),
  // listening on `address`:`port`, which is the stack's own address (lwip_runtime/README.md).
  enum class Kind { kTcp, kUnix, kTap };
  Kind kind = Kind::kTcp;
  std::string address;           // kTcp: IPv4/IPv6 literal ("127.0.0.1", "::1")
  uint16_t port = 0;             // kTcp: 0 = ephemeral (the bound port is logged)
  std::filesystem::path path;    // kUnix: socket path (an existing socket file is replaced)
  std::optional<TlsConfig> tls;  // absent = cleartext
  lwip_runtime::TapConfig tap;   // kTap: the device, MAC, prefix, gateway, IPv6 address
  Runtime runtime = Runtime::kAsio;  // `runtime:` of the listener, else the top-level one
  serve::Protocols protocols;        // `protocols: [h2, http/1.1]` (h2c accepted on cleartext)
  // TCP under the master: one SO_REUSEPORT socket per worker, so the kernel spreads new
  // connections evenly (a shared socket lets whichever worker wakes first take a whole burst).
  // false: one socket shared by every worker (nginx's default). Unix sockets always share.
  bool reuseport = true;
  serve::ConfigLocation where;          // 1-based line and column
};

struct ModulesConfig {
  // Directory whose every *.so is loaded. Empty = the built-in default (installed
  // lib/h2/modules next to the binary, else the build tree's module directory).
  std::filesystem::path directory;
  std::vector<std::filesystem::path> files;  // modules named one by one
  // Per-module config, by module name, passed to the module's init hook.
  std::map<std::string, serve::ConfigValue> config;
};

struct TimeoutConfig {
  uint64_t tls_handshake_ms = 10'000;  // accept -> TLS handshake done
  uint64_t preface_ms = 10'000;        // accept/handshake -> first request bytes / client preface
  uint64_t idle_ms = 60'000;           // no open stream and no traffic
  uint64_t write_ms = 30'000;          // a pending write makes no progress
  uint64_t shutdown_ms = 10'000;       // SIGTERM: open streams may finish for this long
};

struct Http1Config {
  uint64_t max_header_bytes = 64 * 1024;        // request line + fields
  uint64_t max_header_fields = 128;             // field lines (431 beyond), as HTTP/2's count
  uint64_t max_body_bytes = 16 * 1024 * 1024;   // request body, also for Upgrade: h2c requests
  uint64_t max_upgrade_body_bytes = 64 * 1024;  // RFC 7540 §3.2: body buffered before 101
};

// Connections a client may hold, counted over all workers (nginx limit_conn, per address).
struct ConnectionsConfig {
  // Open connections per client IP address (IPv6 per /64, one host's usual allocation); the
  // next one is closed at accept. 0 = no limit (the default, as nginx without limit_conn).
  uint64_t max_per_address = 0;
};

// What the master does when workers crash (host/master.h).
struct CrashPolicyConfig {
  // A route whose module code was running in `route_crashes` worker crashes within
  // `route_window_ms` answers 503 for `route_disable_ms` (or until a reload), so one crashing
  // module costs its own route, not the server. 0 = never take a route out of service.
  uint64_t route_crashes = 3;
  uint64_t route_window_ms = 60'000;
  uint64_t route_disable_ms = 300'000;
  // Quick deaths of a slot in a row back off kFirstBackoffMs, twice that, ... up to this (at
  // least kFirstBackoffMs: a worker that dies before serving must never respawn in a tight
  // loop); the last worker still serving is always replaced at once.
  uint64_t max_backoff_ms = 30'000;
  static constexpr uint64_t kFirstBackoffMs = 250;
};

struct HostConfig {
  std::filesystem::path file;  // the configuration file itself (absolute)
  // master_process (the default): a master binds the listeners and forks `workers` worker
  // processes, each single-threaded (host/master.h). Without it: one process, `workers`
  // threads (for debuggers, profilers and sanitizers; nginx's `master_process off`).
  unsigned workers = 1;        // default in config.yaml: one per core ("auto")
  bool master_process = true;
  std::filesystem::path pid_file;  // `pid:`, default h2host.pid beside the config file
  std::string user;                // `user:` / `group:`: workers drop to them (when root)
  std::string group;
  std::string server_header = "h2host";  // "" (`off`) = no server field
  Runtime runtime = Runtime::kAsio;  // the default of every listener
  std::vector<ListenerConfig> listeners;
  ModulesConfig modules;
  std::vector<serve::RouteConfig> routes;
  protocol::ConnectionOptions limits;
  TimeoutConfig timeouts;
  Http1Config http1;
  ConnectionsConfig connections;
  CrashPolicyConfig crash_policy;
  serve::LogConfig logs;
};

// Either a valid configuration or the first error, formatted "FILE:LINE:COLUMN: message".
struct ConfigResult {
  std::optional<HostConfig> config;
  std::string error;
  explicit operator bool() const { return config.has_value(); }
};

// Reads and validates `file`. Never throws.
ConfigResult load_config(const std::filesystem::path& file);

// Validates `text` as if it were the content of `file` (used by tests and load_config).
ConfigResult parse_config(const std::string& text, const std::filesystem::path& file);

}  // namespace h2::host
