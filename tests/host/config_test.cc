// host/config.h: config.yaml validation, with the exact FILE:LINE:COLUMN messages.
#include "host/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "host/connection_limits.h"

namespace h2::host {
namespace {

using namespace ::h2::serve;  // the module-serving vocabulary the runtime serves

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("h2host-config-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "cert.pem") << "not really a certificate\n";
    std::ofstream(dir_ / "key.pem") << "not really a key\n";
    fs::create_directories(dir_ / "mods");
  }
  void TearDown() override { fs::remove_all(dir_); }

  ConfigResult parse(const std::string& text) { return parse_config(text, file()); }
  std::string file() const { return (dir_ / "c.yaml").string(); }
  std::string error(const std::string& text) {
    ConfigResult r = parse(text);
    EXPECT_FALSE(r) << "expected an error for:\n" << text;
    return r.error;
  }

  fs::path dir_;
};

constexpr const char* kListener = "listeners:\n  - listen: 127.0.0.1:8080\n";

TEST_F(ConfigTest, MinimalConfigHasDocumentedDefaults) {
  ConfigResult r = parse(kListener);
  ASSERT_TRUE(r) << r.error;
  const HostConfig& c = *r.config;
  EXPECT_EQ(c.workers, std::max(1u, std::thread::hardware_concurrency()));  // one per core
  EXPECT_TRUE(c.master_process);
  EXPECT_EQ(c.pid_file.filename(), "h2host.pid");  // beside the config file
  EXPECT_EQ(c.server_header, "h2host");
  EXPECT_TRUE(c.user.empty());
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].kind, ListenerConfig::Kind::kTcp);
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 8080);
  EXPECT_FALSE(c.listeners[0].tls);
  EXPECT_EQ(c.listeners[0].where.line, 2);
  EXPECT_EQ(c.listeners[0].where.column, 5);
  EXPECT_EQ(c.limits.max_concurrent_streams, 100u);
  EXPECT_EQ(c.timeouts.idle_ms, 60'000u);
  EXPECT_EQ(c.limits.idle_timeout_ms, 60'000u);
  EXPECT_TRUE(c.logs.access_log.empty());  // access log off by default
  EXPECT_EQ(c.logs.level, LogLevel::kNotice);
}

TEST_F(ConfigTest, ProcessKeys) {
  ConfigResult r = parse(std::string(kListener) +
                         "workers: auto\nmaster_process: off\npid: run/h.pid\nuser: nobody\n"
                         "group: nogroup\nserver_header: \"off\"\n");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.config->workers, std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_FALSE(r.config->master_process);
  EXPECT_TRUE(r.config->pid_file.is_absolute());
  EXPECT_EQ(r.config->pid_file.filename(), "h.pid");
  EXPECT_EQ(r.config->user, "nobody");
  EXPECT_EQ(r.config->group, "nogroup");
  EXPECT_EQ(r.config->server_header, "");
  ConfigResult bad = parse(std::string(kListener) + "master_process: maybe\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error.find(":3:17: \"master_process\" must be true or false, got \"maybe\""),
            std::string::npos)
      << bad.error;
}

