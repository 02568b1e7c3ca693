// The static Huffman code of RFC 7541 §5.2 / Appendix B.
//
// Decoding keeps up to 64 input bits in a register and looks the next 13 bits up in a table
// built at compile time that yields one or two symbols at once (see huffman.cc); longer codes
// are found among per-length code ranges. All tables derive from huffman_code.inc (generated
// from the RFC by tools/gen_huffman_code.py): one source of truth, no start-up cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hpack/error.h"

namespace h2::hpack {

struct HuffmanSymbol {
  uint32_t code;  // aligned to the least significant bit
  uint8_t bits;
};

// Symbols 0..255 and EOS (256), as printed in RFC 7541 Appendix B.
const HuffmanSymbol& huffman_symbol(size_t symbol);

// Exact number of bytes huffman_encode() writes for `in` (padding included).
size_t huffman_encoded_length(std::string_view in);

// Writes exactly huffman_encoded_length(in) bytes to `out`, padded with the most significant
// bits of EOS (RFC 7541 §5.2).
void huffman_encode(std::string_view in, char* out);

// Upper bound of the decoded length of `encoded_length` Huffman bytes (5-bit shortest code).
constexpr size_t huffman_max_decoded_length(size_t encoded_length) {
  return encoded_length * 8 / 5 + 1;
}

// Decodes `in` into `out`, which must hold huffman_max_decoded_length(in.size()) bytes.
// Sets *out_length. Errors: kHuffmanEos, kHuffmanPaddingTooLong, kHuffmanPaddingNotOnes.
Error huffman_decode(std::string_view in, char* out, size_t* out_length);

}  // namespace h2::hpack
