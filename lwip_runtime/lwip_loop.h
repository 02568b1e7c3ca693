// The lwIP runtime's thread as a serve::Loop: module threads post tasks; an eventfd wakes the
// runtime's poll(). After stop(), tasks run at once with run == false (serve/loop.h).
#pragma once

#include <deque>
#include <mutex>

#include "serve/loop.h"

namespace h2::lwip_runtime {

class LwipLoop final : public serve::Loop {
 public:
  LwipLoop();
  ~LwipLoop() override;
  void post(Task task) override;
  // Runtime thread: the descriptor to poll, and the tasks posted since the last call (run them).
  int wake_fd() const { return wake_fd_; }
  std::deque<Task> take();
  // Any thread: wakes the runtime's poll().
  void wake();
  // The runtime is gone: queued and later tasks run with run == false.
  void stop();

 private:
  int wake_fd_;
  std::mutex mutex_;
  std::deque<Task> tasks_;
  bool stopped_ = false;
};

}  // namespace h2::lwip_runtime
