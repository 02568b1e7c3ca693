#include "host/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>


#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstring>
#include <optional>

#include "host/address_text.h"
#include "host/sessions.h"
#include "host/tls.h"
#include "host/uring/uring_worker.h"
#include "lwip_runtime/runtime.h"
#include "tls/server_context.h"
#include "serve/log.h"

namespace h2::host {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

struct Server::Listener {
  ListenerConfig config;
  std::shared_ptr<ListenSocket> socket;  // the descriptor the acceptor was assigned from
  std::optional<tcp::acceptor> tcp_acceptor;
  std::optional<unix_socket::acceptor> unix_acceptor;
  tls::ServerContext tls;  // TLS listeners: every connection's TlsConnection shares it
  std::string bound;
  std::optional<asio::steady_timer> backoff;  // after a failed accept (e.g. EMFILE)
  bool uring = false;  // accepted and served by the io_uring workers
};

struct ServerTimers {
  explicit ServerTimers(asio::io_context& context) : signals(context), drain(context) {}
  asio::signal_set signals;
  asio::steady_timer drain;
};

Server::Server(std::shared_ptr<const Snapshot> snapshot, Reloader reloader, ServerRole role)
    : role_(role), reloader_(std::move(reloader)), snapshot_(std::move(snapshot)) {
  if (role_ == ServerRole::kWorkerProcess) {
    workers_.push_back(std::make_unique<Worker>(0, main_));  // one loop for everything
  } else {
    for (unsigned i = 0; i < snapshot_->config.workers; ++i) {
      workers_.push_back(std::make_unique<Worker>(i));
    }
  }
  timers_ = std::make_unique<ServerTimers>(main_);
}

unsigned Server::threads() const {
  return role_ == ServerRole::kWorkerProcess ? 1 : snapshot_->config.workers;
}

Server::~Server() {
  for (auto& w : uring_workers_) w->stop_and_join();
  if (lwip_) lwip_->stop_and_join();
}

std::shared_ptr<const Snapshot> Server::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

std::vector<std::string> Server::bound() const {
  std::vector<std::string> out;
  for (const auto& l : listeners_) out.push_back(l->bound);
  if (lwip_) out.push_back(lwip_bound_);
  return out;
}

std::string Server::open() {
  std::vector<std::shared_ptr<ListenSocket>> sockets;
  for (const ListenerConfig& config : snapshot_->config.listeners) {
    std::string error;
    sockets.push_back(bind_listener(config, &error));
    if (!sockets.back()) return error;
  }
  if (std::string error = adopt(std::move(sockets)); !error.empty()) return error;
  for (const auto& listener : listeners_) {
    H2_LOG(kNotice, "listening on " + std::string(listener->config.tls ? "https://" : "http://") +
                        listener->bound + " (" + (listener->uring ? "io_uring" : "asio") + ")");
  }
  if (lwip_) {
    H2_LOG(kNotice, std::string("listening on ") + (lwip_tls_ ? "https://" : "http://") +
                        lwip_bound_ + " (lwip: " + lwip_->describe() + ")");
  }
  return {};
}

std::string Server::adopt(std::vector<std::shared_ptr<ListenSocket>> sockets) {
  const std::vector<ListenerConfig>& configs = snapshot_->config.listeners;
  if (sockets.size() != configs.size()) return "internal: listener sockets do not match";
  for (size_t i = 0; i < configs.size(); ++i) {
    const ListenerConfig& config = configs[i];
    if (config.kind == ListenerConfig::Kind::kTap) {
      if (!sockets[i]) continue;  // another worker's (slot 0 serves the one stack)
      if (std::string error = start_lwip(config, sockets[i]->bound()); !error.empty()) return error;
      continue;
    }
    auto listener = std::make_unique<Listener>();
    listener->config = config;
    listener->socket = std::move(sockets[i]);
    listener->bound = listener->socket->bound();
    const std::string where = config.where.file + ':' + std::to_string(config.where.line) + ':' +
                              std::to_string(config.where.column) + ": ";
    if (config.tls) {
      std::string error;
      listener->tls = make_tls_context(config, &error);
      if (!listener->tls) return error;
    }
    // The acceptor works on a duplicate: the ListenSocket keeps (and finally closes) its own.
    const int fd = ::fcntl(listener->socket->fd(), F_DUPFD_CLOEXEC, 0);
    boost::system::error_code ec;
    if (config.kind == ListenerConfig::Kind::kTcp) {
      sockaddr_storage local{};
      socklen_t len = sizeof local;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
      listener->tcp_acceptor.emplace(main_).assign(
          local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    } else {
      listener->unix_acceptor.emplace(main_).assign(unix_socket(), fd, ec);
    }
    if (ec) {
      ::close(fd);
      return where + "cannot serve " + listener->bound + ": " + ec.message();
    }
    listener->uring = config.runtime == Runtime::kIoUring;
    listeners_.push_back(std::move(listener));
  }
  open_uring_workers();
  return {};
}

// The tap listener: a whole TCP/IP stack of its own on one thread (lwip_runtime/README.md).
std::string Server::start_lwip(const ListenerConfig& config, std::string bound) {
  const std::string where = config.where.file + ':' + std::to_string(config.where.line) + ':' +
                            std::to_string(config.where.column) + ": ";
  tls::ServerContext tls_context;
  if (config.tls) {  // one context for the listener's life (a reload starts a new process)
    std::string error;
    tls_context = make_tls_context(config, &error);
    if (!tls_context) return error;
  }
  lwip_ = std::make_unique<lwip_runtime::Runtime>(config.tap, [this, tls_context,
                                                               protocols = config.protocols] {
    std::shared_ptr<const Snapshot> current = snapshot();
    const HostConfig& c = current->config;
    lwip_runtime::Serving serving;
    serving.router = current->router;
    serving.policy.protocols = protocols;
    serving.policy.http1 = current->http1;
    serving.policy.limits = std::shared_ptr<const protocol::ConnectionOptions>(current, &c.limits);
    serving.policy.preface_ms = c.timeouts.preface_ms;
    serving.policy.write_ms = c.timeouts.write_ms;
    serving.policy.shutdown_ms = c.timeouts.shutdown_ms;
    serving.keep_alive = current;
    serving.tls = tls_context;
    serving.handshake_ms = c.timeouts.tls_handshake_ms;
    return serving;
  });
  lwip_bound_ = std::move(bound);
  lwip_tls_ = config.tls.has_value();
  if (std::string error = lwip_->start(tap_may_wait_); !error.empty()) {
    lwip_.reset();
    return where + error;
  }
  return {};
}

void Server::open_uring_workers() {
  const bool wanted =
      std::any_of(listeners_.begin(), listeners_.end(), [](auto& l) { return l->uring; });
  if (!wanted) return;
  std::string why = uring::UringWorker::probe();
  for (unsigned i = 0; why.empty() && i < threads(); ++i) {
    auto worker = std::make_unique<uring::UringWorker>(i, [this] { return snapshot(); });
    if (!worker->init(&why)) break;
    for (const auto& l : listeners_) {
      if (!l->uring) continue;
      const int fd = l->tcp_acceptor ? l->tcp_acceptor->native_handle()
                                     : l->unix_acceptor->native_handle();
      worker->add_listener(fd, !l->tcp_acceptor, l->config.path.string(), l->config.protocols,
                           l->tls);
    }
    uring_workers_.push_back(std::move(worker));
  }
  if (!why.empty()) {
    H2_LOG(kWarn, "io_uring is unavailable (" + why + "): its listeners use asio");
    uring_workers_.clear();
    for (auto& l : listeners_) l->uring = false;
  }
}

ConnectionContext Server::next_context(Worker* worker, std::string peer, const Listener& listener) {
  return ConnectionContext{snapshot(), worker, std::move(peer), listener.tls != nullptr,
                           listener.config.protocols, nullptr};
}

void Server::accept(Listener& listener) {
  // Round robin: the socket is accepted straight onto the chosen worker's io_context.
  Worker* worker = workers_[next_worker_++ % workers_.size()].get();
  if (listener.tcp_acceptor) {
    listener.tcp_acceptor->async_accept(worker->context(), [this, &listener, worker](
                                                               boost::system::error_code ec,
                                                               tcp::socket socket) {
      // A connection accepted before the listener closed is served (drained), never dropped:
      // dropping it would reset a client the kernel had already handed to us.
      if (!ec) {
        boost::system::error_code peer_ec;
        const auto remote = socket.remote_endpoint(peer_ec);
        std::string peer = peer_ec ? std::string("?") : address_text(remote.data());
        std::shared_ptr<AddressSlot> slot;
        const uint64_t cap = snapshot()->config.connections.max_per_address;
        if (admit_connection(socket.native_handle(), cap, &slot) == Admission::kRefused) {
          H2_LOG(kInfo, "connection from " + peer + " refused: " + std::to_string(cap) +
                            " connections from that address are open (connections.max_per_address)");
          return rearm(listener, ec);  // the socket closes as it goes out of scope
        }
        ConnectionContext context = next_context(worker, std::move(peer), listener);
        context.address_slot = std::move(slot);
        context.starting = worker->starting_connection();
        serve::stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
        asio::post(worker->context(), [socket = std::move(socket), context = std::move(context),
                                       tls = listener.tls]() mutable {
          start_tcp_connection(std::move(socket), std::move(context), tls);
        });
      } else if (ec != asio::error::operation_aborted) {
        H2_LOG(kWarn, "accept on " + listener.bound + " failed: " + ec.message());
      }
      rearm(listener, ec);
    });
  } else {
    listener.unix_acceptor->async_accept(
        worker->context(),
        [this, &listener, worker](boost::system::error_code ec, unix_socket::socket socket) {
          if (!ec) {
            ConnectionContext context = next_context(worker, listener.config.path.string(), listener);
            context.starting = worker->starting_connection();
            serve::stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
            asio::post(worker->context(),
                       [socket = std::move(socket), context = std::move(context)]() mutable {
                         start_unix_connection(std::move(socket), std::move(context));
                       });
          } else if (ec != asio::error::operation_aborted) {
            H2_LOG(kWarn, "accept on " + listener.bound + " failed: " + ec.message());
          }
          rearm(listener, ec);
        });
  }
}

// A failed accept (out of descriptors, ...) is retried after 100 ms instead of spinning.
void Server::rearm(Listener& listener, boost::system::error_code ec) {
  if (ec == asio::error::operation_aborted || stopping_) return;
  if (!ec) return accept(listener);
  if (!listener.backoff) listener.backoff.emplace(main_);
  listener.backoff->expires_after(std::chrono::milliseconds(100));
  listener.backoff->async_wait([this, &listener](boost::system::error_code wait_ec) {
    if (!wait_ec && !stopping_) accept(listener);
  });
}

int Server::run() {
  auto& signals = timers_->signals;
  for (int signal : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1}) signals.add(signal);
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int signal) {
      if (ec) return;
      on_signal(signal);
      if (!stopping_) wait_signal();
    });
  };
  wait_signal();
  for (auto& listener : listeners_) {
    if (!listener->uring) accept(*listener);
  }
  for (auto& worker : uring_workers_) worker->start();

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  // A module or handler that throws through a callback is logged; the loop goes on.
  const auto run_loop = [](asio::io_context& context) {
    for (;;) {
      try {
        context.run();
        return;
      } catch (const std::exception& e) {
        H2_LOG(kError, std::string("worker caught an exception: ") + e.what());
      }
    }
  };
  for (auto& worker : workers_) {
    if (!worker->owns_context()) continue;  // runs on main_
    guards.push_back(asio::make_work_guard(worker->context()));
    threads.emplace_back([w = worker.get(), run_loop] {
      serve::mark_host_thread();
      run_loop(w->context());
    });
  }
  run_loop(main_);
  for (auto& worker : uring_workers_) worker->stop_and_join();
  if (lwip_) lwip_->stop_and_join();
  guards.clear();
  for (auto& worker : workers_) worker->context().stop();
  for (auto& thread : threads) thread.join();
  H2_LOG(kNotice, "exiting");
  return 0;
}

