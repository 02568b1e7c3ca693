#include "hpack/decoder.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "hpack/huffman.h"
#include "hpack/static_table.h"

namespace h2::hpack {
namespace {

enum class IntStatus : uint8_t { kDone, kNeedMore, kOverflow };

// RFC 7541 §5.1. Values are capped at 2^32-1 and at five continuation bytes, which also
// rejects endless zero-valued continuation bytes.
inline IntStatus decode_integer(const uint8_t*& p, const uint8_t* end, int prefix_bits,
                                uint32_t* value) {
  const uint32_t max_prefix = (1u << prefix_bits) - 1;
  const uint32_t prefix = *p++ & max_prefix;
  if (prefix < max_prefix) {
    *value = prefix;
    return IntStatus::kDone;
  }
  uint64_t acc = prefix;
  for (int shift = 0;; shift += 7) {
    if (shift > 28) return IntStatus::kOverflow;
    if (p == end) return IntStatus::kNeedMore;
    const uint8_t b = *p++;
    acc += static_cast<uint64_t>(b & 0x7f) << shift;
    if (acc > std::numeric_limits<uint32_t>::max()) return IntStatus::kOverflow;
    if ((b & 0x80) == 0) break;
  }
  *value = static_cast<uint32_t>(acc);
  return IntStatus::kDone;
}

}  // namespace

Decoder::Decoder(const DecoderOptions& options)
    : options_(options), table_(options.max_table_size) {}

void Decoder::set_max_table_size(uint32_t size) {
  const uint32_t before = table_.capacity();
  table_.set_limit(size);
  if (size < before) update_required_ = true;
}

void Decoder::begin_block(HeaderSink* sink) {
  sink_ = sink;
  fields_seen_ = false;
  updates_in_block_ = 0;
  list_size_ = 0;
  field_count_ = 0;
  list_error_ = Error::kOk;
  pending_.clear();
}

Error Decoder::end_block() {
  Error result = error_;
  if (result == Error::kOk && !pending_.empty()) result = Error::kTruncatedBlock;
  if (result == Error::kOk) result = list_error_;
  if (is_connection_error(result)) error_ = result;
  // A representation cut by a fragment boundary (a large cookie split across CONTINUATION
  // frames) is not kept for the connection's life.
  std::string().swap(pending_);
  sink_ = nullptr;
  return result;
}

Error Decoder::process_bytes(std::string_view fragment) {
  if (error_ != Error::kOk) return error_;
  const auto* p = reinterpret_cast<const uint8_t*>(fragment.data());
  const uint8_t* const end = p + fragment.size();
  size_t consumed = 0;
  size_t needed = 0;
  // Finish a representation cut by the previous fragment: copy only the bytes it still needs.
  while (!pending_.empty()) {
    const size_t take = std::min(pending_needed_ - pending_.size(), static_cast<size_t>(end - p));
    pending_.append(reinterpret_cast<const char*>(p), take);
    p += take;
    if (pending_.size() < pending_needed_) return Error::kOk;
    const auto* base = reinterpret_cast<const uint8_t*>(pending_.data());
    switch (decode_one(base, base + pending_.size(), &consumed, &needed)) {
      case Step::kError:
        return error_;
      case Step::kNeedMore:
        pending_needed_ = needed;
        break;
      case Step::kDone:
        assert(consumed == pending_.size());
        pending_.clear();
        break;
    }
  }
  while (p < end) {
    switch (decode_one(p, end, &consumed, &needed)) {
      case Step::kError:
        return error_;
      case Step::kNeedMore:
        pending_.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(end - p));
        pending_needed_ = needed;
        return Error::kOk;
      case Step::kDone:
        p += consumed;
        break;
    }
  }
  return Error::kOk;
}

bool Decoder::lookup(uint32_t index, std::string_view* name, std::string_view* value) {
  if (index <= kStaticTableSize) {
    const StaticEntry& e = static_entry(index);
    *name = e.name;
    *value = e.value;
    return true;
  }
  const size_t position = index - kStaticTableSize - 1;
  if (position >= table_.count()) return false;
  *name = table_.name(position);
  *value = table_.value(position);
  return true;
}

void Decoder::emit(std::string_view name, std::string_view value) {
  ++field_count_;
  list_size_ += name.size() + value.size() + DynamicTable::kEntryOverhead;
  if (list_error_ != Error::kOk) return;  // keep decoding for the table, deliver nothing more
  if (field_count_ > options_.max_field_count) {
    list_error_ = Error::kTooManyFields;
  } else if (list_size_ > options_.max_header_list_size) {
    list_error_ = Error::kHeaderListTooLarge;
  } else if (sink_ != nullptr) {
    sink_->on_header(name, value);
  }
}

