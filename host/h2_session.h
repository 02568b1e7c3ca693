// The HTTP/2 adapter of the Asio runtime: the I/O of one serve::ConnectionDriver (which owns
// the core, the deadlines, draining and the close sequence) over any Asio AsyncStream (TCP
// socket, ssl::stream, Unix socket, a test stream). Like Beast's algorithms it is generic over
// the stream type; host/sessions.cc instantiates it for the stream types h2host uses.
//
// Loop: one read at a time (sockets: wait until readable, then read into the worker thread's
// buffer; other streams: async_read_some into a buffer of the session's own) -> on_bytes; one
// gather async_write at a time of the driver's pending_output views -> on_written; one
// steady_timer at the driver's next_wakeup_ms(). Reads and writes overlap. Nothing on this path
// allocates per request except the Exchange object handed to the module. kLingering is carried
// out by host/lingering_close.h (TLS close_notify, FIN, read and drop), kClosed closes at once.
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

#include "host/lingering_close.h"
#include "host/runtime.h"
#include "host/stream_close.h"
#include "host/write_staging.h"
#include "serve/connection_driver.h"

namespace h2::host {

template <class Stream>
class H2Session final : public serve::ConnectionRuntime,
                        public SessionBase,
                        public std::enable_shared_from_this<H2Session<Stream>> {
 public:
  static constexpr size_t kReadBufferSize = 16 * 1024;
  static constexpr size_t kMaxWriteBytes = 256 * 1024;

  H2Session(Stream stream, ConnectionContext context)
      : stream_(std::move(stream)), context_(std::move(context)), timer_(stream_.get_executor()) {
    context_.worker->add(this);
    if constexpr (kReadWhenReadable) {
      boost::system::error_code ignored;  // set once: read_some after a wait never blocks
      stream_.non_blocking(true, ignored);
    }
  }
  ~H2Session() override { context_.worker->remove(this); }

  // What serves a cleartext connection whose first bytes are an HTTP/1.1 request line: the
  // stream and every byte read so far (host/connection_start.h gives Http1Session's).
  using Http1Start = void (*)(Stream&& stream, ConnectionContext context, std::string initial);

  // A new cleartext connection: the driver reads its first bytes (serve/first_bytes.h) and
  // either serves HTTP/2 here or hands the stream to `http1`.
  void start_sniffing(Http1Start http1) {
    http1_ = http1;
    context_.starting.reset();  // a session from here on: counted as one
    make_driver(/*skip_sniffing=*/false);
    pump();
    if (context_.worker->draining()) shutdown_gracefully();  // accepted as the listeners closed
  }

  // Prior knowledge or ALPN h2: `initial` holds bytes already read (the start of the preface).
  void start(std::string_view initial) {
    make_driver(/*skip_sniffing=*/true);
    feed(initial);
    pump();
    if (context_.worker->draining()) shutdown_gracefully();  // accepted as the listeners closed
  }

  // After "101 Switching Protocols": stream 1 is the upgrading request.
  void start_upgraded(std::string_view settings_payload, protocol::UpgradeRequest request,
                      std::string_view initial) {
    make_driver(/*skip_sniffing=*/false);
    driver_->start_upgraded(settings_payload, std::move(request), now());
    feed(initial);
    pump();
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
    if (closed_ || !driver_) return;  // (an HTTP/1.1 hand-off drains in Http1Session)
    driver_->drain(now());
    pump();
  }
  void close_now() override { close(); }

 private:
  void make_driver(bool skip_sniffing) {
    const HostConfig& config = context_.snapshot->config;
    serve::DriverPolicy policy;
    policy.protocols = context_.protocols;
    policy.limits =
        std::shared_ptr<const protocol::ConnectionOptions>(context_.snapshot, &config.limits);
    policy.preface_ms = config.timeouts.preface_ms;
    policy.write_ms = config.timeouts.write_ms;
    policy.shutdown_ms = config.timeouts.shutdown_ms;
    policy.skip_sniffing = skip_sniffing;
    policy.http1 = context_.snapshot->http1;  // null in some tests: HTTP/1.1 -> Http1Session
    serve::DriverPeer peer{context_.peer, context_.tls, context_.tls_version, context_.alpn};
    driver_ = std::make_shared<serve::ConnectionDriver>(*this, context_.snapshot->router, policy,
                                                        std::move(peer), now());
  }

  void feed(std::string_view bytes) {
    if (!bytes.empty()) driver_->on_bytes(bytes, now());
  }

  // Sockets are read when readable into the worker thread's buffer (the way h2o and nginx do
  // it), so an idle connection holds no read buffer; other streams (TLS, test streams) read
  // into one of their own, allocated at the first read.
  static constexpr bool kReadWhenReadable = requires(Stream & s) {
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
      driver_->on_peer_eof(now(), /*failed=*/ec != boost::asio::error::eof);
    } else {
      feed(bytes);
    }
    pump();
  }

