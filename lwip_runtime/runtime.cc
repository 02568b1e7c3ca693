#include "lwip_runtime/runtime.h"

#include <lwip/tcp.h>
#include <poll.h>

#include <chrono>

#include "lwip_runtime/lwip_loop.h"
#include "lwip_runtime/stack.h"
#include "lwip_runtime/tcp_connection.h"
#include "serve/log.h"
#include "serve/module_registry.h"
#include "serve/stats.h"

namespace h2::lwip_runtime {
namespace {

constexpr uint64_t kAttachRetryMs = 100;
constexpr size_t kFramesPerRound = 64;
constexpr int kRoundsPerWake = 8;  // then lwIP's timers and the pumps get their turn

}  // namespace

struct AcceptHook {
  static err_t on_accept(void* arg, tcp_pcb* pcb, err_t err) {
    if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
    return static_cast<Runtime*>(arg)->accept(pcb) ? ERR_OK : ERR_ABRT;
  }
};

uint64_t Runtime::now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

Runtime::Runtime(TapConfig config, ServingSource serving)
    : config_(std::move(config)),
      serving_(std::move(serving)),
      loop_(std::make_shared<LwipLoop>()) {}

Runtime::~Runtime() {
  stop_and_join();
  connections_.clear();
  if (listener_ != nullptr) tcp_close(listener_);
  stack_.reset();
}

std::string Runtime::describe() const {
  return stack_ ? stack_->describe() : config_.device;
}

std::string Runtime::start(bool wait_if_busy) {
  std::string error;
  stack_ = Stack::create(config_, &error);
  if (!stack_) return error;
  switch (stack_->attach(&error)) {
    case TapDevice::OpenResult::kFailed:
      stack_.reset();
      return error;
    case TapDevice::OpenResult::kBusy:
      if (!wait_if_busy) {
        stack_.reset();
        return error;
      }
      H2_LOG(kNotice, error + "; attaching when it is let go");
      told_busy_ = true;
      break;
    case TapDevice::OpenResult::kOpen:
      attached_ = true;
      break;
  }
  listen();
  if (listener_ == nullptr)
    return "tap " + config_.device + ": cannot listen on port " + std::to_string(config_.port);
  thread_ = std::thread([this] { run(); });
  return {};
}

void Runtime::listen() {
  tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
  if (pcb == nullptr) return;
  if (tcp_bind(pcb, IP_ANY_TYPE, config_.port) != ERR_OK) {
    tcp_close(pcb);
    return;
  }
  listener_ = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
  if (listener_ == nullptr) {
    tcp_close(pcb);
    return;
  }
  tcp_arg(listener_, this);
  tcp_accept(listener_, AcceptHook::on_accept);
}

bool Runtime::accept(tcp_pcb* pcb) {
  if (draining_ || connections_.size() >= config_.max_connections) {
    tcp_abort(pcb);  // RST; lwIP must hear ERR_ABRT from the accept callback
    return false;
  }
  auto connection = std::make_shared<TcpConnection>(*this, pcb);
  connections_.emplace(connection.get(), connection);
  sessions_.store(connections_.size(), std::memory_order_relaxed);
  serve::stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
  serve::stats().connections_open.fetch_add(1, std::memory_order_relaxed);
  connection->start(serving_());  // never while draining: refused above
  return true;
}

void Runtime::shutdown_gracefully() {
  want_drain_ = true;
  loop_->wake();
}

void Runtime::close_now() {
  want_close_ = true;
  loop_->wake();
}

void Runtime::stop_and_join() {
  if (!thread_.joinable()) return;
  want_stop_ = true;
  loop_->wake();
  thread_.join();
}

std::shared_ptr<serve::Loop> Runtime::loop() const {
  return loop_;
}

void Runtime::mark_dirty(TcpConnection* connection) {
  dirty_.push_back(connection);
}

void Runtime::set_timer(TcpConnection* connection, uint64_t at, uint64_t previous) {
  if (previous != 0) timers_.erase({previous, connection});
  if (at != 0) timers_.insert({at, connection});
}

void Runtime::release(TcpConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  graveyard_.push_back(std::move(it->second));  // destroyed after the pump that released it
  connections_.erase(it);
  sessions_.store(connections_.size(), std::memory_order_relaxed);
  serve::stats().connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void Runtime::run() {
  serve::mark_host_thread();
  while (!want_stop_.load()) run_once();
  // Stopping: every connection closes now, then the stack goes quiet.
  std::vector<TcpConnection*> open;
  for (auto& [raw, connection] : connections_) open.push_back(raw);
  for (TcpConnection* connection : open) connection->close_now();
  pump_dirty();
  graveyard_.clear();
  if (listener_ != nullptr) {
    tcp_close(listener_);
    listener_ = nullptr;
  }
  loop_->stop();
}

void Runtime::run_once() {
  uint64_t now = now_ms();
  uint64_t wait = stack_->next_timeout_ms();
  if (!timers_.empty())
    wait = std::min(wait, timers_.begin()->first > now ? timers_.begin()->first - now : 0);
  if (!attached_) wait = std::min(wait, next_attach_ms_ > now ? next_attach_ms_ - now : 0);
  if (!dirty_.empty()) wait = 0;
  pollfd fds[2] = {{loop_->wake_fd(), POLLIN, 0}, {stack_->fd(), POLLIN, 0}};
  const int count = attached_ ? 2 : 1;
  const int timeout = wait >= 60'000 ? 60'000 : static_cast<int>(wait);
  ::poll(fds, count, timeout);

  if (fds[0].revents & POLLIN) {
    for (auto& task : loop_->take()) task(true);
  }
  handle_requests();
  if (!attached_ && now_ms() >= next_attach_ms_) attach();
  if (attached_ && (fds[1].revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL))) {
    for (int round = 0; round < kRoundsPerWake; ++round) {
      if (stack_->receive(kFramesPerRound) < kFramesPerRound) break;
    }
    if (stack_->device_gone() || (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL))) {
      // Deleted under us (ip link del): poll would report it forever. Connections keep their
      // state (lwIP retransmits into the void) and resume if the device comes back in time.
      H2_LOG(kError, "tap " + config_.device +
                         ": the device went away; attaching again when "
                         "it is back");
      stack_->detach();
      attached_ = false;
      reattaching_ = true;
      next_attach_ms_ = now_ms() + kAttachRetryMs;
    }
  }
  stack_->check_timeouts();
  now = now_ms();
  std::vector<TcpConnection*> due;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    due.push_back(timers_.begin()->second);
    timers_.erase(timers_.begin());
  }
  for (TcpConnection* connection : due) {
    if (connections_.count(connection)) connection->on_time(now);
  }
  pump_dirty();
  graveyard_.clear();
}

