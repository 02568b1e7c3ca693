// Static table (RFC 7541 Appendix A): contents against the RFC text and the lookup.
#include "hpack/static_table.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/hpack/hpack_test_util.h"

namespace h2::hpack {
namespace {

TEST(StaticTable, MatchesAppendixA) {
  const std::string rfc = test::rfc7541_text();
  std::istringstream in(rfc.substr(rfc.find("Appendix A. Static Table Definition")));
  size_t rows = 0;
  for (std::string line; std::getline(in, line) && rows < kStaticTableSize;) {
    // "   12 | :status | 400" (the value may be empty)
    const size_t bar1 = line.find(" | ");
    if (bar1 == std::string::npos) continue;
    const std::string index = test::trim(line.substr(0, bar1));
    if (index.empty() || !std::isdigit(static_cast<unsigned char>(index[0]))) continue;
    const size_t bar2 = line.find(" |", bar1 + 3);
    const std::string name = test::trim(line.substr(bar1 + 3, bar2 - bar1 - 3));
    const std::string value = test::trim(line.substr(bar2 + 2));
    const size_t i = std::stoul(index);
    EXPECT_EQ(static_entry(i).name, name) << i;
    EXPECT_EQ(static_entry(i).value, value) << i;
    ++rows;
  }
  EXPECT_EQ(rows, kStaticTableSize);
}

TEST(StaticTable, FindsEveryEntry) {
  for (size_t i = 1; i <= kStaticTableSize; ++i) {
    const StaticEntry& e = static_entry(i);
    const StaticMatch m = find_static(e.name, e.value);
    EXPECT_EQ(m.full_index, i) << e.name << ": " << e.value;
    EXPECT_EQ(static_entry(m.name_index).name, e.name);
    EXPECT_LE(m.name_index, i);
  }
}

TEST(StaticTable, NameOnlyAndMisses) {
  EXPECT_EQ(find_static(":status", "418").name_index, 8);
  EXPECT_EQ(find_static(":status", "418").full_index, 0);
  EXPECT_EQ(find_static("www-authenticate", "x").name_index, 61);
  EXPECT_EQ(find_static("x-unknown", "").name_index, 0);
  EXPECT_EQ(find_static("", "").name_index, 0);
  EXPECT_EQ(find_static(":Status", "200").name_index, 0);  // names are lowercase
}

}  // namespace
}  // namespace h2::hpack
