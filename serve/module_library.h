// One loaded module library (internal to the loader and the SDK bridge).
//
// Ownership: a LoadedModule owns the library handle (dlopen), the module state returned by
// the init hook and copies of every config node handed to the module. It is held by
// std::shared_ptr: by the registry, by each handler it made, by each exchange handle and
// each pending callback given to the module. Its destructor calls the module's shutdown hook
// and then unloads the library, so module code never runs after it is unloaded.
#pragma once

#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "h2/abi.h"
#include "serve/config_value.h"
#include "serve/module_registry.h"
#include "serve/shared_library.h"

// The module's identity for h2_host_api::log (opaque to modules, see h2/abi.h). One per module
// name for the whole process and never freed: when a config reload loads the same file again
// while handlers of the old registry live, dlopen returns the same library, whose SDK globals
// then serve both LoadedModules; the h2_host they point to must outlive either of them.
struct h2_host {
  std::string name;
  mutable std::mutex mutex;
  std::shared_ptr<const h2::serve::ModuleLogger> logger;  // the latest registry's
  void log(h2::serve::ModuleLogLevel level, std::string_view message) const;
};

namespace h2::serve {

// The interned h2_host of `name`, its logger replaced by `logger`.
h2_host* intern_module_host(const std::string& name, std::shared_ptr<const ModuleLogger> logger);

class LoadedModule : public std::enable_shared_from_this<LoadedModule> {
 public:
  LoadedModule(SharedLibrary library, const h2_module_descriptor* descriptor,
               std::filesystem::path file, std::shared_ptr<const ModuleLogger> logger);
  ~LoadedModule();
  LoadedModule(const LoadedModule&) = delete;
  LoadedModule& operator=(const LoadedModule&) = delete;

  const h2_module_descriptor& descriptor() const { return *descriptor_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& file() const { return file_; }
  bool initialised() const { return initialised_; }

  // Calls the init hook with a copy of `config` (kept until shutdown).
  ModuleStatus init(const ConfigValue& config);
  // Calls create_handler with a copy of `route_config`; the handler keeps *this alive.
  HandlerResult create_handler(const ConfigValue& route_config);

  // Writes a log line prefixed with "NAME: ". Any thread.
  void log(ModuleLogLevel level, std::string_view message) const;

 private:
  const ConfigValue* keep(const ConfigValue& config);

  SharedLibrary library_;  // first member: unloaded last
  const h2_module_descriptor* descriptor_;
  std::filesystem::path file_;
  std::string name_;
  std::shared_ptr<const ModuleLogger> logger_;
  h2_host* host_;
  void* state_ = nullptr;
  bool initialised_ = false;
  std::mutex configs_mutex_;
  std::deque<ConfigValue> configs_;  // deque: stable addresses
};

}  // namespace h2::serve
