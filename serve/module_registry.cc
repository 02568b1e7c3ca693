#include "serve/module_registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>
#include <cstring>
#include <utility>

#include "h2/abi.h"
#include "serve/config_schema.h"
#include "serve/module_library.h"
#include "serve/sdk_bridge.h"

namespace h2::serve {
namespace {

class ModuleErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "h2.module"; }
  std::string message(int e) const override {
    switch (static_cast<ModuleError>(e)) {
      case ModuleError::kOk:
        return "ok";
      case ModuleError::kOpenFailed:
        return "cannot load the library";
      case ModuleError::kMissingExport:
        return "missing descriptor export";
      case ModuleError::kAbiMajorMismatch:
        return "different ABI major";
      case ModuleError::kAbiMinorTooNew:
        return "ABI minor newer than the host's";
      case ModuleError::kBuildSignatureMismatch:
        return "different build signature";
      case ModuleError::kInvalidDescriptor:
        return "invalid descriptor";
      case ModuleError::kDuplicateName:
        return "module name already taken";
      case ModuleError::kNotADirectory:
        return "not a directory";
      case ModuleError::kUnknownModule:
        return "unknown module";
      case ModuleError::kInitFailed:
        return "module init failed";
      case ModuleError::kCreateHandlerFailed:
        return "cannot create a handler";
    }
    return "unknown module error";
  }
};

ModuleStatus fail(ModuleError e, std::string message) {
  return {make_error_code(e), message};
}

std::string prefix(const std::filesystem::path& file) {
  return "module " + file.string() + ": ";
}

std::string signature_text(const h2_build_signature& s) {
  const char* family = s.compiler_family == 1 ? "gcc" : s.compiler_family == 2 ? "clang" : "cc";
  const char* stdlib = s.stdlib == 1 ? "libstdc++" : s.stdlib == 2 ? "libc++" : "unknown";
  return std::to_string(s.pointer_size * 8) + "-bit " + (s.little_endian ? "LE" : "BE") + ", " +
         family + " " + std::to_string(s.compiler_major) + ", " + stdlib +
         " cxx11-abi=" + std::to_string(s.cxx11_abi);
}

constexpr h2_build_signature kHostSignature = H2_BUILD_SIGNATURE_INIT;

bool same(const h2_build_signature& a, const h2_build_signature& b) {
  return a.pointer_size == b.pointer_size && a.compiler_family == b.compiler_family &&
         a.compiler_major == b.compiler_major && a.cxx11_abi == b.cxx11_abi &&
         a.stdlib == b.stdlib && a.little_endian == b.little_endian;
}

// What a descriptor lacks, or "" when it is complete.
std::string descriptor_problem(const h2_module_descriptor& d) {
  if (d.name == nullptr || d.name[0] == '\0') return "no name";
  if (d.version == nullptr) return "no version";
  for (const char* p = d.name; *p; ++p) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return "name '" + std::string(d.name) + "' is not [a-z0-9_-]+";
  }
  if (!d.init || !d.create_handler || !d.handle || !d.destroy_handler || !d.shutdown) {
    return "a hook is missing";
  }
  return "";
}

}  // namespace

const std::error_category& module_error_category() {
  static const ModuleErrorCategory category;
  return category;
}

ModuleError check_abi(std::uint32_t module_major, std::uint32_t module_minor,
                      std::uint32_t host_major, std::uint32_t host_minor) {
  if (module_major != host_major) return ModuleError::kAbiMajorMismatch;
  if (module_minor > host_minor) return ModuleError::kAbiMinorTooNew;
  return ModuleError::kOk;
}

std::error_code make_error_code(ModuleError e) {
  return {static_cast<int>(e), module_error_category()};
}

// ---- h2_host ----

h2_host* intern_module_host(const std::string& name, std::shared_ptr<const ModuleLogger> logger) {
  static std::mutex mutex;
  static auto* hosts = new std::map<std::string, h2_host*, std::less<>>;  // never freed
  std::lock_guard lock(mutex);
  h2_host*& host = (*hosts)[name];
  if (host == nullptr) {
    host = new h2_host;
    host->name = name;
  }
  std::lock_guard host_lock(host->mutex);
  host->logger = std::move(logger);
  return host;
}

// ---- LoadedModule ----

LoadedModule::LoadedModule(SharedLibrary library,
                           const h2_module_descriptor* descriptor, std::filesystem::path file,
                           std::shared_ptr<const ModuleLogger> logger)
    : library_(std::move(library)),
      descriptor_(descriptor),
      file_(std::move(file)),
      name_(descriptor->name),
      logger_(std::move(logger)),
      host_(intern_module_host(name_, logger_)) {}

LoadedModule::~LoadedModule() {
  if (initialised_) descriptor_->shutdown(state_);
}

const ConfigValue* LoadedModule::keep(const ConfigValue& config) {
  std::lock_guard lock(configs_mutex_);
  return &configs_.emplace_back(config);
}

