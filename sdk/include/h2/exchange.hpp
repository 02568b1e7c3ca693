// C++ view of one request/response exchange (header-only; part of the h2 module SDK).
//
// Ownership: h2::Exchange is a reference-counted handle to a host-owned exchange (copying
// retains, destruction releases). Keep a copy for as long as you answer asynchronously; the
// exchange object itself stays host-owned and becomes "closed" when the peer goes away.
// Callbacks you pass are owned by the SDK until called; each is called at most once, on the
// exchange's thread. An exception escaping a callback is caught here and reported with fail()
// (500 before the response head, RST_STREAM(INTERNAL_ERROR) after); none crosses into the host.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "h2/config.hpp"

namespace h2 {

enum class Result {
  kOk = H2_OK,
  kUnsupported = H2_UNSUPPORTED,  // the protocol cannot express it (push on HTTP/1.1)
  kRefused = H2_REFUSED,          // the peer refused it
  kClosed = H2_CLOSED,            // the stream is gone
  kInvalid = H2_INVALID,          // misuse
};

enum class HttpVersion { kHttp11 = H2_HTTP_1_1, kHttp2 = H2_HTTP_2 };

struct Header {
  std::string_view name;  // lowercase
  std::string_view value;
};

// A list of header views for one call: from a braced list, a vector or a span.
class Headers {
 public:
  Headers() = default;
  Headers(std::initializer_list<Header> list) : items_(list.begin(), list.size()) {}
  Headers(std::span<const Header> items) : items_(items) {}     // NOLINT: implicit on purpose
  Headers(const std::vector<Header>& items) : items_(items) {}  // NOLINT
  std::span<const Header> items() const { return items_; }

 private:
  std::span<const Header> items_;
};

namespace detail {

// Converts views to the C layout for the duration of one call; up to 16 fields inline (no
// allocation for a usual response head).
class CHeaders {
 public:
  explicit CHeaders(const Headers& headers) {
    auto items = headers.items();
    size_ = items.size();
    h2_header* out = inline_;
    if (size_ > kInline) {
      heap_.resize(size_);
      out = heap_.data();
    }
    for (std::size_t i = 0; i < size_; ++i) {
      out[i] = h2_header{to_c(items[i].name), to_c(items[i].value)};
    }
    data_ = size_ == 0 ? nullptr : out;
  }
  CHeaders(const CHeaders&) = delete;
  CHeaders& operator=(const CHeaders&) = delete;
  const h2_header* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kInline = 16;
  h2_header inline_[kInline];
  std::vector<h2_header> heap_;
  const h2_header* data_ = nullptr;
  std::size_t size_ = 0;
};

inline std::string exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// A host field list (an exchange's request head or trailers, an upstream's response head or
// trailers) through its count/at functions: all of it, or the first field named `name`.
template <class Handle>
std::vector<Header> collect_fields(Handle* h, std::size_t (*count)(Handle*),
                                   h2_header (*at)(Handle*, std::size_t)) {
  std::vector<Header> out;
  const std::size_t n = count(h);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const h2_header f = at(h, i);
    out.push_back(Header{to_view(f.name), to_view(f.value)});
  }
  return out;
}
template <class Handle>
std::optional<std::string_view> find_field(Handle* h, std::size_t (*count)(Handle*),
                                           h2_header (*at)(Handle*, std::size_t),
                                           std::string_view name) {
  for (std::size_t i = 0, n = count(h); i < n; ++i) {
    const h2_header f = at(h, i);
    if (to_view(f.name) == name) return to_view(f.value);
  }
  return std::nullopt;
}

}  // namespace detail

class Exchange {
 public:
  Exchange() = default;
  // Takes over one reference (as given to Handler::handle or by push).
  static Exchange adopt(h2_exchange* ex) { return Exchange(ex); }

