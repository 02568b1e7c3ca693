// RFC 7540 §3.2 (kept by RFC 9113 §3.1 for h2c): what makes an HTTP/1.1 request a valid
// "Upgrade: h2c" request, and the HTTP2-Settings header's decoding.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace h2::http1 {

// Decodes the base64url (RFC 4648 §5, padding optional) value of HTTP2-Settings into a SETTINGS
// frame payload. nullopt when the value is not base64url or the payload is not a whole number of
// 6-byte settings (RFC 9113 §6.5.1).
std::optional<std::string> decode_http2_settings(std::string_view value);

enum class UpgradeCheck {
  kNone,     // no "Upgrade: h2c" requested: an ordinary HTTP/1.1 request
  kUpgrade,  // valid: answer 101 and continue in HTTP/2 with this request as stream 1
  kBad,      // h2c asked for but HTTP2-Settings missing, repeated or malformed: 400, no upgrade
};

// `upgrade`: the Upgrade field values; `connection`: Connection values; `settings`: every
// HTTP2-Settings value. On kUpgrade, `*payload` receives the decoded SETTINGS payload.
UpgradeCheck check_h2c_upgrade(std::span<const std::string_view> upgrade,
                               std::span<const std::string_view> connection,
                               std::span<const std::string_view> settings, std::string* payload);

}  // namespace h2::http1
