// The lwIP runtime: one thread that is a whole network host - a TAP device as its wire, lwIP as
// its TCP/IP stack, and the same serving as every other runtime (serve/connection_driver.h), so
// the same .so modules answer. The C analog of ocaml-h2 on a MirageOS unikernel (README.md).
//
// The thread's loop: poll(TAP fd, wake-up eventfd) with the earliest of lwIP's timers and the
// connections' deadlines -> feed waiting frames to lwIP -> lwIP's timers -> due connections'
// on_time -> pump every connection something happened to (reads fed, writes into lwIP's send
// buffer, close). lwIP's callbacks only note what happened; all serving runs in the pump, so no
// module code ever runs inside the stack.
//
// Thread safety: start(), shutdown_gracefully(), close_now(), stop_and_join() and
// session_count() from any thread; everything else on the runtime's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lwip_runtime/tap_config.h"
#include "serve/connection_driver.h"
#include "serve/router.h"
#include "tls/server_context.h"

struct tcp_pcb;

namespace h2::lwip_runtime {

class Stack;
class TcpConnection;
class LwipLoop;

// What a new connection is served with: taken when it is accepted (a reload changes it for the
// connections that follow, as on every runtime).
struct Serving {
  std::shared_ptr<const serve::Router> router;
  serve::DriverPolicy policy;
  std::shared_ptr<const void> keep_alive;  // whatever owns the router's modules
  tls::ServerContext tls;                  // set: TLS with ALPN h2 (tls/tls_connection.h)
  uint64_t handshake_ms = 10'000;
};

class Runtime {
 public:
  using ServingSource = std::function<Serving()>;

  Runtime(TapConfig config, ServingSource serving);
  ~Runtime();

  // Builds the stack and attaches the TAP device, then starts the thread. Returns an error
  // message ("cannot attach to tap device ...: no such device") and starts nothing on failure.
  // A device another process holds is an error too, unless `wait_if_busy` (a reload: the
  // previous generation lets go when it stops): then the thread attaches as soon as it can.
  std::string start(bool wait_if_busy);
  // Stop accepting; open connections drain (serve::ConnectionDriver::drain).
  void shutdown_gracefully();
  // Close every connection now.
  void close_now();
  // Ends the thread (connections still open are closed). Idempotent.
  void stop_and_join();
  // Open connections (for a drain to wait on).
  size_t session_count() const { return sessions_.load(std::memory_order_relaxed); }
  std::string describe() const;

  // ---- runtime thread only (TcpConnection) ----
  void mark_dirty(TcpConnection* connection);
  void set_timer(TcpConnection* connection, uint64_t at, uint64_t previous);
  void release(TcpConnection* connection);
  std::shared_ptr<serve::Loop> loop() const;
  static uint64_t now_ms();

 private:
  void run();
  void run_once();
  void pump_dirty();
  void attach();
  void handle_requests();
  void listen();
  bool accept(tcp_pcb* pcb);  // false: refused (aborted)
  friend struct AcceptHook;

  TapConfig config_;
  ServingSource serving_;
  std::unique_ptr<Stack> stack_;
  std::shared_ptr<LwipLoop> loop_;
  std::thread thread_;
  tcp_pcb* listener_ = nullptr;
  bool attached_ = false;
  bool told_busy_ = false;
  bool reattaching_ = false;  // the device went away while serving
  uint64_t next_attach_ms_ = 0;
  bool draining_ = false;
  std::atomic<bool> want_drain_{false};
  std::atomic<bool> want_close_{false};
  std::atomic<bool> want_stop_{false};
  std::atomic<size_t> sessions_{0};
  std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> connections_;
  std::vector<TcpConnection*> dirty_;
  std::vector<std::shared_ptr<TcpConnection>> graveyard_;  // released during this round
  std::set<std::pair<uint64_t, TcpConnection*>> timers_;
};

}  // namespace h2::lwip_runtime
