// HPACK encoder (RFC 7541) and the helper that cuts a block into HEADERS + CONTINUATION pieces.
//
// Typical use by the HTTP/2 layer:
//   Encoder encoder;                                  // our cap on the peer's table: 4096
//   encoder.set_peer_max_table_size(peer_setting);    // whenever the peer's SETTINGS change it
//   std::string block;
//   encoder.encode(fields, block);                    // one whole header block, appended
//   BlockPieces pieces(block, peer_max_frame_size);
//   for (std::string_view piece; pieces.next(&piece);) { /* HEADERS, then CONTINUATIONs */ }
//
// Indexing policy (why each field is or is not added to the peer's dynamic table):
//  - Never indexed (RFC 7541 §6.2.3, §7.1.3), so neither we nor an intermediary ever put them in
//    a table where a CRIME-style probe could guess them: fields marked `sensitive`,
//    `authorization`, `proxy-authorization`, and `cookie` values shorter than 20 bytes (short
//    cookies have little entropy; long ones are safe enough and repeat on every request).
//  - Indexed on second sight: `content-length`, `:path` with a query, `etag`,
//    `if-modified-since`, `if-none-match`, `last-modified`, `age` and `location` values mostly
//    appear once on a connection (a page's many resources), so the first time such a field is
//    sent without indexing (RFC 7541 §6.2.2) and only its hash is remembered (the last 8); a
//    value seen again (the same file served twice, a poll) is indexed from then on, so a
//    repeated response head becomes one octet per field (and the connection's head cache can
//    reuse the whole block). Measured: the second GET of a static file on one connection went
//    from 48 to 13 octets of HEADERS, the third to 7.
//  - Not indexed: `set-cookie` (per-user values we would keep in the peer's table) and any
//    field bigger than 3/4 of the table (it would flush the table for one use).
//  - `date` and `expires` ARE indexed: measured on the hpack-test-case raw-data stories, 79% of
//    `date` and 41% of `expires` values repeat an earlier one of the same connection (responses
//    within one second), against 24% for `last-modified`; indexing `expires` saves 3% overall.
//  - Everything else is indexed with incremental indexing (RFC 7541 §6.2.1).
// Strings are Huffman-coded only when strictly shorter. Matches are found through the static
// table's compile-time name hash and a chained hash index over the dynamic table (no scans).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hpack/dynamic_table.h"

namespace h2::hpack {

// One field to encode. `name` must be lowercase (RFC 9113 §8.2.1; the caller guarantees it,
// checked by assert in debug builds). `sensitive` forces a never-indexed literal.
struct HeaderField {
  std::string_view name;
  std::string_view value;
  bool sensitive = false;
};

struct EncoderOptions {
  // Our own cap on how much of the peer's dynamic table we use (memory we make the peer keep
  // and we keep ourselves). Below 4096 a table size update starts the first block.
  uint32_t max_table_size = 4096;
  // Huffman-code strings when that is strictly shorter.
  bool use_huffman = true;
  // Index every field except sensitive ones (the behaviour of the RFC 7541 Appendix C
  // examples). Off by default: see the indexing policy above.
  bool index_all_fields = false;
  // Huffman-code every string even when not shorter (RFC 7541 C.4/C.6 do); tests only.
  bool huffman_always = false;
};

class Encoder {
 public:
  explicit Encoder(const EncoderOptions& options = {});
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // The peer's SETTINGS_HEADER_TABLE_SIZE changed (call on every change, before the next
  // encode()). The next block starts with the table size update(s) RFC 7541 §4.2 requires:
  // the smallest size seen since the last block when it went below the current size, then the
  // final one (min(peer setting, our cap)).
  void set_peer_max_table_size(uint32_t size);

  // Appends one whole header block for `fields` to `out` (never clears it).
  void encode(std::span<const HeaderField> fields, std::string& out);

  // RFC 7541 §4.1 size of our copy of the peer's dynamic table.
  size_t dynamic_table_size() const { return table_.size(); }
  const DynamicTable& dynamic_table() const { return table_; }

 private:
  // kOnRepeat: kWithout the first time a value is seen, kIncremental when seen again.
  enum class Indexing : uint8_t { kIncremental, kWithout, kNever, kOnRepeat };

  Indexing choose_indexing(const HeaderField& field) const;
  // kOnRepeat: whether `full_hash` was among the last kRecent such fields (and remembers it).
  bool seen_recently(uint64_t full_hash);
  void emit_table_size_updates(std::string& out);
  void encode_field(const HeaderField& field, std::string& out);
  void encode_literal_string(std::string_view s, std::string& out) const;
  // Dynamic table matches; return the HPACK index or 0.
  size_t find_full(std::string_view name, std::string_view value, uint64_t hash) const;
  size_t find_name(std::string_view name, uint64_t hash) const;
  void insert(std::string_view name, std::string_view value, uint64_t name_hash,
              uint64_t full_hash);
  void grow_index(size_t live_entries, uint64_t skip_id);
  void link(uint64_t id, uint64_t name_hash, uint64_t full_hash);

  EncoderOptions options_;
  DynamicTable table_;
  uint32_t peer_capacity_ = 4096;  // the size the peer's decoder currently uses
  static constexpr size_t kRecent = 8;
  uint64_t recent_[kRecent] = {};  // full hashes of kOnRepeat fields sent without indexing
  uint8_t recent_next_ = 0;
  bool update_pending_ = false;
  uint32_t smallest_pending_ = 0;
  uint32_t final_pending_ = 0;

  // Hash index over live entries, by absolute id (DynamicTable::next_id()). Buckets hold the
  // newest id + 1 (0: empty); each entry links to the next older id + 1 in its bucket, so a
  // chain is ordered by age and a walk stops at the first evicted id: no removal needed.
  struct Link {
    uint64_t name_hash;
    uint64_t full_hash;
    uint64_t name_next;
    uint64_t full_next;
  };
  std::vector<Link> links_;  // power of two >= live entries, indexed by id & link_mask_
  uint64_t link_mask_ = 0;
  std::vector<uint64_t> name_buckets_;
  std::vector<uint64_t> full_buckets_;
  uint64_t bucket_mask_ = 0;
};

// Cuts an encoded header block into frame payloads of at most `max_piece` bytes: the first for
// HEADERS (or PUSH_PROMISE), the rest for CONTINUATION (RFC 9113 §6.10). Views into `block`;
// an empty block yields one empty piece (a HEADERS frame is still sent).
class BlockPieces {
 public:
  // `first_max_piece` lets the HEADERS frame carry less (padding, priority fields).
  BlockPieces(std::string_view block, size_t max_piece, size_t first_max_piece = 0);
  // Sets *piece to the next piece; false once all were returned.
  bool next(std::string_view* piece);
  // Number of pieces in total (1 + CONTINUATION frames).
  size_t count() const;

 private:
  std::string_view rest_;
  size_t max_piece_;
  size_t first_max_piece_;
  bool first_ = true;
};

}  // namespace h2::hpack
