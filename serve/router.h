// Routes requests to handlers: config.yaml's `routes:` compiled once (at start-up or SIGHUP) into
// an immutable table shared by every worker. Matching allocates nothing.
//
// Rule: among routes whose authority matches (a route without authority matches any), an exact
// `path` beats every prefix and a longer `prefix` beats a shorter one; among the most specific
// routes the first (in declaration order) whose `methods` accept the request wins. When none of
// them accepts it the outcome is kMethodNotAllowed (405, with allowed_methods() as `Allow`) - a
// shorter prefix is never used instead. The query string is ignored. build() refuses two routes
// that match the same requests (same authority, path kind, path and overlapping methods).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serve/route_config.h"
#include "serve/exchange.h"
#include "serve/module_registry.h"

namespace h2::serve {

class Router {
 public:
  struct Route {
    RouteConfig config;
    std::shared_ptr<Handler> handler;
    std::string log_name;  // for the access log's $route: "example.com/static/*", "/exact"
  };

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const Route* route = nullptr;  // kFound: valid while the Router lives
  };

  // Makes a handler per route through `registry`. Fails with "FILE:LINE:COL: route: MESSAGE"
  // (e.g. an unknown module) on the first route that cannot be created.
  static std::shared_ptr<const Router> build(const std::vector<RouteConfig>& routes,
                                             ModuleRegistry& registry, std::string* error);
  // For tests: a router over ready-made handlers.
  explicit Router(std::vector<Route> routes) : routes_(std::move(routes)) {}

  // `authority` may carry a port and any case; `path` may carry a query.
  Match match(std::string_view authority, std::string_view path, std::string_view method) const;

  // The `Allow` field of a 405 (RFC 9110 §15.5.6): the methods of the most specific routes for
  // `path`, comma-separated in declaration order. Allocates; called only to answer a 405.
  std::string allowed_methods(std::string_view authority, std::string_view path) const;

  // The position of `route` (from match()) in declaration order: what a crash report names.
  int32_t index_of(const Route* route) const { return static_cast<int32_t>(route - routes_.data()); }
  const Route& at(size_t index) const { return routes_[index]; }

  size_t size() const { return routes_.size(); }

 private:
  std::vector<Route> routes_;
};

}  // namespace h2::serve
