// First of two modules named "dup": loads (file-name order).
#define H2_TEST_NAME "dup"
#include "raw_descriptor.h"
