// One request/response exchange as the host's modules see it, independent of the wire protocol.
// The host implements it twice: over HTTP/2 (on top of protocol/'s Reqd) and over HTTP/1.1
// (Boost.Beast). The module loader's SDK bridge (serve/sdk_bridge.h) exposes it to .so modules
// through the C ABI of sdk/include/h2/abi.h; in-process handlers may use it directly.
//
// It mirrors the respond API of protocol/ (ocaml-h2's Reqd): the request head, the request body
// read with backpressure, request trailers; one response as a string (moved in), a shared
// immutable buffer (never copied) or a streaming body (write copies, write_borrowed does not,
// flush reports written/closed, trailers, close); informational 1xx; server push; reset; a
// cancellation notification; and a timer on the connection's thread.
//
// Threading: every call happens on the connection's thread (one io_context per worker), and
// every callback is invoked on that thread too. No method blocks.
//
// Lifetime: the host creates the Exchange and hands a std::shared_ptr to Handler::handle. The
// handler keeps it for as long as it needs it (asynchronous handlers capture it in callbacks).
// When the stream or connection goes away first (peer reset, connection closed, shutdown), the
// Exchange becomes "closed": every later respond/write returns ExchangeResult::kClosed, pending
// flush callbacks get FlushResult::kClosed, the cancel callback runs once, pending read
// callbacks and timers are destroyed without being called. An Exchange must therefore never own
// the connection; it holds a weak link to it. Once the exchange is closed - completed normally
// too - the host destroys every callback it still holds (on_cancel, a pending read), so
// callbacks capturing the exchange never keep it alive in a cycle.
//
// Errors: no method throws. Capabilities the protocol cannot express return kUnsupported.
//
// Example call sequences (handler side):
//   GET, string:    ex->respond_with_string({200, {{"content-type", "text/plain"}}}, "hi\n");
//   POST, echo:     ex->respond_streaming({200, {}});
//                   ex->read_body(on_chunk: write(chunk) then flush(cb: read_body(...)),
//                                 on_eof: close_body());
//   server push:    auto p = ex->push({"GET", "/style.css", {}});
//                   if (p.result == kOk) p.exchange->respond_with_string(...);
//                   ex->respond_with_string(...);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reqd.h"
#include "serve/loop.h"
#include "serve/upstream_note.h"

namespace h2::serve {

// One header field. Views: the owner of the bytes is named where the type is used.
// One header field: the core's own type (name lowercase, value, `sensitive` = never indexed),
// so HTTP/2 exchanges hand fields to and from protocol/ without converting or allocating.
using HeaderField = protocol::Field;

enum class HttpVersion { kHttp11, kHttp2 };

// Result of every operation that may not apply.
enum class ExchangeResult {
  kOk = 0,
  kUnsupported,  // not expressible on this protocol (e.g. push on HTTP/1.1)
  kRefused,      // the peer refused it (push disabled, its stream limit reached)
  kClosed,       // the stream is gone (reset, connection closed)
  kInvalid,      // misuse: a second response, a write without a streaming response, bad status
};

// Printable name ("ok", "unsupported", "refused", "closed", "invalid").
inline const char* to_string(ExchangeResult r) {
  switch (r) {
    case ExchangeResult::kOk:
      return "ok";
    case ExchangeResult::kUnsupported:
      return "unsupported";
    case ExchangeResult::kRefused:
      return "refused";
    case ExchangeResult::kClosed:
      return "closed";
    case ExchangeResult::kInvalid:
      return "invalid";
  }
  return "unknown";
}

enum class FlushResult { kWritten, kClosed };

// A response head. The Exchange copies (encodes) the fields before the call returns, so the
// views only need to live for the duration of the call.
struct ResponseHead {
  int status = 200;
  std::span<const HeaderField> headers;
};

// A request head to push (RFC 9113 §8.4): method must be safe and cacheable (GET/HEAD);
// scheme and authority are taken from the parent request. Views live for the call.
struct PushRequest {
  std::string_view method = "GET";
  std::string_view path;
  std::span<const HeaderField> headers;
};

class Exchange;

struct PushResult {
  ExchangeResult result = ExchangeResult::kUnsupported;
  std::shared_ptr<Exchange> exchange;  // the pushed stream (to respond to) when result == kOk
};

// Immutable bytes shared with the host, never copied. `keep_alive` owns them: the host drops
// its copy of the pointer once the bytes were written (or the stream was closed).
struct SharedBytes {
  std::string_view bytes;
  std::shared_ptr<const void> keep_alive;
};

// What the host notes about an exchange for its access-log line (serve/log.h), beyond what the
// request says; modules never see it. Filled only while the access log is on.
struct AccessNotes {
  const char* tls_version = nullptr;  // static strings (OpenSSL's version names, "h2", "http/1.1")
  const char* alpn = nullptr;
  // The matched route's (dispatch_request), copied: the exchange may outlive the routing table,
  // and holding the table would make its last release run module code on a module's thread.
  std::string module, route;
  std::vector<UpstreamNote> upstreams;  // at most kMaxUpstreamNotes: note_upstream()

