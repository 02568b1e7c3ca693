#include "serve/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace h2::serve {

const char* log_level_name(LogLevel level) {
  static constexpr const char* kNames[] = {"debug", "info", "notice", "warn", "error"};
  return kNames[static_cast<int>(level)];
}

std::atomic<LogLevel> Log::level_{LogLevel::kNotice};
std::atomic<unsigned> Log::generation_{0};
std::atomic<std::FILE*> Log::error_{nullptr};
std::atomic<std::FILE*> Log::access_{nullptr};
std::mutex Log::mutex_;

namespace {

std::FILE* open_target(const std::string& target, std::string& error) {
  if (target == "stderr") return stderr;
  if (target == "stdout") return stdout;
  std::FILE* file = std::fopen(target.c_str(), "a");
  if (file == nullptr) error = "cannot open log file \"" + target + "\": " + std::strerror(errno);
  return file;
}

void close_target(std::FILE* file) {
  if (file != nullptr && file != stderr && file != stdout) std::fclose(file);
}

size_t format_time(char* out, size_t size, const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return std::strftime(out, size, format, &local);
}

}  // namespace

std::string Log::open(const LogConfig& config) {
  std::string error;
  std::FILE* error_file = open_target(config.error_log, error);
  if (error_file == nullptr) return error;
  std::FILE* access_file = nullptr;
  if (!config.access_log.empty()) {
    access_file = open_target(config.access_log, error);
    if (access_file == nullptr) {
      close_target(error_file);
      return error;
    }
  }
  std::lock_guard lock(mutex_);
  close_target(error_.exchange(error_file));
  close_target(access_.exchange(access_file));
  level_.store(config.level);
  return {};
}

void Log::write(LogLevel level, std::string_view message) {
  char stamp[32];
  const size_t n = format_time(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S");
  std::lock_guard lock(mutex_);
  std::FILE* file = error_.load();
  if (file == nullptr) file = stderr;
  std::fprintf(file, "%.*s [%s] %d#%u: %.*s\n", static_cast<int>(n), stamp, log_level_name(level),
               static_cast<int>(getpid()), generation_.load(), static_cast<int>(message.size()),
               message.data());
  std::fflush(file);
}

void Log::access(std::string_view peer, std::string_view method, std::string_view path,
                 std::string_view protocol, int status, uint64_t bytes) {
  char stamp[40];
  const size_t n = format_time(stamp, sizeof stamp, "%d/%b/%Y:%H:%M:%S %z");
  std::lock_guard lock(mutex_);
  std::FILE* file = access_.load();
  if (file == nullptr) return;
  std::fprintf(file, "%.*s - - [%.*s] \"%.*s %.*s %.*s\" %d %llu\n", static_cast<int>(peer.size()),
               peer.data(), static_cast<int>(n), stamp, static_cast<int>(method.size()),
               method.data(), static_cast<int>(path.size()), path.data(),
               static_cast<int>(protocol.size()), protocol.data(), status,
               static_cast<unsigned long long>(bytes));
  std::fflush(file);
}

}  // namespace h2::serve
