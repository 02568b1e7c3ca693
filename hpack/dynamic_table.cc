#include "hpack/dynamic_table.h"

#include <bit>
#include <cassert>
#include <cstring>
#include <functional>

namespace h2::hpack {

// Memory is taken at the first insert and grows with the entries (doubling, from a small first
// allocation up to the limit): a connection whose peer never indexes costs nothing, one that
// indexed a few fields (the usual request) a few hundred bytes, not twice the limit.
DynamicTable::DynamicTable(uint32_t limit) : limit_(limit), capacity_(limit) {}

void DynamicTable::set_limit(uint32_t limit) {
  limit_ = limit;
  if (capacity_ > limit) set_capacity(limit);
}

void DynamicTable::set_capacity(uint32_t capacity) {
  assert(capacity <= limit_);
  capacity_ = capacity;
  while (size_ > capacity_) evict_oldest();
}

bool DynamicTable::in_arena(const char* p) const {
  std::less_equal<const char*> le;
  return le(arena_.data(), p) && std::less<const char*>()(p, arena_.data() + arena_.size());
}

void DynamicTable::evict_oldest() {
  const Slot& s = ring_[oldest_id() & mask_];
  size_ -= s.name_length + s.value_length + kEntryOverhead;
  --count_;
  if (count_ == 0) {
    head_ = tail_ = 0;
    wrapped_ = false;
    return;
  }
  head_ = s.offset + s.name_length + s.value_length;
  if (wrapped_ && head_ == wrap_end_) {
    head_ = 0;
    wrapped_ = false;
  }
}

// Why the arena (2 * limit bytes) always has room after eviction: the live bytes B are at
// most capacity - length <= limit - length. Not wrapped and no room at the tail means
// tail > 2*limit - length, so head = tail - B > limit >= length: the entry fits at 0.
// Wrapped: wrap_end_ > 2*limit - (an earlier length) >= limit and
// B = (wrap_end_ - head) + tail, so tail + length <= limit - wrap_end_ + head < head.
uint32_t DynamicTable::place(uint32_t length) {
  const uint32_t arena_size = static_cast<uint32_t>(arena_.size());
  if (!wrapped_ && tail_ + length > arena_size) {
    assert(length <= head_);
    wrap_end_ = tail_;
    wrapped_ = true;
    tail_ = 0;
  }
  assert(!wrapped_ || tail_ + length <= head_);
  const uint32_t offset = tail_;
  tail_ += length;
  return offset;
}

bool DynamicTable::insert(std::string_view name, std::string_view value) {
  const size_t entry_size = name.size() + value.size() + kEntryOverhead;
  if (entry_size > capacity_) {
    while (count_ > 0) evict_oldest();
    return false;
  }
  if ((!name.empty() && in_arena(name.data())) || (!value.empty() && in_arena(value.data()))) {
    // A name/value in our own arena (an indexed name, a re-inserted entry): copied aside, since
    // eviction may reuse those bytes. Per thread: used only within this call.
    thread_local std::string scratch;
    scratch.assign(name);
    scratch.append(value);
    name = std::string_view(scratch).substr(0, name.size());
    value = std::string_view(scratch).substr(name.size());
  }
  while (size_ + entry_size > capacity_) evict_oldest();
  if (ring_.empty() || size_ + entry_size > allocated_limit_) {
    reallocate(std::min<uint32_t>(
        limit_, std::max<uint32_t>(kFirstAllocation, std::bit_ceil(size_ + entry_size))));
  }
  const uint32_t length = static_cast<uint32_t>(name.size() + value.size());
  const uint32_t offset = place(length);
  if (!name.empty()) std::memcpy(arena_.data() + offset, name.data(), name.size());
  if (!value.empty()) std::memcpy(arena_.data() + offset + name.size(), value.data(), value.size());
  ring_[next_id_ & mask_] = {offset, static_cast<uint32_t>(name.size()),
                             static_cast<uint32_t>(value.size())};
  ++next_id_;
  ++count_;
  size_ += entry_size;
  return true;
}

void DynamicTable::reallocate(uint32_t limit) {
  std::vector<char> arena(2 * static_cast<size_t>(limit));
  std::vector<Slot> ring(std::bit_ceil(static_cast<size_t>(limit) / kEntryOverhead + 1));
  const uint64_t mask = ring.size() - 1;
  uint32_t tail = 0;
  for (uint64_t id = oldest_id(); id < next_id_; ++id) {  // compact, oldest first
    const Slot& s = ring_[id & mask_];
    const uint32_t length = s.name_length + s.value_length;
    if (length > 0) std::memcpy(arena.data() + tail, arena_.data() + s.offset, length);
    ring[id & mask] = {tail, s.name_length, s.value_length};
    tail += length;
  }
  arena_ = std::move(arena);
  ring_ = std::move(ring);
  mask_ = mask;
  allocated_limit_ = limit;
  head_ = 0;
  tail_ = tail;
  wrapped_ = false;
}

}  // namespace h2::hpack