  Exchange(const Exchange& o) : ex_(o.ex_) {
    if (ex_) api().exchange_retain(ex_);
  }
  Exchange(Exchange&& o) noexcept : ex_(std::exchange(o.ex_, nullptr)) {}
  Exchange& operator=(Exchange o) noexcept {
    std::swap(ex_, o.ex_);
    return *this;
  }
  ~Exchange() {
    if (ex_) api().exchange_release(ex_);
  }
  explicit operator bool() const { return ex_ != nullptr; }

  // ---- request head (views valid while this handle lives) ----
  HttpVersion version() const { return static_cast<HttpVersion>(api().version(ex_)); }
  std::string_view method() const { return field(H2_REQ_METHOD); }
  std::string_view scheme() const { return field(H2_REQ_SCHEME); }
  std::string_view authority() const { return field(H2_REQ_AUTHORITY); }
  std::string_view path() const { return field(H2_REQ_PATH); }
  std::string_view protocol() const { return field(H2_REQ_PROTOCOL); }
  std::string_view peer() const { return field(H2_REQ_PEER); }
  std::vector<Header> headers() const {
    return detail::collect_fields(ex_, api().header_count, api().header_at);
  }
  // The first field named `name` (lowercase), if any.
  std::optional<std::string_view> header(std::string_view name) const {
    return detail::find_field(ex_, api().header_count, api().header_at, name);
  }
  // Request trailers (after the body's end).
  std::vector<Header> trailers() const {
    return detail::collect_fields(ex_, api().trailer_count, api().trailer_at);
  }

  // ---- request body: one chunk per call (backpressure) ----
  // Exactly one of on_chunk (a view valid during the call) / on_eof / on_cancelled runs.
  Result read(std::function<void(std::string_view)> on_chunk, std::function<void()> on_eof,
              std::function<void()> on_cancelled = {});

  // ---- respond: one of these, once ----
  // Large strings are moved to the host without a copy (released by the host when written);
  // small ones are copied once, which is cheaper than the shared buffer's allocations.
  Result respond(int status, Headers headers, std::string body) {
    if (body.size() <= kCopyBelow) {
      detail::CHeaders c(headers);
      h2_response head{status, c.data(), c.size()};
      return static_cast<Result>(
          api().respond_with_string(ex_, &head, body.data(), body.size()));
    }
    auto owned = std::make_shared<const std::string>(std::move(body));
    return respond_shared(status, headers, std::string_view(*owned), owned);
  }
  static constexpr std::size_t kCopyBelow = 4096;
  // No copy: `owner` keeps `bytes` alive until the host has written them.
  Result respond_shared(int status, Headers headers, std::string_view bytes,
                        std::shared_ptr<const void> owner) {
    detail::CHeaders c(headers);
    h2_response head{status, c.data(), c.size()};
    return static_cast<Result>(
        api().respond_with_shared(ex_, &head, bytes.data(), bytes.size(), &release_owner,
                                  new std::shared_ptr<const void>(std::move(owner))));
  }
  Result respond_streaming(int status, Headers headers) {
    detail::CHeaders c(headers);
    h2_response head{status, c.data(), c.size()};
    return static_cast<Result>(api().respond_streaming(ex_, &head));
  }

  // ---- streaming body ----
  Result write(std::string_view bytes) {
    return static_cast<Result>(api().write(ex_, bytes.data(), bytes.size()));
  }
  // No copy: `release` runs once the host no longer references the bytes.
  Result write_borrowed(std::string_view bytes, std::function<void()> release);
  // `done(true)` once everything written so far went to the transport, `done(false)` when the
  // stream closed first. Write the next piece from `done`: that is the backpressure.
  void flush(std::function<void(bool written)> done);
  Result close(Headers trailers = {}) {
    detail::CHeaders c(trailers);
    return static_cast<Result>(api().close_body(ex_, c.data(), c.size()));
  }

