// C++ view of a module's or a route's config (header-only; part of the h2 module SDK).
// A Config is a cheap non-owning handle to a host-owned node, valid until the module's
// shutdown (so a handler may keep Configs and the string_views they return).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "h2/abi.h"

namespace h2 {
namespace detail {

// The host table and this module's identity, stored by init. Per .so (the SDK's symbols are
// hidden, see h2_add_module). Atomic because a config reload may run init again (same library,
// same values) while workers use them; both pointers stay valid for the whole process once set
// (the host never frees its table nor a module's h2_host).
struct ModuleGlobals {
  std::atomic<const h2_host_api*> api{nullptr};
  std::atomic<const h2_host*> host{nullptr};
};
inline ModuleGlobals globals;

inline h2_str to_c(std::string_view s) {
  return h2_str{s.data(), s.size()};
}
inline std::string_view to_view(h2_str s) {
  return s.size == 0 ? std::string_view() : std::string_view(s.data, s.size);
}

}  // namespace detail

// The host's function table (valid between init and shutdown).
inline const h2_host_api& host_api() {
  return *detail::globals.api.load(std::memory_order_acquire);
}

enum class LogLevel {
  kError = H2_LOG_ERROR,
  kWarn = H2_LOG_WARN,
  kInfo = H2_LOG_INFO,
  kDebug = H2_LOG_DEBUG
};

// Writes one line to the host's error log, prefixed with the module's name. Any thread.
inline void log(LogLevel level, std::string_view message) {
  const h2_host_api* api = detail::globals.api.load(std::memory_order_acquire);
  if (api == nullptr) return;
  api->log(detail::globals.host.load(std::memory_order_acquire), static_cast<int>(level),
           message.data(), message.size());
}

class Config {
 public:
  enum class Kind {
    kNull = H2_CONFIG_NULL,
    kBool = H2_CONFIG_BOOL,
    kInt = H2_CONFIG_INT,
    kString = H2_CONFIG_STRING,
    kList = H2_CONFIG_LIST,
    kMap = H2_CONFIG_MAP
  };

  Config() = default;  // a null node
  explicit Config(const h2_config* node) : node_(node) {}

  Kind kind() const {
    return node_ ? static_cast<Kind>(host_api().config_kind(node_)) : Kind::kNull;
  }
  bool is_null() const { return kind() == Kind::kNull; }

  bool as_bool(bool fallback = false) const {
    return node_ ? host_api().config_bool(node_, fallback ? 1 : 0) != 0 : fallback;
  }
  std::int64_t as_int(std::int64_t fallback = 0) const {
    return node_ ? host_api().config_int(node_, fallback) : fallback;
  }
  std::string_view as_string() const {
    return node_ ? detail::to_view(host_api().config_string(node_)) : std::string_view();
  }

  std::size_t size() const { return node_ ? host_api().config_size(node_) : 0; }
  Config at(std::size_t i) const {
    return Config(node_ ? host_api().config_at(node_, i) : nullptr);
  }
  std::string_view key_at(std::size_t i) const {
    return node_ ? detail::to_view(host_api().config_key_at(node_, i)) : std::string_view();
  }
  // The value under `key` of a map; a null Config when absent.
  Config operator[](std::string_view key) const {
    return Config(node_ ? host_api().config_find(node_, key.data(), key.size()) : nullptr);
  }
  bool has(std::string_view key) const { return !(*this)[key].is_null(); }

  // "file:line:column" of the node, for error messages ("<config>" when unknown).
  std::string where() const {
    h2_str file{nullptr, 0};
    int line = 0;
    int column = 0;
    if (node_) host_api().config_location(node_, &file, &line, &column);
    std::string out = file.size ? std::string(file.data, file.size) : std::string("<config>");
    return out + ':' + std::to_string(line) + ':' + std::to_string(column);
  }

  const h2_config* raw() const { return node_; }

 private:
  const h2_config* node_ = nullptr;
};

}  // namespace h2
