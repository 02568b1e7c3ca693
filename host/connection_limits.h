// The `limits:` section of config.yaml: one entry per field of protocol::ConnectionOptions, so
// every limit of the sans-I/O core is configurable under the field's own name.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "protocol/options.h"

namespace h2::host {

struct LimitSpec {
  std::string_view name;  // the key in config.yaml = the ConnectionOptions field name
  uint64_t min;
  uint64_t max;
  void (*set)(protocol::ConnectionOptions& options, uint64_t value);
  uint64_t (*get)(const protocol::ConnectionOptions& options);
};

// Every configurable limit, in ConnectionOptions declaration order. Static storage.
std::span<const LimitSpec> connection_limit_specs();

}  // namespace h2::host
