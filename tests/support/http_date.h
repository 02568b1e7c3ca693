// For tests of serialized HTTP/1.1 responses: the host adds `date:` (serve/host_fields.h), whose
// value is the wall clock. without_date() checks that every final (non-1xx) head carries exactly one date field
// in IMF-fixdate form (RFC 9110 §5.6.7) and removes those lines, so the rest compares exactly.
#pragma once

#include <gtest/gtest.h>

#include <iterator>
#include <regex>
#include <string>

namespace h2::test {

inline std::string without_date(std::string bytes) {
  static const std::regex kDateLine(
      "date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
      "Nov|Dec) \\d{4} \\d\\d:\\d\\d:\\d\\d GMT\r\n");
  static const std::regex kFinalHead("HTTP/1\\.1 [2-9]\\d\\d ");  // 1xx heads carry no date
  const auto heads = static_cast<size_t>(
      std::distance(std::sregex_iterator(bytes.begin(), bytes.end(), kFinalHead),
                    std::sregex_iterator()));
  const auto dates = static_cast<size_t>(
      std::distance(std::sregex_iterator(bytes.begin(), bytes.end(), kDateLine),
                    std::sregex_iterator()));
  const std::string stripped = std::regex_replace(bytes, kDateLine, "");
  EXPECT_EQ(dates, heads) << "every response head carries one date field:\n" << bytes;
  return stripped;
}

}  // namespace h2::test
