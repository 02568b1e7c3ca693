// What every connection shares: the configuration snapshot it was accepted under, and the worker
// (thread + io_context) it runs on. Non-template, so the Asio-light parts of the host (server.cc,
// main.cc) and the session templates agree on one vocabulary.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "host/address_limit.h"
#include "host/config.h"
#include "host/worker_deadlines.h"
#include "serve/exchange.h"
#include "serve/http1_engine.h"
#include "serve/module_registry.h"
#include "serve/loop.h"
#include "serve/router.h"
#include "serve/stats.h"
#include "serve/dispatch.h"

namespace h2::host {

namespace client {
class UpstreamPool;
}

// One (re)load of config.yaml: immutable once published. A connection keeps the snapshot it was
// accepted under for its whole life, so SIGHUP never changes the rules under an open connection;
// the last connection of an old snapshot releases its routes and (through the handlers) modules.
struct Snapshot {
  HostConfig config;
  std::shared_ptr<serve::ModuleRegistry> registry;
  std::shared_ptr<const serve::Router> router;
  // HTTP/1.1 for every runtime's connection driver, with this configuration's limits (null in
  // tests that build a snapshot by hand: their drivers hand HTTP/1.1 to the runtime).
  std::shared_ptr<const serve::Http1EngineFactory> http1;
};

// The HTTP/1.1 engine factory of `config` (http1.* limits and timeouts).
std::shared_ptr<const serve::Http1EngineFactory> make_http1_factory(const HostConfig& config);

// A live connection, as its worker sees it (for graceful shutdown).
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Finish what is in flight (HTTP/2: GOAWAY, open streams; HTTP/1.1: the current response),
  // then close. Called on the session's own thread.
  virtual void shutdown_gracefully() = 0;
  // Close now (the shutdown timeout passed).
  virtual void close_now() = 0;
};

// A worker's io_context as a serve::Loop: module threads post onto it. After stop() (the worker
// is going away) tasks run at once with run == false; tasks still queued then are destroyed
// with the io_context, which runs them with run == false too (Task wrapper in host/clock.cc).
//
// It also owns the worker's pool of upstream connections (modules' upstream requests, ABI 1.3),
// made at the first request and closed by stop(), before the io_context goes.
class AsioLoop final : public serve::Loop {
 public:
  explicit AsioLoop(boost::asio::io_context& context);
  ~AsioLoop() override;
  void post(Task task) override;
  serve::UpstreamClient* upstream() override;
  void stop();

 private:
  std::mutex mutex_;
  boost::asio::io_context* context_;  // null once stopped
  boost::asio::io_context* owner_;    // the loop's context, for the pool (loop thread only)
  std::unique_ptr<client::UpstreamPool> upstream_;
};

// One thread with its own io_context. Sessions register on creation and unregister on
// destruction; both happen on the worker's thread, so the set needs no lock.
class Worker {
 public:
  explicit Worker(unsigned index) : index_(index), owned_(std::in_place, 1), context_(&*owned_) {}
  // A worker on an io_context owned elsewhere: a worker process's one loop, which also runs its
  // acceptors and signals (host/server.h, ServerRole::kWorkerProcess).
  Worker(unsigned index, boost::asio::io_context& shared) : index_(index), context_(&shared) {}
  ~Worker() {
    loop_->stop();
    // Connections own themselves until closed: close what is left (a stop without draining).
    const std::vector<SessionBase*> open(sessions_.begin(), sessions_.end());
    for (SessionBase* session : open) {
      if (sessions_.count(session) != 0) session->close_now();
    }
    // An owned io_context goes first, its timer before it: connections its queued handlers
    // still hold are destroyed while the session set and the deadline heap they leave exist.
    deadlines_.stop();
    owned_.reset();
  }
  boost::asio::io_context& context() { return *context_; }
  bool owns_context() const { return owned_.has_value(); }
  unsigned index() const { return index_; }
  const std::shared_ptr<AsioLoop>& loop() const { return loop_; }
  // The one timer of the worker's connections' deadlines.
  WorkerDeadlines& deadlines() { return deadlines_; }

  void add(SessionBase* session) {
    sessions_.insert(session);
    count_.store(sessions_.size(), std::memory_order_relaxed);
    serve::stats().connections_open.fetch_add(1, std::memory_order_relaxed);
  }
  void remove(SessionBase* session) {
    if (sessions_.erase(session) != 0) {
      serve::stats().connections_open.fetch_sub(1, std::memory_order_relaxed);
    }
    count_.store(sessions_.size(), std::memory_order_relaxed);
  }
  const std::unordered_set<SessionBase*>& sessions() const { return sessions_; }
  // Sessions plus connections still starting (starting_connection()). Readable from any thread
  // (the main thread polls it while draining): a worker stops only when it is zero.
  size_t session_count() const {
    return count_.load(std::memory_order_relaxed) + starting_->load(std::memory_order_relaxed);
  }

  // Draining (on the worker's thread): sessions that start from now on - connections accepted
  // just before the listeners closed - drain at once instead of serving on (H2: GOAWAY when
  // quiet; HTTP/1.1: the request in flight, then close).
  void begin_draining() { draining_ = true; }
  bool draining() const { return draining_; }
  // A connection accepted onto this worker that is not a session yet (its start queued, the
  // preface being sniffed, the TLS handshake running): counted from the accept, so that a
  // worker that drains waits for it rather than stopping its loop under it.
  // The token shares the counter, not the Worker: a starting connection may be destroyed with
  // an io_context that outlives this Worker (a worker process's shared loop).
  std::shared_ptr<void> starting_connection() {
    starting_->fetch_add(1, std::memory_order_relaxed);
    return std::shared_ptr<void>(nullptr, [counter = starting_](void*) {
      counter->fetch_sub(1, std::memory_order_relaxed);
    });
  }

 private:
  unsigned index_;
  std::atomic<size_t> count_{0};
  std::shared_ptr<std::atomic<size_t>> starting_ = std::make_shared<std::atomic<size_t>>(0);
  bool draining_ = false;
  std::optional<boost::asio::io_context> owned_;
  boost::asio::io_context* context_;
  std::shared_ptr<AsioLoop> loop_ = std::make_shared<AsioLoop>(*context_);
  WorkerDeadlines deadlines_{*context_};
  std::unordered_set<SessionBase*> sessions_;
};

// Given to each new connection.
struct ConnectionContext {
  std::shared_ptr<const Snapshot> snapshot;
  Worker* worker = nullptr;
  std::string peer;  // "ip:port" or the unix socket path
  bool tls = false;
  serve::Protocols protocols;  // what the listener offers
  std::shared_ptr<AddressSlot> address_slot;  // connections.max_per_address; null: not counted
  // Worker::starting_connection(), from the accept until a session takes over (the starter
  // resets it then): a draining worker waits for connections it accepted.
  std::shared_ptr<void> starting;
};

// Milliseconds on the steady clock: the time the sans-I/O core is given.
uint64_t steady_now_ms();

}  // namespace h2::host
