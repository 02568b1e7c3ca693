// The io_uring runtime's event loop: one thread, one ring, one provided-buffer ring shared by
// every connection of the worker (so an idle connection holds no read buffer: the kernel picks a
// buffer only when bytes arrive, and the connection hands it back right after process_bytes).
//
// Everything a connection needs from its loop lives here: SQEs, the buffer ring, timers, a
// thread-safe post (serve::Loop, through an eventfd), "pump later" deferrals, multishot accept
// on the listeners, and the connection registry used for graceful shutdown.
//
// Threading: every member function except the "any thread" ones runs on the worker's thread.
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "host/runtime.h"
#include "serve/loop.h"
#include "tls/server_context.h"

namespace h2::host::uring {

// One completion target; the user_data of every SQE points at one.
class Op {
 public:
  virtual ~Op() = default;
  virtual void complete(const io_uring_cqe& cqe) = 0;
};

class UringConnection;

// What an accepted connection brings from its listener and its admission: the protocols the
// listener offers and its place in the per-address counts (host/address_limit.h), kept for the
// connection's whole life.
struct Accepted {
  serve::Protocols protocols;
  std::shared_ptr<AddressSlot> address_slot;
  tls::ServerContext tls;  // a TLS listener: served through tls/tls_connection.h
};

class UringWorker {
 public:
  static constexpr unsigned kBufferCount = 256;    // power of two (the ring's mask)
  static constexpr unsigned kBufferSize = 16384;   // one TLS record / a default frame
  static constexpr unsigned kBufferGroup = 1;

  // Empty when io_uring (with multishot receive and provided buffer rings) works here, else
  // why not, in one line.
  static std::string probe();

  UringWorker(unsigned index, std::function<std::shared_ptr<const Snapshot>()> snapshot);
  ~UringWorker();
  UringWorker(const UringWorker&) = delete;
  UringWorker& operator=(const UringWorker&) = delete;

  // Sets up the ring; false and a message on failure. Before start().
  bool init(std::string* error);
  // Accepts (multishot) on `fd` once started. Before start().
  void add_listener(int fd, bool unix_socket, std::string path, serve::Protocols protocols,
                    tls::ServerContext tls = nullptr);
  void start();
  // ---- any thread ----
  void shutdown_gracefully();  // every connection finishes what is in flight, then closes
  void close_now();            // every connection closes at once
  void stop_and_join();        // the thread ends; pending posts run with run == false
  size_t session_count() const { return count_.load(std::memory_order_relaxed); }
  const std::shared_ptr<serve::Loop>& loop() const { return loop_; }

  // ---- the worker's thread (connections) ----
  // A submission entry (the ring is flushed to make room when full). Never null.
  io_uring_sqe* sqe();
  uint64_t now_ms() const { return now_ms_; }
  // A received buffer's bytes, and giving it back to the kernel.
  std::string_view buffer(unsigned id, size_t size) const;
  void recycle(unsigned id);
  // Timers: `fire` runs on this thread at or after `due_ms`. Keys cancel them.
  struct TimerKey {
    uint64_t due = 0;
    uint64_t id = 0;
    explicit operator bool() const { return id != 0; }
  };
  TimerKey add_timer(uint64_t due_ms, std::function<void()> fire);
  void cancel_timer(TimerKey& key);
  // Runs `connection->pump()` after the current batch of completions (coalesced).
  void defer_pump(const std::shared_ptr<UringConnection>& connection);
  void retry_receive_later(const std::shared_ptr<UringConnection>& connection);
  void remove(UringConnection* connection);
  unsigned index() const { return index_; }

 private:
  class PostLoop;
  struct Listener;
  void run();
  void arm_accept(Listener& listener);
  void on_accept(Listener& listener, const io_uring_cqe& cqe);
  void arm_wakeup();
  void run_posted();
  void fire_timers();

  const unsigned index_;
  std::function<std::shared_ptr<const Snapshot>()> snapshot_;
  io_uring ring_{};
  bool ring_ready_ = false;
  io_uring_buf_ring* buffers_ = nullptr;
  char* buffer_memory_ = nullptr;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::thread thread_;
  uint64_t now_ms_ = 0;
  uint64_t next_error_log_ms_ = 0;
  bool stopping_ = false;
  bool accepting_ = true;

  // posts from any thread
  std::shared_ptr<PostLoop> post_loop_;
  std::shared_ptr<serve::Loop> loop_;
  int wake_fd_ = -1;
  uint64_t wake_value_ = 0;
  std::unique_ptr<Op> wake_op_;

  std::map<std::pair<uint64_t, uint64_t>, std::function<void()>> timers_;
  uint64_t next_timer_id_ = 1;
  std::vector<std::shared_ptr<UringConnection>> deferred_;
  std::vector<std::shared_ptr<UringConnection>> starved_;  // receive ran out of buffers
  std::unordered_map<UringConnection*, std::shared_ptr<UringConnection>> connections_;
  std::atomic<size_t> count_{0};
};

}  // namespace h2::host::uring