  // ---- the rest ----
  Result informational(int status, Headers headers) {
    detail::CHeaders c(headers);
    h2_response head{status, c.data(), c.size()};
    return static_cast<Result>(api().send_informational(ex_, &head));
  }
  // Pushes `method path` (scheme/authority of this request). The pushed exchange is answered
  // like any other.
  std::pair<Result, Exchange> push(std::string_view path, Headers headers = {},
                                   std::string_view method = "GET") {
    detail::CHeaders c(headers);
    h2_push_request req{detail::to_c(method), detail::to_c(path), c.data(), c.size()};
    h2_exchange* pushed = nullptr;
    auto r = static_cast<Result>(api().push(ex_, &req, &pushed));
    return {r, r == Result::kOk ? Exchange(pushed) : Exchange()};
  }
  void reset(std::uint32_t error_code) { api().reset(ex_, error_code); }
  bool response_started() const { return api().response_started(ex_) != 0; }
  bool closed() const { return api().closed(ex_) != 0; }
  // `cb` runs once if the peer resets the stream or goes away before the exchange completed.
  // The host holds `cb` until the exchange closes: capture weak references (or no Exchange),
  // or the capture keeps the exchange alive in a cycle until then.
  void on_cancel(std::function<void()> cb);
  // Runs `fire` on this exchange's thread after delay_ms, unless the connection goes first.
  void after(std::uint64_t delay_ms, std::function<void()> fire);
  // Reports a failure: logged; 500 before the response head, else RST_STREAM(INTERNAL_ERROR).
  void fail(std::string_view message) { api().fail(ex_, message.data(), message.size()); }
  // A handle for other threads to post work back onto this exchange's thread (see Poster).
  class Poster poster() const;

  h2_exchange* raw() const { return ex_; }
  // A new handle to `ex` (retained), for code that is given a borrowed h2_exchange*.
  static Exchange borrow(h2_exchange* ex) {
    if (ex) api().exchange_retain(ex);
    return Exchange(ex);
  }

 private:
  explicit Exchange(h2_exchange* adopted) : ex_(adopted) {}
  static void release_owner(void* owner) {
    delete static_cast<std::shared_ptr<const void>*>(owner);
  }
  static const h2_host_api& api() { return host_api(); }
  std::string_view field(int which) const {
    return detail::to_view(api().request_field(ex_, which));
  }
  h2_exchange* ex_ = nullptr;
};

namespace detail {

// Runs `f`; an exception is reported through fail() and stops there.
template <class F>
inline void guarded(Exchange& ex, F&& f) {
  try {
    f();
  } catch (...) {
    std::string what = detail::exception_text();
    if (ex) {
      ex.fail(what);
    } else {
      log(LogLevel::kError, "callback threw: " + what);  // no exchange to answer through
    }
  }
}

struct ReadCtx {
  Exchange ex;
  std::function<void(std::string_view)> on_chunk;
  std::function<void()> on_eof;
  std::function<void()> on_cancelled;
  static void call(void* p, int event, const char* data, std::size_t size) {
    std::unique_ptr<ReadCtx> self(static_cast<ReadCtx*>(p));
    guarded(self->ex, [&] {
      if (event == H2_READ_CHUNK && self->on_chunk) {
        self->on_chunk(std::string_view(data, size));
      } else if (event == H2_READ_EOF && self->on_eof) {
        self->on_eof();
      } else if (event == H2_READ_CANCELLED && self->on_cancelled) {
        self->on_cancelled();
      }
    });
  }
};
struct FlushCtx {
  Exchange ex;
  std::function<void(bool)> done;
  static void call(void* p, int result) {
    std::unique_ptr<FlushCtx> self(static_cast<FlushCtx*>(p));
    guarded(self->ex, [&] {
      if (self->done) self->done(result == H2_FLUSH_WRITTEN);
    });
  }
};
struct ReleaseCtx {
  std::function<void()> release;
  static void call(void* p) {
    std::unique_ptr<ReleaseCtx> self(static_cast<ReleaseCtx*>(p));
    try {
      if (self->release) self->release();
    } catch (...) {
      log(LogLevel::kError, "release callback threw: " + detail::exception_text());
    }
  }
};
struct CancelCtx {
  std::function<void()> cb;
  static void call(void* p, int cancelled) {
    std::unique_ptr<CancelCtx> self(static_cast<CancelCtx*>(p));
    if (!cancelled || !self->cb) return;
    try {
      self->cb();
    } catch (...) {
      log(LogLevel::kError, "cancel callback threw: " + detail::exception_text());
    }
  }
};
struct TimerCtx {
  Exchange ex;
  std::function<void()> fire;
  static void call(void* p, int fired) {
    std::unique_ptr<TimerCtx> self(static_cast<TimerCtx*>(p));
    if (!fired || !self->fire) return;
    guarded(self->ex, [&] { self->fire(); });
  }
};

struct PostCtx {
  std::function<void(Exchange&)> task;
  std::function<void()> on_stopped;
  static void call(void* p, h2_exchange* raw, int run) {
    std::unique_ptr<PostCtx> self(static_cast<PostCtx*>(p));
    if (!run) {
      try {
        if (self->on_stopped) self->on_stopped();
      } catch (...) {
        log(LogLevel::kError, "poster on_stopped threw: " + detail::exception_text());
      }
      return;
    }
    Exchange ex = Exchange::borrow(raw);
    guarded(ex, [&] {
      if (self->task) self->task(ex);
    });
  }
};

}  // namespace detail

