#include "lwip_runtime/lwip_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

namespace h2::lwip_runtime {

LwipLoop::LwipLoop() : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

LwipLoop::~LwipLoop() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void LwipLoop::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      tasks_.push_back(std::move(task));
      task = nullptr;
    }
  }
  if (task) return task(false);
  wake();
}

void LwipLoop::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

std::deque<LwipLoop::Task> LwipLoop::take() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
  std::lock_guard lock(mutex_);
  return std::exchange(tasks_, {});
}

void LwipLoop::stop() {
  std::deque<Task> left;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    left.swap(tasks_);
  }
  for (auto& task : left) task(false);
}

}  // namespace h2::lwip_runtime
