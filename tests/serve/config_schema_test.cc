// serve/config_schema.h: a config checked against the keys a module declared (ABI 1.2).
#include "serve/config_schema.h"

#include <gtest/gtest.h>

namespace h2::serve {
namespace {

constexpr h2_config_key kKeys[] = {
    {"message", H2_KEY_STRING, "hi", "the text"},
    {"max_age", H2_KEY_INT, "-1", "seconds"},
    {"anything", H2_KEY_ANY, nullptr, "any value"}};
constexpr h2_config_schema kSchema{kKeys, 3};

ConfigLocation at(int line, int column) { return {"c.yaml", line, column}; }

ConfigValue map_with(std::string key, ConfigValue value) {
  ConfigValue map = ConfigValue::make_map(at(3, 5));
  map.insert(std::move(key), std::move(value));
  return map;
}

TEST(ConfigSchema, DeclaredKeysOfTheRightTypePass) {
  ConfigValue map = ConfigValue::make_map(at(3, 5));
  map.insert("message", ConfigValue::make_string("x", at(3, 14)));
  map.insert("max_age", ConfigValue::make_int(60, at(4, 14)));
  map.insert("anything", ConfigValue::make_list(at(5, 14)));
  EXPECT_EQ(check_config(map, &kSchema, "hello", "route config"), "");
  EXPECT_EQ(check_config(ConfigValue(), &kSchema, "hello", "route config"), "");  // absent
  EXPECT_EQ(check_config(map, nullptr, "hello", "route config"), "");  // undeclared: unchecked
}

TEST(ConfigSchema, UnknownKeyNamesItsPlaceAndTheNearestKey) {
  EXPECT_EQ(check_config(map_with("mesage", ConfigValue::make_string("hi", at(4, 13))), &kSchema,
                         "hello", "route config"),
            "c.yaml:4:13: module hello: unknown key \"mesage\" in its route config; did you mean "
            "\"message\"?");
  const h2_config_schema none{nullptr, 0};
  EXPECT_EQ(check_config(map_with("x", ConfigValue::make_int(1, at(2, 9))), &none, "echo",
                         "module config"),
            "c.yaml:2:9: module echo: unknown key \"x\" in its module config (it takes no keys)");
}

TEST(ConfigSchema, WrongTypeAndNonMapAreRefused) {
  EXPECT_EQ(check_config(map_with("max_age", ConfigValue::make_string("1h", at(6, 16))), &kSchema,
                         "static", "route config"),
            "c.yaml:6:16: module static: \"max_age\" must be an integer, got a string");
  EXPECT_EQ(check_config(ConfigValue::make_string("x", at(1, 2)), &kSchema, "static",
                         "route config"),
            "c.yaml:1:2: module static: its route config must be a map, got a string");
}

}  // namespace
}  // namespace h2::serve
