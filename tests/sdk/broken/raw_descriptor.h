// A hand-made descriptor for the deliberately broken modules: each .cc defines what it breaks
// (H2_TEST_ABI_MAJOR/MINOR, H2_TEST_SIGNATURE_TWEAK, H2_TEST_NAME) and includes this file.
// Only the loader's checks are exercised, so the hooks answer nothing useful.
#pragma once

#include "h2/abi.h"

#ifndef H2_TEST_ABI_MAJOR
#define H2_TEST_ABI_MAJOR H2_ABI_MAJOR
#endif
#ifndef H2_TEST_ABI_MINOR
#define H2_TEST_ABI_MINOR H2_ABI_MINOR
#endif
#ifndef H2_TEST_SIGNATURE_TWEAK
#define H2_TEST_SIGNATURE_TWEAK(sig) (sig)
#endif

namespace {

int init(const h2_host_api*, const h2_host*, const h2_config*, void** state, char*, size_t) {
  *state = nullptr;
  return 0;
}
int create_handler(void*, const h2_config*, void** handler, char*, size_t) {
  *handler = nullptr;
  return 0;
}
int handle(void*, h2_exchange*, char* err, size_t size) {
  if (size > 0) err[0] = '\0';
  return 1;
}
void destroy_handler(void*) {}
void shutdown(void*) {}

h2_build_signature signature() {
  h2_build_signature sig = H2_BUILD_SIGNATURE_INIT;
  return H2_TEST_SIGNATURE_TWEAK(sig);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const h2_module_descriptor*
h2_module_descriptor_v1(void) {
  static const h2_module_descriptor d = {
      H2_TEST_ABI_MAJOR, H2_TEST_ABI_MINOR, signature(),      H2_TEST_NAME, "0.0.1", &init,
      &create_handler,   &handle,           &destroy_handler, &shutdown,
  };
  return &d;
}
