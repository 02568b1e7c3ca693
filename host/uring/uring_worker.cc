#include "host/uring/uring_worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host/address_text.h"
#include "host/uring/uring_connection.h"
#include "serve/log.h"

namespace h2::host::uring {

// serve::Loop for module threads: a locked queue and an eventfd that wakes the ring.
class UringWorker::PostLoop final : public serve::Loop {
 public:
  explicit PostLoop(int wake_fd) : wake_fd_(wake_fd) {}
  void post(Task task) override {
    if (!task) return;
    std::unique_lock lock(mutex_);
    if (stopped_) {
      lock.unlock();
      task(false);
      return;
    }
    tasks_.push_back(std::move(task));
    lock.unlock();
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
  std::vector<Task> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(tasks_, {});
  }
  // Later posts run at once with run == false; the queued ones are returned to be ended too.
  std::vector<Task> stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    return std::exchange(tasks_, {});
  }

 private:
  const int wake_fd_;
  std::mutex mutex_;
  std::vector<Task> tasks_;
  bool stopped_ = false;
};

struct UringWorker::Listener {
  struct AcceptOp final : Op {
    UringWorker* worker = nullptr;
    Listener* listener = nullptr;
    void complete(const io_uring_cqe& cqe) override { worker->on_accept(*listener, cqe); }
  };
  int fd = -1;
  bool unix_socket = false;
  std::string path;
  serve::Protocols protocols;
  tls::ServerContext tls;
  AcceptOp op;
  bool armed = false;
};

namespace {

class WakeOp final : public Op {
 public:
  explicit WakeOp(std::function<void()> on_wake) : on_wake_(std::move(on_wake)) {}
  void complete(const io_uring_cqe&) override { on_wake_(); }

 private:
  std::function<void()> on_wake_;
};

std::string peer_of(int fd, bool unix_socket, const std::string& path) {
  if (unix_socket) return path;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  return address_text(reinterpret_cast<const sockaddr*>(&addr));
}

}  // namespace

std::string UringWorker::probe() {
  io_uring ring{};
  int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) return std::string("io_uring_setup failed: ") + std::strerror(-rc);
  // Provided buffer rings (5.19) and multishot receive (6.0) are what this runtime is built on.
  void* mem = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(mem);
  reg.ring_entries = 8;
  reg.bgid = 7;
  rc = mem == MAP_FAILED ? -ENOMEM : io_uring_register_buf_ring(&ring, &reg, 0);
  std::string why;
  if (rc < 0) why = std::string("provided buffer rings unsupported: ") + std::strerror(-rc);
  io_uring_probe* p = io_uring_get_probe_ring(&ring);
  if (why.empty() && (p == nullptr || !io_uring_opcode_supported(p, IORING_OP_SEND_ZC))) {
    // IORING_OP_SEND_ZC arrived with 6.0, like multishot receive: a cheap version check.
    why = "kernel older than 6.0 (no multishot receive)";
  }
  if (p) io_uring_free_probe(p);
  io_uring_queue_exit(&ring);
  if (mem != MAP_FAILED) ::munmap(mem, 4096);
  return why;
}

UringWorker::UringWorker(unsigned index, std::function<std::shared_ptr<const Snapshot>()> snapshot)
    : index_(index), snapshot_(std::move(snapshot)) {}

