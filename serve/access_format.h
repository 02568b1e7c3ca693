// The custom access-log line: `logs.access_format: '$client_address [$time] "$method $path"
// $status $bytes_sent $duration_us $tls_version $alpn $module $route'`, nginx's log_format with
// the named fields of AccessRecord. `$name` or `${name}` expands a field: empty ones as "-",
// quotes, backslashes and control bytes as \xHH (as nginx escapes variables). A `$` that starts
// no name, and everything else, is copied. Parsed when the configuration is read, so an unknown
// field fails `h2host -t`.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace h2::serve {

struct AccessRecord;

class AccessTemplate {
 public:
  // The template, or nullopt and `*error` ("unknown access log field "$stauts"; did you mean
  // "$status"?", or an unterminated "${").
  static std::optional<AccessTemplate> parse(std::string_view text, std::string* error);
  // Appends the line for `record` (with its newline); `time` is already formatted.
  void render(const AccessRecord& record, std::string_view time, std::string& out) const;

 private:
  struct Piece {
    std::string literal;  // copied as is when field < 0
    int field = -1;
  };
  std::vector<Piece> pieces_;
};

// Every field name a template may use, in AccessRecord order (for messages and docs).
std::span<const std::string_view> access_field_names();

// A text field as the text formats write it: "-" when empty; '"', '\\' and bytes outside
// printable ASCII as \xHH (nginx's escaping of variables).
void append_log_escaped(std::string& out, std::string_view text);

}  // namespace h2::serve
