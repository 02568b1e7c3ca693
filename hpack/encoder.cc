#include "hpack/encoder.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "hpack/primitives.h"
#include "hpack/static_table.h"

namespace h2::hpack {
namespace {

constexpr uint32_t kDefaultTableSize = 4096;  // RFC 9113 §6.5.2 initial value
constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;

inline uint64_t mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * kMul;
  return h ^ (h >> 29);
}

// Word-at-a-time hash: header strings are short, so few multiplications per field.
uint64_t hash_bytes(std::string_view s, uint64_t seed) {
  uint64_t h = mix(seed, s.size());
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix(h, w);
  }
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    h = mix(h, (uint64_t{a} << 32) | b);
  } else if (n > 0) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    h = mix(h, u[0] | (uint64_t{u[n / 2]} << 8) | (uint64_t{u[n - 1]} << 16));
  }
  return h;
}

[[maybe_unused]] bool is_lowercase(std::string_view name) {
  return std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

Encoder::Encoder(const EncoderOptions& options)
    : options_(options), table_(options.max_table_size) {
  if (options.max_table_size < kDefaultTableSize) {  // the peer starts at 4096: tell it
    update_pending_ = true;
    smallest_pending_ = final_pending_ = options.max_table_size;
  }
}

// The index arrays grow with the live entries (doubling from 8, at most the entries our cap
// allows): a connection whose responses index three fields holds 384 bytes of index, not 12 KiB.
// Growing rebuilds the chains from the table, oldest entry first, leaving out `skip_id` (the entry
// being inserted, linked by the caller).
void Encoder::grow_index(size_t live_entries, uint64_t skip_id) {
  if (live_entries <= links_.size()) return;
  const size_t max_entries = std::bit_ceil(
      static_cast<size_t>(options_.max_table_size / DynamicTable::kEntryOverhead + 1));
  const size_t size = std::min(max_entries, std::max<size_t>(8, std::bit_ceil(live_entries)));
  links_.assign(size, Link{});
  name_buckets_.assign(size, 0);
  full_buckets_.assign(size, 0);
  link_mask_ = bucket_mask_ = size - 1;
  for (uint64_t id = table_.oldest_id(); id < table_.next_id(); ++id) {
    if (id == skip_id) continue;
    const size_t position = table_.next_id() - 1 - id;
    const uint64_t name_hash = hash_bytes(table_.name(position), 0);
    link(id, name_hash, hash_bytes(table_.value(position), name_hash));
  }
}

void Encoder::link(uint64_t id, uint64_t name_hash, uint64_t full_hash) {
  Link& l = links_[id & link_mask_];
  l.name_hash = name_hash;
  l.full_hash = full_hash;
  l.name_next = name_buckets_[name_hash & bucket_mask_];
  l.full_next = full_buckets_[full_hash & bucket_mask_];
  name_buckets_[name_hash & bucket_mask_] = id + 1;
  full_buckets_[full_hash & bucket_mask_] = id + 1;
}

void Encoder::set_peer_max_table_size(uint32_t size) {
  const uint32_t target = std::min(size, options_.max_table_size);
  smallest_pending_ = update_pending_ ? std::min(smallest_pending_, target) : target;
  final_pending_ = target;
  update_pending_ = true;
}

void Encoder::emit_table_size_updates(std::string& out) {
  update_pending_ = false;
  if (smallest_pending_ < peer_capacity_) {  // RFC 7541 §4.2: the smallest first
    encode_integer(smallest_pending_, 5, 0x20, out);
    peer_capacity_ = smallest_pending_;
    table_.set_capacity(smallest_pending_);
  }
  if (final_pending_ != peer_capacity_) {
    encode_integer(final_pending_, 5, 0x20, out);
    peer_capacity_ = final_pending_;
  }
  table_.set_capacity(final_pending_);
}

Encoder::Indexing Encoder::choose_indexing(const HeaderField& f) const {
  if (f.sensitive) return Indexing::kNever;
  const std::string_view n = f.name;
  if (n == "authorization" || n == "proxy-authorization") return Indexing::kNever;
  if (n == "cookie" && f.value.size() < 20) return Indexing::kNever;
  if (options_.index_all_fields) return Indexing::kIncremental;
  if (f.name.size() + f.value.size() + DynamicTable::kEntryOverhead > table_.capacity() / 4 * 3) {
    return Indexing::kWithout;
  }
  switch (n.size()) {  // cheap pre-filter on length before comparing names
    case 3:
      return n == "age" ? Indexing::kOnRepeat : Indexing::kIncremental;
    case 4:
      return n == "etag" ? Indexing::kOnRepeat : Indexing::kIncremental;
    case 5:
      return n == ":path" && f.value.find('?') != std::string_view::npos ? Indexing::kOnRepeat
                                                                         : Indexing::kIncremental;
    case 8:
      return n == "location" ? Indexing::kOnRepeat : Indexing::kIncremental;
    case 10:
      return n == "set-cookie" ? Indexing::kWithout : Indexing::kIncremental;
    case 13:
      return n == "if-none-match" || n == "last-modified" ? Indexing::kOnRepeat
                                                          : Indexing::kIncremental;
    case 14:
      return n == "content-length" ? Indexing::kOnRepeat : Indexing::kIncremental;
    case 17:
      return n == "if-modified-since" ? Indexing::kOnRepeat : Indexing::kIncremental;
    default:
      return Indexing::kIncremental;
  }
}

bool Encoder::seen_recently(uint64_t full_hash) {
  for (uint64_t h : recent_) {
    if (h == full_hash) return true;
  }
  recent_[recent_next_++ % kRecent] = full_hash;
  return false;
}

size_t Encoder::find_full(std::string_view name, std::string_view value, uint64_t hash) const {
  const uint64_t oldest = table_.oldest_id();
  for (uint64_t ref = full_buckets_[hash & bucket_mask_]; ref > oldest;) {
    const uint64_t id = ref - 1;
    const Link& link = links_[id & link_mask_];
    const size_t position = table_.next_id() - 1 - id;
    if (link.full_hash == hash && table_.name(position) == name &&
        table_.value(position) == value) {
      return kStaticTableSize + 1 + position;
    }
    ref = link.full_next;
  }
  return 0;
}

size_t Encoder::find_name(std::string_view name, uint64_t hash) const {
  const uint64_t oldest = table_.oldest_id();
  for (uint64_t ref = name_buckets_[hash & bucket_mask_]; ref > oldest;) {
    const uint64_t id = ref - 1;
    const Link& link = links_[id & link_mask_];
    const size_t position = table_.next_id() - 1 - id;
    if (link.name_hash == hash && table_.name(position) == name) {
      return kStaticTableSize + 1 + position;
    }
    ref = link.name_next;
  }
  return 0;
}

void Encoder::insert(std::string_view name, std::string_view value, uint64_t name_hash,
                     uint64_t full_hash) {
  const uint64_t id = table_.next_id();
  if (!table_.insert(name, value)) return;
  grow_index(table_.count(), id);
  link(id, name_hash, full_hash);
}

void Encoder::encode_field(const HeaderField& field, std::string& out) {
  assert(is_lowercase(field.name));
  Indexing indexing = choose_indexing(field);
  const StaticMatch match = find_static(field.name, field.value);
  if (match.full_index != 0 && indexing != Indexing::kNever) {
    encode_integer(match.full_index, 7, 0x80, out);  // RFC 7541 §6.1
    return;
  }
  const bool use_table =
      table_.count() > 0 || indexing == Indexing::kIncremental || indexing == Indexing::kOnRepeat;
  uint64_t name_hash = 0;
  uint64_t full_hash = 0;
  if (use_table) {
    name_hash = hash_bytes(field.name, 0);
    full_hash = hash_bytes(field.value, name_hash);
    if (indexing != Indexing::kNever && table_.count() > 0) {
      if (const size_t index = find_full(field.name, field.value, full_hash)) {
        encode_integer(index, 7, 0x80, out);
        return;
      }
    }
  }
  if (indexing == Indexing::kOnRepeat) {
    indexing = seen_recently(full_hash) ? Indexing::kIncremental : Indexing::kWithout;
  }
  size_t name_index = match.name_index;
  if (name_index == 0 && table_.count() > 0) name_index = find_name(field.name, name_hash);
  switch (indexing) {
    case Indexing::kIncremental:
      encode_integer(name_index, 6, 0x40, out);  // RFC 7541 §6.2.1
      break;
    case Indexing::kWithout:
    case Indexing::kOnRepeat:                    // resolved above; never reaches here
      encode_integer(name_index, 4, 0x00, out);  // RFC 7541 §6.2.2
      break;
    case Indexing::kNever:
      encode_integer(name_index, 4, 0x10, out);  // RFC 7541 §6.2.3
      break;
  }
  if (name_index == 0) encode_literal_string(field.name, out);
  encode_literal_string(field.value, out);
  if (indexing == Indexing::kIncremental) insert(field.name, field.value, name_hash, full_hash);
}

void Encoder::encode_literal_string(std::string_view s, std::string& out) const {
  if (options_.huffman_always) {
    encode_string_forced(s, true, out);
  } else {
    encode_string(s, options_.use_huffman, out);
  }
}

void Encoder::encode(std::span<const HeaderField> fields, std::string& out) {
  if (update_pending_) emit_table_size_updates(out);
  for (const HeaderField& field : fields) encode_field(field, out);
}

BlockPieces::BlockPieces(std::string_view block, size_t max_piece, size_t first_max_piece)
    : rest_(block),
      max_piece_(std::max<size_t>(max_piece, 1)),
      first_max_piece_(first_max_piece == 0 ? max_piece_ : first_max_piece) {}

bool BlockPieces::next(std::string_view* piece) {
  if (!first_ && rest_.empty()) return false;
  const size_t limit = first_ ? first_max_piece_ : max_piece_;
  first_ = false;
  *piece = rest_.substr(0, limit);
  rest_.remove_prefix(piece->size());
  return true;
}

size_t BlockPieces::count() const {
  if (!first_) return rest_.empty() ? 0 : (rest_.size() + max_piece_ - 1) / max_piece_;
  if (rest_.size() <= first_max_piece_) return 1;
  return 1 + (rest_.size() - first_max_piece_ + max_piece_ - 1) / max_piece_;
}

}  // namespace h2::hpack
