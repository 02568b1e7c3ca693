// Character rules of RFC 9113 §8.2.1 for field values, checked eight octets at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace h2::protocol::detail {

// RFC 9113 §8.2.1 character classes, one table lookup per octet.
// Name: no octet in 0x00-0x20, 0x41-0x5a (uppercase), 0x7f-0xff; no colon except the leading
// one of a pseudo-header. Value: no NUL, CR or LF.
struct FieldCharTables {
  bool name_ok[256] = {};
  constexpr FieldCharTables() {
    for (int c = 0x21; c < 0x7f; ++c) name_ok[c] = !(c >= 0x41 && c <= 0x5a) && c != ':';
  }
};
inline constexpr FieldCharTables kFieldChars;

// Regular fields with a rule of their own (§8.2.2, §8.1.1, §8.3.1).
enum class Special : uint8_t { kNone, kConnectionSpecific, kTe, kContentLength, kHost };

inline Special classify_field(std::string_view name) {
  switch (name.size()) {
    case 2:
      return name == "te" ? Special::kTe : Special::kNone;
    case 4:
      return name == "host" ? Special::kHost : Special::kNone;
    case 7:
      return name == "upgrade" ? Special::kConnectionSpecific : Special::kNone;
    case 10:
      return name == "connection" || name == "keep-alive" ? Special::kConnectionSpecific
                                                          : Special::kNone;
    case 14:
      return name == "content-length" ? Special::kContentLength : Special::kNone;
    case 16:
      return name == "proxy-connection" ? Special::kConnectionSpecific : Special::kNone;
    case 17:
      return name == "transfer-encoding" ? Special::kConnectionSpecific : Special::kNone;
    default:
      return Special::kNone;
  }
}

// True when every octet of `name` is allowed in a field name (table above), eight at a time:
// a byte is bad when <= 0x20, >= 0x7f, in 0x41-0x5a, or ':' (bit tricks of "hasless",
// "hasmore", "hasbetween": exact as a yes/no answer for the whole word).
inline bool name_octets_ok(std::string_view name) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull,
                     kLow7 = kOnes * 127;
  const char* p = name.data();
  size_t n = name.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    uint64_t bad = ((x - kOnes * 0x21) & ~x & kHigh)  // < 0x21
                   | (((x + kOnes) | x) & kHigh)      // > 0x7e
                   | ((kOnes * (127 + 0x5b) - (x & kLow7)) & ~x &
                      ((x & kLow7) + kOnes * (127 - 0x40)) & kHigh);  // 0x40 < b < 0x5b
    uint64_t colon = x ^ (kOnes * ':');
    bad |= (colon - kOnes) & ~colon & kHigh;
    if (bad) return false;
  }
  unsigned ok = 1;
  for (; n > 0; ++p, --n) ok &= kFieldChars.name_ok[static_cast<unsigned char>(*p)];
  return ok != 0;
}

// True when `v` contains no NUL, CR or LF (RFC 9113 §8.2.1).
inline bool value_octets_ok(std::string_view v) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto has_zero = [](uint64_t x) { return ((x - kOnes) & ~x & kHigh) != 0; };
  const char* p = v.data();
  size_t n = v.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (has_zero(w) || has_zero(w ^ (kOnes * '\r')) || has_zero(w ^ (kOnes * '\n'))) return false;
  }
  for (; n > 0; ++p, --n) {
    if (*p == '\0' || *p == '\r' || *p == '\n') return false;
  }
  return true;
}

}  // namespace h2::protocol::detail