  // Appends `note` and returns its index, or -1 once kMaxUpstreamNotes are noted.
  int note_upstream(UpstreamNote note) {
    if (upstreams.size() >= kMaxUpstreamNotes) return -1;
    upstreams.push_back(std::move(note));
    return static_cast<int>(upstreams.size() - 1);
  }
};

class Exchange {
 public:
  // Called with a view of the next body chunk, valid only during the call.
  using ChunkCallback = std::function<void(std::string_view chunk)>;
  using EofCallback = std::function<void()>;
  using FlushCallback = std::function<void(FlushResult)>;
  using ReleaseCallback = std::function<void()>;
  using TimerCallback = std::function<void()>;
  using CancelCallback = std::function<void()>;

  virtual ~Exchange() = default;

  // ---- request head: views valid for the Exchange's lifetime ----
  virtual HttpVersion version() const = 0;
  virtual std::string_view method() const = 0;
  virtual std::string_view scheme() const = 0;     // "http" / "https"
  virtual std::string_view authority() const = 0;  // :authority or Host
  virtual std::string_view path() const = 0;       // path + query, as received
  // RFC 8441 :protocol of an extended CONNECT; empty otherwise.
  virtual std::string_view protocol() const = 0;
  // Regular request fields (no pseudo-headers), lowercase names, in arrival order.
  virtual std::span<const HeaderField> headers() const = 0;
  // Peer address "ip:port" (or the unix socket path); for logs and modules that need it.
  virtual std::string_view peer() const = 0;

  // ---- request body (backpressure: one chunk per call) ----
  // Asks for the next chunk. Exactly one of on_chunk / on_eof is called, later or - if data is
  // already buffered - before read_body returns. Consuming a chunk (returning from on_chunk)
  // lets the host reopen the flow-control window (HTTP/2) or read further (HTTP/1.1). At most
  // one read is pending; calling read_body while one is pending returns kInvalid. If the stream
  // is closed first, both callbacks are destroyed without being called (see on_cancel).
  virtual ExchangeResult read_body(ChunkCallback on_chunk, EofCallback on_eof) = 0;
  // Request trailers; empty until on_eof was called or when the request had none.
  virtual std::span<const HeaderField> request_trailers() const = 0;

  // ---- respond: exactly one of the three, once ----
  // The body string is moved in; never copied again.
  virtual ExchangeResult respond_with_string(const ResponseHead& head, std::string body) = 0;
  // The bytes stay owned by body.keep_alive; the host references them until written.
  virtual ExchangeResult respond_with_shared(const ResponseHead& head, SharedBytes body) = 0;
  // Sends the head (HEADERS without END_STREAM / chunked HTTP/1.1 unless content-length is
  // given) and opens the streaming body written with write/write_borrowed/flush/close_body.
  virtual ExchangeResult respond_streaming(const ResponseHead& head) = 0;

  // ---- streaming body (only after respond_streaming) ----
  // Copies the bytes into the host's output queue.
  virtual ExchangeResult write(std::string_view bytes) = 0;
  // References the bytes without copying; `release` is called once, when the bytes were
  // written to the transport or the stream was closed (even if the call returned an error,
  // release is called - possibly before write_borrowed returns).
  virtual ExchangeResult write_borrowed(std::string_view bytes, ReleaseCallback release) = 0;
  // Calls `done` once everything written so far was handed to the transport (kWritten) or the
  // stream closed (kClosed). This is the backpressure signal: write the next piece from `done`.
  virtual void flush(FlushCallback done) = 0;
  // Ends the body, sending trailers when given (HEADERS with END_STREAM on HTTP/2, chunked
  // trailer section on HTTP/1.1 when possible, else kUnsupported and the body ends without).
  virtual ExchangeResult close_body(std::span<const HeaderField> trailers = {}) = 0;

  // ---- the rest ----
  // Informational response (1xx, e.g. 103 Early Hints, RFC 8297) before the final head.
  virtual ExchangeResult send_informational(const ResponseHead& head) = 0;
  // Server push (HTTP/2 only; HTTP/1.1 returns kUnsupported, a peer with ENABLE_PUSH=0 or at
  // its stream limit kRefused). Must be called before the final response head.
  virtual PushResult push(const PushRequest& request) = 0;
  // Resets the stream: RST_STREAM(error_code) on HTTP/2 (RFC 9113 §7 codes), closing the
  // connection on HTTP/1.1. The exchange is closed afterwards (on_cancel is not called).
  virtual void reset(std::uint32_t error_code) = 0;
  // True once a final response head was queued (string, shared or streaming). The SDK bridge
  // uses it to answer a failing handler with 500 (before) or RST_STREAM(INTERNAL_ERROR) (after).
  virtual bool response_started() const = 0;
  // True once the exchange is closed (complete, reset either way, or the connection is gone).
  virtual bool closed() const = 0;
  // Registers the callback called once when the peer resets the stream or the connection goes
  // away before the exchange completed. Replaces an earlier one.
  virtual void on_cancel(CancelCallback cb) = 0;
  // Calls `fire` on the connection's thread after `delay_ms` milliseconds, unless the
  // connection goes away first (then `fire` is destroyed without being called).
  virtual void schedule(std::uint64_t delay_ms, TimerCallback fire) = 0;
  // The event loop this exchange runs on, for work handed to other threads (serve/loop.h):
  // they post back onto it. Never null; valid from any thread for as long as it is held.
  virtual std::shared_ptr<Loop> loop() const = 0;

  AccessNotes access_notes;  // the host's, not the module's
};

// What a route resolves to: made by the module registry (or in-process), called by the host
// once per request whose head is complete. handle() must not block; it may keep the exchange.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void handle(std::shared_ptr<Exchange> exchange) = 0;
};

}  // namespace h2::serve
