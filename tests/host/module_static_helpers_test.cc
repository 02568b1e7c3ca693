// The static module's pure helpers (modules/static/*.h): path mapping that refuses traversal,
// RFC 9110 §14 byte ranges, §5.6.7 HTTP dates, content types.
#include <gtest/gtest.h>

#include "modules/static/byte_range.h"
#include "modules/static/http_date.h"
#include "modules/static/mime_types.h"
#include "modules/static/safe_path.h"

namespace h2::modules {
namespace {

TEST(StaticSafePath, MapsTargetsBelowTheRoot) {
  EXPECT_EQ(relative_path("/", ""), "");
  EXPECT_EQ(relative_path("/a/b.txt?x=1#f", ""), "a/b.txt");
  EXPECT_EQ(relative_path("//a/./b/", ""), "a/b");
  EXPECT_EQ(relative_path("/a%20b", ""), "a b");
  EXPECT_EQ(relative_path("/static/x.css", "/static"), "x.css");
  EXPECT_EQ(relative_path("/other/x.css", "/static"), std::nullopt);
  // The plain fast path and the normalizing one agree.
  EXPECT_EQ(relative_path("/a/b/", ""), "a/b");
  EXPECT_EQ(relative_path("/a/.hidden", ""), "a/.hidden");
  EXPECT_EQ(relative_path("/a/b.", ""), "a/b.");
  EXPECT_EQ(relative_path("/static", "/static"), "");
  EXPECT_EQ(relative_path("/static/", "/static"), "");
}

TEST(StaticSafePath, RefusesEveryWayOut) {
  EXPECT_EQ(relative_path("/../x", ""), std::nullopt);
  EXPECT_EQ(relative_path("/a/%2e%2e/x", ""), std::nullopt);
  EXPECT_EQ(relative_path("/a/%2E%2E%2fx", ""), std::nullopt);
  EXPECT_EQ(relative_path("/a%00", ""), std::nullopt);
  EXPECT_EQ(relative_path("/a%5c..%5cx", ""), std::nullopt);  // backslash
  EXPECT_EQ(relative_path("/a%2", ""), std::nullopt);         // truncated escape
  EXPECT_EQ(relative_path("/a%zz", ""), std::nullopt);
  EXPECT_EQ(relative_path("a/b", ""), std::nullopt);  // not origin-form
}

// RFC 9110 §14.1.2 examples on a 10000-byte representation.
TEST(Rfc9110_14_1_2, ByteRanges) {
  auto r = parse_range("bytes=0-499", 10000);
  EXPECT_EQ(r.kind, ByteRange::Kind::kSatisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.length, 500u);
  r = parse_range("bytes=9500-", 10000);
  EXPECT_EQ(r.first, 9500u);
  EXPECT_EQ(r.length, 500u);
  r = parse_range("bytes=-500", 10000);
  EXPECT_EQ(r.first, 9500u);
  EXPECT_EQ(r.length, 500u);
  r = parse_range("bytes=9000-20000", 10000);  // last-pos past the end is clipped
  EXPECT_EQ(r.length, 1000u);
  EXPECT_EQ(parse_range("bytes=10000-", 10000).kind, ByteRange::Kind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 10000).kind, ByteRange::Kind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=5-1", 10000).kind, ByteRange::Kind::kNone);
  EXPECT_EQ(parse_range("items=0-1", 10000).kind, ByteRange::Kind::kNone);
  EXPECT_EQ(parse_range("bytes=0-1,5-6", 10000).kind, ByteRange::Kind::kNone);
  EXPECT_EQ(parse_range("bytes=x-1", 10000).kind, ByteRange::Kind::kNone);
}

TEST(Rfc9110_5_6_7, HttpDatesRoundTrip) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), std::nullopt);  // obsolete form
  EXPECT_EQ(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), std::nullopt);
}

TEST(StaticMimeTypes, ByExtensionCaseInsensitive) {
  EXPECT_EQ(content_type_for("/a/b.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("x.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("/dir.d/noext"), "application/octet-stream");
  EXPECT_EQ(content_type_for("archive.unknown"), "application/octet-stream");
}

}  // namespace
}  // namespace h2::modules
