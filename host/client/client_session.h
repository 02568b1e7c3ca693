// An HTTP/2 client connection over an Asio stream (TCP, TLS, Unix socket): the runtime adapter
// of protocol::ClientConnection, the mirror of host/asio_connection.h. One async_read_some at a
// time -> process_bytes; one gather async_write of pending_output -> consume_output; one
// steady_timer for next_wakeup_ms and the session's own response / idle timeouts.
//
// Threading: everything runs on the stream's executor (one thread). The embedder submits
// requests and writes bodies through connection() from that thread; the connection then calls
// on_output_ready, and the session posts one pump. Events reach the embedder's ClientHandler,
// to which the session forwards every callback.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/client/client_forwarder.h"
#include "host/runtime.h"
#include "host/gather_write.h"
#include "host/write_staging.h"
#include "protocol/client_connection.h"

namespace h2::host::client {

struct SessionOptions {
  protocol::ClientOptions h2;
  // No byte from the server for this long while a request is open: the connection fails (0: off).
  uint64_t response_timeout_ms = 30'000;
  // No open request for this long: graceful shutdown (GOAWAY) and close (0: never).
  uint64_t idle_timeout_ms = 0;
  // Sees every byte read (outgoing = false) and handed to a write (true), from the client
  // preface on: `h2get -v`.
  std::function<void(std::string_view bytes, bool outgoing)> tap;
};

// What the embedder holds: the connection and a way to end it. Type-erased over the stream.
class Session {
 public:
  virtual ~Session() = default;
  protocol::ClientConnection& connection() { return *conn_; }
  bool closed() const { return closed_; }
  // GOAWAY(NO_ERROR); open requests finish, then the socket closes. May be called from a
  // ClientHandler callback (it takes effect right after it).
  virtual void shutdown() = 0;
  // Closes the socket now; open requests end with kConnectionEnded.
  virtual void close() = 0;
  // Why the connection failed, when it did ("response timeout", an I/O error).
  const std::string& failure() const { return failure_; }
  // The address connected to: "ip:port", "[v6]:port" or "unix:/path" (set by async_connect).
  const std::string& peer() const { return peer_; }
  void set_peer(std::string peer) { peer_ = std::move(peer); }

