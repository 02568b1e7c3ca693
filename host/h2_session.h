// The HTTP/2 adapter: drives one sans-I/O protocol::ServerConnection over any Asio AsyncStream
// (TCP socket, ssl::stream, Unix socket, a test stream). Like Beast's algorithms it is generic
// over the stream type; host/sessions.cc instantiates it for the stream types h2host uses.
//
// Loop: one read at a time (sockets: wait until readable, then read into the worker thread's
// buffer; other streams: async_read_some into a buffer of the session's own) -> process_bytes; one gather
// async_write at a time of the core's pending_output views -> consume_output; one steady_timer
// armed at the earliest of the core's next_wakeup_ms(), the preface deadline (no complete client
// preface yet) and the write deadline (a write in flight). Reads and writes overlap. Nothing on
// this path allocates per request except the Exchange object handed to the module. When the
// core is closed and its output written, the connection ends with a lingering close
// (host/lingering_close.h). Everything else comes from the core's contract
// (protocol/request_handler.h): on_stream_closed ends each exchange, on_output_ready posts a
// pump for output queued from outside the loop.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serve/h2_exchange.h"
#include "host/lingering_close.h"
#include "serve/log.h"
#include "host/runtime.h"
#include "host/stream_close.h"
#include "host/write_staging.h"
#include "protocol/server_connection.h"

