// serve/suggest.h: the edit distance behind "did you mean ...?".
#include "serve/suggest.h"

#include <gtest/gtest.h>

#include <array>

namespace h2::serve {
namespace {

using namespace std::string_view_literals;

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("workers", "wokers"), 1u);
  EXPECT_EQ(edit_distance("listners", "listeners"), 1u);
}

TEST(Suggest, NearestKeyWithinThreshold) {
  constexpr std::array keys = {"workers"sv, "listeners"sv, "routes"sv, "logs"sv};
  EXPECT_EQ(nearest_key("listner", keys), "listeners");
  EXPECT_EQ(nearest_key("route", keys), "routes");
  EXPECT_EQ(nearest_key("log", keys), "logs");
  EXPECT_EQ(nearest_key("completely-different", keys), "");
}

}  // namespace
}  // namespace h2::serve
