// Encoder: RFC 7541 Appendix C byte for byte, the indexing policy, table size updates, block
// pieces, and a round trip of every raw-data story at several table sizes.
#include "hpack/encoder.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "hpack/decoder.h"
#include "tests/hpack/hpack_test_util.h"
#include "tests/support/fixtures.h"

namespace h2::hpack {
namespace {

using h2::test::from_hex;
using h2::test::to_hex;
using test::CollectingSink;
using test::Fields;

std::vector<HeaderField> to_header_fields(const Fields& fields) {
  std::vector<HeaderField> out;
  for (const auto& [n, v] : fields) out.push_back({n, v});
  return out;
}

Error decode_block(Decoder& decoder, std::string_view block, Fields* out) {
  CollectingSink sink;
  decoder.begin_block(&sink);
  Error e = decoder.process_bytes(block);
  const Error end = decoder.end_block();
  *out = std::move(sink.fields);
  return e != Error::kOk ? e : end;
}

// The same examples through the Encoder itself where its policy produces them.
TEST(EncoderRfc, C2ThroughEncoder) {
  const std::string rfc = test::rfc7541_text();
  Encoder all(EncoderOptions{.use_huffman = false, .index_all_fields = true});
  std::string out;
  const HeaderField c21[] = {{"custom-key", "custom-header"}};
  all.encode(c21, out);
  EXPECT_EQ(out, test::parse_rfc_example(rfc, "C.2.1").wire);
  EXPECT_EQ(all.dynamic_table_size(), 55u);
  Encoder plain(EncoderOptions{.use_huffman = false});
  out.clear();
  const HeaderField c23[] = {{"password", "secret", /*sensitive=*/true}};
  plain.encode(c23, out);
  EXPECT_EQ(out, test::parse_rfc_example(rfc, "C.2.3").wire);
  out.clear();
  const HeaderField c24[] = {{":method", "GET"}};
  plain.encode(c24, out);
  EXPECT_EQ(out, test::parse_rfc_example(rfc, "C.2.4").wire);
}

// RFC 7541 Appendix C.3-C.6 byte for byte with the "index everything" configuration the RFC
// examples use. C.4/C.6 Huffman-code every string, ties included (huffman_always).
TEST(EncoderRfc, C3ToC6Sequences) {
  const std::string rfc = test::rfc7541_text();
  for (const char* group : {"C.3", "C.4", "C.5", "C.6"}) {
    const bool responses = group[2] == '5' || group[2] == '6';
    const bool huffman = group[2] == '4' || group[2] == '6';
    Encoder encoder(EncoderOptions{.max_table_size = responses ? 256u : 4096u,
                                   .use_huffman = huffman,
                                   .index_all_fields = true,
                                   .huffman_always = huffman});
    for (int i = 1; i <= 3; ++i) {
      const std::string section = std::string(group) + "." + std::to_string(i);
      const test::RfcExample ex = test::parse_rfc_example(rfc, section);
      ASSERT_FALSE(ex.wire.empty()) << section;
      std::string expected = ex.wire;
      // The RFC assumes both ends already use 256 octets. Our encoder starts from the HTTP/2
      // default of 4096, so its first block first announces 256: 3fe101 (RFC 7541 §6.3).
      if (responses && i == 1) expected = from_hex("3fe101") + expected;
      const auto fields = to_header_fields(ex.headers);
      std::string out;
      encoder.encode(fields, out);
      EXPECT_EQ(to_hex(out), to_hex(expected)) << section;
      EXPECT_EQ(encoder.dynamic_table_size(), ex.table_size) << section;
      ASSERT_EQ(encoder.dynamic_table().count(), ex.table.size()) << section;
      for (size_t k = 0; k < ex.table.size(); ++k) {
        EXPECT_EQ(encoder.dynamic_table().name(k), ex.table[k].name) << section;
        EXPECT_EQ(encoder.dynamic_table().value(k), ex.table[k].value) << section;
      }
    }
  }
}

uint8_t first_byte(const HeaderField& f, Encoder& encoder) {
  std::string out;
  const HeaderField fields[] = {f};
  encoder.encode(fields, out);
  return static_cast<uint8_t>(out.at(0));
}

// The representation RFC 7541 §6 the encoder chose for `f`, by its first octet.
const char* representation(const HeaderField& f, Encoder& encoder) {
  const uint8_t b = first_byte(f, encoder);
  if (b & 0x80) return "indexed";
  if (b & 0x40) return "incremental";
  if ((b & 0xf0) == 0x10) return "never";
  return "without";
}

// The indexing policy documented in encoder.h.
TEST(EncoderPolicy, RepresentationPerField) {
  Encoder e;
  auto kind = [&e](const HeaderField& f) { return representation(f, e); };
  EXPECT_STREQ(kind({"authorization", "Basic dXNlcjpwYXNzd29yZA=="}), "never");
  EXPECT_STREQ(kind({"proxy-authorization", "x"}), "never");
  EXPECT_STREQ(kind({"cookie", "id=42"}), "never");
  EXPECT_STREQ(kind({"cookie", "session=0123456789abcdefghij"}), "incremental");
  EXPECT_STREQ(kind({"x-token", "secret", true}), "never");
  EXPECT_STREQ(kind({":method", "GET", true}), "never");  // sensitive beats the static match
  EXPECT_STREQ(kind({"content-length", "1234"}), "without");
  EXPECT_STREQ(kind({":path", "/search?q=hpack"}), "without");
  EXPECT_STREQ(kind({":path", "/style.css"}), "incremental");
  EXPECT_STREQ(kind({":path", "/style.css"}), "indexed");  // found through the hash index
  EXPECT_STREQ(kind({"etag", "\"abc\""}), "without");
  EXPECT_STREQ(kind({"if-modified-since", "Mon, 21 Oct 2013 20:13:21 GMT"}), "without");
  EXPECT_STREQ(kind({"last-modified", "Mon, 21 Oct 2013 20:13:21 GMT"}), "without");
  EXPECT_STREQ(kind({"user-agent", "curl/7.88"}), "incremental");
  EXPECT_STREQ(kind({":status", "200"}), "indexed");
  EXPECT_STREQ(kind({"x-big", std::string(3500, 'a')}), "without");  // > 3/4 of the table
  EXPECT_STREQ(kind({"set-cookie", "id=1"}), "without");
  EXPECT_STREQ(kind({"set-cookie", "id=1"}), "without");  // never indexed, even when repeated
}

// Values that mostly appear once are indexed on second sight: the same file served again on
// the connection (content-length, etag, last-modified) costs one octet per field from then on.
TEST(EncoderPolicy, RepeatedValuesAreIndexedOnSecondSight) {
  Encoder e;
  auto kind = [&e](const HeaderField& f) { return representation(f, e); };
  const HeaderField etag{"etag", "\"5f3a-1b\""};
  EXPECT_STREQ(kind(etag), "without");      // first sight: a one-off value is not kept
  EXPECT_STREQ(kind(etag), "incremental");  // second sight: indexed
  EXPECT_STREQ(kind(etag), "indexed");      // then one octet
  EXPECT_STREQ(kind({"content-length", "13"}), "without");
  EXPECT_STREQ(kind({"content-length", "14"}), "without");  // another value: first sight too
  EXPECT_STREQ(kind({"content-length", "13"}), "incremental");
  // Only the last 8 such values are remembered: a value seen 9 one-off values ago is new again.
  EXPECT_STREQ(kind({"location", "/a"}), "without");
  for (int i = 0; i < 8; ++i) {
    EXPECT_STREQ(kind({"location", "/other/" + std::to_string(i)}), "without");
  }
  EXPECT_STREQ(kind({"location", "/a"}), "without");
}

// Every live dynamic entry is found again through the hash index (1-byte indexed field), and
// names alone are found for new values.
TEST(EncoderPolicy, HashIndexFindsEveryLiveEntry) {
  Encoder e;
  std::vector<std::string> names, values;
  for (int i = 0; i < 60; ++i) {
    names.push_back("x-field-" + std::to_string(i));
    values.push_back("value-" + std::to_string(i * 7919));
  }
  std::string out;
  for (int i = 0; i < 60; ++i) {
    const HeaderField f[] = {{names[i], values[i]}};
    e.encode(f, out);
  }
  ASSERT_EQ(e.dynamic_table().count(), 60u);
  for (int i = 0; i < 60; ++i) {
    out.clear();
    const HeaderField f[] = {{names[i], values[i]}};
    e.encode(f, out);
    // Position 59: 59 - i newer originals plus the i "new" entries added below so far.
    EXPECT_EQ(to_hex(out), "f9") << names[i];  // 0x80 | (62 + 59)
    out.clear();
    const HeaderField g[] = {{names[i], "new"}};  // the name is found: literal with name index
    e.encode(g, out);
    EXPECT_EQ(static_cast<uint8_t>(out[0]) & 0xc0, 0x40);
    EXPECT_NE(static_cast<uint8_t>(out[0]), 0x40) << "name not found for " << names[i];
  }
}

TEST(EncoderPolicy, HuffmanOnlyWhenShorter) {
  Encoder e;
  std::string out;
  const HeaderField shorter[] = {{"x-a", "www.example.com"}};
  e.encode(shorter, out);
  EXPECT_EQ(to_hex(out.substr(0, 2)), "4003");    // "x-a": 18 Huffman bits, 3 bytes: raw
  EXPECT_EQ(static_cast<uint8_t>(out[5]), 0x8c);  // value: Huffman, 15 -> 12 bytes
  out.clear();
  const HeaderField binary[] = {{"x-b", "\x01\x02\x03"}};  // 23+ bits per byte
  e.encode(binary, out);
  EXPECT_EQ(static_cast<uint8_t>(out.at(out.size() - 4)), 0x03);  // raw, length 3
}

// RFC 7541 §4.2: after SETTINGS changes, the smallest size then the final one.
TEST(EncoderTableSize, SmallestThenFinal) {
  Encoder e;
  Decoder d;
  std::string out;
  Fields fields;
  const HeaderField f[] = {{"x-custom", "value"}};
  e.encode(f, out);
  ASSERT_EQ(decode_block(d, out, &fields), Error::kOk);
  e.set_peer_max_table_size(1024);
  e.set_peer_max_table_size(0);
  e.set_peer_max_table_size(2048);
  d.set_max_table_size(2048);
  out.clear();
  e.encode(f, out);
  EXPECT_EQ(to_hex(out.substr(0, 4)),
            "20"
            "3fe10f");  // 0, then 2048
  ASSERT_EQ(decode_block(d, out, &fields), Error::kOk);
  EXPECT_EQ(fields, (Fields{{"x-custom", "value"}}));
  EXPECT_EQ(e.dynamic_table_size(), d.dynamic_table_size());
  // Raising the peer's setting above our cap: back to our cap (4096), not 65536.
  e.set_peer_max_table_size(65536);
  d.set_max_table_size(65536);
  out.clear();
  e.encode(f, out);
  EXPECT_EQ(to_hex(out),
            "3fe11f"
            "be");
  ASSERT_EQ(decode_block(d, out, &fields), Error::kOk);
  out.clear();
  e.encode(f, out);
  EXPECT_EQ(to_hex(out), "be");
  // Lowering below the current size: one update, which our decoder requires (§4.2).
  e.set_peer_max_table_size(100);
  d.set_max_table_size(100);
  out.clear();
  e.encode(f, out);
  EXPECT_EQ(to_hex(out),
            "3f45"
            "be");  // 100, and the 45-byte entry still fits
  ASSERT_EQ(decode_block(d, out, &fields), Error::kOk);
}

TEST(EncoderTableSize, SmallCapAnnouncedInFirstBlock) {
  Encoder e(EncoderOptions{.max_table_size = 0});
  std::string out;
  const HeaderField f[] = {{"x-custom", "value"}};
  e.encode(f, out);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x20);
  EXPECT_EQ(e.dynamic_table_size(), 0u);
}

TEST(BlockPieces, CutsIntoBoundedPieces) {
  const std::string block(40000, 'x');
  BlockPieces pieces(block, 16384, 16379);
  EXPECT_EQ(pieces.count(), 3u);
  std::string joined;
  std::vector<size_t> sizes;
  for (std::string_view p; pieces.next(&p);) {
    sizes.push_back(p.size());
    joined.append(p);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{16379, 16384, 7237}));
  EXPECT_EQ(joined, block);
  BlockPieces empty("", 100);
  EXPECT_EQ(empty.count(), 1u);
  std::string_view p;
  EXPECT_TRUE(empty.next(&p));
  EXPECT_TRUE(p.empty());
  EXPECT_FALSE(empty.next(&p));
}

