#include "http1/h2c_upgrade.h"

#include <algorithm>
#include <cctype>

namespace h2::http1 {
namespace {

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// True when the comma-separated list `values` contains `token` (case-insensitive).
bool has_token(std::span<const std::string_view> values, std::string_view token) {
  for (std::string_view value : values) {
    while (!value.empty()) {
      const size_t comma = value.find(',');
      std::string_view item = value.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (item.size() == token.size() &&
          std::equal(item.begin(), item.end(), token.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          })) {
        return true;
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> decode_http2_settings(std::string_view value) {
  while (!value.empty() && value.back() == '=') value.remove_suffix(1);
  if (value.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(value.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : value) {
    const int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  if (out.size() % 6 != 0) return std::nullopt;
  return out;
}

UpgradeCheck check_h2c_upgrade(std::span<const std::string_view> upgrade,
                               std::span<const std::string_view> connection,
                               std::span<const std::string_view> settings, std::string* payload) {
  if (!has_token(upgrade, "h2c")) return UpgradeCheck::kNone;
  // RFC 7540 §3.2.1: exactly one HTTP2-Settings, named in Connection.
  if (settings.size() != 1 || !has_token(connection, "http2-settings") ||
      !has_token(connection, "upgrade")) {
    return UpgradeCheck::kBad;
  }
  std::optional<std::string> decoded = decode_http2_settings(settings[0]);
  if (!decoded) return UpgradeCheck::kBad;
  *payload = std::move(*decoded);
  return UpgradeCheck::kUpgrade;
}

}  // namespace h2::http1
