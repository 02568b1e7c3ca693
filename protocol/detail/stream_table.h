// The open streams, as a vector sorted by id. Client ids only grow, so inserting is an append;
// a server keeps at most SETTINGS_MAX_CONCURRENT_STREAMS (~100) open, so the binary search and
// the occasional erase from the middle beat a node-based hash map (no allocation per stream).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace h2::protocol::detail {

struct Stream;

class StreamTable {
 public:
  using Entry = std::pair<uint32_t, Stream*>;
  Stream* find(uint32_t id) const {
    if (!entries_.empty() && entries_.back().first == id) return entries_.back().second;
    auto it = lower(id);
    return it != entries_.end() && it->first == id ? it->second : nullptr;
  }
  void insert(uint32_t id, Stream* s) {
    if (entries_.empty() || entries_.back().first < id) {
      entries_.emplace_back(id, s);
    } else {
      entries_.insert(lower(id), Entry{id, s});
    }
  }
  void erase(uint32_t id) {
    auto it = lower(id);
    if (it != entries_.end() && it->first == id) entries_.erase(it);
  }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }

 private:
  std::vector<Entry>::const_iterator lower(uint32_t id) const {
    return std::lower_bound(entries_.begin(), entries_.end(), id,
                            [](const Entry& e, uint32_t v) { return e.first < v; });
  }
  std::vector<Entry> entries_;
};

}  // namespace h2::protocol::detail
