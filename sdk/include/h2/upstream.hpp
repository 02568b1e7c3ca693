// C++ view of a request sent upstream through the host's HTTP/2 client (ABI 1.3; header-only,
// part of the module SDK). See h2/abi.h (upstream_*) for the host's side of the contract.
//
//   h2::UpstreamRequest req;
//   req.origin = "http://127.0.0.1:8080";
//   req.path = "/users/7";
//   auto [r, up] = h2::Upstream::open(ex, req, {
//       .on_response = [self] { self->relay_head(); },      // self->up.status(), headers()
//       .on_failed = [self] { self->answer_502(); }});      // self->up.error()
//   ... up.read(on_chunk, on_eof, on_cancelled)             // one chunk per call (backpressure)
//
// Ownership: an Upstream is move-only; destroying it cancels a request still open (RST_STREAM
// CANCEL upstream). Callbacks run on the exchange's thread, never inside open(); each head
// callback set runs zero or more on_informational, then exactly one of on_response /
// on_failed. An exception escaping a callback is reported through `ex.fail()`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "h2/exchange.hpp"

namespace h2 {

enum class UpstreamError {
  kNone = H2_UPSTREAM_OK,
  kConnect = H2_UPSTREAM_CONNECT,
  kTimeout = H2_UPSTREAM_TIMEOUT,
  kReset = H2_UPSTREAM_RESET,
  kProtocol = H2_UPSTREAM_PROTOCOL,
  kCancelled = H2_UPSTREAM_CANCELLED,
};

// Views are read during open() only.
struct UpstreamRequest {
  std::string_view origin;       // "http://host[:port]" (h2c) or "https://host[:port]"
  std::string_view unix_socket;  // connect here instead of host:port
  std::string_view method = "GET";
  std::string_view authority;    // empty: the origin's
  std::string_view path = "/";
  Headers headers;
  bool end_stream = true;        // false: write() / end() send a body
  std::uint64_t connect_timeout_ms = 0;   // 0: the host's default (10 s)
  std::uint64_t response_timeout_ms = 0;  // 0: the host's default (60 s)
  bool verify_peer = true;
  std::string_view ca_file;
};

struct UpstreamEvents {
  std::function<void()> on_informational;  // a 1xx: status() / headers() during the call
  std::function<void()> on_response;       // the final head
  std::function<void()> on_failed;         // no response: error(), reason()
};

class Upstream {
 public:
  Upstream() = default;
  Upstream(Upstream&& o) noexcept : up_(std::exchange(o.up_, nullptr)) {}
  Upstream& operator=(Upstream&& o) noexcept {
    if (this != &o) {
      reset();
      up_ = std::exchange(o.up_, nullptr);
    }
    return *this;
  }
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;
  ~Upstream() { reset(); }
  explicit operator bool() const { return up_ != nullptr; }

  // kOk with a handle; kUnsupported when the host's runtime has no client; kInvalid for a bad
  // origin or field (logged by the host).
  static std::pair<Result, Upstream> open(Exchange& ex, const UpstreamRequest& request,
                                          UpstreamEvents events);

  int status() const { return api().upstream_status(up_); }
  // From on_response on: the response ended with its head (no body, no trailers will come).
  bool ended_with_head() const { return api().upstream_ended_with_head(up_) != 0; }
  std::vector<Header> headers() const {
    return detail::collect_fields(up_, api().upstream_header_count, api().upstream_header_at);
  }
  std::optional<std::string_view> header(std::string_view name) const {
    return detail::find_field(up_, api().upstream_header_count, api().upstream_header_at, name);
  }
  // Exactly one of the three runs (on_cancelled: reset, failure or release).
  Result read(std::function<void(std::string_view)> on_chunk, std::function<void()> on_eof,
              std::function<void()> on_cancelled = {});
  std::vector<Header> trailers() const {
    return detail::collect_fields(up_, api().upstream_trailer_count, api().upstream_trailer_at);
  }

