// Maps a request target to a path relative to the served root, refusing every way out of it:
// ".." segments (also percent-encoded), NUL bytes, backslashes, malformed percent-encoding.
// Symlinks that lead out of the root are caught later by comparing canonical paths.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace h2::modules {

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `target` is the request's path (with query), `prefix` the route prefix to strip ("" for
// none). Returns "a/b.txt" style paths ("" for the root itself), nullopt when refused.
inline std::optional<std::string> relative_path(std::string_view target, std::string_view prefix) {
  std::size_t end = target.find_first_of("?#");
  std::string_view path = target.substr(0, end);
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (!prefix.empty()) {
    if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
    path.remove_prefix(prefix.size());
  }
  // The common case: nothing to decode or normalize (no '%', '\\', NUL, "//" or "/." - which
  // also covers "/..") - the path without its leading and trailing slash, in one copy.
  bool plain = !path.empty() && path.front() == '/';
  for (std::size_t i = 0; plain && i < path.size(); ++i) {
    const char c = path[i];
    plain = c != '%' && c != '\\' && c != '\0' &&
            !(c == '/' && i + 1 < path.size() && (path[i + 1] == '/' || path[i + 1] == '.'));
  }
  if (plain) {
    std::string_view rest = path.substr(1);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    return std::string(rest);
  }
  std::string decoded;
  decoded.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return std::nullopt;
      int hi = hex_value(path[i + 1]);
      int lo = hex_value(path[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0' || c == '\\') return std::nullopt;
    decoded += c;
  }
  std::string out;
  std::size_t pos = 0;
  while (pos <= decoded.size()) {
    std::size_t slash = decoded.find('/', pos);
    if (slash == std::string::npos) slash = decoded.size();
    std::string_view segment(decoded.data() + pos, slash - pos);
    pos = slash + 1;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return std::nullopt;
    if (!out.empty()) out += '/';
    out.append(segment);
  }
  return out;
}

}  // namespace h2::modules
