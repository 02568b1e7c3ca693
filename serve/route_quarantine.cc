#include "serve/route_quarantine.h"

namespace h2::serve {
namespace {
const QuarantineTable* table = nullptr;
uint32_t generation = 0;
}  // namespace

void set_quarantine_table(const QuarantineTable* t, uint32_t g) {
  table = t;
  generation = g;
}

bool route_quarantined(int32_t route) {
  return table != nullptr && table->is_disabled(generation, route);
}

}  // namespace h2::serve
