// host/router.h: longest prefix wins, exact beats prefix, then declaration order; authority and
// methods filter; 404 vs 405.
#include "serve/router.h"

#include <gtest/gtest.h>

namespace h2::serve {
namespace {

class NamedHandler final : public Handler {
 public:
  explicit NamedHandler(std::string name) : name(std::move(name)) {}
  void handle(std::shared_ptr<Exchange>) override {}
  std::string name;
};

Router::Route route(std::string name, std::string path, bool prefix,
                    std::vector<std::string> methods = {}, std::string authority = {}) {
  RouteConfig config;
  config.path = std::move(path);
  config.is_prefix = prefix;
  config.methods = std::move(methods);
  config.authority = std::move(authority);
  config.module = name;
  return Router::Route{config, std::make_shared<NamedHandler>(std::move(name))};
}

std::string matched(const Router& router, std::string_view authority, std::string_view path,
                    std::string_view method = "GET") {
  const Router::Match m = router.match(authority, path, method);
  if (m.outcome == Router::Outcome::kNotFound) return "404";
  if (m.outcome == Router::Outcome::kMethodNotAllowed) return "405";
  return static_cast<NamedHandler&>(*m.route->handler).name;
}

TEST(Router, LongestPrefixWins) {
  Router router({route("root", "/", true), route("static", "/static/", true),
                 route("img", "/static/img/", true)});
  EXPECT_EQ(matched(router, "h", "/"), "root");
  EXPECT_EQ(matched(router, "h", "/static/a.css"), "static");
  EXPECT_EQ(matched(router, "h", "/static/img/a.png"), "img");
  EXPECT_EQ(matched(router, "h", "/staticx"), "root");
}

TEST(Router, ExactPathBeatsPrefixAndQueryIsIgnored) {
  Router router({route("prefix", "/api", true), route("exact", "/api", false)});
  EXPECT_EQ(matched(router, "h", "/api?x=1"), "exact");
  EXPECT_EQ(matched(router, "h", "/api/v1"), "prefix");
}

TEST(Router, DeclarationOrderBreaksTies) {
  Router router({route("first", "/a", true), route("second", "/a", true)});
  EXPECT_EQ(matched(router, "h", "/a/b"), "first");
}

TEST(Router, AuthorityIgnoresPortAndCase) {
  Router router({route("any", "/", true), route("example", "/", true, {}, "example.com")});
  // Same prefix length: declaration order, so put the specific one first to prefer it.
  Router specific({route("example", "/", true, {}, "example.com"), route("any", "/", true)});
  EXPECT_EQ(matched(specific, "Example.COM:8443", "/x"), "example");
  EXPECT_EQ(matched(specific, "other.org", "/x"), "any");
  EXPECT_EQ(matched(router, "example.com", "/x"), "any");
  Router v6({route("v6", "/", true, {}, "[::1]")});
  EXPECT_EQ(matched(v6, "[::1]:8080", "/"), "v6");
  EXPECT_EQ(matched(v6, "127.0.0.1:8080", "/"), "404");
}

TEST(Router, MethodsFilterAnd405) {
  Router router({route("post", "/echo", true, {"POST", "PUT"}), route("get", "/", true, {"GET"})});
  EXPECT_EQ(matched(router, "h", "/echo", "POST"), "post");
  EXPECT_EQ(matched(router, "h", "/echo", "GET"), "get");  // "/" accepts GET
  EXPECT_EQ(matched(router, "h", "/echo", "DELETE"), "405");
  Router only({route("post", "/echo", false, {"POST"})});
  EXPECT_EQ(matched(only, "h", "/nothing"), "404");
}

}  // namespace
}  // namespace h2::serve
