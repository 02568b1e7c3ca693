// One route of the routing table, as the configuration layer (host/config.cc, from YAML) or any
// other embedder describes it to serve::Router.
#pragma once

#include <string>
#include <vector>

#include "serve/config_value.h"

namespace h2::serve {

// One route: requests whose authority, path and method match go to `module`.
struct RouteConfig {
  std::string authority;             // empty = any authority; compared without port, lowercase
  std::string path;                  // exact path, or the prefix when `is_prefix`
  bool is_prefix = false;            // longest prefix wins, then declaration order
  std::vector<std::string> methods;  // empty = any method
  std::string module;                // a module name known to the registry
  ConfigValue config;                // the route config (kNull when absent)
  ConfigLocation where;              // 1-based line and column
};

}  // namespace h2::serve
