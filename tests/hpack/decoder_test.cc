// Decoder: RFC 7541 Appendix C, one hand-made input per error, every hpack-test-case story
// (whole, split at random points, and split at every byte boundary).
#include "hpack/decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "hpack/static_table.h"
#include "tests/hpack/hpack_test_util.h"
#include "tests/support/fixtures.h"

namespace h2::hpack {
namespace {

using h2::test::from_hex;
using test::CollectingSink;
using test::Fields;

// Decodes one whole block; returns the error of process_bytes or end_block.
Error decode_block(Decoder& decoder, std::string_view block, Fields* out) {
  CollectingSink sink;
  decoder.begin_block(&sink);
  Error e = decoder.process_bytes(block);
  const Error end = decoder.end_block();
  if (e == Error::kOk) e = end;
  *out = std::move(sink.fields);
  return e;
}

// Decodes a block fed in pieces that end at `cuts` (sorted offsets).
Error decode_pieces(Decoder& decoder, std::string_view block, const std::vector<size_t>& cuts,
                    Fields* out) {
  CollectingSink sink;
  decoder.begin_block(&sink);
  size_t at = 0;
  Error e = Error::kOk;
  for (size_t cut : cuts) {
    if (cut < at || cut > block.size()) continue;
    e = decoder.process_bytes(block.substr(at, cut - at));
    at = cut;
    if (e != Error::kOk) break;
  }
  if (e == Error::kOk) e = decoder.process_bytes(block.substr(at));
  const Error end = decoder.end_block();
  if (e == Error::kOk) e = end;
  *out = std::move(sink.fields);
  return e;
}

void expect_table(const Decoder& decoder, const test::RfcExample& ex) {
  const DynamicTable& t = decoder.dynamic_table();
  ASSERT_EQ(t.count(), ex.table.size()) << ex.section;
  EXPECT_EQ(t.size(), ex.table_size) << ex.section;
  for (size_t i = 0; i < ex.table.size(); ++i) {
    EXPECT_EQ(t.name(i), ex.table[i].name) << ex.section << " entry " << i + 1;
    EXPECT_EQ(t.value(i), ex.table[i].value) << ex.section << " entry " << i + 1;
    EXPECT_EQ(t.name(i).size() + t.value(i).size() + 32, ex.table[i].size) << ex.section;
  }
}

// RFC 7541 Appendix C.2: independent representations, each on a fresh decoder.
TEST(DecoderRfc, C2FieldRepresentations) {
  const std::string rfc = test::rfc7541_text();
  for (const char* section : {"C.2.1", "C.2.2", "C.2.3", "C.2.4"}) {
    const test::RfcExample ex = test::parse_rfc_example(rfc, section);
    ASSERT_FALSE(ex.wire.empty()) << section;
    ASSERT_EQ(ex.headers.size(), 1u) << section;
    Decoder decoder;
    Fields fields;
    ASSERT_EQ(decode_block(decoder, ex.wire, &fields), Error::kOk) << section;
    EXPECT_EQ(fields, ex.headers) << section;
    expect_table(decoder, ex);
  }
}

// RFC 7541 Appendix C.3-C.6: sequences sharing one decoder; C.5/C.6 with a 256-octet table.
TEST(DecoderRfc, C3ToC6Sequences) {
  const std::string rfc = test::rfc7541_text();
  for (const char* group : {"C.3", "C.4", "C.5", "C.6"}) {
    const bool responses = group[2] == '5' || group[2] == '6';
    Decoder decoder(DecoderOptions{.max_table_size = responses ? 256u : 4096u});
    for (int i = 1; i <= 3; ++i) {
      const std::string section = std::string(group) + "." + std::to_string(i);
      const test::RfcExample ex = test::parse_rfc_example(rfc, section);
      ASSERT_FALSE(ex.wire.empty()) << section;
      ASSERT_FALSE(ex.headers.empty()) << section;
      Fields fields;
      ASSERT_EQ(decode_block(decoder, ex.wire, &fields), Error::kOk) << section;
      EXPECT_EQ(fields, ex.headers) << section;
      expect_table(decoder, ex);
    }
  }
}

// One hand-made input per decoder error.
struct ErrorCase {
  const char* what;
  const char* hex;
  Error expected;
  DecoderOptions options = {};
};

TEST(DecoderErrors, EveryErrorHasAnInput) {
  const ErrorCase cases[] = {
      // RFC 7541 §5.1: index 0x7f + 2^32 does not fit 32 bits.
      {"integer overflow", "ffffffffff0f", Error::kIntegerOverflow},
      {"too many continuation bytes", "ff808080808000", Error::kIntegerOverflow},
      {"indexed field with index 0 (§6.1)", "80", Error::kIndexZero},
      {"index past the empty dynamic table", "be", Error::kIndexOutOfRange},
      {"literal name index out of range", "7e0161", Error::kIndexOutOfRange},
      {"string longer than the limit", "400a6375 73746f6d2d6b6579 0161", Error::kStringTooLong,
       DecoderOptions{.max_string_length = 9}},
      // 'a' (00011) then 11 one bits: padding longer than 7 bits (§5.2).
      {"huffman padding too long", "0082 1fff 0161", Error::kHuffmanPaddingTooLong},
      {"huffman padding not ones", "0081 18 0161", Error::kHuffmanPaddingNotOnes},
      {"huffman EOS in string", "0084 fffffffc 0161", Error::kHuffmanEos},
      {"size update after a field (§4.2)", "82 3f e1 1f", Error::kTableSizeUpdateNotAtStart},
      {"three size updates", "20 20 20 82", Error::kTooManyTableSizeUpdates},
      {"size update above SETTINGS (§6.3)", "3f e2 1f", Error::kTableSizeAboveLimit},
      {"block cut inside a literal", "400a6375", Error::kTruncatedBlock},
      {"list above RFC 9113 §6.5.2 limit", "82 84 86", Error::kHeaderListTooLarge,
       DecoderOptions{.max_header_list_size = 2 * (7 + 3 + 32)}},
      {"too many fields", "82 84 86", Error::kTooManyFields, DecoderOptions{.max_field_count = 2}},
  };
  for (const ErrorCase& c : cases) {
    std::string hex = c.hex;
    std::erase(hex, ' ');
    Decoder decoder(c.options);
    Fields fields;
    EXPECT_EQ(decode_block(decoder, from_hex(hex), &fields), c.expected)
        << c.what << ": got " << error_name(decode_block(decoder, from_hex(hex), &fields));
    EXPECT_EQ(is_connection_error(c.expected),
              c.expected != Error::kHeaderListTooLarge && c.expected != Error::kTooManyFields);
  }
}

TEST(DecoderErrors, MissingTableSizeUpdateAfterOurLimitShrank) {
  Decoder decoder;
  Fields fields;
  ASSERT_EQ(decode_block(decoder, from_hex("4003616263016b"), &fields), Error::kOk);
  decoder.set_max_table_size(0);  // RFC 7541 §4.2: the encoder must now signal the change
  EXPECT_EQ(decoder.dynamic_table_size(), 0u);
  EXPECT_EQ(decode_block(decoder, from_hex("82"), &fields), Error::kMissingTableSizeUpdate);
  Decoder decoder2;
  ASSERT_EQ(decode_block(decoder2, from_hex("4003616263016b"), &fields), Error::kOk);
  decoder2.set_max_table_size(0);
  EXPECT_EQ(decode_block(decoder2, from_hex("2082"), &fields), Error::kOk);
  EXPECT_EQ(fields, (Fields{{":method", "GET"}}));
}

TEST(DecoderErrors, ConnectionErrorIsSticky) {
  Decoder decoder;
  Fields fields;
  ASSERT_EQ(decode_block(decoder, from_hex("80"), &fields), Error::kIndexZero);
  EXPECT_EQ(decode_block(decoder, from_hex("82"), &fields), Error::kIndexZero);
}

// The list limit refuses the request but the block is still decoded: entries added after the
// limit was passed must be in the table for the next block (RFC 9113 §4.3, §6.5.2).
TEST(DecoderLimits, TableStaysInSyncAfterListTooLarge) {
  Decoder decoder(DecoderOptions{.max_header_list_size = 60});
  Fields fields;
  // 82, then literal-with-indexing "custom-key: custom-header" (passes the limit).
  const std::string block = from_hex("82400a637573746f6d2d6b65790d637573746f6d2d686561646572");
  EXPECT_EQ(decode_block(decoder, block, &fields), Error::kHeaderListTooLarge);
  EXPECT_EQ(fields, (Fields{{":method", "GET"}}));
  EXPECT_EQ(decoder.dynamic_table_size(), 55u);
  EXPECT_EQ(decode_block(decoder, from_hex("be"), &fields), Error::kOk);
  EXPECT_EQ(fields, (Fields{{"custom-key", "custom-header"}}));
}

TEST(DecoderLimits, SizeUpdatesAtStartAreApplied) {
  Decoder decoder;
  Fields fields;
  ASSERT_EQ(decode_block(decoder, from_hex("4003616263016b"), &fields), Error::kOk);
  ASSERT_EQ(decoder.dynamic_table_size(), 36u);
  // Two updates (0 then 4096) at the start of a block empty the table (RFC 7541 §4.2).
  ASSERT_EQ(decode_block(decoder, from_hex("203fe11f82"), &fields), Error::kOk);
  EXPECT_EQ(decoder.dynamic_table_size(), 0u);
  EXPECT_EQ(decoder.dynamic_table().capacity(), 4096u);
}

// ---- hpack-test-case ------------------------------------------------------------------------

// Decodes a whole story with `cuts_for(case_index, wire)` choosing the piece boundaries.
template <typename CutsFor>
void decode_story(const test::Story& story, CutsFor cuts_for, size_t* cases_done) {
  Decoder decoder;
  for (size_t i = 0; i < story.cases.size(); ++i) {
    const test::StoryCase& c = story.cases[i];
    if (c.header_table_size) decoder.set_max_table_size(*c.header_table_size);
    Fields fields;
    const Error e = decode_pieces(decoder, c.wire, cuts_for(i, c.wire), &fields);
    ASSERT_EQ(e, Error::kOk) << story.folder << "/" << story.file << " case " << i << ": "
                             << error_name(e);
    ASSERT_EQ(fields, c.headers) << story.folder << "/" << story.file << " case " << i;
    ++*cases_done;
  }
}

TEST(DecoderStories, EveryImplementationFolderDecodesExactly) {
  const auto folders = test::implementation_folders();
  ASSERT_EQ(folders.size(), 14u);
  size_t stories = 0, cases = 0;
  for (const auto& folder : folders) {
    for (const auto& story : test::load_folder(folder)) {
      ++stories;
      decode_story(
          story, [](size_t, const std::string&) { return std::vector<size_t>{}; }, &cases);
    }
  }
  // 12 folders of 32 stories and 2 of 31 (nghttp2-16384-4096, nghttp2-change-table-size).
  EXPECT_EQ(stories, 446u);
  EXPECT_EQ(cases, 47142u);
}

TEST(DecoderStories, RandomSplits) {
  std::mt19937 rng(7541);
  size_t cases = 0;
  for (const auto& folder : test::implementation_folders()) {
    for (const auto& story : test::load_folder(folder)) {
      decode_story(
          story,
          [&rng](size_t, const std::string& wire) {
            std::vector<size_t> cuts;
            const size_t n = std::uniform_int_distribution<size_t>(0, 4)(rng);
            for (size_t k = 0; k < n; ++k) {
              cuts.push_back(std::uniform_int_distribution<size_t>(0, wire.size())(rng));
            }
            std::sort(cuts.begin(), cuts.end());
            return cuts;
          },
          &cases);
    }
  }
  EXPECT_EQ(cases, 47142u);
}

// The first story of each folder: every block fed one byte at a time, then, for every offset k,
// the story decoded again with every block cut in two at k.
TEST(DecoderStories, FirstStoryOfEachFolderAtEveryByteBoundary) {
  size_t folders = 0, cases = 0, runs = 0;
  for (const auto& folder : test::implementation_folders()) {
    const test::Story story = test::load_folder(folder).front();
    ++folders;
    decode_story(
        story,
        [](size_t, const std::string& wire) {
          std::vector<size_t> cuts(wire.size());
          for (size_t k = 0; k < wire.size(); ++k) cuts[k] = k + 1;
          return cuts;
        },
        &cases);
    size_t longest = 0;
    for (const auto& c : story.cases) longest = std::max(longest, c.wire.size());
    for (size_t k = 1; k < longest; ++k) {
      decode_story(
          story, [k](size_t, const std::string&) { return std::vector<size_t>{k}; }, &cases);
      ++runs;
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_EQ(folders, 14u);
  EXPECT_GT(runs, 14u);
}

// Incremental decoding must not change the outcome, valid input or not: mutated blocks from the
// fixtures decode to the same fields, the same error and the same table whether fed whole or
// in random pieces.
TEST(DecoderStories, PiecesMatchWholeOnMutatedBlocks) {
  std::mt19937 rng(113);
  const auto stories = test::load_folder("nghttp2");
  size_t blocks = 0, errors = 0;
  for (int round = 0; round < 40; ++round) {
    for (const auto& story : stories) {
      Decoder whole(DecoderOptions{
          .max_string_length = 4096, .max_header_list_size = 8192, .max_field_count = 64});
      Decoder split(DecoderOptions{
          .max_string_length = 4096, .max_header_list_size = 8192, .max_field_count = 64});
      for (const auto& c : story.cases) {
        std::string block = c.wire;
        const int mutations = std::uniform_int_distribution<int>(0, 3)(rng);
        for (int m = 0; m < mutations && !block.empty(); ++m) {
          const size_t at = std::uniform_int_distribution<size_t>(0, block.size() - 1)(rng);
          block[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
        }
        if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
          block.resize(std::uniform_int_distribution<size_t>(0, block.size())(rng));
        }
        std::vector<size_t> cuts;
        for (int k = std::uniform_int_distribution<int>(1, 6)(rng); k > 0; --k) {
          cuts.push_back(std::uniform_int_distribution<size_t>(0, block.size())(rng));
        }
        std::sort(cuts.begin(), cuts.end());
        Fields a, b;
        const Error ea = decode_block(whole, block, &a);
        const Error eb = decode_pieces(split, block, cuts, &b);
        ASSERT_EQ(ea, eb) << h2::test::to_hex(block);
        ASSERT_EQ(a, b) << h2::test::to_hex(block);
        ASSERT_EQ(whole.dynamic_table_size(), split.dynamic_table_size());
        ++blocks;
        if (ea != Error::kOk) ++errors;
        if (is_connection_error(ea)) break;  // the connection would end here
      }
    }
  }
  EXPECT_GT(blocks, 3000u);
  EXPECT_GT(errors, 500u);
}

}  // namespace
}  // namespace h2::hpack
