#include "http1/request_head.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string_view>

namespace h2::http1 {

RequestHead read_request_head(const boost::beast::http::request_header<>& head, bool keep_alive,
                              bool upgrade_allowed, uint64_t max_header_fields) {
  namespace http = boost::beast::http;
  RequestHead out;
  // The HTTP/2 side's max_field_count, for HTTP/1.1 (RFC 6585 §5: 431). Bytes alone do not
  // bound the work: 10,000 lines of "a: b" fit in 64 KiB.
  out.field_count = static_cast<size_t>(std::distance(head.begin(), head.end()));
  if (out.field_count > max_header_fields) {
    out.verdict = RequestHead::Verdict::kTooManyFields;
    return out;
  }
  serve::Http1Request& request = out.request;
  request.method = std::string(head.method_string());
  request.target = std::string(head.target());
  request.host = std::string(head[http::field::host]);
  request.http10 = head.version() < 11;
  request.keep_alive = keep_alive;
  std::vector<std::string_view> upgrade, connection, settings;
  for (const auto& field : head) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == "upgrade") upgrade.push_back(field.value());
    if (name == "connection") connection.push_back(field.value());
    if (name == "http2-settings") settings.push_back(field.value());
    request.fields.emplace_back(std::move(name), std::string(field.value()));
  }
  if (!upgrade_allowed) return out;
  switch (check_h2c_upgrade(upgrade, connection, settings, &out.settings_payload)) {
    case UpgradeCheck::kNone:
      break;
    case UpgradeCheck::kUpgrade:
      out.verdict = RequestHead::Verdict::kUpgrade;
      break;
    case UpgradeCheck::kBad:
      out.verdict = RequestHead::Verdict::kBadUpgrade;
      request.keep_alive = false;
      break;
  }
  return out;
}

}  // namespace h2::http1
