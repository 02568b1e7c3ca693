// A loaded shared object (dlopen/dlsym/dlclose), movable, closed on destruction. The module
// registry's only contact with the platform loader: RTLD_NOW (a missing symbol fails at load, not
// at first call inside a request) and RTLD_LOCAL (modules' symbols never interpose each other).
#pragma once

#include <dlfcn.h>

#include <filesystem>
#include <string>
#include <utility>

namespace h2::serve {

class SharedLibrary {
 public:
  SharedLibrary() = default;
  SharedLibrary(SharedLibrary&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  SharedLibrary& operator=(SharedLibrary&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  ~SharedLibrary() {
    if (handle_) ::dlclose(handle_);
  }

  // Loads `file`; on failure returns false and sets *error to the loader's message.
  bool load(const std::filesystem::path& file, std::string* error) {
    ::dlerror();  // clear a stale message
    handle_ = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      *error = why ? why : "dlopen failed";
      return false;
    }
    return true;
  }
  // The address of `name`, or nullptr when the library does not export it.
  void* symbol(const char* name) const { return handle_ ? ::dlsym(handle_, name) : nullptr; }

 private:
  void* handle_ = nullptr;
};

}  // namespace h2::serve
