// Validation of config.yaml: walks the YAML tree once, converting each node into HostConfig and
// failing on the first problem with FILE:LINE:COLUMN. Internally a ConfigFailure exception unwinds
// the walk (yaml-cpp itself reports through exceptions); nothing escapes parse_config().
#include "host/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <optional>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <system_error>

#include "host/connection_limits.h"
#include "serve/access_format.h"
#include "serve/suggest.h"

namespace h2::host {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;
using serve::nearest_key;

struct ConfigFailure {
  std::string message;
};

const char* type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

constexpr std::array kTopKeys = {
    "workers"sv, "master_process"sv, "pid"sv,    "user"sv,     "group"sv,
    "runtime"sv, "server_header"sv,  "listeners"sv, "modules"sv, "routes"sv,
    "limits"sv,  "timeouts"sv,       "http1"sv,  "logs"sv,   "connections"sv,
    "crash_policy"sv};
constexpr std::array kListenerKeys = {"listen"sv, "tls"sv, "runtime"sv, "protocols"sv,
                                      "reuseport"sv, "tap"sv};
constexpr std::array kTapKeys = {"device"sv, "mac"sv, "prefix"sv, "gateway"sv, "address6"sv,
                                 "max_connections"sv, "mtu"sv};
constexpr std::array kProtocolNames = {"h2"sv, "h2c"sv, "http/1.1"sv};
constexpr std::array kConnectionsKeys = {"max_per_address"sv};
constexpr std::array kCrashPolicyKeys = {"route_crashes"sv, "route_window_ms"sv,
                                         "route_disable_ms"sv, "max_backoff_ms"sv};
constexpr std::array kRuntimes = {"asio"sv, "io_uring"sv, "lwip"sv};
constexpr std::array kTlsKeys = {"certificate"sv, "key"sv};
constexpr std::array kModulesKeys = {"directory"sv, "files"sv, "config"sv};
constexpr std::array kRouteKeys = {"authority"sv, "path"sv,   "prefix"sv,
                                   "methods"sv,   "module"sv, "config"sv};
constexpr std::array kTimeoutKeys = {"tls_handshake_ms"sv, "preface_ms"sv, "idle_ms"sv,
                                     "write_ms"sv, "shutdown_ms"sv};
constexpr std::array kHttp1Keys = {"max_header_bytes"sv, "max_body_bytes"sv,
                                   "max_upgrade_body_bytes"sv, "max_header_fields"sv};
constexpr std::array kLogKeys = {"error_log"sv, "level"sv, "access_log"sv, "access_format"sv};
constexpr std::array kLevels = {"debug"sv, "info"sv, "notice"sv, "warn"sv, "error"sv};

// `workers:` when absent or "auto": one per core, as nginx's worker_processes auto.
unsigned default_workers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : std::min(cores, 256u);
}

class Validator {
 public:
  explicit Validator(fs::path file) : file_(std::move(file)), base_(file_.parent_path()) {}

