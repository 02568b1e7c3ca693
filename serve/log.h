// Error log and access log. Both are process-wide, thread-safe, and cheap when disabled: callers
// test enabled() / access_enabled() before formatting anything.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>


namespace h2::serve {

enum class LogLevel { kDebug, kInfo, kNotice, kWarn, kError };
const char* log_level_name(LogLevel level);

struct LogConfig {
  std::string error_log = "stderr";  // a path, "stderr" or "stdout"
  LogLevel level = LogLevel::kNotice;
  std::string access_log;  // empty = off (the default: no cost for benchmarks)
};


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
  // Common Log Format plus protocol: `peer - - [date] "METHOD PATH PROTO" status bytes`.
  static void access(std::string_view peer, std::string_view method, std::string_view path,
                     std::string_view protocol, int status, uint64_t bytes);

 private:
  static std::atomic<LogLevel> level_;
  static std::atomic<unsigned> generation_;
  static std::atomic<std::FILE*> error_;
  static std::atomic<std::FILE*> access_;
  static std::mutex mutex_;
};

#define H2_LOG(level, expr)                                        \
  do {                                                             \
    if (::h2::serve::Log::enabled(::h2::serve::LogLevel::level)) {   \
      ::h2::serve::Log::write(::h2::serve::LogLevel::level, (expr)); \
    }                                                              \
  } while (0)

}  // namespace h2::serve
