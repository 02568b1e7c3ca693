// A descriptor whose name breaks the [a-z0-9_-]+ rule.
#define H2_TEST_NAME "Bad Name"
#include "raw_descriptor.h"
