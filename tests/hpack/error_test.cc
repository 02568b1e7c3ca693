// Error names and classes (RFC 9113 §4.3 COMPRESSION_ERROR vs. refusing one request).
#include "hpack/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace h2::hpack {
namespace {

TEST(Error, NamesAreDistinctAndPrintable) {
  std::set<std::string> names;
  const auto last = static_cast<int>(Error::kMissingTableSizeUpdate);
  for (int i = 0; i <= last; ++i) {
    const std::string_view name = error_name(static_cast<Error>(i));
    EXPECT_EQ(name.substr(0, 1), "k");
    EXPECT_NE(name, "kUnknown");
    names.insert(std::string(name));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(last + 1));
  EXPECT_EQ(error_name(Error::kHuffmanEos), "kHuffmanEos");
}

TEST(Error, OnlyListLimitsAreRequestErrors) {
  EXPECT_FALSE(is_connection_error(Error::kOk));
  EXPECT_FALSE(is_connection_error(Error::kHeaderListTooLarge));
  EXPECT_FALSE(is_connection_error(Error::kTooManyFields));
  for (Error e :
       {Error::kIntegerOverflow, Error::kIndexZero, Error::kIndexOutOfRange, Error::kStringTooLong,
        Error::kHuffmanPaddingTooLong, Error::kHuffmanPaddingNotOnes, Error::kHuffmanEos,
        Error::kTableSizeUpdateNotAtStart, Error::kTooManyTableSizeUpdates,
        Error::kTableSizeAboveLimit, Error::kTruncatedBlock, Error::kMissingTableSizeUpdate}) {
    EXPECT_TRUE(is_connection_error(e)) << error_name(e);
  }
}

}  // namespace
}  // namespace h2::hpack
