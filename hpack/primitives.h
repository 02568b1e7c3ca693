// Wire primitives of RFC 7541 §5: prefixed integers and string literals. The encoder is built
// from these; tests use them to reproduce RFC 7541 Appendix C byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace h2::hpack {

// Appends `value` as an integer with an N-bit prefix (RFC 7541 §5.1), 1 <= prefix_bits <= 8.
// `high_bits` are the representation's pattern bits above the prefix (e.g. 0x80 for §6.1);
// they must not overlap the prefix.
void encode_integer(uint64_t value, int prefix_bits, uint8_t high_bits, std::string& out);

// Appends a string literal (RFC 7541 §5.2). With `allow_huffman` the Huffman form is used
// only when strictly shorter than the raw octets (ties keep the raw form, cheaper to decode).
void encode_string(std::string_view s, bool allow_huffman, std::string& out);

// Appends a string literal in the form asked for, whatever its length (used by tests that
// reproduce the RFC examples, which Huffman-code every string in C.4 and C.6).
void encode_string_forced(std::string_view s, bool huffman, std::string& out);

}  // namespace h2::hpack