 protected:
  std::optional<protocol::ClientConnection> conn_;
  std::string failure_;
  std::string peer_;
  bool closed_ = false;
};

template <class Stream>
class StreamSession final : public Session,
                            public ClientForwarder,
                            public std::enable_shared_from_this<StreamSession<Stream>> {
 public:
  static constexpr size_t kReadBufferSize = 16 * 1024;
  static constexpr size_t kMaxWriteBytes = 256 * 1024;

  // `handler` must outlive the session's callbacks (until on_connection_closed).
  StreamSession(Stream stream, protocol::ClientHandler* handler, const SessionOptions& options)
      : ClientForwarder(handler), stream_(std::move(stream)), options_(options),
        timer_(stream_.get_executor()) {}

  // Queues the preface and starts reading and writing. Call once, on the stream's executor.
  void start() {
    conn_.emplace(this, options_.h2, steady_now_ms());
    last_activity_ms_ = steady_now_ms();
    pump();
  }
  Stream& stream() { return stream_; }

  void shutdown() override {
    // Posted: the connection refuses driving calls from inside its own callbacks.
    boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->closed_) return;
      self->conn_->start_graceful_shutdown(steady_now_ms());
      self->pump();
    });
  }
  void close() override { end(""); }

  // ---- ClientHandler (the rest is forwarded by ClientForwarder) ----
  void on_output_ready() override {
    if (pump_posted_ || closed_) return;
    pump_posted_ = true;
    boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->pump_posted_ = false;
      self->pump();
    });
  }

 private:
  void do_read() {
    if (!read_buffer_) read_buffer_ = std::make_unique<char[]>(kReadBufferSize);
    reading_ = true;
    stream_.async_read_some(
        boost::asio::buffer(read_buffer_.get(), kReadBufferSize),
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->reading_ = false;
          if (self->closed_) return;
          if (ec) {
            if (ec != boost::asio::error::eof) self->failure_ = ec.message();
            self->conn_->on_peer_eof();
            self->peer_gone_ = true;
          } else {
            const std::string_view bytes(self->read_buffer_.get(), n);
            if (self->options_.tap) self->options_.tap(bytes, false);
            self->last_activity_ms_ = steady_now_ms();
            self->conn_->process_bytes(bytes, self->last_activity_ms_);
          }
          self->pump();
        });
  }

  void do_write() {
    views_.clear();
    const size_t total = conn_->pending_output(views_, write_limit<Stream>(kMaxWriteBytes));
    if (total == 0) return;
    if (options_.tap) {
      for (std::string_view v : views_) options_.tap(v, true);
    }
    prepare_write<Stream>(views_, staging_, buffers_);
    writing_ = true;
    boost::asio::async_write(
        stream_, buffers_, TransferAllInWritesOf{kMaxWriteBytes},
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->writing_ = false;
          self->staging_.release();
          if (self->closed_) return;
          if (ec) return self->end(ec.message());
          self->conn_->consume_output(n);
          self->pump();
        });
  }

  void pump() {
    if (closed_) return;
    if (!writing_ && conn_->wants_write()) do_write();
    if (!reading_ && !peer_gone_ && conn_->wants_read()) do_read();
    if (!writing_ && (conn_->is_closed() || (peer_gone_ && !conn_->wants_write()))) {
      return end("");
    }
    if (conn_->open_stream_count() + conn_->queued_request_count() > 0) idle_since_ms_ = 0;
    else if (idle_since_ms_ == 0) idle_since_ms_ = steady_now_ms();
    arm_timer();
  }

  std::optional<uint64_t> due_ms() const {
    std::optional<uint64_t> due = conn_->next_wakeup_ms();
    auto at = [&](uint64_t t) { due = std::min(due.value_or(UINT64_MAX), t); };
    if (options_.response_timeout_ms > 0 && conn_->open_stream_count() > 0) {
      at(last_activity_ms_ + options_.response_timeout_ms);
    }
    if (options_.idle_timeout_ms > 0 && idle_since_ms_ != 0) {
      at(idle_since_ms_ + options_.idle_timeout_ms);
    }
    return due;
  }

  void arm_timer() {
    const std::optional<uint64_t> due = due_ms();
    // Lazy: a deadline that moved later (the write deadline moves with every write) keeps the
    // timer armed at the earlier time; it fires there, finds nothing due and re-arms. Re-arming
    // on every write cost a timerfd_settime system call per write.
    if (!due || (armed_ms_ != 0 && *due >= armed_ms_)) return;
    armed_ms_ = *due;
    timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::milliseconds(*due)));
    timer_.async_wait([self = this->shared_from_this(), due = *due](boost::system::error_code ec) {
      if (ec || self->closed_ || self->armed_ms_ != due) return;
      self->armed_ms_ = 0;
      self->on_timer();
    });
  }

  void on_timer() {
    const uint64_t now = steady_now_ms();
    if (options_.response_timeout_ms > 0 && conn_->open_stream_count() > 0 &&
        now >= last_activity_ms_ + options_.response_timeout_ms) {
      return end("response timeout: no bytes from the server for " +
                 std::to_string(options_.response_timeout_ms) + " ms");
    }
    if (options_.idle_timeout_ms > 0 && idle_since_ms_ != 0 &&
        now >= idle_since_ms_ + options_.idle_timeout_ms) {
      idle_since_ms_ = 0;
      conn_->start_graceful_shutdown(now);
    } else {
      conn_->on_time(now);
    }
    pump();
  }

  // Destroying the connection ends every open stream through on_stream_closed and then
  // on_connection_closed (the connection's contract).
  void end(std::string reason) {
    if (closed_) return;
    if (!reason.empty() && failure_.empty()) failure_ = std::move(reason);
    closed_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    stream_.lowest_layer().close(ignored);
    auto keep = this->shared_from_this();  // the handler may drop its last reference
    conn_.reset();
  }

  Stream stream_;
  SessionOptions options_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<char[]> read_buffer_;
  std::vector<std::string_view> views_;
  std::vector<boost::asio::const_buffer> buffers_;
  WriteStaging staging_;
  uint64_t last_activity_ms_ = 0;
  uint64_t idle_since_ms_ = 0;
  uint64_t armed_ms_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool pump_posted_ = false;
  bool peer_gone_ = false;
};

}  // namespace h2::host::client
