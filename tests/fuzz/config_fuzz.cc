// Config loader fuzz target: host::parse_config on arbitrary text, as `h2host -t` and a reload
// would read it. Checks: it never throws or crashes; it returns a config or an error, never
// both or neither; an error names the file with a 1-based FILE:LINE:COLUMN (or the file alone);
// a config has a listener and limits within their documented ranges.
#include <filesystem>
#include <string>

#include "host/config.h"
#include "host/connection_limits.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) h2::fuzz::fail("config", what);
}

}  // namespace

H2_FUZZ_TARGET(config) {
  // Relative paths resolve against a directory that exists and holds nothing they could name.
  static const std::filesystem::path file = [] {
    auto dir = std::filesystem::temp_directory_path() / "h2-config-fuzz";
    std::filesystem::create_directories(dir);
    return dir / "c.yaml";
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  h2::host::ConfigResult result = h2::host::parse_config(text, file);
  check(static_cast<bool>(result) == result.error.empty(), "a config and an error, or neither");
  if (!result) {
    check(result.error.starts_with(file.string()), "an error that does not name the file");
    return;
  }
  check(!result.config->listeners.empty(), "a config without a listener");
  for (const h2::host::LimitSpec& spec : h2::host::connection_limit_specs()) {
    const uint64_t v = spec.get(result.config->limits);
    check(v >= spec.min && v <= spec.max, "a limit outside its range");
  }
}