// Every raw-data story encoded at four table sizes (both ends' SETTINGS_HEADER_TABLE_SIZE),
// decoded back by our decoder, the blocks fed as pieces of at most 64 bytes.
TEST(EncoderStories, RawDataRoundTripAtFourTableSizes) {
  const auto stories = test::load_folder("raw-data");
  ASSERT_EQ(stories.size(), 32u);
  size_t nghttp2_total = 0;
  for (const auto& story : test::load_folder("nghttp2")) {
    for (const auto& c : story.cases) nghttp2_total += c.wire.size();
  }
  size_t raw_total = 0;
  for (const auto& story : stories) {
    for (const auto& c : story.cases) {
      for (const auto& [n, v] : c.headers) raw_total += n.size() + v.size();
    }
  }
  for (uint32_t table_size : {0u, 256u, 4096u, 16384u}) {
    size_t total = 0, cases = 0;
    for (const auto& story : stories) {
      Encoder encoder(EncoderOptions{.max_table_size = table_size});
      encoder.set_peer_max_table_size(table_size);
      Decoder decoder(DecoderOptions{.max_table_size = table_size});
      std::string block;
      for (size_t i = 0; i < story.cases.size(); ++i) {
        const auto fields = to_header_fields(story.cases[i].headers);
        block.clear();
        encoder.encode(fields, block);
        total += block.size();
        CollectingSink sink;
        decoder.begin_block(&sink);
        BlockPieces pieces(block, 64);
        for (std::string_view piece; pieces.next(&piece);) {
          ASSERT_EQ(decoder.process_bytes(piece), Error::kOk) << story.file << " case " << i;
        }
        ASSERT_EQ(decoder.end_block(), Error::kOk) << story.file << " case " << i;
        ASSERT_EQ(sink.fields, story.cases[i].headers) << story.file << " case " << i;
        ASSERT_EQ(encoder.dynamic_table_size(), decoder.dynamic_table_size());
        ++cases;
      }
    }
    EXPECT_EQ(cases, 3384u);
    std::printf(
        "[ hpack    ] raw-data at table size %5u: %zu header bytes -> %zu encoded bytes"
        " (nghttp2 folder, 4096: %zu, ratio %.4f)\n",
        table_size, raw_total, total, nghttp2_total,
        static_cast<double>(total) / static_cast<double>(nghttp2_total));
    if (table_size == 4096) {
      // Issue target: within 2% of nghttp2's output.
      EXPECT_LE(static_cast<double>(total), 1.02 * static_cast<double>(nghttp2_total));
    }
  }
}

}  // namespace
}  // namespace h2::hpack
