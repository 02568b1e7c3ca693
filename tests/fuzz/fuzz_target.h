// One fuzz target is one function over bytes. H2_FUZZ_TARGET(name) defines it and, in the
// replay driver (h2_fuzz_replay, any compiler), registers it under `name`; in a libFuzzer build
// of that one target (H2_LIBFUZZER defined: clang, -fsanitize=fuzzer) it is the target's
// LLVMFuzzerTestOneInput. A target aborts (fuzz::fail) when an invariant breaks, so both
// drivers report it the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace h2::fuzz {

using TargetFunction = void (*)(const uint8_t* data, size_t size);

struct Target {
  std::string_view name;
  TargetFunction run;
};

inline std::vector<Target>& registry() {
  static std::vector<Target> targets;
  return targets;
}

struct Registration {
  Registration(std::string_view name, TargetFunction run) { registry().push_back({name, run}); }
};

[[noreturn]] inline void fail(const char* target, const char* what) {
  std::fprintf(stderr, "%s fuzz invariant violated: %s\n", target, what);
  std::abort();
}

}  // namespace h2::fuzz

#ifdef H2_LIBFUZZER
#define H2_FUZZ_TARGET(name)                                             \
  static void h2_fuzz_##name(const uint8_t* data, size_t size);          \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    h2_fuzz_##name(data, size);                                          \
    return 0;                                                            \
  }                                                                      \
  static void h2_fuzz_##name(const uint8_t* data, size_t size)
#else
#define H2_FUZZ_TARGET(name)                                                    \
  static void h2_fuzz_##name(const uint8_t* data, size_t size);                 \
  static const ::h2::fuzz::Registration h2_fuzz_registration_##name(#name,      \
                                                                    &h2_fuzz_##name); \
  static void h2_fuzz_##name(const uint8_t* data, size_t size)
#endif