  HostConfig run(const YAML::Node& root) {
    HostConfig config;
    config.file = file_;
    config.workers = default_workers();
    config.pid_file = base_ / "h2host.pid";
    if (!root.IsMap())
      fail(root, std::string("the configuration must be a map, got ") + type_name(root));
    for_each_key(root, "the top level", kTopKeys, [&](std::string_view key, const YAML::Node& v) {
      if (key == "workers") {
        if (v.IsScalar() && v.Scalar() == "auto") {
          config.workers = default_workers();
        } else {
          config.workers = static_cast<unsigned>(integer(v, "workers", 1, 256));
        }
      } else if (key == "master_process") {
        config.master_process = boolean(v, "master_process");
      } else if (key == "pid") {
        config.pid_file = resolve(string(v, "pid"));
      } else if (key == "user") {
        config.user = string(v, "user");
      } else if (key == "group") {
        config.group = string(v, "group");
      } else if (key == "server_header") {
        const std::string value = string(v, "server_header");
        config.server_header = value == "off" ? "" : value;
      } else if (key == "runtime") {
        config.runtime = runtime(v);
        if (config.runtime == Runtime::kLwip) {
          fail(v, "runtime \"lwip\" is a listener's, with \"tap\" (its device)");
        }
      } else if (key == "listeners") {
        listeners(v, config);
      } else if (key == "modules") {
        modules(v, config.modules);
      } else if (key == "routes") {
        routes(v, config);
      } else if (key == "limits") {
        limits(v, config.limits);
      } else if (key == "timeouts") {
        timeouts(v, config.timeouts);
      } else if (key == "http1") {
        http1(v, config.http1);
      } else if (key == "logs") {
        logs(v, config.logs);
      } else if (key == "connections") {
        integer_section(v, "connections", kConnectionsKeys, {&ConnectionsConfig::max_per_address},
                        0, 1'000'000, config.connections);
      } else if (key == "crash_policy") {
        integer_section(v, "crash_policy", kCrashPolicyKeys,
                        {&CrashPolicyConfig::route_crashes, &CrashPolicyConfig::route_window_ms,
                         &CrashPolicyConfig::route_disable_ms, &CrashPolicyConfig::max_backoff_ms},
                        0, 86'400'000, config.crash_policy);
        if (config.crash_policy.max_backoff_ms < CrashPolicyConfig::kFirstBackoffMs) {
          fail(v["max_backoff_ms"], "\"max_backoff_ms\" must be at least " +
                                        std::to_string(CrashPolicyConfig::kFirstBackoffMs) +
                                        " (a worker that cannot start would respawn in a loop)");
        }
      }
    });
    if (config.listeners.empty()) fail(root, "at least one listener is required (\"listeners\")");
    for (size_t i = 0; i < config.listeners.size(); ++i) {
      if (!listener_runtime_set_[i]) config.listeners[i].runtime = config.runtime;
    }
    // One idle timeout for both protocols (HTTP/1.1 keep-alive and the HTTP/2 core).
    config.limits.idle_timeout_ms = config.timeouts.idle_ms;
    return config;
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    fail_at(node.Mark(), message);
  }

  [[noreturn]] void fail_at(const YAML::Mark& mark, const std::string& message) const {
    std::ostringstream out;
    out << file_.string() << ':' << (mark.line < 0 ? 1 : mark.line + 1) << ':'
        << (mark.column < 0 ? 1 : mark.column + 1) << ": " << message;
    throw ConfigFailure{out.str()};
  }

 private:
  static std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

