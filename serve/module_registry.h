// The module loader: loads handler modules (.so files built against sdk/, see h2/abi.h) with
// Boost.DLL, checks them, initialises them with their config and makes route handlers.
//
// Check order for each file (the first failure refuses the file with an exact message):
//   1. the library loads (dlopen)             -> "module FILE: cannot load: DLERROR"
//   2. it exports h2_module_descriptor_v1     -> "module FILE: missing export
//   'h2_module_descriptor_v1'"
//   3. same ABI major as the host             -> "module FILE: ABI major M differs from the host's
//   H"
//   4. ABI minor not newer than the host's    -> "module FILE: ABI 1.N is newer than the
//   host's 1.H"
//      (a newer host accepts older modules: the host API table only grows at its end, and a
//       module never sees more than it was built for; an older host refuses a newer module,
//       whose code may call host functions the older host lacks)
//   5. identical build signature              -> "module FILE: build signature 'S' differs from the
//   host's 'H'"
//   6. a complete descriptor (name, hooks)    -> "module FILE: invalid descriptor: WHAT"
//   7. its name not taken                     -> "module FILE: name 'N' is already taken by OTHER"
// FILE is the path as given (for directories: DIR/NAME.so). A refused library is unloaded.
//
// Lifetime: every object a module makes (module state, handlers, exchange handles, pending
// callbacks) holds a std::shared_ptr to its LoadedModule, so the library is unloaded (and its
// shutdown hook called) only after the registry AND all of them are gone. Destroying the
// registry while handlers live is therefore safe.
//
// Threading: load/init/create_handler are called from one thread at a time (startup, reload).
// A Handler may be shared by all workers: its handle() can run concurrently on several threads,
// each call on the thread of the exchange's connection. The logger may be called from any
// thread (modules log from workers).
//
// Errors: no exception escapes; results carry a std::error_code (module_error_category) and
// the exact message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "h2/abi.h"
#include "serve/config_value.h"
#include "serve/exchange.h"

namespace h2::serve {

enum class ModuleError {
  kOk = 0,
  kOpenFailed,
  kMissingExport,
  kAbiMajorMismatch,
  kAbiMinorTooNew,
  kBuildSignatureMismatch,
  kInvalidDescriptor,
  kDuplicateName,
  kNotADirectory,
  kUnknownModule,
  kInitFailed,
  kCreateHandlerFailed,
};

const std::error_category& module_error_category();

// The version rule of h2/abi.h, for a module built with module_major.module_minor loaded by a
// host of host_major.host_minor: kOk, kAbiMajorMismatch or kAbiMinorTooNew.
ModuleError check_abi(std::uint32_t module_major, std::uint32_t module_minor,
                      std::uint32_t host_major, std::uint32_t host_minor);
std::error_code make_error_code(ModuleError e);

// Outcome of a registry call: ok() or an error code plus the exact human message.
struct ModuleStatus {
  std::error_code code;
  std::string message;
  bool ok() const { return !code; }
};

enum class ModuleLogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
// Receives the loader's and the modules' log lines (module lines are prefixed "NAME: ").
using ModuleLogger = std::function<void(ModuleLogLevel, std::string_view)>;

struct ModuleInfo {
  std::string name;
  std::string version;
  std::filesystem::path file;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  bool initialised = false;
};

struct HandlerResult {
  std::shared_ptr<Handler> handler;  // non-null iff status.ok()
  ModuleStatus status;
};

class LoadedModule;  // defined in serve/module_library.h (internal)

// A module is shut down and unloaded where its last reference drops. That may be one of the
// module's own threads (a job finishing on a stopped loop): shutting it down there would make it
// join the thread running the call, and unloading it would unmap the code that thread returns
// into. So only host threads shut modules down: the thread that makes a ModuleRegistry and every
// thread a runtime marks with mark_host_thread(). A module released elsewhere waits in a list
// that the next registry made or destroyed, or reap_released_modules(), empties on a host thread.
void mark_host_thread();
void reap_released_modules();

// A module compiled into the host (nginx's stub_status kind, e.g. serve/status_module.h): no
// library and no ABI check, otherwise routed and config-checked like a loaded one.
struct BuiltinModule {
  std::string name;
  std::string version;
  const h2_config_schema* route_schema = nullptr;  // static storage; null accepts anything
  std::function<HandlerResult(const ConfigValue& route_config)> create;
};

class ModuleRegistry {
 public:
  // `logger` may be empty (logs dropped).
  explicit ModuleRegistry(ModuleLogger logger = {});
  ~ModuleRegistry();
  ModuleRegistry(const ModuleRegistry&) = delete;
  ModuleRegistry& operator=(const ModuleRegistry&) = delete;

  // Loads every regular file named *.so directly in `dir`, in file-name order. Returns one
  // status per refused file (empty: all loaded), plus kNotADirectory when `dir` is not one.
  std::vector<ModuleStatus> load_directory(const std::filesystem::path& dir);
  // Loads one module file.
  ModuleStatus load_file(const std::filesystem::path& file);

  // Calls the module's init hook with its config (copied; may be a null node). Once per module;
  // a second call returns kInitFailed. Errors: kUnknownModule, kInitFailed ("module NAME: init
  // failed: WHAT" with the module's own message, e.g. naming a config file:line:column).
  ModuleStatus init_module(std::string_view name, const ConfigValue& config);

  // Makes a handler for one route with its route config (copied). A module that was not
  // initialised yet is initialised with a null config first. Errors: kUnknownModule
  // ("unknown module 'NAME' (loaded: a, b)"), kInitFailed, kCreateHandlerFailed ("module NAME:
  // cannot create a handler: WHAT").
  HandlerResult create_handler(std::string_view module_name, const ConfigValue& route_config);

  // ABI 1.2: `config` against the keys module `name` declared for its module config
  // (modules.config.NAME) or a route's config (serve/config_schema.h). Empty when it fits, when
  // the module declared nothing or is older than 1.2, or is unknown (reported elsewhere).
  std::string check_module_config(std::string_view name, const ConfigValue& config) const {
    return check_config_of(name, config, false);
  }
  std::string check_route_config(std::string_view name, const ConfigValue& config) const {
    return check_config_of(name, config, true);
  }

  // Adds a built-in module. Its name must not be taken: kDuplicateName otherwise. A library
  // loaded later under the same name is refused the same way ("taken by (built in)").
  ModuleStatus add_builtin(BuiltinModule module);

  bool has_module(std::string_view name) const;
  std::vector<ModuleInfo> modules() const;  // sorted by name

  // The host's own ABI version and build signature (for `h2host --version` and logs).
  static std::uint32_t abi_major();
  static std::uint32_t abi_minor();
  static std::string build_signature();

 private:
  std::string check_config_of(std::string_view name, const ConfigValue& config, bool route) const;

  ModuleLogger logger_;
  std::shared_ptr<const ModuleLogger> shared_logger_;
  std::map<std::string, std::shared_ptr<LoadedModule>, std::less<>> modules_;
  std::map<std::string, BuiltinModule, std::less<>> builtins_;
};

}  // namespace h2::serve

namespace std {
template <>
struct is_error_code_enum<h2::serve::ModuleError> : true_type {};
}  // namespace std
