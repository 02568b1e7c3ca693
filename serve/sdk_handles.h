// Internals of the SDK bridge shared by its files (sdk_bridge.cc, sdk_upstream.cc): the opaque
// handles behind the C ABI, the exactly-once callback guard and the no-throw wrapper. Not for
// anyone else.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "h2/abi.h"
#include "serve/exchange.h"
#include "serve/running_route.h"

namespace h2::serve {
class LoadedModule;
}

// A module's reference-counted handle to one Exchange (opaque to modules).
struct h2_exchange {
  std::atomic<int> refs{1};
  std::shared_ptr<h2::serve::Exchange> exchange;
  std::shared_ptr<h2::serve::LoadedModule> module;
  int32_t route = h2::serve::kNoRoute;  // the route being handled when the handle was made
};

// A thread-safe handle to one exchange's loop (ABI 1.1, opaque to modules).
struct h2_poster {
  std::atomic<int> refs{1};
  std::shared_ptr<h2::serve::Loop> loop;      // thread-safe
  h2_exchange* exchange;                      // one reference, released on the loop
  std::shared_ptr<h2::serve::LoadedModule> module;  // keeps the task functions' code loaded
};

namespace h2::serve::sdk {


inline h2_exchange* new_handle(std::shared_ptr<Exchange> ex, std::shared_ptr<LoadedModule> module) {
  auto* h = new h2_exchange;
  h->exchange = std::move(ex);
  h->module = std::move(module);
  if (auto* marker = running_route_marker()) h->route = marker->load(std::memory_order_relaxed);
  return h;
}

inline Exchange& ex_of(h2_exchange* h) {
  return *h->exchange;
}
inline std::string_view view(const char* data, std::size_t size) {
  return size == 0 ? std::string_view() : std::string_view(data, size);
}
inline h2_str c_str(std::string_view s) {
  return h2_str{s.data(), s.size()};
}
inline int result(ExchangeResult r) {
  return static_cast<int>(r);
}

// A module's C header list as HeaderFields for one call: inline up to 16 fields (a response
// head's usual size), so answering a request allocates nothing here.
class Fields {
 public:
  Fields(const h2_header* headers, std::size_t count) {
    HeaderField* out = inline_.data();
    if (count > inline_.size()) {
      heap_.resize(count);
      out = heap_.data();
    }
    for (std::size_t i = 0; i < count; ++i) {
      out[i] = HeaderField{view(headers[i].name.data, headers[i].name.size),
                           view(headers[i].value.data, headers[i].value.size)};
    }
    span_ = std::span<const HeaderField>(out, count);
  }
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;
  operator std::span<const HeaderField>() const { return span_; }  // NOLINT: a view, by design

 private:
  std::array<HeaderField, 16> inline_{};
  std::vector<HeaderField> heap_;
  std::span<const HeaderField> span_;
};

// Calls a module callback exactly once: with the event, or with `dropped_args` on destruction.
template <class Fn, class... Args>
class Once {
 public:
  // `h`: the exchange whose module registered the callback (its code stays loaded, and its
  // route is marked while the callback runs, for crash reports: serve/running_route.h).
  Once(Fn fn, void* ctx, const h2_exchange* h, Args... dropped_args)
      : Once(fn, ctx, h->module, h->route, dropped_args...) {}
  Once(Fn fn, void* ctx, std::shared_ptr<LoadedModule> module, int32_t route,
       Args... dropped_args)
      : fn_(fn), ctx_(ctx), module_(std::move(module)), route_(route), dropped_(dropped_args...) {}
  ~Once() {
    if (!done_) std::apply([this](auto... a) { fire(a...); }, dropped_);
  }
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;
  void fire(Args... args) {
    if (done_) return;
    done_ = true;
    const RunningRoute running(route_);
    fn_(ctx_, args...);
  }

 private:
  Fn fn_;
  void* ctx_;
  std::shared_ptr<LoadedModule> module_;  // keeps fn_'s code loaded
  int32_t route_;
  std::tuple<Args...> dropped_;
  bool done_ = false;
};

using ReadOnce = Once<h2_read_fn, int, const char*, std::size_t>;
using FlushOnce = Once<h2_flush_fn, int>;
using ReleaseOnce = Once<h2_release_fn>;
using TimerOnce = Once<h2_timer_fn, int>;
using CancelOnce = Once<h2_cancel_fn, int>;

// Wraps a host API function so that no exception (std::bad_alloc from a copy, anything from an
// Exchange implementation) unwinds into module code: it is logged and becomes H2_CLOSED.
template <auto F>
struct NoThrow;
template <class R, class... A, R (*F)(A...)>
struct NoThrow<F> {
  static R call(A... args) noexcept {
    try {
      return F(args...);
    } catch (...) {
      if constexpr (std::is_void_v<R>) {
        return;
      } else if constexpr (std::is_pointer_v<R>) {
        return nullptr;
      } else {
        return static_cast<R>(H2_CLOSED);
      }
    }
  }
};

}  // namespace h2::serve::sdk
