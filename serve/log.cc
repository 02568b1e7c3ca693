#include "serve/log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "serve/access_format.h"
#include "serve/exchange.h"

namespace h2::serve {

const char* log_level_name(LogLevel level) {
  static constexpr const char* kNames[] = {"debug", "info", "notice", "warn", "error"};
  return kNames[static_cast<int>(level)];
}

std::atomic<LogLevel> Log::level_{LogLevel::kNotice};
std::atomic<unsigned> Log::generation_{0};
std::atomic<std::FILE*> Log::error_{nullptr};
std::atomic<std::FILE*> Log::access_{nullptr};
std::atomic<AccessFormat> Log::access_format_{AccessFormat::kCombined};
std::shared_ptr<const AccessTemplate> Log::access_template_;
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

// One write(2) per line, not stdio's buffer-sized pieces: worker processes appending to one
// file (O_APPEND) never interleave inside a line, however long it is.
void write_line(std::FILE* file, std::string_view line) {
  const int fd = ::fileno(file);
  while (!line.empty()) {
    const ssize_t n = ::write(fd, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk or a closed pipe: the line is lost, the server goes on
    line.remove_prefix(static_cast<size_t>(n));
  }
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
  access_format_.store(config.access_format);
  access_template_.reset();
  if (config.access_format == AccessFormat::kCustom) {
    std::string ignored;  // checked when the configuration was read
    if (auto t = AccessTemplate::parse(config.access_template, &ignored)) {
      access_template_ = std::make_shared<const AccessTemplate>(std::move(*t));
    }
  }
  return {};
}

void Log::write(LogLevel level, std::string_view message) {
  char stamp[32];
  const size_t n = format_time(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S");
  char head[96];
  const int h =
      std::snprintf(head, sizeof head, "%.*s [%s] %d#%u: ", static_cast<int>(n), stamp,
                    log_level_name(level), static_cast<int>(getpid()), generation_.load());
  std::string line(head, h > 0 ? std::min<size_t>(static_cast<size_t>(h), sizeof head - 1) : 0);
  line.append(message);
  line += '\n';
  std::lock_guard lock(mutex_);
  std::FILE* file = error_.load();
  write_line(file == nullptr ? stderr : file, line);
}

std::pair<std::string_view, std::string_view> split_peer(std::string_view peer) {
  const size_t colon = peer.rfind(':');
  if (peer.empty() || peer.front() == '/' || colon == std::string_view::npos) return {peer, {}};
  std::string_view address = peer.substr(0, colon);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  return {address, peer.substr(colon + 1)};
}

namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

// Quoted fields of the text formats, escaped as nginx escapes them.
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  append_log_escaped(out, text);
  out += '"';
}

}  // namespace

std::string format_access_line(const AccessRecord& r, AccessFormat format, std::string_view time,
                               const AccessTemplate* custom) {
  const auto [address, port] = split_peer(r.peer);
  std::string out;
  out.reserve(256);
  if (format == AccessFormat::kCustom && custom != nullptr) {
    custom->render(r, time, out);
    return out;
  }
  if (format == AccessFormat::kJson) {
    const auto field = [&](std::string_view name, std::string_view value) {
      out += out.empty() ? "{" : ",";
      append_json_string(out, name);
      out += ':';
      append_json_string(out, value);
    };
    const auto number = [&](std::string_view name, uint64_t value) {
      out += ',';
      append_json_string(out, name);
      out += ':';
      out += std::to_string(value);
    };
    field("time", time);
    field("client_address", address);
    field("client_port", port);
    field("method", r.method);
    field("authority", r.authority);
    field("path", r.path);
    field("protocol", r.protocol);
    number("status", static_cast<uint64_t>(r.status));
    number("bytes_sent", r.bytes_sent);
    number("bytes_received", r.bytes_received);
    number("duration_us", r.duration_us);
    number("stream_id", r.stream_id);
    field("scheme", r.tls ? "https" : "http");
    field("referer", r.referer);
    field("user_agent", r.user_agent);
    field("tls_version", r.tls_version);
    field("alpn", r.alpn);
    field("module", r.module);
    field("route", r.route);
    field("upstream_addr", r.upstreams.empty() ? "" : upstream_addresses(r.upstreams));
    field("upstream_status", r.upstreams.empty() ? "" : upstream_statuses(r.upstreams));
    field("upstream_response_time",
          r.upstreams.empty() ? "" : upstream_response_times(r.upstreams));
    out += "}\n";
    return out;
  }
  out.append(address);
  out += " - - [";
  out.append(time);
  out += "] \"";
  out.append(r.method);
  out += ' ';
  out.append(r.path);
  out += ' ';
  out.append(r.protocol);
  out += "\" ";
  out += std::to_string(r.status);
  out += ' ';
  out += std::to_string(r.bytes_sent);
  if (format == AccessFormat::kCombined) {
    out += ' ';
    append_quoted(out, r.referer);
    out += ' ';
    append_quoted(out, r.user_agent);
  }
  out += '\n';
  return out;
}

AccessRecord access_record_of(const Exchange& ex) {
  const auto value = [&ex](std::string_view name) {
    for (const HeaderField& f : ex.headers()) {
      if (f.name == name) return f.value;
    }
    return std::string_view();
  };
  AccessRecord record;
  record.peer = ex.peer();
  record.method = ex.method();
  record.authority = ex.authority();
  record.path = ex.path();
  record.protocol = ex.version() == HttpVersion::kHttp2 ? "HTTP/2.0" : "HTTP/1.1";
  record.referer = value("referer");
  record.user_agent = value("user-agent");
  record.tls = ex.scheme() == "https";
  const AccessNotes& notes = ex.access_notes;
  if (notes.tls_version != nullptr) record.tls_version = notes.tls_version;
  if (notes.alpn != nullptr) record.alpn = notes.alpn;
  record.module = notes.module;
  record.route = notes.route;
  record.upstreams = notes.upstreams;
  return record;
}

namespace {

template <typename Item>
std::string joined(std::span<const UpstreamNote> notes, Item item) {
  if (notes.empty()) return "-";
  std::string out;
  for (const UpstreamNote& n : notes) {
    if (!out.empty()) out += ", ";
    item(out, n);
  }
  return out;
}

}  // namespace

std::string upstream_addresses(std::span<const UpstreamNote> notes) {
  return joined(notes, [](std::string& out, const UpstreamNote& n) {
    out += n.address.empty() ? std::string_view("-") : std::string_view(n.address);
  });
}

std::string upstream_statuses(std::span<const UpstreamNote> notes) {
  return joined(notes, [](std::string& out, const UpstreamNote& n) {
    out += n.status > 0 ? std::to_string(n.status) : "-";
  });
}

std::string upstream_response_times(std::span<const UpstreamNote> notes) {
  return joined(notes, [](std::string& out, const UpstreamNote& n) {
    if (n.response_ms < 0) {
      out += '-';
      return;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%lld.%03lld", static_cast<long long>(n.response_ms / 1000),
                  static_cast<long long>(n.response_ms % 1000));
    out += text;
  });
}

uint64_t elapsed_us(std::chrono::steady_clock::time_point since) {
  if (since == std::chrono::steady_clock::time_point()) return 0;
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - since)
                                   .count());
}

void Log::access(const AccessRecord& record) {
  char stamp[40];
  const size_t n = format_time(stamp, sizeof stamp, "%d/%b/%Y:%H:%M:%S %z");
  std::shared_ptr<const AccessTemplate> custom;
  {
    std::lock_guard lock(mutex_);
    custom = access_template_;
  }
  const std::string line =
      format_access_line(record, access_format_.load(), std::string_view(stamp, n), custom.get());
  std::lock_guard lock(mutex_);
  std::FILE* file = access_.load();
  if (file == nullptr) return;
  write_line(file, line);
}

}  // namespace h2::serve
