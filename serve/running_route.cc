#include "serve/running_route.h"

namespace h2::serve {
namespace {
std::atomic<int32_t>* marker = nullptr;
}

void set_running_route_marker(std::atomic<int32_t>* m) { marker = m; }
std::atomic<int32_t>* running_route_marker() { return marker; }

}  // namespace h2::serve