  // Calls `visit(key, value)` for every entry of the map `node`, refusing unknown and duplicate
  // keys. `where` names the map in messages ("the top level", "a listener", ...).
  template <size_t N, typename Visit>
  void for_each_key(const YAML::Node& node, std::string_view where,
                    const std::array<std::string_view, N>& known, Visit&& visit) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& entry : node) {
      const YAML::Node& key_node = entry.first;
      if (!key_node.IsScalar()) fail(key_node, "keys must be scalars");
      const std::string key = key_node.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string message = "unknown key " + quoted(key) + " in " + std::string(where);
        const std::string hint = nearest_key(key, known);
        if (!hint.empty()) message += "; did you mean " + quoted(hint) + "?";
        fail(key_node, message);
      }
      auto [it, inserted] = seen.emplace(key, key_node.Mark());
      if (!inserted) {
        fail(key_node, "duplicate key " + quoted(key) + " (first at line " +
                           std::to_string(it->second.line + 1) + ")");
      }
      visit(std::string_view(key), entry.second);
    }
  }

  void expect(const YAML::Node& node, YAML::NodeType::value type, std::string_view what,
              const char* wanted) const {
    if (node.Type() != type) {
      fail(node, quoted(what) + " must be " + wanted + ", got " + type_name(node));
    }
  }

  bool boolean(const YAML::Node& node, std::string_view what) const {
    expect(node, YAML::NodeType::Scalar, what, "true or false");
    const std::string& text = node.Scalar();
    if (text == "true" || text == "on" || text == "yes") return true;
    if (text == "false" || text == "off" || text == "no") return false;
    fail(node, quoted(what) + " must be true or false, got " + quoted(text));
  }

  std::string string(const YAML::Node& node, std::string_view what) const {
    expect(node, YAML::NodeType::Scalar, what, "a string");
    return node.Scalar();
  }

  uint64_t integer(const YAML::Node& node, std::string_view what, uint64_t min,
                   uint64_t max) const {
    expect(node, YAML::NodeType::Scalar, what, "an integer");
    const std::string& text = node.Scalar();
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      fail(node, quoted(what) + " must be an integer, got " + quoted(text));
    }
    if (value < min || value > max) {
      fail(node, quoted(what) + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", got " + text);
    }
    return value;
  }

  fs::path existing_file(const YAML::Node& node, std::string_view what) const {
    const fs::path path = resolve(string(node, what));
    std::ifstream probe(path);
    if (!probe) {
      std::error_code ec;
      const char* reason = fs::exists(path, ec) ? "cannot be read" : "does not exist";
      fail(node, quoted(what) + " file " + quoted(path.string()) + " " + reason);
    }
    return path;
  }

  fs::path resolve(const std::string& text) const {
    const fs::path path(text);
    return path.is_absolute() ? path : (base_ / path).lexically_normal();
  }

  void listeners(const YAML::Node& node, HostConfig& config) {
    expect(node, YAML::NodeType::Sequence, "listeners", "a list");
    for (const auto& item : node) {
      expect(item, YAML::NodeType::Map, "listeners[]", "a map");
      ListenerConfig listener;
      listener.where = location(item);
      bool has_listen = false;
      bool runtime_set = false;
      std::optional<YAML::Node> protocols_node, reuseport_node, tap_node, runtime_node;
      for_each_key(item, "a listener", kListenerKeys, [&](std::string_view key, const auto& v) {
        if (key == "listen") {
          has_listen = true;
          listen_address(v, listener);
        } else if (key == "runtime") {
          listener.runtime = runtime(v);
          runtime_node.emplace(v);
          runtime_set = true;
        } else if (key == "protocols") {
          protocols_node.emplace(v);
        } else if (key == "reuseport") {
          reuseport_node.emplace(v);
          listener.reuseport = boolean(v, "reuseport");
        } else if (key == "tap") {
          tap_node.emplace(v);
          tap(v, listener.tap);
        } else {
          expect(v, YAML::NodeType::Map, "tls", "a map");
          TlsConfig tls;
          bool has_cert = false, has_key = false;
          for_each_key(v, "tls", kTlsKeys, [&](std::string_view k, const auto& f) {
            if (k == "certificate") {
              tls.certificate = existing_file(f, "certificate");
              has_cert = true;
            } else {
              tls.key = existing_file(f, "key");
              has_key = true;
            }
          });
          if (!has_cert) fail(v, "tls needs \"certificate\"");
          if (!has_key) fail(v, "tls needs \"key\"");
          listener.tls = std::move(tls);
        }
      });
      if (!has_listen) fail(item, "a listener needs \"listen\"");
      if (listener.kind == ListenerConfig::Kind::kUnix) {
        if (reuseport_node && listener.reuseport) {
          fail(*reuseport_node, "\"reuseport\" applies to TCP listeners only");
        }
        listener.reuseport = false;
      }
      if (protocols_node) listener.protocols = protocols(*protocols_node, listener.tls.has_value());
      if (tap_node || listener.runtime == Runtime::kLwip) {
        tap_listener(item, listener, tap_node, runtime_node);
        runtime_set = true;
      }
      if (listener.kind == ListenerConfig::Kind::kTap) {
        // lwIP keeps its state in globals: one stack, so one tap listener, per process.
        for (const ListenerConfig& other : config.listeners) {
          if (other.kind == ListenerConfig::Kind::kTap) {
            fail(item, "only one tap listener is served per h2host (lwIP is one stack per process)");
          }
        }
      }
      config.listeners.push_back(std::move(listener));
      listener_runtime_set_.push_back(runtime_set);
    }
  }

  // A listener with `tap:` is served by the lwIP runtime on its own TCP/IP stack; what that
  // runtime cannot do (an IPv6 listen address, another runtime) is refused here, by name.
  void tap_listener(const YAML::Node& item, ListenerConfig& listener,
                    const std::optional<YAML::Node>& tap_node,
                    const std::optional<YAML::Node>& runtime_node) {
    if (!tap_node) fail(*runtime_node, "runtime \"lwip\" needs \"tap\" (the device it runs on)");
    if (runtime_node && listener.runtime != Runtime::kLwip) {
      fail(*runtime_node, "a listener with \"tap\" runs on runtime \"lwip\"");
    }
    if (listener.kind != ListenerConfig::Kind::kTcp ||
        listener.address.find(':') != std::string::npos) {
      fail(item["listen"], "a tap listener's \"listen\" is its stack's IPv4 ADDRESS:PORT");
    }
    listener.kind = ListenerConfig::Kind::kTap;
    listener.runtime = Runtime::kLwip;
    listener.reuseport = false;
    listener.tap.address = listener.address;
    listener.tap.port = listener.port;
  }

  void tap(const YAML::Node& node, lwip_runtime::TapConfig& tap) {
    expect(node, YAML::NodeType::Map, "tap", "a map");
    bool has_device = false;
    for_each_key(node, "tap", kTapKeys, [&](std::string_view key, const auto& v) {
      if (key == "device") {
        tap.device = string(v, "device");
        if (tap.device.empty() || tap.device.size() > 15) {
          fail(v, "\"device\" must be an interface name of 1 to 15 bytes");
        }
        has_device = true;
      } else if (key == "mac") {
        const std::string text = string(v, "mac");
        unsigned b[6];
        char tail = 0;
        if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
                        &b[4], &b[5], &tail) != 6 || (b[0] & 1) != 0) {
          fail(v, "\"mac\" must be a unicast MAC address like 02:00:00:00:00:02, got " +
                      quoted(text));
        }
        for (int i = 0; i < 6; ++i) tap.mac[i] = static_cast<uint8_t>(b[i]);
      } else if (key == "prefix") {
        tap.prefix = static_cast<unsigned>(integer(v, "prefix", 1, 32));
      } else if (key == "gateway") {
        tap.gateway = string(v, "gateway");
        if (!is_ip_literal(tap.gateway) || tap.gateway.find(':') != std::string::npos) {
          fail(v, "\"gateway\" must be an IPv4 address, got " + quoted(tap.gateway));
        }
      } else if (key == "address6") {
        const std::string text = string(v, "address6");
        const size_t slash = text.find('/');
        tap.address6 = text.substr(0, slash);
        if (!is_ip_literal(tap.address6) || tap.address6.find(':') == std::string::npos ||
            (slash != std::string::npos && text.substr(slash + 1) != "64")) {
          fail(v, "\"address6\" must be an IPv6 address (a /64), got " + quoted(text));
        }
      } else if (key == "mtu") {
        tap.mtu = static_cast<uint16_t>(integer(v, "mtu", 576, 1500));
      } else {
        tap.max_connections = static_cast<unsigned>(integer(v, "max_connections", 1, 1'000'000));
      }
    });
    if (!has_device) fail(node, "tap needs \"device\"");
  }

  // `protocols: [h2, http/1.1]`: h2 is HTTP/2 by ALPN on TLS and with prior knowledge (or
  // Upgrade) on cleartext, where it may also be spelled h2c.
  serve::Protocols protocols(const YAML::Node& node, bool tls) {
    expect(node, YAML::NodeType::Sequence, "protocols", "a list");
    serve::Protocols p{false, false};
    for (const auto& item : node) {
      const std::string name = string(item, "protocols[]");
      if (name == "h2" || (name == "h2c" && !tls)) {
        p.http2 = true;
      } else if (name == "http/1.1") {
        p.http1 = true;
      } else if (name == "h2c") {
        fail(item, "h2c is HTTP/2 over cleartext; a TLS listener offers \"h2\"");
      } else {
        std::string message = "protocol " + quoted(name) + " is not one of h2, h2c, http/1.1";
        const std::string hint = nearest_key(name, kProtocolNames);
        if (!hint.empty()) message += "; did you mean " + quoted(hint) + "?";
        fail(item, message);
      }
    }
    if (!p.http2 && !p.http1) fail(node, "\"protocols\" must name at least one protocol");
    return p;
  }

  Runtime runtime(const YAML::Node& node) {
    const std::string text = string(node, "runtime");
    if (text == "asio") return Runtime::kAsio;
    if (text == "io_uring") return Runtime::kIoUring;
    if (text == "lwip") return Runtime::kLwip;
    std::string message = "runtime " + quoted(text) + " is not one of asio, io_uring, lwip";
    const std::string hint = nearest_key(text, kRuntimes);
    if (!hint.empty()) message += "; did you mean " + quoted(hint) + "?";
    fail(node, message);
  }

  // "127.0.0.1:8080", "[::1]:8443", "unix:/run/h2.sock" or "/run/h2.sock".
  void listen_address(const YAML::Node& node, ListenerConfig& listener) {
    const std::string text = string(node, "listen");
    if (text.starts_with("unix:") || text.starts_with("/")) {
      listener.kind = ListenerConfig::Kind::kUnix;
      const std::string path = text.starts_with("unix:") ? text.substr(5) : text;
      if (path.empty() || path.size() > 107) {
        fail(node, "\"listen\" unix socket path must have 1 to 107 bytes, got " + quoted(text));
      }
      listener.path = resolve(path);
      return;
    }
    const size_t colon = text.rfind(':');
    std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() ||
        value > 65535 || !is_ip_literal(host)) {
      fail(node,
           "\"listen\" must be ADDRESS:PORT (e.g. 127.0.0.1:8080, [::1]:8443) or "
           "unix:PATH, got " +
               quoted(text));
    }
    listener.kind = ListenerConfig::Kind::kTcp;
    listener.address = host;
    listener.port = static_cast<uint16_t>(value);
  }

  static bool is_ip_literal(const std::string& host);

  void modules(const YAML::Node& node, ModulesConfig& modules) {
    expect(node, YAML::NodeType::Map, "modules", "a map");
    for_each_key(node, "modules", kModulesKeys, [&](std::string_view key, const auto& v) {
      if (key == "directory") {
        modules.directory = resolve(string(v, "directory"));
        std::error_code ec;
        if (!fs::is_directory(modules.directory, ec)) {
          fail(v, "modules directory " + quoted(modules.directory.string()) + " does not exist");
        }
      } else if (key == "files") {
        expect(v, YAML::NodeType::Sequence, "files", "a list");
        for (const auto& f : v) modules.files.push_back(existing_file(f, "files[]"));
      } else {
        expect(v, YAML::NodeType::Map, "config", "a map of module name to config");
        for (const auto& entry : v) {
          const std::string name = string(entry.first, "module name");
          if (modules.config.count(name)) fail(entry.first, "duplicate key " + quoted(name));
          modules.config.emplace(name, to_config_value(entry.second));
        }
      }
    });
  }

  void routes(const YAML::Node& node, HostConfig& config) {
    expect(node, YAML::NodeType::Sequence, "routes", "a list");
    for (const auto& item : node) {
      expect(item, YAML::NodeType::Map, "routes[]", "a map");
      serve::RouteConfig route;
      route.where = location(item);
      bool has_path = false, has_module = false;
      for_each_key(item, "a route", kRouteKeys, [&](std::string_view key, const auto& v) {
        if (key == "authority") {
          route.authority = string(v, "authority");
          std::transform(route.authority.begin(), route.authority.end(), route.authority.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          if (route.authority == "*") route.authority.clear();
        } else if (key == "path" || key == "prefix") {
          if (has_path) fail(v, "a route takes either \"path\" or \"prefix\", not both");
          has_path = true;
          route.path = string(v, key);
          route.is_prefix = key == "prefix";
          if (!route.path.starts_with("/")) {
            fail(v, quoted(key) + " must start with \"/\", got " + quoted(route.path));
          }
        } else if (key == "methods") {
          expect(v, YAML::NodeType::Sequence, "methods", "a list");
          for (const auto& m : v) {
            std::string method = string(m, "methods[]");
            const bool token =
                !method.empty() && std::all_of(method.begin(), method.end(), [](char c) {
                  return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
                });
            if (!token)
              fail(m, "methods[] must be an upper-case method name, got " + quoted(method));
            route.methods.push_back(std::move(method));
          }
        } else if (key == "module") {
          route.module = string(v, "module");
          has_module = true;
        } else {
          route.config = to_config_value(v);
        }
      });
      if (!has_path) fail(item, "a route needs \"path\" (exact) or \"prefix\"");
      if (!has_module) fail(item, "a route needs \"module\"");
      config.routes.push_back(std::move(route));
    }
  }

  void limits(const YAML::Node& node, protocol::ConnectionOptions& options) {
    expect(node, YAML::NodeType::Map, "limits", "a map");
    const auto specs = connection_limit_specs();
    std::vector<std::string_view> names;
    for (const auto& spec : specs) names.push_back(spec.name);
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const std::string key = string(entry.first, "limit name");
      auto it = std::find_if(specs.begin(), specs.end(),
                             [&](const LimitSpec& s) { return s.name == key; });
      if (it == specs.end()) {
        std::string message = "unknown key " + quoted(key) + " in limits";
        const std::string hint = nearest_key(key, names);
        if (!hint.empty()) message += "; did you mean " + quoted(hint) + "?";
        fail(entry.first, message);
      }
      if (!seen.insert(key).second) fail(entry.first, "duplicate key " + quoted(key));
      it->set(options, integer(entry.second, key, it->min, it->max));
    }
  }

  // A map section whose keys are all integers in [min, max]; `fields[i]` receives `keys[i]`.
  template <size_t N, typename Section>
  void integer_section(const YAML::Node& node, std::string_view where,
                       const std::array<std::string_view, N>& keys,
                       const std::array<uint64_t Section::*, N>& fields, uint64_t min, uint64_t max,
                       Section& out) {
    expect(node, YAML::NodeType::Map, where, "a map");
    for_each_key(node, where, keys, [&](std::string_view key, const auto& v) {
      const uint64_t value = integer(v, key, min, max);
      out.*fields[std::find(keys.begin(), keys.end(), key) - keys.begin()] = value;
    });
  }

  void timeouts(const YAML::Node& node, TimeoutConfig& t) {
    integer_section(
        node, "timeouts", kTimeoutKeys,
        {&TimeoutConfig::tls_handshake_ms, &TimeoutConfig::preface_ms, &TimeoutConfig::idle_ms,
         &TimeoutConfig::write_ms, &TimeoutConfig::shutdown_ms},
        1, 86'400'000, t);
  }

  void http1(const YAML::Node& node, Http1Config& h) {
    expect(node, YAML::NodeType::Map, "http1", "a map");
    for_each_key(node, "http1", kHttp1Keys, [&](std::string_view key, const YAML::Node& v) {
      if (key == "max_header_fields") {
        h.max_header_fields = integer(v, key, 1, 100'000);
      } else {
        uint64_t Http1Config::*field = key == "max_header_bytes" ? &Http1Config::max_header_bytes
                                       : key == "max_body_bytes" ? &Http1Config::max_body_bytes
                                                                 : &Http1Config::max_upgrade_body_bytes;
        h.*field = integer(v, key, 1024, uint64_t{1} << 40);
      }
    });
  }

  void logs(const YAML::Node& node, serve::LogConfig& l) {
    expect(node, YAML::NodeType::Map, "logs", "a map");
    for_each_key(node, "logs", kLogKeys, [&](std::string_view key, const auto& v) {
      if (key == "level") {
        const std::string level = string(v, "level");
        auto it = std::find(kLevels.begin(), kLevels.end(), level);
        if (it == kLevels.end()) {
          std::string message =
              "\"level\" must be one of debug, info, notice, warn, error, got " + quoted(level);
          fail(v, message);
        }
        l.level = static_cast<serve::LogLevel>(it - kLevels.begin());
      } else if (key == "access_format") {
        const std::string format = string(v, "access_format");
        if (format == "combined") {
          l.access_format = serve::AccessFormat::kCombined;
        } else if (format == "common") {
          l.access_format = serve::AccessFormat::kCommon;
        } else if (format == "json") {
          l.access_format = serve::AccessFormat::kJson;
        } else if (format.find('$') != std::string::npos) {
          std::string why;
          if (!serve::AccessTemplate::parse(format, &why)) fail(v, "\"access_format\": " + why);
          l.access_format = serve::AccessFormat::kCustom;
          l.access_template = format;
        } else {
          fail(v, "\"access_format\" must be one of combined, common, json, or a template of "
                  "$fields, got " + quoted(format));
        }
      } else {
        std::string value = string(v, key);
        if (value != "stderr" && value != "stdout" && value != "off") {
          value = resolve(value).string();
        }
        if (key == "error_log") {
          l.error_log = value == "off" ? "stderr" : value;
        } else {
          l.access_log = value == "off" ? "" : value;
        }
      }
    });
  }

  serve::ConfigLocation location(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    return {file_.string(), mark.line + 1, mark.column + 1};
  }

  // Module and route configs are free-form for the host; modules validate them (with these
  // locations). Only duplicate keys are refused here, since yaml-cpp keeps both.
  serve::ConfigValue to_config_value(const YAML::Node& node) const {
    const serve::ConfigLocation where = location(node);
    switch (node.Type()) {
      case YAML::NodeType::Scalar: {
        const std::string& text = node.Scalar();
        if (node.Tag() != "!") {  // plain (unquoted) scalars may be booleans or integers
          if (text == "true" || text == "false")
            return serve::ConfigValue::make_bool(text == "true", where);
          int64_t value = 0;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
          if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
            return serve::ConfigValue::make_int(value, where);
          }
        }
        return serve::ConfigValue::make_string(text, where);
      }
      case YAML::NodeType::Sequence: {
        serve::ConfigValue list = serve::ConfigValue::make_list(where);
        for (const auto& item : node) list.push_back(to_config_value(item));
        return list;
      }
      case YAML::NodeType::Map: {
        serve::ConfigValue map = serve::ConfigValue::make_map(where);
        for (const auto& entry : node) {
          const std::string key = string(entry.first, "key");
          if (map.find(key) != nullptr) fail(entry.first, "duplicate key " + quoted(key));
          map.insert(key, to_config_value(entry.second));
        }
        return map;
      }
      default: {
        serve::ConfigValue null;
        null.set_location(where);
        return null;
      }
    }
  }

  fs::path file_;
  fs::path base_;
  std::vector<bool> listener_runtime_set_;
};

bool Validator::is_ip_literal(const std::string& host) {
  if (host.find(':') != std::string::npos) {
    return std::all_of(host.begin(), host.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
  }
  int parts = 0;
  std::string_view rest(host);
  while (!rest.empty() || parts == 0) {
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return parts == 4;
}

}  // namespace

const char* runtime_name(Runtime runtime) {
  switch (runtime) {
    case Runtime::kIoUring: return "io_uring";
    case Runtime::kLwip: return "lwip";
    case Runtime::kAsio: break;
  }
  return "asio";
}

ConfigResult parse_config(const std::string& text, const std::filesystem::path& file) {
  Validator validator(file);
  ConfigResult result;
  try {
    const YAML::Node root = YAML::Load(text);
    result.config = validator.run(root);
  } catch (const ConfigFailure& failure) {
    result.error = failure.message;
  } catch (const YAML::Exception& e) {
    std::ostringstream out;
    out << file.string() << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": " << e.msg;
    result.error = out.str();
  }
  return result;
}

ConfigResult load_config(const std::filesystem::path& file) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  std::ifstream in(absolute);
  if (!in) {
    ConfigResult result;
    result.error = file.string() + ": cannot open the configuration file";
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), absolute.lexically_normal());
}

}  // namespace h2::host
