#include "hpack/primitives.h"

#include "hpack/huffman.h"

namespace h2::hpack {

void encode_integer(uint64_t value, int prefix_bits, uint8_t high_bits, std::string& out) {
  const uint64_t max_prefix = (uint64_t{1} << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<char>(high_bits | value));
    return;
  }
  out.push_back(static_cast<char>(high_bits | max_prefix));
  value -= max_prefix;
  while (value >= 128) {
    out.push_back(static_cast<char>(0x80 | (value & 0x7f)));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

static void append_huffman(std::string_view s, size_t encoded, std::string& out) {
  encode_integer(encoded, 7, 0x80, out);
  const size_t at = out.size();
  out.resize(at + encoded);
  huffman_encode(s, out.data() + at);
}

void encode_string(std::string_view s, bool allow_huffman, std::string& out) {
  if (allow_huffman) {
    const size_t encoded = huffman_encoded_length(s);
    if (encoded < s.size()) {
      append_huffman(s, encoded, out);
      return;
    }
  }
  encode_integer(s.size(), 7, 0, out);
  out.append(s);
}

void encode_string_forced(std::string_view s, bool huffman, std::string& out) {
  if (huffman) {
    append_huffman(s, huffman_encoded_length(s), out);
  } else {
    encode_integer(s.size(), 7, 0, out);
    out.append(s);
  }
}

}  // namespace h2::hpack