UringWorker::~UringWorker() {
  stop_and_join();
  if (ring_ready_) io_uring_queue_exit(&ring_);
  connections_.clear();  // after the ring: no completion can reach them any more
  deferred_.clear();
  starved_.clear();
  if (buffers_) ::munmap(buffers_, kBufferCount * sizeof(io_uring_buf));
  if (buffer_memory_) ::munmap(buffer_memory_, size_t(kBufferCount) * kBufferSize);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool UringWorker::init(std::string* error) {
  io_uring_params params{};
  // Made here but driven by the worker's thread: no IORING_SETUP_SINGLE_ISSUER (it binds the
  // ring to its creator). COOP_TASKRUN: completions are run when we enter the kernel anyway.
  params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_CQSIZE;
  params.cq_entries = 8192;
  int rc = io_uring_queue_init_params(1024, &ring_, &params);
  if (rc < 0) {
    params.flags = IORING_SETUP_CQSIZE;  // kernels before 5.19
    rc = io_uring_queue_init_params(1024, &ring_, &params);
  }
  if (rc < 0) {
    *error = std::string("io_uring_setup: ") + std::strerror(-rc);
    return false;
  }
  ring_ready_ = true;
  const size_t ring_bytes = kBufferCount * sizeof(io_uring_buf);
  void* ring_mem =
      ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  void* data = ::mmap(nullptr, size_t(kBufferCount) * kBufferSize, PROT_READ | PROT_WRITE,
                      MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (ring_mem == MAP_FAILED || data == MAP_FAILED) {
    *error = "cannot map the receive buffers";
    return false;
  }
  buffers_ = static_cast<io_uring_buf_ring*>(ring_mem);
  buffer_memory_ = static_cast<char*>(data);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(ring_mem);
  reg.ring_entries = kBufferCount;
  reg.bgid = kBufferGroup;
  rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc < 0) {
    *error = std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
    return false;
  }
  io_uring_buf_ring_init(buffers_);
  const int mask = io_uring_buf_ring_mask(kBufferCount);
  for (unsigned i = 0; i < kBufferCount; ++i) {
    io_uring_buf_ring_add(buffers_, buffer_memory_ + size_t(i) * kBufferSize, kBufferSize, i,
                          mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(buffers_, kBufferCount);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    return false;
  }
  post_loop_ = std::make_shared<PostLoop>(wake_fd_);
  loop_ = post_loop_;
  wake_op_ = std::make_unique<WakeOp>([this] {
    run_posted();
    arm_wakeup();
  });
  return true;
}

void UringWorker::add_listener(int fd, bool unix_socket, std::string path,
                               serve::Protocols protocols, tls::ServerContext tls) {
  auto listener = std::make_unique<Listener>();
  listener->protocols = protocols;
  listener->tls = std::move(tls);
  listener->fd = fd;
  listener->unix_socket = unix_socket;
  listener->path = std::move(path);
  listener->op.worker = this;
  listener->op.listener = listener.get();
  listeners_.push_back(std::move(listener));
}

void UringWorker::start() {
  thread_ = std::thread([this] {
    serve::mark_host_thread();
    run();
  });
}

io_uring_sqe* UringWorker::sqe() {
  io_uring_sqe* entry = io_uring_get_sqe(&ring_);
  while (entry == nullptr) {  // the submission queue is full: hand it to the kernel first
    io_uring_submit(&ring_);
    entry = io_uring_get_sqe(&ring_);
  }
  return entry;
}

std::string_view UringWorker::buffer(unsigned id, size_t size) const {
  return std::string_view(buffer_memory_ + size_t(id) * kBufferSize, size);
}

void UringWorker::recycle(unsigned id) {
  io_uring_buf_ring_add(buffers_, buffer_memory_ + size_t(id) * kBufferSize, kBufferSize, id,
                        io_uring_buf_ring_mask(kBufferCount), 0);
  io_uring_buf_ring_advance(buffers_, 1);
}

UringWorker::TimerKey UringWorker::add_timer(uint64_t due_ms, std::function<void()> fire) {
  TimerKey key{due_ms, next_timer_id_++};
  timers_.emplace(std::make_pair(key.due, key.id), std::move(fire));
  return key;
}

void UringWorker::cancel_timer(TimerKey& key) {
  if (key) timers_.erase({key.due, key.id});
  key = {};
}

void UringWorker::defer_pump(const std::shared_ptr<UringConnection>& connection) {
  deferred_.push_back(connection);
}

void UringWorker::retry_receive_later(const std::shared_ptr<UringConnection>& connection) {
  starved_.push_back(connection);
}

void UringWorker::remove(UringConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  // Destroyed after the current completion batch, never inside its own callback.
  deferred_.push_back(std::move(it->second));
  connections_.erase(it);
  serve::stats().connections_open.fetch_sub(1, std::memory_order_relaxed);
  count_.store(connections_.size(), std::memory_order_relaxed);
}

void UringWorker::arm_accept(Listener& listener) {
  if (stopping_ || !accepting_) return;
  io_uring_sqe* s = sqe();
  io_uring_prep_multishot_accept(s, listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data(s, &listener.op);
  listener.armed = true;
}

void UringWorker::on_accept(Listener& listener, const io_uring_cqe& cqe) {
  if (!(cqe.flags & IORING_CQE_F_MORE)) listener.armed = false;
  if (cqe.res >= 0) {
    const int fd = cqe.res;
    if (stopping_ || !accepting_) {
      ::close(fd);
    } else {
      if (!listener.unix_socket) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
      std::shared_ptr<const Snapshot> snapshot = snapshot_();
      std::string peer = peer_of(fd, listener.unix_socket, listener.path);
      Accepted accepted{listener.protocols, nullptr, listener.tls};
      const uint64_t cap = snapshot->config.connections.max_per_address;
      if (admit_connection(fd, cap, &accepted.address_slot) == Admission::kRefused) {
        H2_LOG(kInfo, "connection from " + peer + " refused: " + std::to_string(cap) +
                          " connections from that address are open (connections.max_per_address)");
        ::close(fd);
      } else {
        auto connection = std::make_shared<UringConnection>(
            *this, fd, std::move(peer), std::move(snapshot),
            std::move(accepted));
        connections_.emplace(connection.get(), connection);
        count_.store(connections_.size(), std::memory_order_relaxed);
        serve::Counters& counters = serve::stats();
        counters.connections_accepted.fetch_add(1, std::memory_order_relaxed);
        counters.connections_open.fetch_add(1, std::memory_order_relaxed);
        connection->start();
      }
    }
  } else if (cqe.res != -ECANCELED && cqe.res != -EBADF && cqe.res != -EINVAL) {
    H2_LOG(kWarn, "io_uring accept failed: " + std::string(std::strerror(-cqe.res)));
    if (!listener.armed && !stopping_) {  // out of descriptors: retry in 100 ms, never spin
      add_timer(now_ms_ + 100, [this, &listener] {
        if (!listener.armed) arm_accept(listener);
      });
      return;
    }
  }
  if (!listener.armed && !stopping_ && cqe.res != -EBADF && cqe.res != -EINVAL) {
    arm_accept(listener);
  }
}

void UringWorker::arm_wakeup() {
  if (stopping_) return;
  io_uring_sqe* s = sqe();
  io_uring_prep_read(s, wake_fd_, &wake_value_, sizeof wake_value_, 0);
  io_uring_sqe_set_data(s, wake_op_.get());
}

void UringWorker::run_posted() {
  for (serve::Loop::Task& task : post_loop_->take()) task(true);
}

void UringWorker::fire_timers() {
  while (!timers_.empty() && timers_.begin()->first.first <= now_ms_) {
    auto fire = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fire();
  }
}

void UringWorker::shutdown_gracefully() {
  loop_->post([this](bool run) {
    if (!run) return;
    accepting_ = false;  // the listeners close: stop taking their connections
    for (auto& listener : listeners_) {
      io_uring_sqe* s = sqe();
      io_uring_prep_cancel(s, &listener->op, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data(s, nullptr);
    }
    std::vector<std::shared_ptr<UringConnection>> all;
    for (auto& [raw, c] : connections_) all.push_back(c);
    for (auto& c : all) c->shutdown_gracefully();
  });
}

void UringWorker::close_now() {
  loop_->post([this](bool run) {
    if (!run) return;
    std::vector<std::shared_ptr<UringConnection>> all;
    for (auto& [raw, c] : connections_) all.push_back(c);
    for (auto& c : all) c->close_now();
  });
}

void UringWorker::stop_and_join() {
  if (thread_.joinable()) {
    loop_->post([this](bool) { stopping_ = true; });
    thread_.join();
  }
  if (post_loop_) {
    for (serve::Loop::Task& task : post_loop_->stop()) task(false);
  }
}

void UringWorker::run() {
  now_ms_ = steady_now_ms();
  arm_wakeup();
  for (auto& listener : listeners_) arm_accept(*listener);
  while (!stopping_) {
    if (!deferred_.empty() || !starved_.empty()) {
      io_uring_submit(&ring_);  // pumps are pending: only collect what is already complete
    } else {
      __kernel_timespec wait{};
      if (!timers_.empty()) {
        const uint64_t due = timers_.begin()->first.first;
        const uint64_t ms = due > now_ms_ ? due - now_ms_ : 0;
        wait.tv_sec = static_cast<long long>(ms / 1000);
        wait.tv_nsec = static_cast<long long>(ms % 1000) * 1000000;
      }
      io_uring_cqe* ready = nullptr;
      const int rc = io_uring_submit_and_wait_timeout(
          &ring_, &ready, 1, timers_.empty() ? nullptr : &wait, nullptr);
      if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        // Never spin on a broken ring: say it once per second at most and wait.
        if (now_ms_ >= next_error_log_ms_) {
          H2_LOG(kError, "io_uring worker " + std::to_string(index_) +
                             ": wait failed: " + std::strerror(-rc));
          next_error_log_ms_ = now_ms_ + 1000;
        }
        ::usleep(10000);
      }
    }
    io_uring_cqe* cqe = nullptr;
    now_ms_ = steady_now_ms();
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      if (auto* op = static_cast<Op*>(io_uring_cqe_get_data(cqe))) op->complete(*cqe);
    }
    io_uring_cq_advance(&ring_, seen);
    fire_timers();
    // Pumps run after the batch: output queued by many completions goes out in one send each.
    for (int round = 0; round < 4 && (!deferred_.empty() || !starved_.empty()); ++round) {
      auto starved = std::exchange(starved_, {});
      for (auto& c : starved) c->retry_receive();
      auto deferred = std::exchange(deferred_, {});
      for (auto& c : deferred) c->pump();
    }
  }
  // Stopping: the remaining connections close now (their streams end with their callbacks).
  std::vector<std::shared_ptr<UringConnection>> all;
  for (auto& [raw, c] : connections_) all.push_back(c);
  for (auto& c : all) c->close_now();
  io_uring_submit(&ring_);
}

}  // namespace h2::host::uring
