// One connection on the Asio runtime: the I/O of a serve::ConnectionEngine over any Asio
// AsyncStream (TCP socket, Unix socket, a test stream). The engine is the connection driver
// (serve/connection_driver.h: first bytes, HTTP/1.1 and the h2c upgrade, the HTTP/2 core, the
// deadlines, draining, the close sequence) or, on a TLS listener, tls::TlsConnection holding
// one. Like Beast's algorithms it is generic over the stream type; host/sessions.cc instantiates
// it for the stream types h2host uses.
//
// Loop: one read at a time (sockets: wait until readable, then read into the worker thread's
// buffer; other streams: async_read_some into a buffer of the connection's own) -> on_bytes; one
// gather async_write at a time of the engine's pending_output views -> on_written;
// next_wakeup_ms() queued in the worker's deadline heap (host/worker_deadlines.h: one system
// timer per worker, none per connection). Reads and writes overlap (the views stay valid across
// on_bytes). kLingering: once nothing is left to write, the write side is shut (FIN) and reads
// go on (the engine drops them) until EOF or its linger deadline; a stream that cannot shut one
// side (a test stream) closes at once. kClosed and kHandOff (TLS: nothing to speak) close.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/deadline_heap.h"
#include "host/gather_write.h"
#include "host/runtime.h"
#include "host/stream_close.h"
#include "serve/connection_driver.h"
#include "tls/tls_connection.h"

