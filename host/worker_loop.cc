#include <boost/asio/post.hpp>
#include <chrono>
#include <utility>

#include "host/client/upstream_pool.h"
#include "host/runtime.h"

namespace h2::host {

uint64_t steady_now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

namespace {

// Runs its task once: on the loop (run == true), or with run == false when Asio destroys it
// unrun (the io_context went away with the task still queued).
class LoopTask {
 public:
  explicit LoopTask(serve::Loop::Task task) : task_(std::move(task)) {}
  LoopTask(LoopTask&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  LoopTask& operator=(LoopTask&&) = delete;
  ~LoopTask() {
    if (task_) task_(false);
  }
  void operator()() { std::exchange(task_, nullptr)(true); }

 private:
  serve::Loop::Task task_;
};

}  // namespace

void AsioLoop::post(Task task) {
  if (!task) return;
  std::unique_lock lock(mutex_);
  if (context_ == nullptr) {
    lock.unlock();
    task(false);
    return;
  }
  boost::asio::post(*context_, LoopTask(std::move(task)));
}

AsioLoop::AsioLoop(boost::asio::io_context& context) : context_(&context), owner_(&context) {}
AsioLoop::~AsioLoop() = default;

serve::UpstreamClient* AsioLoop::upstream() {
  if (owner_ == nullptr) return nullptr;  // stopped
  if (!upstream_) upstream_ = std::make_unique<client::UpstreamPool>(owner_->get_executor());
  return upstream_.get();
}

void AsioLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    context_ = nullptr;
  }
  // Outside the lock: closing the pool ends its requests, whose module callbacks may post.
  owner_ = nullptr;
  upstream_.reset();
}

}  // namespace h2::host
