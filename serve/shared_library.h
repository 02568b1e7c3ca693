// A loaded shared object, movable, unloaded on destruction: Boost.DLL's shared_library (header-
// only, on std::filesystem), the module registry's only contact with the platform loader.
// RTLD_NOW: a missing symbol fails at load, not at the first call inside a request. RTLD_LOCAL:
// modules' symbols never interpose each other.
//
// A refusal keeps the loader's own words (dlerror(): "cannot open shared object file: No such
// file or directory", "undefined symbol: foo"), which Boost.DLL's error_code reduces to
// "Bad file descriptor"; operators need the former (config_check_test.py checks them).
#pragma once

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <string>
#include <utility>

namespace h2::serve {

class SharedLibrary {
 public:
  SharedLibrary() = default;
  SharedLibrary(SharedLibrary&&) noexcept = default;
  SharedLibrary& operator=(SharedLibrary&&) noexcept = default;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  // Loads `file`; on failure returns false and sets *error to the loader's message.
  bool load(const std::filesystem::path& file, std::string* error) {
    ::dlerror();  // clear a stale message
    std::error_code ec;
    library_.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) {
      const char* why = ::dlerror();
      *error = why ? why : ec.message();
      return false;
    }
    return true;
  }
  // The address of `name`, or nullptr when the library does not export it.
  void* symbol(const char* name) const {
    if (!library_.is_loaded() || !library_.has(name)) return nullptr;
    return &library_.get<char>(name);
  }

 private:
  boost::dll::shared_library library_;
};

}  // namespace h2::serve
