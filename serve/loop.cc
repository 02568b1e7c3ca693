#include "serve/loop.h"

namespace h2::serve {
namespace {

class StoppedLoop final : public Loop {
 public:
  void post(Task task) override {
    if (task) task(false);
  }
};

}  // namespace

std::shared_ptr<Loop> stopped_loop() {
  static const std::shared_ptr<Loop> loop = std::make_shared<StoppedLoop>();
  return loop;
}

}  // namespace h2::serve