TEST_F(ConfigTest, FullConfigIsParsed) {
  ConfigResult r = parse(
      "workers: 4\n"
      "listeners:\n"
      "  - listen: \"[::1]:0\"\n"
      "  - listen: unix:sock\n"
      "  - listen: 127.0.0.1:8443\n"
      "    tls: { certificate: cert.pem, key: key.pem }\n"
      "modules:\n"
      "  directory: mods\n"
      "  config:\n"
      "    static: { root: /srv, cache: true, max: 10 }\n"
      "routes:\n"
      "  - authority: Example.COM\n"
      "    prefix: /static/\n"
      "    methods: [GET, HEAD]\n"
      "    module: static\n"
      "    config: { index: index.html }\n"
      "  - path: /\n"
      "    module: hello\n"
      "limits: { max_concurrent_streams: 7, initial_stream_window: 65535, max_frame_size: 32768 }\n"
      "timeouts: { idle_ms: 5000, tls_handshake_ms: 100 }\n"
      "http1: { max_body_bytes: 4096 }\n"
      "logs: { level: debug, access_log: access.log }\n");
  ASSERT_TRUE(r) << r.error;
  const HostConfig& c = *r.config;
  EXPECT_EQ(c.workers, 4u);
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].address, "::1");
  EXPECT_EQ(c.listeners[0].port, 0);
  EXPECT_EQ(c.listeners[1].kind, ListenerConfig::Kind::kUnix);
  EXPECT_EQ(c.listeners[1].path, dir_ / "sock");  // relative to the config file
  ASSERT_TRUE(c.listeners[2].tls);
  EXPECT_EQ(c.listeners[2].tls->certificate, dir_ / "cert.pem");
  EXPECT_EQ(c.modules.directory, dir_ / "mods");
  ASSERT_EQ(c.modules.config.count("static"), 1u);
  const ConfigValue& s = c.modules.config.at("static");
  EXPECT_EQ(s.find("root")->as_string(), "/srv");
  EXPECT_TRUE(s.find("cache")->as_bool());
  EXPECT_EQ(s.find("max")->as_int(), 10);
  EXPECT_EQ(s.find("max")->location().line, 10);
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0].authority, "example.com");
  EXPECT_TRUE(c.routes[0].is_prefix);
  EXPECT_EQ(c.routes[0].path, "/static/");
  EXPECT_EQ(c.routes[0].methods, (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_EQ(c.routes[0].config.find("index")->as_string(), "index.html");
  EXPECT_FALSE(c.routes[1].is_prefix);
  EXPECT_TRUE(c.routes[1].config.is_null());
  EXPECT_EQ(c.limits.max_concurrent_streams, 7u);
  EXPECT_EQ(c.limits.initial_stream_window, 65535u);
  EXPECT_EQ(c.limits.max_frame_size, 32768u);
  EXPECT_EQ(c.timeouts.idle_ms, 5000u);
  EXPECT_EQ(c.limits.idle_timeout_ms, 5000u);
  EXPECT_EQ(c.timeouts.tls_handshake_ms, 100u);
  EXPECT_EQ(c.http1.max_body_bytes, 4096u);
  EXPECT_EQ(c.logs.level, LogLevel::kDebug);
  EXPECT_EQ(c.logs.access_log, (dir_ / "access.log").string());
}

TEST_F(ConfigTest, UnknownTopLevelKeySuggestsNearest) {
  EXPECT_EQ(error(std::string(kListener) + "wokers: 2\n"),
            file() + ":3:1: unknown key \"wokers\" in the top level; did you mean \"workers\"?");
}

TEST_F(ConfigTest, UnknownKeyWithoutCloseMatchHasNoSuggestion) {
  EXPECT_EQ(error(std::string(kListener) + "zzzzzzzzzzzz: 2\n"),
            file() + ":3:1: unknown key \"zzzzzzzzzzzz\" in the top level");
}

TEST_F(ConfigTest, UnknownListenerKey) {
  EXPECT_EQ(error("listeners:\n  - listen: 127.0.0.1:80\n    tsl: {}\n"),
            file() + ":3:5: unknown key \"tsl\" in a listener; did you mean \"tls\"?");
}

TEST_F(ConfigTest, UnknownLimitSuggestsTheConnectionOptionsField) {
  EXPECT_EQ(error(std::string(kListener) + "limits:\n  max_concurent_streams: 5\n"),
            file() +
                ":4:3: unknown key \"max_concurent_streams\" in limits; did you mean "
                "\"max_concurrent_streams\"?");
}

TEST_F(ConfigTest, WrongType) {
  EXPECT_EQ(error(std::string(kListener) + "workers: [1]\n"),
            file() + ":3:10: \"workers\" must be an integer, got a list");
  EXPECT_EQ(error(std::string(kListener) + "workers: two\n"),
            file() + ":3:10: \"workers\" must be an integer, got \"two\"");
  EXPECT_EQ(error("listeners: {listen: x}\n"),
            file() + ":1:12: \"listeners\" must be a list, got a map");
}

TEST_F(ConfigTest, ValueOutOfRange) {
  EXPECT_EQ(error(std::string(kListener) + "workers: 0\n"),
            file() + ":3:10: \"workers\" must be between 1 and 256, got 0");
  // RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE is 2^14 .. 2^24-1.
  EXPECT_EQ(error(std::string(kListener) + "limits: {max_frame_size: 1000}\n"),
            file() + ":3:26: \"max_frame_size\" must be between 16384 and 16777215, got 1000");
}

TEST_F(ConfigTest, BadListenAddress) {
  EXPECT_EQ(error("listeners:\n  - listen: localhost:99999\n"),
            file() +
                ":2:13: \"listen\" must be ADDRESS:PORT (e.g. 127.0.0.1:8080, [::1]:8443) "
                "or unix:PATH, got \"localhost:99999\"");
  EXPECT_FALSE(parse("listeners:\n  - listen: 127.0.0.1\n"));
  EXPECT_FALSE(parse("listeners:\n  - listen: 256.0.0.1:80\n"));
}

TEST_F(ConfigTest, MissingFile) {
  EXPECT_EQ(error("listeners:\n  - listen: 127.0.0.1:443\n"
                  "    tls: {certificate: nope.pem, key: key.pem}\n"),
            file() + ":3:24: \"certificate\" file \"" + (dir_ / "nope.pem").string() +
                "\" does not exist");
  EXPECT_EQ(error(std::string(kListener) + "modules: {directory: /nonexistent/mods}\n"),
            file() + ":3:22: modules directory \"/nonexistent/mods\" does not exist");
}

TEST_F(ConfigTest, MissingRequiredKeys) {
  EXPECT_EQ(error("workers: 1\n"),
            file() + ":1:1: at least one listener is required (\"listeners\")");
  EXPECT_EQ(error("listeners:\n  - tls: {certificate: cert.pem, key: key.pem}\n"),
            file() + ":2:5: a listener needs \"listen\"");
  EXPECT_EQ(error(std::string(kListener) + "routes:\n  - module: hello\n"),
            file() + ":4:5: a route needs \"path\" (exact) or \"prefix\"");
  EXPECT_EQ(error(std::string(kListener) + "routes:\n  - path: /\n"),
            file() + ":4:5: a route needs \"module\"");
  EXPECT_EQ(error("listeners:\n  - listen: 127.0.0.1:443\n    tls: {key: key.pem}\n"),
            file() + ":3:10: tls needs \"certificate\"");
}

TEST_F(ConfigTest, RouteRules) {
  EXPECT_EQ(error(std::string(kListener) + "routes:\n  - {path: /a, prefix: /b, module: m}\n"),
            file() + ":4:24: a route takes either \"path\" or \"prefix\", not both");
  EXPECT_EQ(error(std::string(kListener) + "routes:\n  - {path: a, module: m}\n"),
            file() + ":4:12: \"path\" must start with \"/\", got \"a\"");
  EXPECT_EQ(error(std::string(kListener) + "routes:\n  - {path: /, module: m, methods: [get]}\n"),
            file() + ":4:36: methods[] must be an upper-case method name, got \"get\"");
}

TEST_F(ConfigTest, ListenerProtocols) {
  ConfigResult r = parse(
      "listeners:\n"
      "  - listen: 127.0.0.1:8080\n"
      "  - {listen: 127.0.0.1:8081, protocols: [h2c]}\n"
      "  - {listen: 127.0.0.1:8082, protocols: [http/1.1]}\n"
      "  - protocols: [h2]\n"
      "    listen: 127.0.0.1:8083\n"
      "    tls: {certificate: cert.pem, key: key.pem}\n");
  ASSERT_TRUE(r) << r.error;
  const auto& l = r.config->listeners;
  ASSERT_EQ(l.size(), 4u);
  EXPECT_TRUE(l[0].protocols.http2 && l[0].protocols.http1);  // both by default
  EXPECT_TRUE(l[1].protocols.http2 && !l[1].protocols.http1);
  EXPECT_TRUE(!l[2].protocols.http2 && l[2].protocols.http1);
  EXPECT_TRUE(l[3].protocols.http2 && !l[3].protocols.http1);
  EXPECT_EQ(error("listeners:\n  - {listen: 127.0.0.1:1, protocols: [http/1]}\n"),
            file() + ":2:39: protocol \"http/1\" is not one of h2, h2c, http/1.1; did you mean "
                     "\"http/1.1\"?");
  EXPECT_EQ(error("listeners:\n  - {listen: 127.0.0.1:1, protocols: []}\n"),
            file() + ":2:38: \"protocols\" must name at least one protocol");
  EXPECT_EQ(error("listeners:\n  - listen: 127.0.0.1:1\n    protocols: [h2c]\n"
                  "    tls: {certificate: cert.pem, key: key.pem}\n"),
            file() + ":3:17: h2c is HTTP/2 over cleartext; a TLS listener offers \"h2\"");
}

TEST_F(ConfigTest, ConnectionsPerAddress) {
  ConfigResult r = parse(kListener);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.config->connections.max_per_address, 0u);  // off by default, as nginx
  r = parse(std::string(kListener) + "connections: {max_per_address: 64}\n");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.config->connections.max_per_address, 64u);
  EXPECT_EQ(error(std::string(kListener) + "connections: {max_per_adress: 64}\n"),
            file() + ":3:15: unknown key \"max_per_adress\" in connections; did you mean "
                     "\"max_per_address\"?");
}

