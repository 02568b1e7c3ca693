// http1/h2c_upgrade.h: RFC 7540 §3.2 / §3.2.1 checks of an "Upgrade: h2c" request.
#include "http1/h2c_upgrade.h"

#include <gtest/gtest.h>

#include "tests/support/fixtures.h"

namespace h2::http1 {
namespace {

using Views = std::vector<std::string_view>;

TEST(Rfc7540_3_2_1, DecodesBase64UrlWithoutPadding) {
  // SETTINGS_MAX_CONCURRENT_STREAMS=100, SETTINGS_INITIAL_WINDOW_SIZE=1073741824 (curl's).
  const auto decoded = decode_http2_settings("AAMAAABkAAQAoAAAAAIAAAAA");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(test::to_hex(*decoded), "000300000064000400a00000000200000000");
  EXPECT_TRUE(decode_http2_settings(""));  // an empty SETTINGS payload is valid
  EXPECT_TRUE(decode_http2_settings("AAMAAABk"));
  EXPECT_TRUE(decode_http2_settings("AAMAAABk=="));  // tolerated padding
}

TEST(Rfc7540_3_2_1, RefusesNonBase64UrlAndPartialSettings) {
  EXPECT_FALSE(decode_http2_settings("AAMAAABk+/"));  // base64, not base64url
  EXPECT_FALSE(decode_http2_settings("AAMA"));        // 3 bytes: not a whole setting
  EXPECT_FALSE(decode_http2_settings("A"));
  EXPECT_FALSE(decode_http2_settings("!!!!"));
}

TEST(Rfc7540_3_2, ValidUpgrade) {
  std::string payload;
  const Views upgrade{"h2c"}, connection{"Upgrade, HTTP2-Settings"}, settings{"AAMAAABk"};
  EXPECT_EQ(check_h2c_upgrade(upgrade, connection, settings, &payload), UpgradeCheck::kUpgrade);
  EXPECT_EQ(payload.size(), 6u);
}

TEST(Rfc7540_3_2, NoUpgradeRequested) {
  std::string payload;
  EXPECT_EQ(check_h2c_upgrade({}, {}, {}, &payload), UpgradeCheck::kNone);
  const Views websocket{"websocket"}, connection{"Upgrade"};
  EXPECT_EQ(check_h2c_upgrade(websocket, connection, {}, &payload), UpgradeCheck::kNone);
}

TEST(Rfc7540_3_2_1, ExactlyOneValidHttp2SettingsIsRequired) {
  std::string payload;
  const Views upgrade{"h2c"}, connection{"Upgrade, HTTP2-Settings"};
  const Views none{}, two{"AAMAAABk", "AAMAAABk"}, bad{"%%%"};
  EXPECT_EQ(check_h2c_upgrade(upgrade, connection, none, &payload), UpgradeCheck::kBad);
  EXPECT_EQ(check_h2c_upgrade(upgrade, connection, two, &payload), UpgradeCheck::kBad);
  EXPECT_EQ(check_h2c_upgrade(upgrade, connection, bad, &payload), UpgradeCheck::kBad);
  const Views no_token{"Upgrade"}, one{"AAMAAABk"};
  EXPECT_EQ(check_h2c_upgrade(upgrade, no_token, one, &payload), UpgradeCheck::kBad);
}

}  // namespace
}  // namespace h2::http1
