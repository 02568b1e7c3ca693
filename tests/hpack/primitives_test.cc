// Wire primitives: RFC 7541 Appendix C.1 integers and C.2 representations byte for byte.
#include "hpack/primitives.h"

#include <gtest/gtest.h>

#include "tests/hpack/hpack_test_util.h"
#include "tests/support/fixtures.h"

namespace h2::hpack {
namespace {

using h2::test::to_hex;

// RFC 7541 Appendix C.1: integers.
TEST(EncoderPrimitives, C1Integers) {
  std::string out;
  encode_integer(10, 5, 0, out);
  EXPECT_EQ(to_hex(out), "0a");
  out.clear();
  encode_integer(1337, 5, 0, out);
  EXPECT_EQ(to_hex(out), "1f9a0a");
  out.clear();
  encode_integer(42, 8, 0, out);
  EXPECT_EQ(to_hex(out), "2a");
}

// RFC 7541 Appendix C.2: the four representations from the primitive functions.
TEST(EncoderPrimitives, C2Representations) {
  const std::string rfc = test::rfc7541_text();
  std::string out;
  encode_integer(0, 6, 0x40, out);  // §6.2.1 literal with incremental indexing, new name
  encode_string("custom-key", false, out);
  encode_string("custom-header", false, out);
  EXPECT_EQ(out, test::parse_rfc_example(rfc, "C.2.1").wire);
  out.clear();
  encode_integer(4, 4, 0x00, out);  // §6.2.2 without indexing, name index 4 (:path)
  encode_string("/sample/path", false, out);
  EXPECT_EQ(out, test::parse_rfc_example(rfc, "C.2.2").wire);
  out.clear();
  encode_integer(0, 4, 0x10, out);  // §6.2.3 never indexed, new name
  encode_string("password", false, out);
  encode_string("secret", false, out);
  EXPECT_EQ(out, test::parse_rfc_example(rfc, "C.2.3").wire);
  out.clear();
  encode_integer(2, 7, 0x80, out);  // §6.1 indexed
  EXPECT_EQ(out, test::parse_rfc_example(rfc, "C.2.4").wire);
}

TEST(EncoderPrimitives, IntegerBoundaries) {
  std::string out;
  encode_integer(30, 5, 0x20, out);  // below 2^N-1: one byte
  EXPECT_EQ(to_hex(out), "3e");
  out.clear();
  encode_integer(31, 5, 0x20, out);  // exactly 2^N-1: prefix full, then 0
  EXPECT_EQ(to_hex(out), "3f00");
  out.clear();
  encode_integer(0xffffffffu, 7, 0x80, out);
  EXPECT_EQ(to_hex(out), "ff80ffffff0f");
}

TEST(EncoderPrimitives, StringForms) {
  std::string out;
  encode_string("www.example.com", true, out);  // RFC 7541 C.4.1: Huffman, 12 bytes
  EXPECT_EQ(to_hex(out), "8cf1e3c2e5f23a6ba0ab90f4ff");
  out.clear();
  encode_string("307", true, out);  // Huffman is 3 bytes too: the raw form wins ties
  EXPECT_EQ(to_hex(out), "03333037");
  out.clear();
  encode_string_forced("307", true, out);  // as RFC 7541 C.6.2 writes it
  EXPECT_EQ(to_hex(out), "83640eff");
  out.clear();
  encode_string("", true, out);
  EXPECT_EQ(to_hex(out), "00");
}

}  // namespace
}  // namespace h2::hpack
