// The response fields the server itself owns, added to every response of every protocol unless
// the module already set them:
//   date   - RFC 9110 §6.6.1: an origin server with a clock MUST send it. Formatted once per
//            second per thread (IMF-fixdate), so the cost per response is a clock read.
//   server - RFC 9110 §10.2.4, the `server_header:` setting ("h2host" by default, "" = none).
#pragma once

#include <array>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "serve/exchange.h"

namespace h2::serve {

// Process-wide; called at start-up and on reload (any thread). Readers pick the change up on
// their next response.
void set_server_header(std::string_view value);

// "Thu, 03 Dec 2026 11:26:48 GMT" for `now` (a pure function, for tests).
std::string format_http_date(std::time_t now);

// This thread's cached date for the current second, and the current server header.
std::string_view current_http_date();
std::string_view current_server_header();

// A module's fields plus date and server, without copying any bytes: views on the module's
// fields and on the thread's cache. Lives on the stack for one respond call.
class ResponseFields {
 public:
  explicit ResponseFields(std::span<const HeaderField> module_fields);
  ResponseFields(const ResponseFields&) = delete;
  ResponseFields& operator=(const ResponseFields&) = delete;
  std::span<const HeaderField> fields() const { return view_; }

 private:
  static constexpr size_t kInline = 24;
  std::array<HeaderField, kInline> inline_{};
  std::vector<HeaderField> heap_;
  std::span<const HeaderField> view_;
};

}  // namespace h2::serve
