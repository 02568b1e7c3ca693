// Huffman code (RFC 7541 §5.2, Appendix B): the table against the RFC text, round trips, the
// RFC examples and every decoding error.
#include "hpack/huffman.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>

#include "tests/hpack/hpack_test_util.h"
#include "tests/support/fixtures.h"

namespace h2::hpack {
namespace {

using h2::test::from_hex;
using h2::test::to_hex;

std::string encode(std::string_view s) {
  std::string out(huffman_encoded_length(s), '\0');
  huffman_encode(s, out.data());
  return out;
}

Error decode(std::string_view encoded, std::string* out) {
  std::string buffer(huffman_max_decoded_length(encoded.size()), '\0');
  size_t n = 0;
  const Error e = huffman_decode(encoded, buffer.data(), &n);
  *out = buffer.substr(0, n);
  return e;
}

// The compiled table is the one printed in RFC 7541 Appendix B (parsed here independently of
// tools/gen_huffman_code.py).
TEST(Huffman, CodeTableMatchesAppendixB) {
  const std::string rfc = test::rfc7541_text();
  std::istringstream in(rfc.substr(rfc.find("Appendix B. Huffman Code")));
  const std::regex row(R"(\(\s*(\d+)\)\s+\|([01|]+)\s+([0-9a-f]+)\s+\[\s*(\d+)\])");
  size_t rows = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const size_t sym = std::stoul(m[1]);
    std::string bits = m[2];
    std::erase(bits, '|');
    ASSERT_LT(sym, 257u);
    EXPECT_EQ(huffman_symbol(sym).bits, std::stoul(m[4])) << sym;
    EXPECT_EQ(huffman_symbol(sym).bits, bits.size()) << sym;
    EXPECT_EQ(huffman_symbol(sym).code, std::stoul(m[3], nullptr, 16)) << sym;
    EXPECT_EQ(huffman_symbol(sym).code, std::stoul(bits, nullptr, 2)) << sym;
    ++rows;
  }
  EXPECT_EQ(rows, 257u);
}

// RFC 7541 C.4.1 and C.6.1 strings.
TEST(Huffman, RfcExamples) {
  EXPECT_EQ(to_hex(encode("www.example.com")), "f1e3c2e5f23a6ba0ab90f4ff");
  EXPECT_EQ(to_hex(encode("no-cache")), "a8eb10649cbf");
  EXPECT_EQ(to_hex(encode("Mon, 21 Oct 2013 20:13:21 GMT")),
            "d07abe941054d444a8200595040b8166e082a62d1bff");
  std::string out;
  ASSERT_EQ(decode(from_hex("9d29ad171863c78f0b97c8e9ae82ae43d3"), &out), Error::kOk);
  EXPECT_EQ(out, "https://www.example.com");
}

TEST(Huffman, EveryByteAndRandomStringsRoundTrip) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string out;
  ASSERT_EQ(decode(encode(all), &out), Error::kOk);
  EXPECT_EQ(out, all);
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string s(std::uniform_int_distribution<size_t>(0, 64)(rng), '\0');
    for (char& c : s) c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    ASSERT_EQ(decode(encode(s), &out), Error::kOk);
    ASSERT_EQ(out, s);
  }
  ASSERT_EQ(decode("", &out), Error::kOk);
  EXPECT_EQ(out, "");
}

// RFC 7541 §5.2: the three decoding errors.
TEST(Huffman, Errors) {
  std::string out;
  // 'a' is 00011: "1f" is 'a' + 3 padding ones (valid); another ff makes 11 bits of padding.
  EXPECT_EQ(decode(from_hex("1f"), &out), Error::kOk);
  EXPECT_EQ(out, "a");
  EXPECT_EQ(decode(from_hex("1fff"), &out), Error::kHuffmanPaddingTooLong);
  EXPECT_EQ(decode(from_hex("ff"), &out), Error::kHuffmanPaddingTooLong);  // 8 bits, no symbol
  EXPECT_EQ(decode(from_hex("18"), &out), Error::kHuffmanPaddingNotOnes);  // 'a' + 000
  EXPECT_EQ(decode(from_hex("1e"), &out), Error::kHuffmanPaddingNotOnes);  // 'a' + 110
  EXPECT_EQ(decode(from_hex("fffffffc"), &out), Error::kHuffmanEos);       // EOS + 00
  EXPECT_EQ(decode(from_hex("1ffffffff0"), &out), Error::kHuffmanEos);     // 'a' + EOS + 0000
}

// A deliberately simple bit-by-bit decoder, the reference for the table-driven one.
Error reference_decode(std::string_view in, std::string* out) {
  static const std::map<uint64_t, int> codes = [] {  // (bits << 32 | code) -> symbol
    std::map<uint64_t, int> m;
    for (int sym = 0; sym <= 256; ++sym) {
      m[uint64_t{huffman_symbol(sym).bits} << 32 | huffman_symbol(sym).code] = sym;
    }
    return m;
  }();
  out->clear();
  uint32_t code = 0;
  int bits = 0;
  for (unsigned char c : in) {
    for (int b = 7; b >= 0; --b) {
      code = code << 1 | ((c >> b) & 1);
      ++bits;
      const auto it = codes.find(uint64_t(bits) << 32 | code);
      if (it == codes.end()) continue;
      if (it->second == 256) return Error::kHuffmanEos;
      out->push_back(static_cast<char>(it->second));
      code = 0;
      bits = 0;
    }
  }
  if (bits == 0) return Error::kOk;
  if (code != (1u << bits) - 1) return Error::kHuffmanPaddingNotOnes;
  if (bits > 7) return Error::kHuffmanPaddingTooLong;
  return Error::kOk;
}

// Random inputs, valid or not, biased towards 1 bits to reach long codes, EOS and padding.
TEST(Huffman, AgreesWithBitByBitReferenceOnRandomInput) {
  std::mt19937 rng(9);
  size_t errors = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string in(std::uniform_int_distribution<size_t>(0, 40)(rng), '\0');
    const int ones_bias = std::uniform_int_distribution<int>(0, 3)(rng);
    for (char& c : in) {
      unsigned v = std::uniform_int_distribution<unsigned>(0, 255)(rng);
      for (int k = 0; k < ones_bias; ++k) v |= std::uniform_int_distribution<unsigned>(0, 255)(rng);
      c = static_cast<char>(v);
    }
    std::string ours, expected;
    const Error e = decode(in, &ours);
    ASSERT_EQ(e, reference_decode(in, &expected)) << to_hex(in);
    if (e == Error::kOk) {
      ASSERT_EQ(ours, expected) << to_hex(in);
    } else {
      ++errors;
    }
  }
  EXPECT_GT(errors, 1000u);  // the error paths were exercised
  EXPECT_LT(errors, 100000u);
}

}  // namespace
}  // namespace h2::hpack
