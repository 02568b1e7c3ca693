#include <chrono>

#include "host/runtime.h"

namespace h2::host {

uint64_t steady_now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

}  // namespace h2::host