  Result write(std::string_view bytes) {
    return static_cast<Result>(api().upstream_write(up_, bytes.data(), bytes.size()));
  }
  // done(true) when the host can take more body, done(false) when the request ended first.
  void flush(std::function<void(bool written)> done);
  Result end(Headers trailers = {}) {
    detail::CHeaders c(trailers);
    return static_cast<Result>(api().upstream_end(up_, c.data(), c.size()));
  }

  UpstreamError error() const {
    return up_ ? static_cast<UpstreamError>(api().upstream_error(up_, nullptr))
               : UpstreamError::kCancelled;
  }
  std::string_view reason() const {
    h2_str why{nullptr, 0};
    if (up_) api().upstream_error(up_, &why);
    return detail::to_view(why);
  }
  // Cancels a request still open; the handle is empty afterwards.
  void reset() {
    if (up_) api().upstream_release(std::exchange(up_, nullptr));
  }

 private:
  explicit Upstream(h2_upstream* up) : up_(up) {}
  static const h2_host_api& api() { return host_api(); }
  h2_upstream* up_ = nullptr;
};

namespace detail {

struct UpstreamHeadCtx {
  Exchange ex;  // for fail() when a callback throws
  UpstreamEvents events;
  static void call(void* p, h2_upstream*, int event) {
    auto* self = static_cast<UpstreamHeadCtx*>(p);
    if (event == H2_UPSTREAM_INFORMATIONAL) {
      guarded(self->ex, [&] {
        if (self->events.on_informational) self->events.on_informational();
      });
      return;
    }
    std::unique_ptr<UpstreamHeadCtx> owned(self);  // the final call
    guarded(owned->ex, [&] {
      auto& fn = event == H2_UPSTREAM_RESPONSE ? owned->events.on_response
                                               : owned->events.on_failed;
      if (fn) fn();
    });
  }
};

}  // namespace detail

inline std::pair<Result, Upstream> Upstream::open(Exchange& ex, const UpstreamRequest& request,
                                                  UpstreamEvents events) {
  if (api().struct_size < offsetof(h2_host_api, upstream_ended_with_head) + sizeof(void*)) {
    return {Result::kUnsupported, Upstream()};  // a host older than ABI 1.3
  }
  detail::CHeaders c(request.headers);
  h2_upstream_request req{};
  req.origin = detail::to_c(request.origin);
  req.unix_socket = detail::to_c(request.unix_socket);
  req.method = detail::to_c(request.method);
  req.authority = detail::to_c(request.authority);
  req.path = detail::to_c(request.path);
  req.headers = c.data();
  req.header_count = c.size();
  req.end_stream = request.end_stream ? 1 : 0;
  req.connect_timeout_ms = request.connect_timeout_ms;
  req.response_timeout_ms = request.response_timeout_ms;
  req.verify_peer = request.verify_peer ? 1 : 0;
  req.ca_file = detail::to_c(request.ca_file);
  auto* ctx = new detail::UpstreamHeadCtx{ex, std::move(events)};
  h2_upstream* raw = nullptr;
  auto r = static_cast<Result>(
      api().upstream_open(ex.raw(), &req, &detail::UpstreamHeadCtx::call, ctx, &raw));
  if (r != Result::kOk) {
    delete ctx;  // fn is never called when open fails
    return {r, Upstream()};
  }
  return {r, Upstream(raw)};
}

inline Result Upstream::read(std::function<void(std::string_view)> on_chunk,
                             std::function<void()> on_eof, std::function<void()> on_cancelled) {
  // No exchange in the context: a throwing callback is logged (the module answers its own
  // exchange from on_cancelled / its next step).
  auto* ctx = new detail::ReadCtx{Exchange(), std::move(on_chunk), std::move(on_eof),
                                  std::move(on_cancelled)};
  return static_cast<Result>(api().upstream_read(up_, &detail::ReadCtx::call, ctx));
}

inline void Upstream::flush(std::function<void(bool written)> done) {
  auto* ctx = new detail::FlushCtx{Exchange(), std::move(done)};
  api().upstream_flush(up_, &detail::FlushCtx::call, ctx);
}

}  // namespace h2