// Posts work from any thread back onto one exchange's thread (ABI 1.1). Make it on the
// exchange's thread (Exchange::poster()), copy it into your thread pool's job, and post the
// answer when the blocking work is done:
//   h2::Poster poster = ex.poster();
//   pool.submit([poster, key] {
//     std::string row = database.get(key);                       // blocking, on the pool
//     poster.post([row](h2::Exchange& ex) { ex.respond(200, {}, row); });  // exchange's thread
//   });
// Copies are cheap and thread-safe. The task runs on the exchange's thread even when the stream
// was reset meanwhile: the exchange is then closed() and its calls return kClosed. When the
// connection's event loop has stopped, `on_stopped` runs instead (any thread: free only).
class Poster {
 public:
  Poster() = default;
  explicit operator bool() const { return handle_ != nullptr; }
  void post(std::function<void(Exchange&)> task, std::function<void()> on_stopped = {}) const {
    if (!handle_) {
      if (on_stopped) on_stopped();
      return;
    }
    auto* ctx = new detail::PostCtx{std::move(task), std::move(on_stopped)};
    host_api().poster_post(handle_.get(), &detail::PostCtx::call, ctx);
  }

 private:
  friend class Exchange;
  explicit Poster(h2_poster* raw)
      : handle_(raw, [](h2_poster* p) {
          if (p) host_api().poster_release(p);
        }) {}
  std::shared_ptr<h2_poster> handle_;
};

inline Poster Exchange::poster() const {
  return Poster(ex_ ? api().poster_new(ex_) : nullptr);
}

inline Result Exchange::read(std::function<void(std::string_view)> on_chunk,
                             std::function<void()> on_eof, std::function<void()> on_cancelled) {
  auto* ctx =
      new detail::ReadCtx{*this, std::move(on_chunk), std::move(on_eof), std::move(on_cancelled)};
  return static_cast<Result>(api().read_body(ex_, &detail::ReadCtx::call, ctx));
}

inline Result Exchange::write_borrowed(std::string_view bytes, std::function<void()> release) {
  auto* ctx = new detail::ReleaseCtx{std::move(release)};
  return static_cast<Result>(
      api().write_borrowed(ex_, bytes.data(), bytes.size(), &detail::ReleaseCtx::call, ctx));
}

inline void Exchange::flush(std::function<void(bool written)> done) {
  auto* ctx = new detail::FlushCtx{*this, std::move(done)};
  api().flush(ex_, &detail::FlushCtx::call, ctx);
}

inline void Exchange::on_cancel(std::function<void()> cb) {
  auto* ctx = new detail::CancelCtx{std::move(cb)};
  api().on_cancel(ex_, &detail::CancelCtx::call, ctx);
}

inline void Exchange::after(std::uint64_t delay_ms, std::function<void()> fire) {
  auto* ctx = new detail::TimerCtx{*this, std::move(fire)};
  api().schedule(ex_, delay_ms, &detail::TimerCtx::call, ctx);
}

}  // namespace h2
