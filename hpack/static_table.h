// The static table of RFC 7541 Appendix A (indexes 1..61).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace h2::hpack {

inline constexpr size_t kStaticTableSize = 61;

struct StaticEntry {
  std::string_view name;
  std::string_view value;
};

// `index` in 1..kStaticTableSize.
const StaticEntry& static_entry(size_t index);

// Result of a static table search; 0 means "no match".
struct StaticMatch {
  uint8_t name_index = 0;  // lowest index whose name matches
  uint8_t full_index = 0;  // index whose name and value match
};

// Constant time in the number of entries: a compile-time hash of names (length, first, middle
// and last byte) leads to the run of entries sharing the name (entries of one name are
// contiguous in Appendix A), whose values are then compared.
StaticMatch find_static(std::string_view name, std::string_view value);

}  // namespace h2::hpack
