#include "serve/router.h"

#include <algorithm>

namespace h2::serve {
namespace {

// "Example.COM:8080" -> compares as "example.com"; "[::1]:8443" -> "[::1]".
std::string_view host_part(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == y;
         });
}

}  // namespace

std::shared_ptr<const Router> Router::build(const std::vector<RouteConfig>& routes,
                                            ModuleRegistry& registry, std::string* error) {
  std::vector<Route> compiled;
  compiled.reserve(routes.size());
  for (const RouteConfig& config : routes) {
    HandlerResult made = registry.create_handler(config.module, config.config);
    if (!made.status.ok()) {
      *error = config.where.file + ':' + std::to_string(config.where.line) + ':' +
               std::to_string(config.where.column) + ": route: " + made.status.message;
      return nullptr;
    }
    compiled.push_back(Route{config, std::move(made.handler)});
  }
  return std::make_shared<const Router>(std::move(compiled));
}

Router::Match Router::match(std::string_view authority, std::string_view path,
                            std::string_view method) const {
  path = path.substr(0, path.find('?'));
  const std::string_view host = host_part(authority);
  const Route* best = nullptr;
  size_t best_score = 0;
  bool path_matched = false;
  for (const Route& route : routes_) {
    const RouteConfig& c = route.config;
    if (!c.authority.empty() && !equals_ignore_case(host, c.authority)) continue;
    size_t score;
    if (c.is_prefix) {
      if (!path.starts_with(c.path)) continue;
      score = c.path.size() + 1;
    } else {
      if (path != c.path) continue;
      score = SIZE_MAX;
    }
    path_matched = true;
    if (!c.methods.empty() &&
        std::find(c.methods.begin(), c.methods.end(), method) == c.methods.end()) {
      continue;
    }
    if (score > best_score) {  // strict: the earlier route wins ties
      best = &route;
      best_score = score;
    }
  }
  if (best != nullptr) return {Outcome::kFound, best};
  return {path_matched ? Outcome::kMethodNotAllowed : Outcome::kNotFound, nullptr};
}

}  // namespace h2::serve
