// Built for ABI major 99: the host refuses it (ABI major differs).
#define H2_TEST_ABI_MAJOR 99
#define H2_TEST_NAME "wrong_abi_major"
#include "raw_descriptor.h"
