#include "serve/first_bytes.h"

namespace h2::serve {
namespace {

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class Line { kIncomplete, kValid, kInvalid };

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 9112 §3: request-line = method SP request-target SP HTTP-version, then CRLF (a bare LF
// is accepted, §2.2). Only HTTP/1.x: any other version on a request line is not HTTP/1.1.
Line check_request_line(std::string_view s) {
  size_t i = 0;
  // §2.2: empty lines before the request line are ignored.
  while (i < s.size() && (s[i] == '\r' || s[i] == '\n')) ++i;
  const size_t method_start = i;
  while (i < s.size() && is_tchar(s[i])) ++i;
  if (i == s.size()) return Line::kIncomplete;
  if (i == method_start || s[i] != ' ') return Line::kInvalid;
  // PRI is the HTTP/2 preface's method (RFC 9113 §11.6 registers it so that it is never used).
  if (s.substr(method_start, i - method_start) == "PRI") return Line::kInvalid;
  ++i;
  const size_t target_start = i;
  while (i < s.size() && static_cast<unsigned char>(s[i]) > 0x20 && s[i] != 0x7f) ++i;
  if (i == s.size()) return Line::kIncomplete;
  if (i == target_start || s[i] != ' ') return Line::kInvalid;
  ++i;
  for (char want : std::string_view("HTTP/1.")) {
    if (i == s.size()) return Line::kIncomplete;
    if (s[i++] != want) return Line::kInvalid;
  }
  if (i == s.size()) return Line::kIncomplete;
  if (s[i] < '0' || s[i] > '9') return Line::kInvalid;
  if (++i == s.size()) return Line::kIncomplete;
  if (s[i] == '\n') return Line::kValid;
  if (s[i] != '\r') return Line::kInvalid;
  if (++i == s.size()) return Line::kIncomplete;
  return s[i] == '\n' ? Line::kValid : Line::kInvalid;
}

}  // namespace

FirstBytes classify_first_bytes(std::string_view seen, Protocols offered) {
  if (!offered.http1) return FirstBytes::kHttp2;  // the core matches (or refuses) the preface
  if (!offered.http2) return FirstBytes::kHttp1;
  if (seen.starts_with(kClientPreface)) return FirstBytes::kHttp2;
  if (kClientPreface.starts_with(seen)) return FirstBytes::kNeedMore;
  switch (check_request_line(seen)) {
    case Line::kValid:
      return FirstBytes::kHttp1;
    case Line::kInvalid:
      return FirstBytes::kHttp2;
    case Line::kIncomplete:
      break;
  }
  return seen.size() >= kMaxSniffedBytes ? FirstBytes::kHttp1 : FirstBytes::kNeedMore;
}

}  // namespace h2::serve
