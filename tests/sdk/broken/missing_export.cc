// A shared library that is not an h2 module: it lacks h2_module_descriptor_v1.
extern "C" __attribute__((visibility("default"))) int h2_not_a_module(void) {
  return 42;
}
