#include "serve/host_fields.h"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace h2::serve {
namespace {

std::mutex server_mutex;
std::string server_value = "h2host";            // guarded by server_mutex
std::atomic<unsigned> server_generation{1};     // bumped by every set_server_header()

struct ThreadCache {
  std::time_t second = -1;
  std::string date;
  unsigned generation = 0;
  std::string server;
};
thread_local ThreadCache cache;

bool has_field(std::span<const HeaderField> fields, std::string_view name) {
  return std::any_of(fields.begin(), fields.end(),
                     [&](const HeaderField& f) { return f.name == name; });
}

}  // namespace

void set_server_header(std::string_view value) {
  std::lock_guard lock(server_mutex);
  server_value.assign(value);
  server_generation.fetch_add(1, std::memory_order_release);
}

std::string format_http_date(std::time_t now) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm utc{};
  gmtime_r(&now, &utc);
  char out[40];
  const int n = std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              kDays[utc.tm_wday], utc.tm_mday, kMonths[utc.tm_mon],
                              utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return std::string(out, static_cast<size_t>(n));
}

std::string_view current_http_date() {
  const std::time_t now = std::time(nullptr);
  if (now != cache.second) {
    cache.second = now;
    cache.date = format_http_date(now);
  }
  return cache.date;
}

std::string_view current_server_header() {
  const unsigned generation = server_generation.load(std::memory_order_acquire);
  if (generation != cache.generation) {
    std::lock_guard lock(server_mutex);
    cache.server = server_value;
    cache.generation = generation;
  }
  return cache.server;
}

ResponseFields::ResponseFields(std::span<const HeaderField> module_fields) {
  const bool add_date = !has_field(module_fields, "date");
  const std::string_view server = current_server_header();
  const bool add_server = !server.empty() && !has_field(module_fields, "server");
  const size_t total = module_fields.size() + add_date + add_server;
  HeaderField* out = inline_.data();
  if (total > kInline) {
    heap_.resize(total);
    out = heap_.data();
  }
  size_t n = 0;
  if (add_date) out[n++] = {"date", current_http_date()};
  if (add_server) out[n++] = {"server", server};
  for (const HeaderField& f : module_fields) out[n++] = f;
  view_ = std::span<const HeaderField>(out, n);
}

}  // namespace h2::serve
