// Error log and access log. Both are process-wide, thread-safe, and cheap when disabled: callers
// test enabled() / access_enabled() before formatting anything.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <span>
#include <string_view>
#include <utility>

#include "serve/upstream_note.h"


namespace h2::serve {

enum class LogLevel { kDebug, kInfo, kNotice, kWarn, kError };
const char* log_level_name(LogLevel level);

// The access log's line shape (`logs.access_format`):
//   combined  nginx's: ADDR - - [TIME] "METHOD PATH PROTO" STATUS BYTES "REFERER" "USER-AGENT"
//   common    the same without referer and user agent
//   json      one object per line with every field of AccessRecord
//   custom    a template of named fields (serve/access_format.h), LogConfig::access_template
enum class AccessFormat { kCombined, kCommon, kJson, kCustom };

struct LogConfig {
  std::string error_log = "stderr";  // a path, "stderr" or "stdout"
  LogLevel level = LogLevel::kNotice;
  std::string access_log;  // empty = off (the default: no cost for benchmarks)
  AccessFormat access_format = AccessFormat::kCombined;
  std::string access_template;  // kCustom: the template text (checked when the config is read)
};

// One finished exchange, as the access log sees it. Views valid for the call only.
struct AccessRecord {
  std::string_view peer;  // "1.2.3.4:5678", "[::1]:5678" or a Unix socket path
  std::string_view method, authority, path, protocol;  // protocol: "HTTP/2.0", "HTTP/1.1"
  std::string_view referer, user_agent;                // empty = absent ("-")
  int status = 0;                                      // 0 = never answered
  uint64_t bytes_sent = 0;                             // response body bytes
  uint64_t duration_us = 0;                            // request head -> exchange released
  uint32_t stream_id = 0;                              // 0 on HTTP/1.1
  bool tls = false;
  uint64_t bytes_received = 0;         // request body bytes
  std::string_view tls_version, alpn;  // "TLSv1.3", "h2"; empty on cleartext / without ALPN
  std::string_view module, route;      // empty when no route matched (404, 405)
  std::span<const UpstreamNote> upstreams;  // the module's upstream requests, in order
};

// $upstream_addr, $upstream_status, $upstream_response_time (seconds, millisecond resolution)
// as nginx writes them: one value per upstream request, ", " between; "-" for none or unknown.
std::string upstream_addresses(std::span<const UpstreamNote> notes);
std::string upstream_statuses(std::span<const UpstreamNote> notes);
std::string upstream_response_times(std::span<const UpstreamNote> notes);


class AccessTemplate;

class Log {
 public:
  // Opens the files named by `config` (appending). Returns an error message, empty on success.
  // Called at start-up and on SIGHUP (reopen for log rotation); previous files are closed.
  static std::string open(const LogConfig& config);

  // The worker generation shown after the pid ("1234#2:"); 0 = the master or a single process.
  static void set_generation(unsigned generation) { generation_.store(generation); }

  static bool enabled(LogLevel level) { return level >= level_.load(std::memory_order_relaxed); }
  // One line: "2026/11/25 17:30:00 [warn] 1234#2: message" (nginx's error log shape: pid, then
  // the worker generation), written with one write(2) so processes sharing a file never interleave.
  static void write(LogLevel level, std::string_view message);

  static bool access_enabled() { return access_.load(std::memory_order_relaxed) != nullptr; }
  // One line in the configured format, written with one write(2).
  static void access(const AccessRecord& record);

 private:
  static std::atomic<LogLevel> level_;
  static std::atomic<unsigned> generation_;
  static std::atomic<std::FILE*> error_;
  static std::atomic<std::FILE*> access_;
  static std::atomic<AccessFormat> access_format_;
  static std::shared_ptr<const AccessTemplate> access_template_;  // guarded by mutex_
  static std::mutex mutex_;
};

// The line Log::access() writes (with its newline), for `time` already formatted. Pure.
// `custom` is used (and required) for AccessFormat::kCustom.
std::string format_access_line(const AccessRecord& record, AccessFormat format,
                               std::string_view time, const AccessTemplate* custom = nullptr);

// "1.2.3.4:80" -> ("1.2.3.4", "80"); "[::1]:80" -> ("::1", "80"); a Unix path -> (path, "").
std::pair<std::string_view, std::string_view> split_peer(std::string_view peer);

class Exchange;
// The fields of a record that any Exchange knows (peer, request line, authority, referer, user
// agent, scheme, and the host's notes: TLS, ALPN, module, route); the adapter adds status,
// bytes, duration and stream id. Views into `ex`.
AccessRecord access_record_of(const Exchange& ex);

// Microseconds since `since` (0 when `since` was never set): access-log durations.
uint64_t elapsed_us(std::chrono::steady_clock::time_point since);

#define H2_LOG(level, expr)                                        \
  do {                                                             \
    if (::h2::serve::Log::enabled(::h2::serve::LogLevel::level)) {   \
      ::h2::serve::Log::write(::h2::serve::LogLevel::level, (expr)); \
    }                                                              \
  } while (0)

}  // namespace h2::serve