ModuleStatus LoadedModule::init(const ConfigValue& config) {
  if (initialised_) {
    return fail(ModuleError::kInitFailed, "module " + name_ + ": init failed: already initialised");
  }
  char err[512] = {};
  const ConfigValue* kept = keep(config);
  int rc = descriptor_->init(&sdk_host_api(), host_, reinterpret_cast<const h2_config*>(kept),
                             &state_, err, sizeof err);
  if (rc != 0) {
    err[sizeof err - 1] = '\0';
    return fail(ModuleError::kInitFailed,
                "module " + name_ + ": init failed: " + (err[0] ? err : "no reason given"));
  }
  initialised_ = true;
  return {};
}

HandlerResult LoadedModule::create_handler(const ConfigValue& route_config) {
  char err[512] = {};
  void* handler_state = nullptr;
  const ConfigValue* kept = keep(route_config);
  int rc = descriptor_->create_handler(state_, reinterpret_cast<const h2_config*>(kept),
                                       &handler_state, err, sizeof err);
  if (rc != 0) {
    err[sizeof err - 1] = '\0';
    return {nullptr, fail(ModuleError::kCreateHandlerFailed,
                          "module " + name_ +
                              ": cannot create a handler: " + (err[0] ? err : "no reason given"))};
  }
  return {make_module_handler(shared_from_this(), handler_state), {}};
}

void LoadedModule::log(ModuleLogLevel level, std::string_view message) const {
  if (!logger_ || !*logger_) return;
  std::string line = name_ + ": ";
  line.append(message);
  (*logger_)(level, line);
}

}  // namespace h2::serve

void h2_host::log(h2::serve::ModuleLogLevel level, std::string_view message) const {
  std::shared_ptr<const h2::serve::ModuleLogger> current;
  {
    std::lock_guard lock(mutex);
    current = logger;
  }
  if (!current || !*current) return;
  std::string line = name + ": ";
  line.append(message);
  (*current)(level, line);
}

namespace h2::serve {

// ---- ModuleRegistry ----

namespace {

thread_local bool on_host_thread = false;
std::mutex released_mutex;
std::vector<LoadedModule*>& released() {
  static auto* list = new std::vector<LoadedModule*>();  // never destroyed: used at exit
  return *list;
}

// The deleter of every LoadedModule (see mark_host_thread in the header).
void release_module(LoadedModule* module) {
  if (on_host_thread) {
    delete module;
    return;
  }
  std::lock_guard lock(released_mutex);
  released().push_back(module);
}

}  // namespace

void mark_host_thread() {
  on_host_thread = true;
}

void reap_released_modules() {
  std::vector<LoadedModule*> list;
  {
    std::lock_guard lock(released_mutex);
    list.swap(released());
  }
  for (LoadedModule* m : list) delete m;
}

ModuleRegistry::ModuleRegistry(ModuleLogger logger)
    : logger_(logger), shared_logger_(std::make_shared<const ModuleLogger>(std::move(logger))) {
  mark_host_thread();
  reap_released_modules();
}

ModuleRegistry::~ModuleRegistry() {
  modules_.clear();  // modules no one else holds go now, on this (host) thread
  reap_released_modules();
}

std::uint32_t ModuleRegistry::abi_major() {
  return H2_ABI_MAJOR;
}
std::uint32_t ModuleRegistry::abi_minor() {
  return H2_ABI_MINOR;
}
std::string ModuleRegistry::build_signature() {
  return signature_text(kHostSignature);
}

std::vector<ModuleStatus> ModuleRegistry::load_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return {fail(ModuleError::kNotADirectory,
                 "module directory " + dir.string() + ": not a directory")};
  }
  std::vector<std::filesystem::path> files;
  std::filesystem::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {  // error_code overloads: nothing throws
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && it->path().extension() == ".so") {
      files.push_back(it->path());
    }
  }
  if (ec) {
    return {fail(ModuleError::kNotADirectory,
                 "module directory " + dir.string() + ": cannot list: " + ec.message())};
  }
  std::sort(files.begin(), files.end());
  std::vector<ModuleStatus> refused;
  for (const auto& file : files) {
    ModuleStatus s = load_file(file);
    if (!s.ok()) refused.push_back(std::move(s));
  }
  return refused;
}

