// The one header a module includes (header-only C++ layer over h2/abi.h).
//
// A module is a class derived from h2::Module, constructed once by the host's init hook with
// the module's config, that makes one h2::Handler per route; H2_MODULE exports it:
//
//   #include "h2/module.hpp"
//   struct Hello : h2::Handler {
//     void handle(h2::Exchange ex) override {
//       ex.respond(200, {{"content-type", "text/plain"}}, "hello\n");
//     }
//   };
//   struct HelloModule : h2::Module {
//     explicit HelloModule(const h2::Config&) {}
//     std::unique_ptr<h2::Handler> create_handler(const h2::Config&) override {
//       return std::make_unique<Hello>();
//     }
//   };
//   H2_MODULE(HelloModule, "hello", "1.0.0")
//
// Ownership: the host owns the module object (deleted in shutdown, after every handler) and
// each handler (deleted when no route uses it). Throwing from the constructor or
// create_handler refuses the module/route with the exception's text; throwing from handle()
// or any callback answers 500 / RST_STREAM(INTERNAL_ERROR) and is logged. No exception ever
// crosses into the host.
// Threading: handle() may run concurrently on several worker threads (one exchange each):
// keep handler state immutable after construction or synchronise it.
#pragma once

#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>
#include <type_traits>

#include "h2/config.hpp"
#include "h2/exchange.hpp"

namespace h2 {

class Handler {
 public:
  virtual ~Handler() = default;
  // Called once per request on this handler's route; must not block.
  virtual void handle(Exchange exchange) = 0;
};

class Module {
 public:
  virtual ~Module() = default;
  // Called once per route served by this module, with the route's config.
  virtual std::unique_ptr<Handler> create_handler(const Config& route_config) = 0;
};

// For a module whose config takes no keys at all (ABI 1.2 schemas, see ModuleGlue).
inline constexpr std::span<const h2_config_key> kNoConfigKeys{};

namespace detail {

inline void copy_error(char* err, std::size_t size, const std::string& message) {
  if (err == nullptr || size == 0) return;
  std::size_t n = message.size() < size - 1 ? message.size() : size - 1;
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

// The descriptor's hooks for module class M: each catches everything.
template <class M>
struct ModuleGlue {
  static_assert(std::is_base_of_v<Module, M>, "H2_MODULE needs a class derived from h2::Module");

  static int init(const h2_host_api* api, const h2_host* host, const h2_config* config,
                  void** state, char* err, std::size_t err_size) {
    globals.host.store(host, std::memory_order_release);
    globals.api.store(api, std::memory_order_release);
    try {
      if constexpr (std::is_constructible_v<M, const Config&>) {
        *state = static_cast<Module*>(new M(Config(config)));
      } else {
        *state = static_cast<Module*>(new M());
      }
      return 0;
    } catch (...) {
      copy_error(err, err_size, exception_text());
      return 1;
    }
  }
  static int create_handler(void* state, const h2_config* route, void** handler, char* err,
                            std::size_t err_size) {
    try {
      std::unique_ptr<Handler> h = static_cast<Module*>(state)->create_handler(Config(route));
      if (!h) {
        copy_error(err, err_size, "create_handler returned no handler");
        return 1;
      }
      *handler = h.release();
      return 0;
    } catch (...) {
      copy_error(err, err_size, exception_text());
      return 1;
    }
  }
  static int handle(void* handler, h2_exchange* ex, char* err, std::size_t err_size) {
    try {
      static_cast<Handler*>(handler)->handle(Exchange::adopt(ex));
      return 0;
    } catch (...) {
      copy_error(err, err_size, exception_text());
      return 1;
    }
  }
  static void destroy_handler(void* handler) { delete static_cast<Handler*>(handler); }
  // ABI 1.2: `static constexpr h2_config_key kModuleConfigKeys[]` / `kRouteConfigKeys[]` in the
  // module class declare the keys its config accepts; `h2::kNoConfigKeys` declares none (every
  // key refused); absent = unchecked.
  static const h2_config_schema* module_schema() {
    if constexpr (requires { M::kModuleConfigKeys; }) {
      static const h2_config_schema schema{std::data(M::kModuleConfigKeys),
                                          std::size(M::kModuleConfigKeys)};
      return &schema;
    } else {
      return nullptr;
    }
  }
  static const h2_config_schema* route_schema() {
    if constexpr (requires { M::kRouteConfigKeys; }) {
      static const h2_config_schema schema{std::data(M::kRouteConfigKeys),
                                          std::size(M::kRouteConfigKeys)};
      return &schema;
    } else {
      return nullptr;
    }
  }
  static void shutdown(void* state) {
    // globals stay set: another instance of this library (config reload) may still run.
    delete static_cast<Module*>(state);
  }
};

}  // namespace detail
}  // namespace h2

#define H2_MODULE_EXPORT_ extern "C" __attribute__((visibility("default")))

// Exports module class ModuleClass as NAME (string literal) VERSION (string literal).
#define H2_MODULE(ModuleClass, NAME, VERSION)                                   \
  H2_MODULE_EXPORT_ const h2_module_descriptor* h2_module_descriptor_v1(void) { \
    static const h2_module_descriptor descriptor = {                            \
        H2_ABI_MAJOR,                                                           \
        H2_ABI_MINOR,                                                           \
        H2_BUILD_SIGNATURE_INIT,                                                \
        NAME,                                                                   \
        VERSION,                                                                \
        &::h2::detail::ModuleGlue<ModuleClass>::init,                           \
        &::h2::detail::ModuleGlue<ModuleClass>::create_handler,                 \
        &::h2::detail::ModuleGlue<ModuleClass>::handle,                         \
        &::h2::detail::ModuleGlue<ModuleClass>::destroy_handler,                \
        &::h2::detail::ModuleGlue<ModuleClass>::shutdown,                       \
        ::h2::detail::ModuleGlue<ModuleClass>::module_schema(),                 \
        ::h2::detail::ModuleGlue<ModuleClass>::route_schema(),                  \
    };                                                                          \
    return &descriptor;                                                         \
  }
