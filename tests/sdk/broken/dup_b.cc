// Second module named "dup": refused, the name is taken by dup_a.so.
#define H2_TEST_NAME "dup"
#include "raw_descriptor.h"