Decoder::Step Decoder::decode_one(const uint8_t* begin, const uint8_t* end, size_t* consumed,
                                  size_t* needed) {
  const uint8_t first = *begin;
  if ((first & 0xe0) == 0x20) return decode_table_size_update(begin, end, consumed, needed);
  if (update_required_) return fail(Error::kMissingTableSizeUpdate);
  fields_seen_ = true;
  if (first & 0x80) {  // RFC 7541 §6.1 indexed field
    const uint8_t* p = begin;
    uint32_t index = 0;
    if (const Step s = read_integer(p, begin, end, 7, &index, needed); s != Step::kDone) return s;
    if (index == 0) return fail(Error::kIndexZero);
    std::string_view name, value;
    if (!lookup(index, &name, &value)) return fail(Error::kIndexOutOfRange);
    emit(name, value);
    *consumed = static_cast<size_t>(p - begin);
    return Step::kDone;
  }
  if (first & 0x40) return decode_literal(begin, end, 6, true, consumed, needed);  // §6.2.1
  return decode_literal(begin, end, 4, false, consumed, needed);  // §6.2.2 and §6.2.3
}

Decoder::Step Decoder::decode_table_size_update(const uint8_t* begin, const uint8_t* end,
                                                size_t* consumed, size_t* needed) {
  if (fields_seen_) return fail(Error::kTableSizeUpdateNotAtStart);
  if (updates_in_block_ == 2) return fail(Error::kTooManyTableSizeUpdates);
  const uint8_t* p = begin;
  uint32_t size = 0;
  if (const Step s = read_integer(p, begin, end, 5, &size, needed); s != Step::kDone) return s;
  if (size > table_.limit()) return fail(Error::kTableSizeAboveLimit);  // RFC 7541 §6.3
  table_.set_capacity(size);
  ++updates_in_block_;
  update_required_ = false;
  *consumed = static_cast<size_t>(p - begin);
  return Step::kDone;
}

// RFC 7541 §5.1 integer at `p` (advanced past it). `begin` is the start of the field
// representation, so a truncated integer asks for at least one more byte of the field.
Decoder::Step Decoder::read_integer(const uint8_t*& p, const uint8_t* begin, const uint8_t* end,
                                    int prefix_bits, uint32_t* value, size_t* needed) {
  switch (decode_integer(p, end, prefix_bits, value)) {
    case IntStatus::kOverflow:
      return fail(Error::kIntegerOverflow);
    case IntStatus::kNeedMore:
      *needed = static_cast<size_t>(end - begin) + 1;
      return Step::kNeedMore;
    case IntStatus::kDone:
      break;
  }
  return Step::kDone;
}

Decoder::Step Decoder::read_string(const uint8_t*& p, const uint8_t* begin, const uint8_t* end,
                                   std::string& huffman_buffer, std::string_view* out,
                                   size_t* needed) {
  if (p == end) {
    *needed = static_cast<size_t>(p - begin) + 1;
    return Step::kNeedMore;
  }
  const bool huffman = (*p & 0x80) != 0;
  uint32_t length = 0;
  if (const Step s = read_integer(p, begin, end, 7, &length, needed); s != Step::kDone) return s;
  if (length > options_.max_string_length) return fail(Error::kStringTooLong);
  if (static_cast<size_t>(end - p) < length) {
    *needed = static_cast<size_t>(p - begin) + length;
    return Step::kNeedMore;
  }
  const char* data = reinterpret_cast<const char*>(p);
  p += length;
  if (!huffman) {
    *out = std::string_view(data, length);
    return Step::kDone;
  }
  const size_t room = huffman_max_decoded_length(length);
  if (huffman_buffer.size() < room)
    huffman_buffer.resize(std::max(room, 2 * huffman_buffer.size()));
  size_t decoded = 0;
  const Error e = huffman_decode(std::string_view(data, length), huffman_buffer.data(), &decoded);
  if (e != Error::kOk) return fail(e);
  if (decoded > options_.max_string_length) return fail(Error::kStringTooLong);
  *out = std::string_view(huffman_buffer.data(), decoded);
  return Step::kDone;
}

Decoder::Step Decoder::decode_literal(const uint8_t* begin, const uint8_t* end, int prefix_bits,
                                      bool index, size_t* consumed, size_t* needed) {
  const uint8_t* p = begin;
  uint32_t name_index = 0;
  if (const Step s = read_integer(p, begin, end, prefix_bits, &name_index, needed);
      s != Step::kDone)
    return s;
  // Per thread, not per decoder: a connection that once received a 4 KiB cookie would keep a
  // 4 KiB buffer for its whole life (bounded here by max_string_length per thread).
  thread_local std::string name_buffer, value_buffer;
  std::string_view name, value;
  if (name_index == 0) {
    const Step s = read_string(p, begin, end, name_buffer, &name, needed);
    if (s != Step::kDone) return s;
  } else if (!lookup(name_index, &name, &value)) {
    return fail(Error::kIndexOutOfRange);
  }
  const Step s = read_string(p, begin, end, value_buffer, &value, needed);
  if (s != Step::kDone) return s;
  emit(name, value);  // before insert(): eviction may reuse the bytes `name` points to
  if (index) table_.insert(name, value);
  *consumed = static_cast<size_t>(p - begin);
  return Step::kDone;
}

}  // namespace h2::hpack
