// One server connection's serving policy, sans-I/O, the same for every runtime (Asio in
// host/asio_connection.h, io_uring in host/uring/, lwIP in lwip_runtime/). A runtime owns a
// socket (a kernel socket, an lwIP pcb, a test buffer), gives the driver bytes, time and the
// result of its writes, and carries out what the driver asks; nothing else.
//
// What the driver owns:
//   * the first-bytes decision (serve/first_bytes.h): the client preface (RFC 9113 §3.4) starts
//     HTTP/2; an HTTP/1.1 request line starts HTTP/1.1 (kHttp1), served by the engine of
//     DriverPolicy::http1 (serve/http1_engine.h) - including the h2c upgrade, after which the
//     core serves - or, without one, handed back to the runtime (kHandOff, take_sniffed());
//   * the HTTP/2 core (protocol::ServerConnection), an H2Exchange per request, dispatch;
//   * the deadlines: the preface (timeouts.preface_ms from the start until 24 bytes came), the
//     write (output pending and none of it written for timeouts.write_ms), the lingering close,
//     the core's own (idle, SETTINGS ack, ...) and modules' timers (H2Transport::schedule);
//   * draining for reloads and stops (drain()): GOAWAY once quiet, or at half of shutdown_ms;
//   * the close sequence: kLingering (the core is done and its output written: shut the write
//     side, read and drop until EOF or linger_ms), then kClosed; straight to kClosed when the
//     peer's EOF came first.
//
// The runtime's loop, for each event:
//   on_bytes(...) / on_peer_eof() / on_written(n) / on_time(now), then pump:
//     if wants_write():   views = pending_output(max); write a prefix; on_written(bytes written)
//     if wants_read():    keep reading (else stop: backpressure, the peer is not reading us)
//     switch state():     kLingering -> once nothing is left to write (an engine stacked on the
//                           driver, like TLS, may still have its close_notify), shut the write
//                           side once and keep reading (bytes dropped);
//                         kClosed -> close the socket; kHandOff -> serve HTTP/1.1 from
//                           take_sniffed() yourself, or close
//     arm one timer at next_wakeup_ms() (it may be in the past: call on_time at once)
// Every call takes the runtime's clock (`now`, milliseconds, monotonic). There is no separate
// rule of "on_time() before consume_output()": on_written(n, now) gives the core the time first.
//
// Output produced outside these calls (a module's posted task, a timer) is announced through
// ConnectionRuntime::wake(): the runtime runs its pump soon, never inside wake().
//
// Ownership: make with std::make_shared (exchanges hold it weakly as their H2Transport); the
// runtime must outlive it. Once state() is kClosed the driver calls nothing on the runtime.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/server_connection.h"
#include "serve/connection_engine.h"
#include "serve/first_bytes.h"
#include "serve/h2_exchange.h"
#include "serve/http1_engine.h"
#include "serve/router.h"