ModuleStatus ModuleRegistry::load_file(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  if (ec) absolute = file;
  SharedLibrary library;
  std::string why;
  if (!library.load(absolute, &why)) {
    return fail(ModuleError::kOpenFailed, prefix(file) + "cannot load: " + why);
  }
  void* export_address = library.symbol(H2_DESCRIPTOR_SYMBOL);
  if (export_address == nullptr) {
    return fail(ModuleError::kMissingExport,
                prefix(file) + "missing export '" H2_DESCRIPTOR_SYMBOL "'");
  }
  auto get_descriptor = reinterpret_cast<h2_module_descriptor_fn>(export_address);
  const h2_module_descriptor* d = get_descriptor();
  if (d == nullptr) {
    return fail(ModuleError::kInvalidDescriptor,
                prefix(file) + "invalid descriptor: " H2_DESCRIPTOR_SYMBOL " returned null");
  }
  const ModuleError abi = check_abi(d->abi_major, d->abi_minor, H2_ABI_MAJOR, H2_ABI_MINOR);
  if (abi == ModuleError::kAbiMajorMismatch) {
    return fail(ModuleError::kAbiMajorMismatch,
                prefix(file) + "ABI major " + std::to_string(d->abi_major) +
                    " differs from the host's " + std::to_string(H2_ABI_MAJOR));
  }
  if (abi == ModuleError::kAbiMinorTooNew) {
    return fail(ModuleError::kAbiMinorTooNew,
                prefix(file) + "ABI " + std::to_string(d->abi_major) + "." +
                    std::to_string(d->abi_minor) + " is newer than the host's " +
                    std::to_string(H2_ABI_MAJOR) + "." + std::to_string(H2_ABI_MINOR));
  }
  if (!same(d->build, kHostSignature)) {
    return fail(ModuleError::kBuildSignatureMismatch,
                prefix(file) + "build signature '" + signature_text(d->build) +
                    "' differs from the host's '" + signature_text(kHostSignature) + "'");
  }
  if (std::string problem = descriptor_problem(*d); !problem.empty()) {
    return fail(ModuleError::kInvalidDescriptor, prefix(file) + "invalid descriptor: " + problem);
  }
  if (auto it = modules_.find(std::string_view(d->name)); it != modules_.end()) {
    return fail(
        ModuleError::kDuplicateName,
        prefix(file) + "name '" + d->name + "' is already taken by " + it->second->file().string());
  }
  if (builtins_.find(std::string_view(d->name)) != builtins_.end()) {
    return fail(ModuleError::kDuplicateName,
                prefix(file) + "name '" + d->name + "' is already taken by (built in)");
  }
  std::shared_ptr<LoadedModule> module(
      new LoadedModule(std::move(library), d, file, shared_logger_), &release_module);
  if (logger_) {
    logger_(ModuleLogLevel::kInfo,
            "loaded module " + module->name() + " " + d->version + " from " + file.string());
  }
  modules_.emplace(module->name(), std::move(module));
  return {};
}

ModuleStatus ModuleRegistry::add_builtin(BuiltinModule module) {
  if (has_module(module.name)) {
    return fail(ModuleError::kDuplicateName,
                "built-in module '" + module.name + "': the name is already taken");
  }
  std::string name = module.name;
  builtins_.emplace(std::move(name), std::move(module));
  return {};
}

ModuleStatus ModuleRegistry::init_module(std::string_view name, const ConfigValue& config) {
  if (builtins_.find(name) != builtins_.end()) return {};  // nothing to initialise
  auto it = modules_.find(name);
  if (it == modules_.end()) {
    return fail(ModuleError::kUnknownModule, "unknown module '" + std::string(name) + "'");
  }
  return it->second->init(config);
}

HandlerResult ModuleRegistry::create_handler(std::string_view module_name,
                                             const ConfigValue& route_config) {
  if (auto b = builtins_.find(module_name); b != builtins_.end()) return b->second.create(route_config);
  auto it = modules_.find(module_name);
  if (it == modules_.end()) {
    std::string loaded;
    for (const auto& [name, m] : modules_) loaded += (loaded.empty() ? "" : ", ") + name;
    for (const auto& [name, m] : builtins_) loaded += (loaded.empty() ? "" : ", ") + name;
    return {nullptr, fail(ModuleError::kUnknownModule,
                          "unknown module '" + std::string(module_name) +
                              "' (loaded: " + (loaded.empty() ? "none" : loaded) + ")")};
  }
  if (!it->second->initialised()) {
    if (ModuleStatus s = it->second->init(ConfigValue()); !s.ok()) return {nullptr, s};
  }
  return it->second->create_handler(route_config);
}

std::string ModuleRegistry::check_config_of(std::string_view name, const ConfigValue& config,
                                            bool route) const {
  if (auto b = builtins_.find(name); b != builtins_.end()) {
    return route ? check_config(config, b->second.route_schema, name, "route config") : "";
  }
  auto it = modules_.find(name);
  if (it == modules_.end()) return {};  // init_module / create_handler report it
  const h2_module_descriptor& d = it->second->descriptor();
  if (d.abi_minor < 2) return {};  // the schema fields exist from ABI 1.2 on
  return check_config(config, route ? d.route_config_schema : d.module_config_schema, name,
                      route ? "route config" : "module config");
}

bool ModuleRegistry::has_module(std::string_view name) const {
  return modules_.find(name) != modules_.end() || builtins_.find(name) != builtins_.end();
}

std::vector<ModuleInfo> ModuleRegistry::modules() const {
  std::vector<ModuleInfo> out;
  for (const auto& [name, m] : modules_) {
    out.push_back(ModuleInfo{name, m->descriptor().version ? m->descriptor().version : "",
                             m->file(), m->descriptor().abi_major, m->descriptor().abi_minor,
                             m->initialised()});
  }
  for (const auto& [name, b] : builtins_) {
    out.push_back(ModuleInfo{name, b.version, "(built in)", abi_major(), abi_minor(), true});
  }
  std::sort(out.begin(), out.end(),
            [](const ModuleInfo& a, const ModuleInfo& b) { return a.name < b.name; });
  return out;
}

}  // namespace h2::serve
