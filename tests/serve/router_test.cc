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
  // The most specific route decides: GET /echo is 405, not a fall-through to "/".
  EXPECT_EQ(matched(router, "h", "/echo", "GET"), "405");
  EXPECT_EQ(matched(router, "h", "/echo", "DELETE"), "405");
  EXPECT_EQ(matched(router, "h", "/other", "GET"), "get");
  EXPECT_EQ(router.allowed_methods("h", "/echo/x?y"), "POST, PUT");
  Router only({route("post", "/echo", false, {"POST"})});
  EXPECT_EQ(matched(only, "h", "/nothing"), "404");
}

TEST(Router, SamePathSplitByMethodsAndAllowIsTheirUnion) {
  Router router({route("reader", "/doc", false, {"GET", "HEAD"}),
                 route("writer", "/doc", false, {"PUT"}), route("root", "/", true)});
  EXPECT_EQ(matched(router, "h", "/doc", "GET"), "reader");
  EXPECT_EQ(matched(router, "h", "/doc", "PUT"), "writer");
  EXPECT_EQ(matched(router, "h", "/doc", "POST"), "405");
  EXPECT_EQ(router.allowed_methods("h", "/doc"), "GET, HEAD, PUT");
}

class NullRegistryRouter : public ::testing::Test {
 protected:
  static RouteConfig config(std::string path, bool prefix, std::vector<std::string> methods,
                            int line, std::string authority = {}) {
    RouteConfig c;
    c.path = std::move(path);
    c.is_prefix = prefix;
    c.methods = std::move(methods);
    c.authority = std::move(authority);
    c.module = "nonexistent";
    c.where = {"config.yaml", line, 3};
    return c;
  }
  std::string build_error(const std::vector<RouteConfig>& routes) {
    ModuleRegistry registry;
    std::string error;
    const auto router = Router::build(routes, registry, &error);
    EXPECT_EQ(router, nullptr);
    return error;
  }
};

TEST_F(NullRegistryRouter, DuplicateRoutesAreRefusedWithBothLocations) {
  EXPECT_EQ(build_error({config("/", true, {}, 4), config("/", true, {}, 7)}),
            "config.yaml:7:3: route: duplicates the route at config.yaml:4:3 (same authority, "
            "path and methods: the earlier route would always win)");
  // Overlapping methods, and a methods-less route against any: still duplicates.
  EXPECT_NE(build_error({config("/a", false, {"GET", "PUT"}, 2), config("/a", false, {"PUT"}, 5)})
                .find("config.yaml:5:3: route: duplicates the route at config.yaml:2:3"),
            std::string::npos);
  EXPECT_NE(build_error({config("/a", false, {}, 2), config("/a", false, {"PUT"}, 5)})
                .find("duplicates"),
            std::string::npos);
}

TEST_F(NullRegistryRouter, DistinctRoutesReachTheModuleCheck) {
  // Not duplicates (disjoint methods, prefix vs exact, another authority): the build goes on to
  // the first route's module, which does not exist.
  const std::string error = build_error(
      {config("/a", false, {"GET"}, 2), config("/a", false, {"POST"}, 3),
       config("/a", true, {"GET"}, 4), config("/a", false, {"GET"}, 5, "example.com")});
  EXPECT_EQ(error.find("duplicates"), std::string::npos) << error;
  EXPECT_EQ(error.rfind("config.yaml:2:3: route: ", 0), 0u) << error;
}

}  // namespace
}  // namespace h2::serve
