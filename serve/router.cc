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

bool methods_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return true;  // empty = every method
  return std::any_of(a.begin(), a.end(), [&](const std::string& m) {
    return std::find(b.begin(), b.end(), m) != b.end();
  });
}

// Two routes that match exactly the same requests: the later one could never be chosen.
bool duplicates(const RouteConfig& a, const RouteConfig& b) {
  return a.is_prefix == b.is_prefix && a.path == b.path &&
         a.authority.size() == b.authority.size() && equals_ignore_case(b.authority, a.authority) &&
         methods_overlap(a.methods, b.methods);
}

std::string where(const ConfigLocation& at) {
  return at.file + ':' + std::to_string(at.line) + ':' + std::to_string(at.column);
}

size_t path_score(const RouteConfig& c, std::string_view path) {
  if (c.is_prefix) return path.starts_with(c.path) ? c.path.size() + 1 : 0;
  return path == c.path ? SIZE_MAX : 0;
}

}  // namespace

std::shared_ptr<const Router> Router::build(const std::vector<RouteConfig>& routes,
                                            ModuleRegistry& registry, std::string* error) {
  std::vector<Route> compiled;
  compiled.reserve(routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (!duplicates(routes[j], routes[i])) continue;
      *error = where(routes[i].where) + ": route: duplicates the route at " +
               where(routes[j].where) +
               " (same authority, path and methods: the earlier route would always win)";
      return nullptr;
    }
  }
  for (const RouteConfig& config : routes) {
    if (std::string bad = registry.check_route_config(config.module, config.config);
        !bad.empty()) {
      *error = std::move(bad);
      return nullptr;
    }
    HandlerResult made = registry.create_handler(config.module, config.config);
    if (!made.status.ok()) {
      *error = where(config.where) + ": route: " + made.status.message;
      return nullptr;
    }
    compiled.push_back(Route{config, std::move(made.handler),
                             config.authority + config.path + (config.is_prefix ? "*" : "")});
  }
  return std::make_shared<const Router>(std::move(compiled));
}

// The most specific path wins first (exact, then the longest prefix); only then do methods
// decide, so a method that the most specific route does not accept is 405, never a fall-through
// to a shorter prefix (what host/README.md promises, and how nginx's limit_except behaves).
Router::Match Router::match(std::string_view authority, std::string_view path,
                            std::string_view method) const {
  path = path.substr(0, path.find('?'));
  const std::string_view host = host_part(authority);
  const Route* best = nullptr;
  size_t best_score = 0;
  for (const Route& route : routes_) {
    const RouteConfig& c = route.config;
    if (!c.authority.empty() && !equals_ignore_case(host, c.authority)) continue;
    const size_t score = path_score(c, path);
    if (score == 0 || score < best_score) continue;
    const bool accepts = c.methods.empty() ||
                         std::find(c.methods.begin(), c.methods.end(), method) != c.methods.end();
    if (score > best_score) {
      best_score = score;
      best = accepts ? &route : nullptr;
    } else if (best == nullptr && accepts) {  // same specificity: the earlier accepting route
      best = &route;
    }
  }
  if (best != nullptr) return {Outcome::kFound, best};
  return {best_score > 0 ? Outcome::kMethodNotAllowed : Outcome::kNotFound, nullptr};
}

std::string Router::allowed_methods(std::string_view authority, std::string_view path) const {
  path = path.substr(0, path.find('?'));
  const std::string_view host = host_part(authority);
  size_t best_score = 0;
  for (const Route& route : routes_) {
    const RouteConfig& c = route.config;
    if (c.authority.empty() || equals_ignore_case(host, c.authority)) {
      best_score = std::max(best_score, path_score(c, path));
    }
  }
  std::vector<std::string_view> methods;
  for (const Route& route : routes_) {
    const RouteConfig& c = route.config;
    if (!c.authority.empty() && !equals_ignore_case(host, c.authority)) continue;
    if (best_score == 0 || path_score(c, path) != best_score) continue;
    for (const std::string& m : c.methods) {
      if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
    }
  }
  std::string allow;
  for (std::string_view m : methods) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  return allow;
}

}  // namespace h2::serve
