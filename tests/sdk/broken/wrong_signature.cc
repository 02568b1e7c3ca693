// Claims another compiler major version and the old libstdc++ string ABI.
#define H2_TEST_SIGNATURE_TWEAK(sig) \
  (sig.compiler_major += 1, sig.cxx11_abi = sig.cxx11_abi ? 0 : 1, sig)
#define H2_TEST_NAME "wrong_signature"
#include "raw_descriptor.h"
