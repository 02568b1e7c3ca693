#include "host/startup.h"

#include <unistd.h>

#include "http1/http1_connection.h"
#include "serve/log.h"
#include "serve/status_module.h"

namespace h2::host {
namespace {

namespace fs = std::filesystem;

fs::path executable_directory() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path();
}

std::string where(const serve::ConfigLocation& at) {
  return at.file + ':' + std::to_string(at.line) + ':' + std::to_string(at.column) + ": ";
}

void log_module_line(serve::ModuleLogLevel level, std::string_view line) {
  static constexpr serve::LogLevel kMap[] = {serve::LogLevel::kError, serve::LogLevel::kWarn, serve::LogLevel::kInfo,
                                      serve::LogLevel::kDebug};
  const serve::LogLevel mapped = kMap[static_cast<int>(level)];
  if (serve::Log::enabled(mapped)) serve::Log::write(mapped, line);
}

}  // namespace

fs::path default_module_directory() {
  std::error_code ec;
  const fs::path exe_dir = executable_directory();
  if (!exe_dir.empty()) {
    const fs::path installed = (exe_dir / ".." / H2_INSTALL_MODULE_DIR).lexically_normal();
    if (fs::is_directory(installed, ec)) return installed;
  }
  return fs::path(H2_BUILD_MODULE_DIR);
}

std::shared_ptr<const serve::Http1EngineFactory> make_http1_factory(const HostConfig& config) {
  http1::Limits limits;
  limits.max_header_bytes = config.http1.max_header_bytes;
  limits.max_header_fields = config.http1.max_header_fields;
  limits.max_body_bytes = config.http1.max_body_bytes;
  limits.max_upgrade_body_bytes = config.http1.max_upgrade_body_bytes;
  limits.preface_ms = config.timeouts.preface_ms;
  limits.idle_ms = config.timeouts.idle_ms;
  limits.write_ms = config.timeouts.write_ms;
  return std::make_shared<http1::Factory>(limits);
}

std::shared_ptr<const Snapshot> build_snapshot(HostConfig config, std::string* error,
                                               const StartupProgress& progress) {
  const auto step = [&](const std::string& what) {
    if (progress) progress(what);
  };
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->registry = std::make_shared<serve::ModuleRegistry>(log_module_line);
  serve::ModuleRegistry& registry = *snapshot->registry;
  registry.add_builtin(serve::status_module());  // the name is free: nothing is loaded yet
  const bool only_files = config.modules.directory.empty() && !config.modules.files.empty();
  if (!only_files) {
    const fs::path dir =
        config.modules.directory.empty() ? default_module_directory() : config.modules.directory;
    step("loading the modules of directory " + dir.string());
    const std::vector<serve::ModuleStatus> refused = registry.load_directory(dir);
    if (!refused.empty()) {
      error->clear();
      for (const serve::ModuleStatus& status : refused) {  // every refused file, one per line
        if (!error->empty()) *error += '\n';
        *error += status.message;
      }
      return nullptr;
    }
  }
  for (const fs::path& file : config.modules.files) {
    step("loading module file " + file.string());
    const serve::ModuleStatus status = registry.load_file(file);
    if (!status.ok()) {
      *error = status.message;
      return nullptr;
    }
  }
  for (const auto& [name, module_config] : config.modules.config) {
    if (!registry.has_module(name)) {
      *error = where(module_config.location()) + "modules.config: no module named \"" + name +
               "\" was loaded";
      return nullptr;
    }
    if (std::string bad = registry.check_module_config(name, module_config); !bad.empty()) {
      *error = std::move(bad);
      return nullptr;
    }
    step("initialising module " + name);
    const serve::ModuleStatus status = registry.init_module(name, module_config);
    if (!status.ok()) {
      *error = status.message;
      return nullptr;
    }
  }
  step("creating the route handlers");
  snapshot->router = serve::Router::build(config.routes, registry, error);
  if (!snapshot->router) return nullptr;
  snapshot->config = std::move(config);
  snapshot->http1 = make_http1_factory(snapshot->config);
  return snapshot;
}

}  // namespace h2::host
