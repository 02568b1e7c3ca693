#include "serve/access_format.h"

#include <array>
#include <cstdio>

#include "serve/log.h"
#include "serve/suggest.h"

namespace h2::serve {
namespace {

enum Field {
  kTime, kClientAddress, kClientPort, kMethod, kAuthority, kPath, kProtocol, kStatus,
  kBytesSent, kBytesReceived, kDurationUs, kStreamId, kScheme, kReferer, kUserAgent,
  kTlsVersion, kAlpn, kModule, kRoute, kUpstreamAddr, kUpstreamStatus, kUpstreamResponseTime,
  kFieldCount
};

constexpr std::array<std::string_view, kFieldCount> kNames = {
    "time",        "client_address", "client_port", "method",     "authority",
    "path",        "protocol",       "status",      "bytes_sent", "bytes_received",
    "duration_us", "stream_id",      "scheme",      "referer",    "user_agent",
    "tls_version", "alpn",           "module",      "route",      "upstream_addr",
    "upstream_status", "upstream_response_time"};

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

void append_log_escaped(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += '-';
    return;
  }
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", u);
      out += escaped;
    } else {
      out += c;
    }
  }
}

std::span<const std::string_view> access_field_names() {
  return kNames;
}

std::optional<AccessTemplate> AccessTemplate::parse(std::string_view text, std::string* error) {
  AccessTemplate t;
  std::string literal;
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '$') {
      literal += text[i++];
      continue;
    }
    const bool braced = i + 1 < text.size() && text[i + 1] == '{';
    size_t start = i + (braced ? 2 : 1), end = start;
    while (end < text.size() && name_char(text[end])) ++end;
    if (braced && (end == text.size() || text[end] != '}')) {
      *error = "unterminated \"${\" in the access log format";
      return std::nullopt;
    }
    const std::string_view name = text.substr(start, end - start);
    if (name.empty() && !braced) {  // a '$' that starts no name is itself
      literal += text[i++];
      continue;
    }
    int field = -1;
    for (size_t f = 0; f < kNames.size(); ++f) {
      if (kNames[f] == name) field = static_cast<int>(f);
    }
    if (field < 0) {
      *error = "unknown access log field \"$" + std::string(name) + "\"";
      const std::string hint = nearest_key(name, kNames);
      *error += hint.empty() ? "; fields: $" + std::string(kNames[0]) + ", $" +
                                   std::string(kNames[1]) + ", ..."
                             : "; did you mean \"$" + hint + "\"?";
      return std::nullopt;
    }
    if (!literal.empty()) t.pieces_.push_back({std::move(literal), -1});
    literal.clear();
    t.pieces_.push_back({{}, field});
    i = end + (braced ? 1 : 0);
  }
  if (!literal.empty()) t.pieces_.push_back({std::move(literal), -1});
  return t;
}

void AccessTemplate::render(const AccessRecord& r, std::string_view time, std::string& out) const {
  const auto [address, port] = split_peer(r.peer);
  for (const Piece& p : pieces_) {
    switch (p.field) {
      case -1: out += p.literal; break;
      case kTime: out.append(time); break;
      case kClientAddress: append_log_escaped(out, address); break;
      case kClientPort: append_log_escaped(out, port); break;
      case kMethod: append_log_escaped(out, r.method); break;
      case kAuthority: append_log_escaped(out, r.authority); break;
      case kPath: append_log_escaped(out, r.path); break;
      case kProtocol: append_log_escaped(out, r.protocol); break;
      case kStatus: out += std::to_string(r.status); break;
      case kBytesSent: out += std::to_string(r.bytes_sent); break;
      case kBytesReceived: out += std::to_string(r.bytes_received); break;
      case kDurationUs: out += std::to_string(r.duration_us); break;
      case kStreamId: out += std::to_string(r.stream_id); break;
      case kScheme: out += r.tls ? "https" : "http"; break;
      case kReferer: append_log_escaped(out, r.referer); break;
      case kUserAgent: append_log_escaped(out, r.user_agent); break;
      case kTlsVersion: append_log_escaped(out, r.tls_version); break;
      case kAlpn: append_log_escaped(out, r.alpn); break;
      case kModule: append_log_escaped(out, r.module); break;
      case kRoute: append_log_escaped(out, r.route); break;
      case kUpstreamAddr: append_log_escaped(out, upstream_addresses(r.upstreams)); break;
      case kUpstreamStatus: out += upstream_statuses(r.upstreams); break;
      case kUpstreamResponseTime: out += upstream_response_times(r.upstreams); break;
      default: break;
    }
  }
  out += '\n';
}

}  // namespace h2::serve
