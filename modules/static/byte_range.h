// RFC 9110 §14.2 Range: "bytes=first-last", "bytes=first-", "bytes=-suffix". One range only;
// a multi-range request is answered with the whole file (allowed: a server MAY ignore Range).
#pragma once

#include <cstdint>
#include <string_view>

namespace h2::modules {

struct ByteRange {
  enum class Kind { kNone, kSatisfiable, kUnsatisfiable };
  Kind kind = Kind::kNone;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

inline ByteRange parse_range(std::string_view header, std::uint64_t size) {
  ByteRange none;
  constexpr std::string_view kPrefix = "bytes=";
  if (header.substr(0, kPrefix.size()) != kPrefix) return none;
  std::string_view spec = header.substr(kPrefix.size());
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  if (spec.find(',') != std::string_view::npos) return none;
  std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return none;
  auto parse = [](std::string_view digits, std::uint64_t& out) {
    if (digits.empty() || digits.size() > 19) return false;
    out = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
  };
  std::uint64_t a = 0, b = 0;
  bool has_a = parse(spec.substr(0, dash), a);
  bool has_b = parse(spec.substr(dash + 1), b);
  if (!spec.substr(0, dash).empty() && !has_a) return none;
  if (!spec.substr(dash + 1).empty() && !has_b) return none;
  ByteRange r;
  if (has_a) {
    if (has_b && b < a) return none;  // invalid syntax: ignore the header
    if (a >= size) {
      r.kind = ByteRange::Kind::kUnsatisfiable;
      return r;
    }
    std::uint64_t last = has_b && b < size ? b : size - 1;
    r = {ByteRange::Kind::kSatisfiable, a, last - a + 1};
    return r;
  }
  if (!has_b) return none;
  if (b == 0 || size == 0) {
    r.kind = ByteRange::Kind::kUnsatisfiable;
    return r;
  }
  std::uint64_t n = b < size ? b : size;
  r = {ByteRange::Kind::kSatisfiable, size - n, n};
  return r;
}

}  // namespace h2::modules
