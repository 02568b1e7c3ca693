// Incremental HPACK decoder (RFC 7541).
//
// Typical call sequence for one header block carried by HEADERS + CONTINUATION frames:
//   decoder.begin_block(&sink);
//   decoder.process_bytes(headers_fragment);       // sink.on_header(":method", "GET") ...
//   decoder.process_bytes(continuation_fragment);  // ... further fields as they complete
//   Error e = decoder.end_block();                 // kOk, a request error, or kTruncatedBlock
// Between blocks, once our SETTINGS_HEADER_TABLE_SIZE is acknowledged:
//   decoder.set_max_table_size(new_size);
//
// Fragments are not joined: a representation is decoded in place when it lies wholly inside a
// fragment, and only a representation cut by a fragment boundary is copied (just its bytes) into
// a reused buffer. Field names and values reach the sink as views into the fragment, the
// dynamic table, the static table or a reused Huffman buffer: valid only during on_header().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hpack/dynamic_table.h"
#include "hpack/error.h"

namespace h2::hpack {

// Receives decoded fields in block order.
class HeaderSink {
 public:
  virtual ~HeaderSink() = default;
  // Called once per field as soon as it is complete. The views are valid only for the call.
  // Huffman-decoded strings live in a per-thread buffer (a connection keeps none between
  // blocks), so on_header must not decode with another Decoder on the same thread.
  virtual void on_header(std::string_view name, std::string_view value) = 0;
};

// Limits, all checked while decoding. The defaults are safe for a server facing the Internet.
struct DecoderOptions {
  // Our SETTINGS_HEADER_TABLE_SIZE: the dynamic table starts at this size and a table size
  // update above it is kTableSizeAboveLimit. Memory: 2x this for the table arena.
  uint32_t max_table_size = 4096;
  // Largest string literal, Huffman-coded or not, before and after decoding: kStringTooLong.
  size_t max_string_length = 65536;
  // RFC 9113 §6.5.2 list size (name + value + 32 per field): kHeaderListTooLarge.
  size_t max_header_list_size = 65536;
  // Fields per block: kTooManyFields.
  size_t max_field_count = 512;
};

class Decoder {
 public:
  explicit Decoder(const DecoderOptions& options = {});
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Our new SETTINGS_HEADER_TABLE_SIZE, called between blocks once the peer ACKed it.
  // Lowering it below the table's current size shrinks the table now (RFC 7541 §4.3) and the
  // next block must then start with a table size update (RFC 7541 §4.2), else
  // kMissingTableSizeUpdate.
  void set_max_table_size(uint32_t size);

  // Starts a header block; `sink` must outlive the block (until end_block()).
  void begin_block(HeaderSink* sink);

  // Decodes the next fragment of the block. Consumes the whole fragment: an incomplete trailing
  // representation is kept until the next call. Returns kOk or a connection error (see
  // error.h); after a connection error the decoder is unusable and keeps returning it.
  Error process_bytes(std::string_view fragment);

  // Ends the block: kTruncatedBlock when it stops inside a representation; otherwise the
  // request error (kHeaderListTooLarge / kTooManyFields) if a limit was passed (fields after
  // that point were decoded and indexed but not delivered); else kOk.
  Error end_block();

  // RFC 7541 §4.1 size of the dynamic table.
  size_t dynamic_table_size() const { return table_.size(); }
  // The table itself, for inspection (tests compare it with RFC 7541 Appendix C).
  const DynamicTable& dynamic_table() const { return table_; }

 private:
  enum class Step : uint8_t { kDone, kNeedMore, kError };

  Step decode_one(const uint8_t* begin, const uint8_t* end, size_t* consumed, size_t* needed);
  Step decode_literal(const uint8_t* begin, const uint8_t* end, int prefix_bits, bool index,
                      size_t* consumed, size_t* needed);
  Step decode_table_size_update(const uint8_t* begin, const uint8_t* end, size_t* consumed,
                                size_t* needed);
  Step read_integer(const uint8_t*& p, const uint8_t* begin, const uint8_t* end, int prefix_bits,
                    uint32_t* value, size_t* needed);
  Step read_string(const uint8_t*& p, const uint8_t* begin, const uint8_t* end,
                   std::string& huffman_buffer, std::string_view* out, size_t* needed);
  bool lookup(uint32_t index, std::string_view* name, std::string_view* value);
  void emit(std::string_view name, std::string_view value);
  Step fail(Error e) {
    error_ = e;
    return Step::kError;
  }

  DecoderOptions options_;
  DynamicTable table_;
  HeaderSink* sink_ = nullptr;
  Error error_ = Error::kOk;       // sticky connection error
  Error list_error_ = Error::kOk;  // request error of the current block
  bool fields_seen_ = false;       // a non-update representation was decoded in this block
  bool update_required_ = false;   // our limit shrank: the next block must start with an update
  uint8_t updates_in_block_ = 0;
  size_t list_size_ = 0;
  size_t field_count_ = 0;
  std::string pending_;  // a representation cut by a fragment boundary
  size_t pending_needed_ = 0;
};

}  // namespace h2::hpack
