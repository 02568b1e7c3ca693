// The serving runtime of one h2host process: workers, listeners, signals.
//
// Roles. ServerRole::kWorkerProcess (under the master, host/master.h): one thread runs one
// io_context holding the acceptors of the inherited listeners, the signal set and every
// connection. ServerRole::kSingleProcess (`master_process: off`): the main thread runs the
// acceptors and signals, each of `workers` threads its own io_context; an acceptor accepts a
// socket straight onto the next worker's io_context (round robin), so a connection lives on
// one thread for its whole life and needs no locks.
//
// Runtimes: a listener with `runtime: io_uring` is accepted and served by io_uring workers
// (host/uring/, one thread and ring each); HTTP/1.1 connections found there are handed to the
// Asio workers. Where io_uring is unavailable the listener falls back to Asio, said in one line.
//
// Signals (both roles): SIGTERM / SIGINT / SIGQUIT -> graceful stop: acceptors close, every
// session is asked to finish (HTTP/2: GOAWAY two-step, open streams complete; HTTP/1.1: the
// current response), and whatever is still open after timeouts.shutdown_ms is closed. SIGUSR1
// reopens the log files. SIGHUP: kSingleProcess reloads through the Reloader (new connections
// use the new Snapshot, open ones keep theirs; listeners are not re-bound - the master process
// does that); kWorkerProcess ignores it (the master reloads by starting a new generation).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/listen_socket.h"
#include "host/runtime.h"

namespace h2::host {

namespace uring {
class UringWorker;
struct Accepted;
}
}  // namespace h2::host
namespace h2::lwip_runtime {
class Runtime;
}
namespace h2::host {

enum class ServerRole { kSingleProcess, kWorkerProcess };

class Server {
 public:
  // Builds a new snapshot from the configuration file (SIGHUP); nullptr + message on failure.
  using Reloader = std::function<std::shared_ptr<const Snapshot>(std::string* error)>;

  Server(std::shared_ptr<const Snapshot> snapshot, Reloader reloader,
         ServerRole role = ServerRole::kSingleProcess);
  ~Server();

  // Binds every listener of the snapshot, then adopt()s them. Returns an error message naming
  // the listener's FILE:LINE:COL, empty on success. Bound addresses are logged at notice level.
  std::string open();
  // Serves listening sockets bound elsewhere (by the master), one per snapshot listener in
  // order. Builds the TLS contexts; returns the first error, empty on success. Logs nothing.
  std::string adopt(std::vector<std::shared_ptr<ListenSocket>> sockets);
  // Before adopt(): a tap listener's device still held by another process is waited for (a
  // reload's new generation) instead of refused (a second h2host on the same device).
  void wait_for_busy_tap(bool wait) { tap_may_wait_ = wait; }
  // Runs until a graceful stop completes. Returns the process exit code.
  int run();
  // Starts a graceful stop (thread-safe; what SIGTERM does).
  void stop();

  // The bound endpoints as "127.0.0.1:8080" / "unix:/path" (ephemeral ports resolved).
  std::vector<std::string> bound() const;

  std::shared_ptr<const Snapshot> snapshot() const;

 private:
  struct Listener;
  void accept(Listener& listener);
  void rearm(Listener& listener, boost::system::error_code ec);
  ConnectionContext next_context(Worker* worker, std::string peer, const Listener& listener);
  void begin_shutdown();
  void check_drained();
  void reload();
  void on_signal(int signal);
  unsigned threads() const;
  // io_uring listeners: the workers that accept and serve them, or a one-line fallback to Asio.
  void open_uring_workers();
  std::string start_lwip(const ListenerConfig& config, std::string bound);

  ServerRole role_;
  boost::asio::io_context main_{1};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<uring::UringWorker>> uring_workers_;
  std::unique_ptr<lwip_runtime::Runtime> lwip_;  // the tap listener's stack, if this process serves it
  std::string lwip_bound_;
  bool tap_may_wait_ = false;
  bool lwip_tls_ = false;
  Reloader reloader_;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  size_t next_worker_ = 0;
  bool stopping_ = false;
  uint64_t stop_deadline_ms_ = 0;
  std::unique_ptr<struct ServerTimers> timers_;
};

}  // namespace h2::host
