// Errors of the HPACK decoder (RFC 7541) and how HTTP/2 must react to each.
#pragma once

#include <cstdint>
#include <string_view>

namespace h2::hpack {

// Every decoder error. Two classes (see is_connection_error):
//  - Connection errors: the decoder's dynamic table can no longer be trusted to match the
//    peer's encoder, so the connection ends with COMPRESSION_ERROR (RFC 9113 §4.3).
//    All values except the two below.
//  - Request errors: kHeaderListTooLarge and kTooManyFields. The decoder still decoded the
//    whole block (keeping its table in sync) but stopped delivering fields once the limit was
//    passed; only the stream is refused (RFC 9113 §8.2.2: 431 or RST_STREAM), the connection
//    lives on. These are only returned by Decoder::end_block().
enum class Error : uint8_t {
  kOk,
  kIntegerOverflow,            // RFC 7541 §5.1: value above 2^32-1 or too many continuation bytes
  kIndexZero,                  // RFC 7541 §6.1: index 0 is never valid
  kIndexOutOfRange,            // RFC 7541 §2.3.3: beyond static + dynamic table
  kStringTooLong,              // DecoderOptions::max_string_length exceeded (§5.2 length)
  kHuffmanPaddingTooLong,      // RFC 7541 §5.2: padding strictly longer than 7 bits
  kHuffmanPaddingNotOnes,      // RFC 7541 §5.2: padding not the most significant bits of EOS
  kHuffmanEos,                 // RFC 7541 §5.2: EOS symbol inside a string
  kTableSizeUpdateNotAtStart,  // RFC 7541 §4.2: update after the first field of a block
  kTooManyTableSizeUpdates,    // more than two updates at the start of one block (§4.2)
  kTableSizeAboveLimit,        // RFC 7541 §6.3: update above our SETTINGS_HEADER_TABLE_SIZE
  kTruncatedBlock,             // block ended inside a representation
  kHeaderListTooLarge,         // request error: RFC 9113 §6.5.2 list size above the limit
  kTooManyFields,              // request error: DecoderOptions::max_field_count exceeded
  kMissingTableSizeUpdate,     // RFC 7541 §4.2: our limit shrank but the block starts without
                               // the update the encoder MUST send
};

// A stable, printable name: "kHuffmanEos" style (the enumerator's own spelling).
std::string_view error_name(Error e);

// True when the error requires COMPRESSION_ERROR on the whole connection (RFC 9113 §4.3);
// false for kOk and for the two request errors kHeaderListTooLarge and kTooManyFields.
bool is_connection_error(Error e);

}  // namespace h2::hpack