namespace h2::host {

template <class Stream>
class AsioConnection final : public serve::ConnectionRuntime,
                             public SessionBase,
                             private DeadlineHeap::Entry,
                             public std::enable_shared_from_this<AsioConnection<Stream>> {
 public:
  static constexpr size_t kReadBufferSize = 16 * 1024;
  static constexpr size_t kMaxWriteBytes = 256 * 1024;

  AsioConnection(Stream stream, ConnectionContext context)
      : stream_(std::move(stream)), context_(std::move(context)) {
    context_.worker->add(this);
    if constexpr (kReadWhenReadable) {
      boost::system::error_code ignored;  // set once: read_some after a wait never blocks
      stream_.non_blocking(true, ignored);
    }
  }
  ~AsioConnection() override {
    context_.worker->deadlines().cancel(*this);
    context_.worker->remove(this);
  }

  // Cleartext: the driver tells the client preface from an HTTP/1.1 request line. With `tls`
  // (the listener's context): the handshake first, then ALPN picks the protocol.
  void start(const tls::ServerContext& tls = nullptr) {
    context_.starting.reset();  // a connection from here on: counted as one
    // Owned by itself until close(): while a handler works on a request nothing else may hold
    // it (no read wanted, nothing to write; the worker's deadline heap holds no reference).
    self_ = this->shared_from_this();
    const HostConfig& config = context_.snapshot->config;
    serve::DriverPolicy policy;
    policy.protocols = context_.protocols;
    policy.limits =
        std::shared_ptr<const protocol::ConnectionOptions>(context_.snapshot, &config.limits);
    policy.preface_ms = config.timeouts.preface_ms;
    policy.write_ms = config.timeouts.write_ms;
    policy.shutdown_ms = config.timeouts.shutdown_ms;
    policy.http1 = context_.snapshot->http1;  // null in some tests: HTTP/1.1 is then refused
    if (tls) {
      auto make_driver = [this, policy](const char* version, std::string_view alpn) {
        std::optional<serve::DriverPolicy> chosen = tls::policy_after_handshake(policy, alpn);
        if (!chosen) return std::shared_ptr<serve::ConnectionDriver>();
        return std::make_shared<serve::ConnectionDriver>(
            *this, context_.snapshot->router, std::move(*chosen),
            serve::DriverPeer{context_.peer, true, version, tls::alpn_name(alpn)}, now());
      };
      engine_ = std::make_shared<tls::TlsConnection>(
          tls, std::move(make_driver),
          tls::TlsConnection::Limits{config.timeouts.tls_handshake_ms, config.timeouts.write_ms},
          now());
    } else {
      engine_ = std::make_shared<serve::ConnectionDriver>(*this, context_.snapshot->router,
                                                          std::move(policy),
                                                          serve::DriverPeer{context_.peer}, now());
    }
    pump();
    if (context_.worker->draining()) shutdown_gracefully();  // accepted as the listeners closed
  }

  // ---- serve::ConnectionRuntime ----
  std::shared_ptr<serve::Loop> loop() const override { return context_.worker->loop(); }
  uint64_t now() const override { return steady_now_ms(); }
  // Output queued from outside the loop (a module's timer or posted task): one pump, posted.
  void wake() override {
    if (pump_posted_ || closed_) return;
    pump_posted_ = true;
    boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->pump_posted_ = false;
      self->pump();
    });
  }

  // ---- SessionBase ----
  void shutdown_gracefully() override {
    if (closed_) return;
    engine_->drain(now());
    pump();
  }
  void close_now() override { close(); }

 private:
  // Sockets are read when readable into the worker thread's buffer (the way h2o and nginx do
  // it), so an idle connection holds no read buffer; other streams (test streams) read into one
  // of their own, allocated at the first read.
  static constexpr bool kReadWhenReadable = requires(Stream & s) {
    s.async_wait(boost::asio::socket_base::wait_read, [](boost::system::error_code) {});
    s.non_blocking(true);
  };
  // Streams whose write side can be shut alone (a socket) linger; others close at once.
  static constexpr bool kCanShutWrite = requires(Stream & s, boost::system::error_code& ec) {
    s.shutdown(boost::asio::socket_base::shutdown_send, ec);
  };

  static std::array<char, kReadBufferSize>& thread_read_buffer() {
    thread_local std::array<char, kReadBufferSize> buffer;
    return buffer;
  }

  void do_read() {
    reading_ = true;
    if constexpr (kReadWhenReadable) {
      stream_.async_wait(boost::asio::socket_base::wait_read,
                         [self = this->shared_from_this()](boost::system::error_code ec) {
                           self->reading_ = false;
                           if (self->closed_) return;
                           size_t n = 0;
                           auto& buffer = thread_read_buffer();
                           if (!ec) {
                             n = self->stream_.read_some(boost::asio::buffer(buffer), ec);
                             if (ec == boost::asio::error::would_block) return self->pump();
                           }
                           self->on_read(ec, std::string_view(buffer.data(), n));
                         });
    } else {
      if (!read_buffer_) read_buffer_ = std::make_unique<std::array<char, kReadBufferSize>>();
      stream_.async_read_some(
          boost::asio::buffer(*read_buffer_),
          [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
            self->reading_ = false;
            if (self->closed_) return;
            self->on_read(ec, std::string_view(self->read_buffer_->data(), n));
          });
    }
  }

  void on_read(boost::system::error_code ec, std::string_view bytes) {
    if (ec) {
      peer_eof_ = true;
      engine_->on_peer_eof(now(), /*failed=*/ec != boost::asio::error::eof);
    } else if (!bytes.empty()) {
      engine_->on_bytes(bytes, now());
    }
    pump();
  }

  void do_write() {
    // Scratch of this thread: only buffers_ must live while the write is in flight.
    thread_local std::vector<std::string_view> views;
    views.clear();
    const size_t total = engine_->pending_output(views, kMaxWriteBytes);
    if (total == 0) return;
    buffers_.clear();
    for (std::string_view v : views) buffers_.emplace_back(v.data(), v.size());
    writing_ = true;
    boost::asio::async_write(
        stream_, buffers_, TransferAllInWritesOf{kMaxWriteBytes},
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->writing_ = false;
          if (self->closed_) return;
          if (ec) {
            self->engine_->on_write_failed();
          } else {
            self->engine_->on_written(n, steady_now_ms());
          }
          self->pump();
        });
  }

  // Starts whatever I/O the engine wants, carries out its close, re-arms the timer.
  void pump() {
    if (closed_) return;
    if (!writing_ && engine_->wants_write()) do_write();
    switch (engine_->state()) {
      case serve::ConnectionEngine::State::kClosed:
      case serve::ConnectionEngine::State::kHandOff:  // TLS: nothing here speaks the client's
        return close();
      case serve::ConnectionEngine::State::kLingering:
        if (!writing_ && !engine_->wants_write() && !write_shut_) {  // TLS: close_notify first
          if constexpr (kCanShutWrite) {
            boost::system::error_code ignored;
            stream_.shutdown(boost::asio::socket_base::shutdown_send, ignored);
            write_shut_ = true;  // FIN after the last byte; read and drop until EOF
          } else {
            return close();
          }
        }
        break;
      default:
        break;
    }
    if (!reading_ && !peer_eof_ && engine_->wants_read()) do_read();
    arm_timer();
  }

  void arm_timer() {
    const std::optional<uint64_t> due = engine_->next_wakeup_ms();
    if (due && !timing_now_) {
      const uint64_t now = steady_now_ms();
      if (*due <= now) {
        // Due already - deadlines an API call started wait for a time (next_wakeup_ms() is the
        // core's last now) - so the time is given here rather than by a timer that fires at
        // once: that cost two timerfd_settime system calls per response. Once: the pump this
        // leads to arms a real timer if anything is still due.
        timing_now_ = true;
        on_timer_at(now);
        timing_now_ = false;
        return;
      }
    }
    // Lazy: a deadline that moved later (the write deadline moves with every write) stays
    // queued at the earlier time; it comes due there, finds nothing due and is queued again.
    // Moving it on every write cost a heap operation per write (and, with a timer per
    // connection, a timerfd_settime system call).
    if (!due || (queued() && *due >= this->due())) return;
    context_.worker->deadlines().schedule(*this, *due);
  }

  // DeadlineHeap::Entry: the worker's timer found this connection's deadline due.
  void on_due(uint64_t now) override {
    if (closed_) return;
    auto self = this->shared_from_this();  // the engine's callbacks may release the last owner
    on_timer_at(now);
  }

  void on_timer_at(uint64_t now) {
    engine_->on_time(now);
    pump();
  }

  // kClosed, failures, close_now(): close the socket at once. Pending handlers see closed_ and
  // return; the last one releases this object.
  void close() {
    if (closed_) return;
    closed_ = true;
    context_.worker->deadlines().cancel(*this);
    // Ends every open stream through on_stream_closed (modules hear on_cancel, flushes complete
    // with kClosed): the core's contract, nothing to poll.
    engine_->close_now();
    close_stream(stream_);
    self_.reset();  // last: may destroy this connection
  }

  Stream stream_;
  ConnectionContext context_;
  std::shared_ptr<serve::ConnectionEngine> engine_;
  std::shared_ptr<AsioConnection> self_;  // from start() until close()
  std::unique_ptr<std::array<char, kReadBufferSize>> read_buffer_;  // streams without async_wait
  std::vector<boost::asio::const_buffer> buffers_;
  bool timing_now_ = false;  // inside arm_timer's on_timer_at: no second synchronous round
  bool reading_ = false;
  bool writing_ = false;
  bool write_shut_ = false;
  bool peer_eof_ = false;
  bool pump_posted_ = false;
  bool closed_ = false;
};

}  // namespace h2::host
