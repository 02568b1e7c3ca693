// host/config_value.h: the host-neutral config tree the YAML layer fills and modules read.
#include <gtest/gtest.h>

#include "serve/config_value.h"

namespace h2::serve {
namespace {

TEST(ConfigValue, ScalarsAnswerTheirKindAndFallBackOtherwise) {
  ConfigValue b = ConfigValue::make_bool(true);
  ConfigValue i = ConfigValue::make_int(-42);
  ConfigValue s = ConfigValue::make_string("x");
  ConfigValue n;
  EXPECT_EQ(b.kind(), ConfigValue::Kind::kBool);
  EXPECT_TRUE(b.as_bool());
  EXPECT_EQ(b.as_int(7), 7);
  EXPECT_EQ(i.as_int(), -42);
  EXPECT_TRUE(i.as_bool(true));
  EXPECT_EQ(s.as_string(), "x");
  EXPECT_EQ(i.as_string(), "");
  EXPECT_TRUE(n.is_null());
  EXPECT_EQ(n.size(), 0u);
  EXPECT_EQ(n.at(0), nullptr);
  EXPECT_EQ(n.find("k"), nullptr);
}

TEST(ConfigValue, MapsKeepDeclarationOrderAndFindTheFirstMatch) {
  ConfigValue m = ConfigValue::make_map({"c.yaml", 2, 1});
  m.insert("zeta", ConfigValue::make_int(1));
  m.insert("alpha", ConfigValue::make_int(2));
  m.insert("zeta", ConfigValue::make_int(3));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.key_at(0), "zeta");
  EXPECT_EQ(m.key_at(1), "alpha");
  EXPECT_EQ(m.key_at(3), "");
  EXPECT_EQ(m.at(1)->as_int(), 2);
  EXPECT_EQ(m.find("zeta")->as_int(), 1);
  EXPECT_EQ(m.find("missing"), nullptr);
}

TEST(ConfigValue, ListsHaveNoKeys) {
  ConfigValue l = ConfigValue::make_list();
  l.push_back(ConfigValue::make_string("a"));
  l.push_back(ConfigValue());
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(l.key_at(0), "");
  EXPECT_EQ(l.find("a"), nullptr);
  EXPECT_TRUE(l.at(1)->is_null());
}

TEST(ConfigValue, LocationsPrintAsFileLineColumn) {
  EXPECT_EQ(ConfigValue::make_int(1, {"/etc/h2/config.yaml", 12, 5}).where(),
            "/etc/h2/config.yaml:12:5");
  EXPECT_EQ(ConfigValue().where(), "<config>:0:0");
}

TEST(ConfigValue, CopiesAreDeepAndCompareByValue) {
  ConfigValue m = ConfigValue::make_map();
  m.insert("list", ConfigValue::make_list()).push_back(ConfigValue::make_bool(false));
  ConfigValue copy = m;
  EXPECT_EQ(copy, m);
  m.insert("more", ConfigValue::make_int(1));
  EXPECT_FALSE(copy == m);
  EXPECT_EQ(copy.find("list")->at(0)->kind(), ConfigValue::Kind::kBool);
}

}  // namespace
}  // namespace h2::serve