void Runtime::pump_dirty() {
  for (int round = 0; round < 4 && !dirty_.empty(); ++round) {
    std::vector<TcpConnection*> batch;
    batch.swap(dirty_);
    std::sort(batch.begin(), batch.end());
    batch.erase(std::unique(batch.begin(), batch.end()), batch.end());
    for (TcpConnection* connection : batch) {
      if (connections_.count(connection)) connection->pump();
    }
  }
}

void Runtime::attach() {
  std::string error;
  switch (stack_->attach(&error)) {
    case TapDevice::OpenResult::kOpen:
      attached_ = true;
      if (told_busy_ || reattaching_) H2_LOG(kNotice, "tap " + config_.device + ": attached");
      told_busy_ = reattaching_ = false;
      return;
    case TapDevice::OpenResult::kBusy:
      break;
    case TapDevice::OpenResult::kFailed:
      if (!reattaching_) H2_LOG(kError, error);  // once: waiting for a deleted device is quiet
      break;
  }
  next_attach_ms_ = now_ms() + kAttachRetryMs;
}

void Runtime::handle_requests() {
  if (want_drain_.load() && !draining_) {
    draining_ = true;
    if (listener_ != nullptr) {
      tcp_close(listener_);  // new SYNs are answered with RST
      listener_ = nullptr;
    }
    std::vector<TcpConnection*> open;
    for (auto& [raw, connection] : connections_) open.push_back(raw);
    for (TcpConnection* connection : open) connection->drain();
  }
  if (want_close_.exchange(false)) {
    std::vector<TcpConnection*> open;
    for (auto& [raw, connection] : connections_) open.push_back(raw);
    for (TcpConnection* connection : open) connection->close_now();
  }
}

}  // namespace h2::lwip_runtime
