// Built for an ABI minor newer than the host's: an older host refuses it.
#define H2_TEST_ABI_MINOR (H2_ABI_MINOR + 1)
#define H2_TEST_NAME "newer_abi_minor"
#include "raw_descriptor.h"