  void do_write() {
    // Scratch of this thread: only buffers_ must live while the write is in flight.
    thread_local std::vector<std::string_view> views;
    views.clear();
    const size_t total = driver_->pending_output(views, write_limit<Stream>(kMaxWriteBytes));
    if (total == 0) return;
    prepare_write<Stream>(views, staging_, buffers_);
    writing_ = true;
    boost::asio::async_write(
        stream_, buffers_,
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->writing_ = false;
          self->staging_.release();
          if (self->closed_) return;
          if (ec) {
            self->driver_->on_write_failed();
          } else {
            self->driver_->on_written(n, steady_now_ms());
          }
          self->pump();
        });
  }

  // Starts whatever I/O the driver wants, carries out its close, re-arms the timer.
  void pump() {
    if (closed_ || !driver_) return;
    if (!writing_ && driver_->wants_write()) do_write();
    switch (driver_->state()) {
      case serve::ConnectionDriver::State::kClosed:
        return close();
      case serve::ConnectionDriver::State::kLingering:
        if (!writing_) return finish();
        break;
      case serve::ConnectionDriver::State::kHandOff:
        return hand_off_http1();
      default:
        break;
    }
    if (!reading_ && driver_->wants_read()) do_read();
    arm_timer();
  }

  void arm_timer() {
    const std::optional<uint64_t> due = driver_->next_wakeup_ms();
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
      self->on_timer_at(steady_now_ms());
    });
  }

  void on_timer_at(uint64_t now) {
    driver_->on_time(now);
    pump();
  }

  // No read is in flight (the driver stopped wanting bytes when it classified them).
  void hand_off_http1() {
    closed_ = true;
    timer_.cancel();
    std::string initial = driver_->take_sniffed();
    driver_.reset();
    if (http1_ != nullptr) http1_(std::move(stream_), context_, std::move(initial));
  }

  // The driver's kLingering, by host/lingering_close.h: TLS close_notify, FIN, read and drop
  // until EOF or its bound, so that the peer's last unread frames do not turn our close into an
  // RST that destroys the end of the response in the peer's receive buffer.
  void finish() {
    if (closed_) return;
    end_driver();
    linger_.start(this->shared_from_this(), reading_);
  }

  // kClosed, failures, close_now(): close the socket at once.
  void close() {
    if (closed_) {
      linger_.abort();  // close_now() during a lingering close
      return;
    }
    linger_.abort();
    end_driver();
  }

  void end_driver() {
    closed_ = true;
    timer_.cancel();
    // Ends every open stream through on_stream_closed (modules hear on_cancel, flushes complete
    // with kClosed): the core's contract, nothing to poll.
    if (driver_) driver_->close_now();
  }

  Stream stream_;
  ConnectionContext context_;
  boost::asio::steady_timer timer_;
  LingeringClose<Stream> linger_{stream_};
  std::shared_ptr<serve::ConnectionDriver> driver_;
  std::unique_ptr<std::array<char, kReadBufferSize>> read_buffer_;  // streams without async_wait
  std::vector<boost::asio::const_buffer> buffers_;
  WriteStaging staging_;  // TLS: the write in flight, copied into one buffer
  uint64_t armed_ms_ = 0;
  bool timing_now_ = false;  // inside arm_timer's on_timer_at: no second synchronous round
  bool reading_ = false;
  bool writing_ = false;
  bool pump_posted_ = false;
  bool closed_ = false;
  Http1Start http1_ = nullptr;
};

}  // namespace h2::host