TEST_F(ConfigTest, CrashPolicy) {
  ConfigResult r = parse(kListener);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.config->crash_policy.route_crashes, 3u);
  EXPECT_EQ(r.config->crash_policy.route_window_ms, 60'000u);
  EXPECT_EQ(r.config->crash_policy.route_disable_ms, 300'000u);
  EXPECT_EQ(r.config->crash_policy.max_backoff_ms, 30'000u);
  r = parse(std::string(kListener) +
            "crash_policy: {route_crashes: 0, route_window_ms: 5, route_disable_ms: 7, "
            "max_backoff_ms: 1000}\n");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.config->crash_policy.route_crashes, 0u);
  EXPECT_EQ(r.config->crash_policy.route_window_ms, 5u);
  EXPECT_EQ(r.config->crash_policy.route_disable_ms, 7u);
  EXPECT_EQ(r.config->crash_policy.max_backoff_ms, 1000u);
  EXPECT_EQ(error(std::string(kListener) + "crash_policy: {max_backoff_ms: 0}\n"),
            file() + ":3:32: \"max_backoff_ms\" must be at least 250 (a worker that cannot "
                     "start would respawn in a loop)");
  EXPECT_EQ(error(std::string(kListener) + "crash_policy: {route_crash: 1}\n"),
            file() + ":3:16: unknown key \"route_crash\" in crash_policy; did you mean "
                     "\"route_crashes\"?");
}

TEST_F(ConfigTest, ReuseportIsForTcpListeners) {
  ConfigResult r = parse("listeners:\n  - listen: 127.0.0.1:0\n  - {listen: 127.0.0.1:0, "
                         "reuseport: false}\n  - listen: unix:/tmp/x.sock\n");
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(r.config->listeners[0].reuseport);  // on by default: an even spread
  EXPECT_FALSE(r.config->listeners[1].reuseport);
  EXPECT_FALSE(r.config->listeners[2].reuseport);  // Unix sockets always share one socket
  EXPECT_EQ(error("listeners:\n  - {listen: unix:/tmp/x.sock, reuseport: true}\n"),
            file() + ":2:43: \"reuseport\" applies to TCP listeners only");
}

TEST_F(ConfigTest, DuplicateKeys) {
  EXPECT_EQ(error(std::string(kListener) + "workers: 1\nworkers: 2\n"),
            file() + ":4:1: duplicate key \"workers\" (first at line 3)");
  EXPECT_EQ(
      error(std::string(kListener) + "routes:\n  - {path: /, module: m, config: {a: 1, a: 2}}\n"),
      file() + ":4:41: duplicate key \"a\"");
}

TEST_F(ConfigTest, BadLogLevel) {
  EXPECT_EQ(
      error(std::string(kListener) + "logs: {level: loud}\n"),
      file() + ":3:15: \"level\" must be one of debug, info, notice, warn, error, got \"loud\"");
}

TEST_F(ConfigTest, YamlSyntaxErrorHasLocation) {
  const std::string e = error("listeners:\n  - listen: [127.0.0.1:80\n");
  EXPECT_EQ(e.rfind(file() + ":3:", 0), 0u) << e;
}

TEST_F(ConfigTest, MissingConfigFile) {
  ConfigResult r = load_config(dir_ / "absent.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error, (dir_ / "absent.yaml").string() + ": cannot open the configuration file");
}

TEST_F(ConfigTest, EveryConnectionOptionIsConfigurable) {
  // Each limit is read back under its own name: set every one to its maximum.
  std::string text = std::string(kListener) + "limits:\n";
  for (const LimitSpec& spec : connection_limit_specs()) {
    text += "  " + std::string(spec.name) + ": " + std::to_string(spec.max) + "\n";
  }
  ConfigResult r = parse(text);
  ASSERT_TRUE(r) << r.error;
  for (const LimitSpec& spec : connection_limit_specs()) {
    EXPECT_EQ(spec.get(r.config->limits), spec.max) << spec.name;
  }
  // Every field of protocol::ConnectionOptions (protocol/options.h has 20) but idle_timeout_ms,
  // which is `timeouts: idle_ms`. A field added there without a spec here fails this count.
  EXPECT_EQ(connection_limit_specs().size(), 24u);
}

// lwip_runtime/README.md: a listener with `tap:` is the lwIP runtime's; it offers what any
// listener offers (h2 and http/1.1 unless `protocols` says otherwise).
TEST_F(ConfigTest, TapListenerIsReadWithItsStack) {
  ConfigResult r = parse(
      "listeners:\n  - listen: 10.77.0.2:8080\n    tap: {device: h2tap0, mac: '02:aa:00:00:00:07',"
      " prefix: 16, gateway: 10.77.0.1, address6: 'fd77::2/64', max_connections: 64}\n");
  ASSERT_TRUE(r) << r.error;
  const ListenerConfig& l = r.config->listeners[0];
  EXPECT_EQ(l.kind, ListenerConfig::Kind::kTap);
  EXPECT_EQ(l.runtime, Runtime::kLwip);
  EXPECT_FALSE(l.reuseport);
  EXPECT_TRUE(l.protocols.http2);
  EXPECT_TRUE(l.protocols.http1);
  EXPECT_EQ(l.tap.device, "h2tap0");
  EXPECT_EQ(l.tap.address, "10.77.0.2");
  EXPECT_EQ(l.tap.port, 8080);
  EXPECT_EQ(l.tap.prefix, 16u);
  EXPECT_EQ(l.tap.gateway, "10.77.0.1");
  EXPECT_EQ(l.tap.address6, "fd77::2");
  EXPECT_EQ(l.tap.max_connections, 64u);
  EXPECT_EQ(l.tap.mac[1], 0xaa);
  EXPECT_EQ(l.tap.mac[5], 0x07);
}

TEST_F(ConfigTest, TapListenerServesTlsWithH2AndHttp11) {
  ConfigResult r = parse("listeners:\n  - listen: 10.77.0.2:443\n    tap: {device: t0}\n"
                         "    tls: {certificate: cert.pem, key: key.pem}\n");
  ASSERT_TRUE(r) << r.error;
  const ListenerConfig& l = r.config->listeners[0];
  EXPECT_EQ(l.kind, ListenerConfig::Kind::kTap);
  ASSERT_TRUE(l.tls);
  EXPECT_TRUE(l.protocols.http2);
  EXPECT_TRUE(l.protocols.http1);  // like any listener: h2 and http/1.1 unless `protocols` says
}

TEST_F(ConfigTest, TapListenerRefusalsNameTheKey) {
  const std::string tap = "listeners:\n  - listen: 10.77.0.2:80\n    tap: {device: t0";
  EXPECT_EQ(error(tap + ", mac: 'ff:00:00:00:00:01'}\n"),
            file() + ":3:28: \"mac\" must be a unicast MAC address like 02:00:00:00:00:02, got "
                     "\"ff:00:00:00:00:01\"");
  EXPECT_EQ(error(tap + ", devcie: x}\n"),
            file() + ":3:23: unknown key \"devcie\" in tap; did you mean \"device\"?");
  EXPECT_EQ(error("listeners:\n  - listen: 10.77.0.2:80\n    tap: {mac: '02:00:00:00:00:01'}\n"),
            file() + ":3:10: tap needs \"device\"");
  EXPECT_EQ(error("listeners:\n  - listen: '[fd77::2]:80'\n    tap: {device: t0}\n"),
            file() + ":2:13: a tap listener's \"listen\" is its stack's IPv4 ADDRESS:PORT");
  EXPECT_EQ(error("listeners:\n  - listen: 10.77.0.2:80\n    runtime: lwip\n"),
            file() + ":3:14: runtime \"lwip\" needs \"tap\" (the device it runs on)");
  EXPECT_EQ(error(tap + "}\n    runtime: io_uring\n"),
            file() + ":4:14: a listener with \"tap\" runs on runtime \"lwip\"");
  EXPECT_EQ(error(std::string(kListener) + "runtime: lwip\n"),
            file() + ":3:10: runtime \"lwip\" is a listener's, with \"tap\" (its device)");
  EXPECT_EQ(error(tap + "}\n    protocols: [h3]\n"),
            file() + ":4:17: protocol \"h3\" is not one of h2, h2c, http/1.1; did you mean \"h2\"?");
  EXPECT_EQ(error(tap + "}\n  - listen: 10.78.0.2:80\n    tap: {device: t1}\n"),
            file() + ":4:5: only one tap listener is served per h2host (lwIP is one stack per "
                     "process)");
}

}  // namespace
}  // namespace h2::host