void Server::on_signal(int signal) {
  switch (signal) {
    case SIGHUP:
      if (role_ == ServerRole::kSingleProcess) reload();
      return;
    case SIGUSR1: {
      H2_LOG(kNotice, "received SIGUSR1, reopening the log files");
      if (std::string error = serve::Log::open(snapshot()->config.logs); !error.empty()) {
        H2_LOG(kError, "reopening the logs failed, keeping the open files: " + error);
      }
      return;
    }
    default:
      H2_LOG(kNotice, std::string("received SIG") + sigabbrev_np(signal) +
                          ", shutting down gracefully");
      begin_shutdown();
  }
}

void Server::stop() {
  asio::post(main_, [this] { begin_shutdown(); });
}

void Server::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  boost::system::error_code ignored;
  timers_->signals.cancel(ignored);
  for (auto& listener : listeners_) {
    if (listener->backoff) listener->backoff->cancel();
    if (listener->tcp_acceptor) listener->tcp_acceptor->close(ignored);
    if (listener->unix_acceptor) listener->unix_acceptor->close(ignored);
    // Closed, not just released: in a worker process the master's objects (copied by fork)
    // still own the ListenSocket, and a descriptor left open keeps the port accepting into a
    // backlog nobody reads while this worker drains. The binder's close removes a Unix
    // socket's path.
    if (listener->socket) listener->socket->close();
    listener->socket.reset();
  }
  for (auto& worker : workers_) {
    asio::post(worker->context(), [w = worker.get()] {
      w->begin_draining();
      const std::vector<SessionBase*> sessions(w->sessions().begin(), w->sessions().end());
      for (SessionBase* session : sessions) {
        if (w->sessions().count(session)) session->shutdown_gracefully();
      }
    });
  }
  for (auto& worker : uring_workers_) worker->shutdown_gracefully();
  if (lwip_) lwip_->shutdown_gracefully();
  stop_deadline_ms_ = steady_now_ms() + snapshot()->config.timeouts.shutdown_ms;
  check_drained();
}

