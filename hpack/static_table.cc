#include "hpack/static_table.h"

#include <array>

namespace h2::hpack {
namespace {

constexpr StaticEntry kEntries[kStaticTableSize + 1] = {
    {"", ""},
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
};

constexpr size_t kBuckets = 128;

constexpr size_t name_bucket(std::string_view name) {
  if (name.empty()) return 0;
  const size_t n = name.size();
  return (n * 37 + static_cast<unsigned char>(name[0]) * 3 +
          static_cast<unsigned char>(name[n / 2]) * 7 + static_cast<unsigned char>(name[n - 1])) &
         (kBuckets - 1);
}

struct NameRun {
  uint8_t first = 0;  // 0: empty bucket
  uint8_t count = 0;
};

constexpr std::array<NameRun, kBuckets> build_name_index() {
  std::array<NameRun, kBuckets> buckets{};
  for (size_t i = 1; i <= kStaticTableSize; ++i) {
    if (kEntries[i].name == kEntries[i - 1].name) continue;  // not the first of its run
    size_t count = 1;
    while (i + count <= kStaticTableSize && kEntries[i + count].name == kEntries[i].name) ++count;
    size_t b = name_bucket(kEntries[i].name);
    while (buckets[b].first != 0) b = (b + 1) & (kBuckets - 1);  // linear probing
    buckets[b] = {static_cast<uint8_t>(i), static_cast<uint8_t>(count)};
  }
  return buckets;
}

constexpr std::array<NameRun, kBuckets> kNameIndex = build_name_index();

}  // namespace

const StaticEntry& static_entry(size_t index) {
  return kEntries[index];
}

StaticMatch find_static(std::string_view name, std::string_view value) {
  StaticMatch match;
  for (size_t b = name_bucket(name);; b = (b + 1) & (kBuckets - 1)) {
    const NameRun run = kNameIndex[b];
    if (run.first == 0) return match;
    if (kEntries[run.first].name != name) continue;
    match.name_index = run.first;
    for (uint8_t i = run.first; i < run.first + run.count; ++i) {
      if (kEntries[i].value == value) {
        match.full_index = i;
        break;
      }
    }
    return match;
  }
}

}  // namespace h2::hpack