namespace h2::host {

template <class Stream>
class H2Session final : public protocol::RequestHandler,
                        public serve::H2Transport,
                        public SessionBase,
                        public std::enable_shared_from_this<H2Session<Stream>> {
 public:
  static constexpr size_t kReadBufferSize = 16 * 1024;
  static constexpr size_t kMaxWriteBytes = 256 * 1024;

  H2Session(Stream stream, ConnectionContext context)
      : stream_(std::move(stream)),
        context_(std::move(context)),
        timer_(stream_.get_executor()) {
    context_.worker->add(this);
    if constexpr (kReadWhenReadable) {
      boost::system::error_code ignored;  // set once: read_some after a wait never blocks
      stream_.non_blocking(true, ignored);
    }
  }
  ~H2Session() override { context_.worker->remove(this); }

  // Prior knowledge or ALPN h2: `initial` holds bytes already read (the start of the preface).
  void start(std::string_view initial) {
    conn_.emplace(this, context_.snapshot->config.limits, steady_now_ms());
    feed(initial);
    pump();
    if (context_.worker->draining()) shutdown_gracefully();  // accepted as the listeners closed
  }

  // After "101 Switching Protocols": stream 1 is the upgrading request.
  void start_upgraded(std::string_view settings_payload, protocol::UpgradeRequest request,
                      std::string_view initial) {
    conn_.emplace(this, context_.snapshot->config.limits, steady_now_ms(), settings_payload,
                  std::move(request));
    feed(initial);
    pump();
  }

  // ---- protocol::RequestHandler ----
  void on_request(protocol::Reqd& reqd) override {
    preface_seen_ = true;
    auto exchange = std::make_shared<serve::H2Exchange>(
        reqd, context_.peer, context_.tls, std::weak_ptr<serve::H2Transport>(this->weak_from_this()));
    if (serve::Log::access_enabled()) {
      exchange->access_notes.tls_version = context_.tls_version;
      exchange->access_notes.alpn = context_.alpn;
    }
    serve::dispatch_request(context_.snapshot->router, exchange);
  }
  void on_stream_closed(protocol::Reqd& reqd, protocol::StreamEnd end,
                        protocol::ErrorCode) override {
    if (auto* exchange = static_cast<serve::H2Exchange*>(reqd.user_data())) exchange->stream_ended(end);
  }
  // Output queued from outside the loop (a module's timer or posted task): one pump, posted.
  void on_output_ready() override {
    if (pump_posted_ || closed_) return;
    pump_posted_ = true;
    boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->pump_posted_ = false;
      self->pump();
    });
  }

  // ---- H2Transport ----
  std::shared_ptr<serve::Loop> loop() const override { return context_.worker->loop(); }
  void schedule(uint64_t delay_ms, std::function<void()> fn) override {
    auto timer = std::make_shared<boost::asio::steady_timer>(stream_.get_executor());
    timer->expires_after(std::chrono::milliseconds(delay_ms));
    timer->async_wait([timer, weak = this->weak_from_this(), fn = std::move(fn)](auto ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      fn();
      self->pump();
    });
  }

  // ---- SessionBase ----
  // Draining (host/server.h): GOAWAY once the connection is quiet - no open stream and no bytes
  // for one check - or at half of timeouts.shutdown_ms, so that a busy client (even one that
  // cannot retry what a GOAWAY refuses, like h2load) finishes its work here and loses nothing.
  void shutdown_gracefully() override {
    if (!conn_ || closed_ || drain_deadline_ms_ != 0) return;
    drain_deadline_ms_ = steady_now_ms() + context_.snapshot->config.timeouts.shutdown_ms / 2;
    schedule(kDrainCheckMs, [this, seen = received_] { drain_check(seen); });
  }
  void close_now() override { close(); }

 private:
  static constexpr uint64_t kDrainCheckMs = 100;
  void drain_check(uint64_t received_before) {
    if (closed_) return;
    const bool quiet = conn_->open_stream_count() == 0 && received_ == received_before;
    if (quiet || steady_now_ms() >= drain_deadline_ms_) {
      conn_->start_graceful_shutdown(steady_now_ms());
      pump();
      return;
    }
    schedule(kDrainCheckMs, [this, seen = received_] { drain_check(seen); });
  }

  void feed(std::string_view bytes) {
    if (bytes.empty()) return;
    received_ += bytes.size();
    if (received_ >= 24) preface_seen_ = true;
    conn_->process_bytes(bytes, steady_now_ms());
  }

  // Sockets are read when readable into the worker thread's buffer (the way h2o and nginx do
  // it), so an idle connection holds no read buffer; other streams (TLS, test streams) read
  // into one of their own, allocated at the first read.
  static constexpr bool kReadWhenReadable = requires(Stream& s) {
    s.async_wait(boost::asio::socket_base::wait_read, [](boost::system::error_code) {});
    s.non_blocking(true);
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
                           if (self->closed_) return self->linger_.read_finished(self);
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
            if (self->closed_) return self->linger_.read_finished(self);
            self->on_read(ec, std::string_view(self->read_buffer_->data(), n));
          });
    }
  }

  void on_read(boost::system::error_code ec, std::string_view bytes) {
    if (ec) {
      conn_->on_peer_eof();
      if (ec != boost::asio::error::eof) peer_failed_ = true;
    } else {
      feed(bytes);
    }
    pump();
  }

  void do_write() {
    // Scratch of this thread: only buffers_ must live while the write is in flight.
    thread_local std::vector<std::string_view> views;
    views.clear();
    const size_t total = conn_->pending_output(views, write_limit<Stream>(kMaxWriteBytes));
    if (total == 0) return;
    prepare_write<Stream>(views, staging_, buffers_);
    writing_ = true;
    write_started_ms_ = steady_now_ms();
    boost::asio::async_write(
        stream_, buffers_,
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->writing_ = false;
          self->staging_.release();
          if (self->closed_) return;
          if (ec) {
            self->peer_failed_ = true;
            self->close();
            return;
          }
          self->conn_->on_time(steady_now_ms());
          self->conn_->consume_output(n);
          self->pump();
        });
  }

  // Starts whatever I/O the core wants, closes when it is done, re-arms the timer.
  void pump() {
    if (closed_ || !conn_) return;
    if (!writing_ && conn_->wants_write()) do_write();
    if (!reading_ && !peer_failed_ && conn_->wants_read()) do_read();
    if (conn_->is_closed() && !writing_) {
      finish();
      return;
    }
    if (peer_failed_ && !writing_ && !conn_->wants_write()) {
      close();
      return;
    }
    arm_timer();
  }

  void arm_timer() {
    std::optional<uint64_t> due = conn_->next_wakeup_ms();
    const TimeoutConfig& t = context_.snapshot->config.timeouts;
    if (!preface_seen_) due = std::min(due.value_or(UINT64_MAX), start_ms_ + t.preface_ms);
    if (writing_) due = std::min(due.value_or(UINT64_MAX), write_started_ms_ + t.write_ms);
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

  void on_timer() { on_timer_at(steady_now_ms()); }

  void on_timer_at(uint64_t now) {
    const TimeoutConfig& t = context_.snapshot->config.timeouts;
    if ((!preface_seen_ && now >= start_ms_ + t.preface_ms) ||
        (writing_ && now >= write_started_ms_ + t.write_ms)) {
      H2_LOG(kInfo, "h2 connection from " + context_.peer + ": " +
                        (writing_ ? "write timeout" : "preface timeout"));
      close();
      return;
    }
    conn_->on_time(now);
    pump();
  }

  // The core is done and all of its output was written: a lingering close, so that the peer's
  // last unread frames (e.g. WINDOW_UPDATE for our last DATA) do not turn our close into an RST
  // that destroys the end of the response in the peer's receive buffer (RFC 9113 §6.8: after
  // a client's GOAWAY the open streams complete, then the connection closes).
  void finish() {
    if (closed_) return;
    end_core();
    linger_.start(this->shared_from_this(), reading_);
  }

  // Failures, timeouts, close_now(): close the socket at once.
  void close() {
    if (closed_) {
      linger_.abort();  // close_now() during a lingering close
      return;
    }
    linger_.abort();
    end_core();
  }

  void end_core() {
    closed_ = true;
    timer_.cancel();
    // Destroying the core ends every open stream through on_stream_closed (modules hear
    // on_cancel, flushes complete with kClosed): the core's contract, nothing to poll.
    conn_.reset();
  }

  Stream stream_;
  ConnectionContext context_;
  boost::asio::steady_timer timer_;
  LingeringClose<Stream> linger_{stream_};
  std::optional<protocol::ServerConnection> conn_;
  std::unique_ptr<std::array<char, kReadBufferSize>> read_buffer_;  // streams without async_wait
  std::vector<boost::asio::const_buffer> buffers_;
  WriteStaging staging_;  // TLS: the write in flight, copied into one buffer
  uint64_t start_ms_ = steady_now_ms();
  uint64_t write_started_ms_ = 0;
  uint64_t armed_ms_ = 0;
  bool timing_now_ = false;  // inside arm_timer's on_timer_at: no second synchronous round
  uint64_t received_ = 0;
  uint64_t drain_deadline_ms_ = 0;  // set by shutdown_gracefully()
  bool preface_seen_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool pump_posted_ = false;
  bool closed_ = false;
  bool peer_failed_ = false;
};

}  // namespace h2::host