void Server::check_drained() {
  size_t open = 0;
  for (auto& worker : workers_) open += worker->session_count();
  for (auto& worker : uring_workers_) open += worker->session_count();
  if (lwip_) open += lwip_->session_count();
  if (open == 0 || steady_now_ms() >= stop_deadline_ms_) {
    if (open != 0)
      H2_LOG(kNotice, "shutdown timeout: closing " + std::to_string(open) + " connections");
    for (auto& worker : workers_) {
      asio::post(worker->context(), [w = worker.get()] {
        const std::vector<SessionBase*> sessions(w->sessions().begin(), w->sessions().end());
        for (SessionBase* session : sessions) {
          if (w->sessions().count(session)) session->close_now();
        }
      });
    }
    for (auto& worker : uring_workers_) worker->close_now();
    if (lwip_) lwip_->close_now();
    // Let the workers run the close handlers briefly, then stop.
    timers_->drain.expires_after(std::chrono::milliseconds(open == 0 ? 0 : 50));
    timers_->drain.async_wait([this](boost::system::error_code) { main_.stop(); });
    return;
  }
  timers_->drain.expires_after(std::chrono::milliseconds(20));
  timers_->drain.async_wait([this](boost::system::error_code ec) {
    if (!ec) check_drained();
  });
}

void Server::reload() {
  H2_LOG(kNotice, "received SIGHUP, reloading the configuration");
  std::string error;
  std::shared_ptr<const Snapshot> fresh = reloader_ ? reloader_(&error) : nullptr;
  if (!fresh) {
    H2_LOG(kError, "reload failed, keeping the running configuration: " + error);
    return;
  }
  if (fresh->config.listeners.size() != snapshot()->config.listeners.size()) {
    H2_LOG(kWarn, "reload: listener changes need a restart; keeping the bound listeners");
  }
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(fresh);
  H2_LOG(kNotice, "reload done: new connections use the new routes and modules");
}

}  // namespace h2::host