namespace h2::serve {

// What the runtime gives the driver of each connection.
class ConnectionRuntime {
 public:
  virtual ~ConnectionRuntime() = default;
  // The connection's thread (module threads post onto it).
  virtual std::shared_ptr<Loop> loop() const = 0;
  // Output or a deadline changed outside the runtime's own calls (a module's posted task or
  // timer): run the pump soon - posted, never inline. May come many times before that pump runs:
  // the runtime coalesces.
  virtual void wake() = 0;
  // The runtime's clock (the one it passes as `now`): for timers set outside its calls.
  virtual uint64_t now() const = 0;
};

struct DriverPolicy {
  Protocols protocols;  // what the listener offers on cleartext
  // The HTTP/2 core's limits, shared (an idle connection should not carry its own 136-byte
  // copy): e.g. an aliasing shared_ptr into the runtime's configuration snapshot. null: defaults.
  std::shared_ptr<const protocol::ConnectionOptions> limits;
  uint64_t preface_ms = 10'000;
  uint64_t write_ms = 30'000;
  uint64_t shutdown_ms = 10'000;  // drain: GOAWAY at the latest after half of it
  uint64_t linger_ms = 2'000;     // lingering close: read and drop until EOF, at most this
  bool skip_sniffing = false;     // ALPN chose h2: the bytes go to the core at once
  // Serves HTTP/1.1 (request lines on cleartext, ALPN http/1.1 with protocols {http1 only}).
  // null: HTTP/1.1 is handed back to the runtime (kHandOff).
  std::shared_ptr<const Http1EngineFactory> http1;
};

struct DriverPeer {
  std::string address;  // "ip:port", for logs and modules
  bool tls = false;
  const char* tls_version = nullptr;  // static strings (SSL_get_version), for the access log
  const char* alpn = nullptr;
};

class ConnectionDriver final : public ConnectionEngine,
                               public protocol::RequestHandler,
                               public H2Transport,
                               public std::enable_shared_from_this<ConnectionDriver> {
 public:
  // kSniffing, kHttp1 (the policy's HTTP/1.1 engine serves), kHttp2, kHandOff (HTTP/1.1 for
  // the runtime: take_sniffed()), kLingering, kClosed: ConnectionEngine::State.

  ConnectionDriver(ConnectionRuntime& runtime, std::shared_ptr<const Router> router,
                   DriverPolicy policy, DriverPeer peer, uint64_t now);
  ~ConnectionDriver() override;

  State state() const override;

  // Bytes the peer sent, in order. Dropped in kLingering / kClosed.
  void on_bytes(std::string_view bytes, uint64_t now) override;
  // The peer will send nothing more (EOF, or a read error: `failed`).
  void on_peer_eof(uint64_t now, bool failed) override;
  // Up to `max_bytes` of output as views (valid until on_written or the next driver call that
  // may change output). Returns their total (0: nothing to write).
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes) override;
  // `n` bytes of the last pending_output were written (any prefix; 0 = none, e.g. would block).
  void on_written(size_t n, uint64_t now) override;
  // A write failed: the peer is gone. The connection closes (kClosed).
  void on_write_failed() override;
  // The clock moved: runs what is due (deadlines, the core's timers, modules' timers).
  void on_time(uint64_t now) override;

  bool wants_read() const override;
  bool wants_write() const override;
  // The earliest time on_time() has work; nullopt = nothing scheduled. May be in the past.
  std::optional<uint64_t> next_wakeup_ms() const override;

  // Reload / stop: finish what is in flight, then close (HTTP/2: GOAWAY when quiet or at half
  // of shutdown_ms; HTTP/1.1: the request in progress, then close; not classified yet: drains
  // once classified - a request may be on its way - and a kHandOff is the runtime's).
  void drain(uint64_t now) override;
  // Close now (the shutdown timeout passed, the runtime is going away): kClosed.
  void close_now() override;

  // kHandOff: the bytes read so far (moved out; the driver keeps none).
  std::string take_sniffed() override;

  // ---- protocol::RequestHandler (the core calls these) ----
  void on_request(protocol::Reqd& reqd) override;
  void on_stream_closed(protocol::Reqd& reqd, protocol::StreamEnd end,
                        protocol::ErrorCode code) override;
  void on_output_ready() override;

  // ---- H2Transport (exchanges call these) ----
  void schedule(uint64_t delay_ms, std::function<void()> fn) override;
  std::shared_ptr<Loop> loop() const override { return runtime_.loop(); }

 private:
  void start_http2(std::string_view initial, uint64_t now);
  void start_http1(uint64_t now);
  void settle_http1();
  void drain_check(uint64_t received_before);
  void after_output_change();
  void end(State next);

  ConnectionRuntime& runtime_;
  std::shared_ptr<const Router> router_;
  DriverPolicy policy_;
  DriverPeer peer_;
  State state_ = State::kSniffing;
  std::optional<protocol::ServerConnection> core_;
  std::shared_ptr<Http1Engine> http1_;  // kHttp1 served here
  std::string sniffed_;
  uint64_t now_;
  uint64_t start_ms_;
  uint64_t received_ = 0;
  uint64_t write_waiting_since_ = 0;  // output pending and unwritten since (0: none pending)
  uint64_t linger_until_ = 0;
  uint64_t drain_deadline_ = 0;  // 0: not draining; 1 while sniffing: drain once it is HTTP/2
  bool peer_eof_ = false;        // the peer sent everything it will (no linger needed)
  // Modules' timers and the drain check, made at the first (most connections never have one).
  using Timers = std::multimap<uint64_t, std::function<void()>>;
  std::unique_ptr<Timers> timers_;
  bool has_timers() const { return timers_ && !timers_->empty(); }
};

}  // namespace h2::serve
