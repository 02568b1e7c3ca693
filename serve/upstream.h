// Requests a module sends upstream (ABI 1.3, sdk/include/h2/abi.h upstream_*), as module
// serving sees them: an UpstreamClient per event loop, implemented by the runtime (host/: a
// pool of protocol::ClientConnection sessions over Asio, host/client/upstream_pool.h), and one
// UpstreamCall per request. Runtime-free: nothing here names a socket.
//
// Threading: every call, and every callback, on the loop's thread.
//
// Example call sequence (a proxy's, module side):
//   call = client->open(request, events)         // request head sent (or queued)
//   call->write(chunk); call->flush(cb)          // request body with backpressure
//   call->end(trailers)
//   events.on_response()                         // head: call->status(), call->headers()
//   call->read_body(on_chunk, on_eof)            // one chunk per call, pulled
//   ... on_eof: call->trailers()
// Failure before the head: events.on_failed() (call->error(), call->reason()); after it: the
// pending read_body's callbacks are destroyed uncalled, and error() says why.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "serve/exchange.h"

namespace h2::serve {

// Mirrors h2_upstream_error.
enum class UpstreamError { kNone = 0, kConnect, kTimeout, kReset, kProtocol, kCancelled };
const char* to_string(UpstreamError e);

// Views valid for the call of UpstreamClient::open (it copies what it keeps).
struct UpstreamRequest {
  std::string_view origin;       // "http://host[:port]" or "https://host[:port]"
  std::string_view unix_socket;  // connect here instead of host:port when non-empty
  std::string_view method;
  std::string_view authority;    // empty: the origin's authority
  std::string_view path;
  std::span<const HeaderField> headers;
  bool end_stream = true;
  std::uint64_t connect_timeout_ms = 0;   // 0: kDefaultConnectTimeoutMs
  std::uint64_t response_timeout_ms = 0;  // 0: kDefaultResponseTimeoutMs
  bool verify_peer = true;
  std::string_view ca_file;
};
inline constexpr std::uint64_t kDefaultConnectTimeoutMs = 10'000;
inline constexpr std::uint64_t kDefaultResponseTimeoutMs = 60'000;

class UpstreamCall {
 public:
  // Head events: zero or more on_informational (status() and headers() give the 1xx during
  // the call), then exactly one of on_response / on_failed, never inline in open().
  struct Events {
    std::function<void()> on_informational;
    std::function<void()> on_response;
    std::function<void()> on_failed;
  };

  // Destroying a call that has not ended cancels it (RST_STREAM(CANCEL) upstream); its
  // callbacks are then destroyed without being called.
  virtual ~UpstreamCall() = default;

  virtual int status() const = 0;  // 0 before a head
  virtual std::span<const HeaderField> headers() const = 0;
  // After on_response: one chunk per call (Exchange::read_body's contract). The view is valid
  // during on_chunk; returning from it consumes the bytes (flow-control credit goes back).
  // If the response fails first, both callbacks are destroyed uncalled.
  virtual ExchangeResult read_body(Exchange::ChunkCallback on_chunk,
                                   Exchange::EofCallback on_eof) = 0;
  virtual std::span<const HeaderField> trailers() const = 0;
  // During and after on_response: the response ended with its head (END_STREAM on the final
  // HEADERS): no body and no trailers will come.
  virtual bool ended_with_head() const = 0;

  // Request body (kInvalid when the request was sent with end_stream).
  virtual ExchangeResult write(std::string_view bytes) = 0;
  // kWritten once the buffered body is below the watermark, kClosed when the request ended.
  virtual void flush(Exchange::FlushCallback done) = 0;
  virtual ExchangeResult end(std::span<const HeaderField> trailers) = 0;

  virtual UpstreamError error() const = 0;
  virtual std::string_view reason() const = 0;
  // Where the request went, for the access log's $upstream_addr: the connection's peer
  // ("ip:port", "[v6]:port", "unix:/path"), or the origin's "host:port" while no connection
  // carried it (connecting, or the connection failed).
  virtual std::string_view peer() const = 0;
};

class UpstreamClient {
 public:
  virtual ~UpstreamClient() = default;
  // kOk with a call, kInvalid (bad origin or fields: *why says what) with none.
  virtual std::unique_ptr<UpstreamCall> open(const UpstreamRequest& request,
                                             UpstreamCall::Events events, ExchangeResult* result,
                                             std::string* why) = 0;
};

}  // namespace h2::serve
