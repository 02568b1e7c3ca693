// The dynamic table of RFC 7541 §2.3.2 / §4, shared by the decoder and the encoder.
//
// Storage never allocates per entry: names and values live in one byte arena used as a ring
// (entries are written at the tail and freed from the head, oldest first, exactly the HPACK
// eviction order), and entry descriptors live in a power-of-two ring of slots. An entry is
// always contiguous, so lookups return plain string_views. If an entry does not fit before the
// arena's end it is written at offset 0 instead; with an arena of twice the limit this always
// succeeds (the live bytes are at most limit - entry, see place() in dynamic_table.cc).
// Allocation happens at the first insert and when the entries outgrow the arena (doubling up
// to the limit), never per entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace h2::hpack {

class DynamicTable {
 public:
  // RFC 7541 §4.1: every entry costs name + value + 32 octets.
  static constexpr size_t kEntryOverhead = 32;

  // `limit` is the largest capacity the table may be given (SETTINGS_HEADER_TABLE_SIZE).
  // The capacity starts equal to the limit.
  explicit DynamicTable(uint32_t limit);

  // Changes the largest allowed capacity; the capacity is lowered to it when above.
  // Reallocates (at the next insert if empty) only when the limit grows past the allocation.
  void set_limit(uint32_t limit);
  uint32_t limit() const { return limit_; }

  // RFC 7541 §4.3: the maximum size; evicts oldest entries until the size fits.
  // Precondition: capacity <= limit().
  void set_capacity(uint32_t capacity);
  uint32_t capacity() const { return capacity_; }

  // RFC 7541 §4.1 size (sum of name + value + 32) and entry count.
  size_t size() const { return size_; }
  size_t count() const { return count_; }

  // RFC 7541 §4.4: evicts until the new entry fits and adds it. An entry larger than the
  // capacity empties the table and is not added (returns false). `name` and `value` may point
  // into this table (a literal whose name is an indexed dynamic entry).
  bool insert(std::string_view name, std::string_view value);

  // Position 0 is the newest entry (HPACK index 62); requires position < count().
  std::string_view name(size_t position) const { return name_of(slot_at(position)); }
  std::string_view value(size_t position) const { return value_of(slot_at(position)); }

  // Absolute insertion ids, for the encoder's index: the n-th inserted entry has id n.
  // Live ids are [oldest_id(), next_id()); position = next_id() - 1 - id.
  uint64_t next_id() const { return next_id_; }
  uint64_t oldest_id() const { return next_id_ - count_; }

 private:
  struct Slot {
    uint32_t offset;
    uint32_t name_length;
    uint32_t value_length;
  };

  const Slot& slot_at(size_t position) const { return ring_[(next_id_ - 1 - position) & mask_]; }
  std::string_view name_of(const Slot& s) const {
    return {arena_.data() + s.offset, s.name_length};
  }
  std::string_view value_of(const Slot& s) const {
    return {arena_.data() + s.offset + s.name_length, s.value_length};
  }
  bool in_arena(const char* p) const;
  void evict_oldest();
  uint32_t place(uint32_t length);
  void reallocate(uint32_t limit);

  uint32_t limit_;
  uint32_t capacity_;
  static constexpr uint32_t kFirstAllocation = 128;  // table bytes the first arena can hold
  uint32_t allocated_limit_ = 0;
  std::vector<char> arena_;  // 2 * allocated_limit_ bytes
  std::vector<Slot> ring_;   // power of two >= allocated_limit_ / 32 + 1
  uint64_t mask_ = 0;
  uint64_t next_id_ = 0;
  size_t count_ = 0;
  size_t size_ = 0;
  // Live bytes are [head_, tail_) or, once wrapped, [head_, wrap_end_) then [0, tail_).
  uint32_t head_ = 0;
  uint32_t tail_ = 0;
  uint32_t wrap_end_ = 0;
  bool wrapped_ = false;
};

}  // namespace h2::hpack
