#include "serve/sdk_bridge.h"

#include <array>
#include <atomic>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "serve/config_value.h"
#include "serve/running_route.h"
#include "serve/module_library.h"
#include "serve/sdk_handles.h"
#include "serve/sdk_upstream.h"

namespace h2::serve {
namespace {

using namespace sdk;  // NOLINT: the bridge's own internals

const ConfigValue* node(const h2_config* c) {
  return reinterpret_cast<const ConfigValue*>(c);
}
const h2_config* handle_of(const ConfigValue* v) {
  return reinterpret_cast<const h2_config*>(v);
}

// ---- h2_host_api functions ----

void api_log(const h2_host* host, int level, const char* message, std::size_t size) {
  if (host == nullptr) return;
  if (level < H2_LOG_ERROR || level > H2_LOG_DEBUG) level = H2_LOG_ERROR;
  host->log(static_cast<ModuleLogLevel>(level), view(message, size));
}

int api_config_kind(const h2_config* c) {
  return c ? static_cast<int>(node(c)->kind()) : H2_CONFIG_NULL;
}
int api_config_bool(const h2_config* c, int fallback) {
  return c ? (node(c)->as_bool(fallback != 0) ? 1 : 0) : fallback;
}
int64_t api_config_int(const h2_config* c, int64_t fallback) {
  return c ? node(c)->as_int(fallback) : fallback;
}
h2_str api_config_string(const h2_config* c) {
  return c_str(c ? node(c)->as_string() : "");
}
std::size_t api_config_size(const h2_config* c) {
  return c ? node(c)->size() : 0;
}
const h2_config* api_config_at(const h2_config* c, std::size_t i) {
  return c ? handle_of(node(c)->at(i)) : nullptr;
}
h2_str api_config_key_at(const h2_config* c, std::size_t i) {
  return c_str(c ? node(c)->key_at(i) : "");
}
const h2_config* api_config_find(const h2_config* c, const char* key, std::size_t size) {
  return c ? handle_of(node(c)->find(view(key, size))) : nullptr;
}
void api_config_location(const h2_config* c, h2_str* file, int* line, int* column) {
  const ConfigLocation empty;
  const ConfigLocation& loc = c ? node(c)->location() : empty;
  if (file) *file = c ? c_str(loc.file) : h2_str{nullptr, 0};
  if (line) *line = loc.line;
  if (column) *column = loc.column;
}

void api_retain(h2_exchange* h) {
  h->refs.fetch_add(1, std::memory_order_relaxed);
}
void api_release(h2_exchange* h) {
  if (h->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete h;
}

int api_version(h2_exchange* h) {
  return ex_of(h).version() == HttpVersion::kHttp2 ? H2_HTTP_2 : H2_HTTP_1_1;
}
h2_str api_request_field(h2_exchange* h, int which) {
  Exchange& ex = ex_of(h);
  switch (which) {
    case H2_REQ_METHOD:
      return c_str(ex.method());
    case H2_REQ_SCHEME:
      return c_str(ex.scheme());
    case H2_REQ_AUTHORITY:
      return c_str(ex.authority());
    case H2_REQ_PATH:
      return c_str(ex.path());
    case H2_REQ_PROTOCOL:
      return c_str(ex.protocol());
    case H2_REQ_PEER:
      return c_str(ex.peer());
    default:
      return h2_str{nullptr, 0};
  }
}
std::size_t api_header_count(h2_exchange* h) {
  return ex_of(h).headers().size();
}
h2_header at_or_empty(std::span<const HeaderField> list, std::size_t i) {
  if (i >= list.size()) return h2_header{{nullptr, 0}, {nullptr, 0}};
  return h2_header{c_str(list[i].name), c_str(list[i].value)};
}
h2_header api_header_at(h2_exchange* h, std::size_t i) {
  return at_or_empty(ex_of(h).headers(), i);
}
std::size_t api_trailer_count(h2_exchange* h) {
  return ex_of(h).request_trailers().size();
}
h2_header api_trailer_at(h2_exchange* h, std::size_t i) {
  return at_or_empty(ex_of(h).request_trailers(), i);
}

int api_read_body(h2_exchange* h, h2_read_fn fn, void* ctx) {
  auto once = std::make_shared<ReadOnce>(fn, ctx, h, H2_READ_CANCELLED, nullptr, 0);
  ExchangeResult r = ex_of(h).read_body(
      [once](std::string_view chunk) { once->fire(H2_READ_CHUNK, chunk.data(), chunk.size()); },
      [once] { once->fire(H2_READ_EOF, nullptr, 0); });
  if (r != ExchangeResult::kOk) once->fire(H2_READ_CANCELLED, nullptr, 0);
  return result(r);
}

int api_respond_with_string(h2_exchange* h, const h2_response* head, const char* body,
                            std::size_t size) {
  const Fields hs(head->headers, head->header_count);
  return result(
      ex_of(h).respond_with_string(ResponseHead{head->status, hs}, std::string(view(body, size))));
}
int api_respond_with_shared(h2_exchange* h, const h2_response* head, const char* body,
                            std::size_t size, h2_release_fn release, void* ctx) {
  const Fields hs(head->headers, head->header_count);
  auto once = std::make_shared<ReleaseOnce>(release, ctx, h);
  SharedBytes bytes{view(body, size), once};
  once.reset();  // the host's copy of keep_alive now decides when release runs
  return result(ex_of(h).respond_with_shared(ResponseHead{head->status, hs}, std::move(bytes)));
}
int api_respond_streaming(h2_exchange* h, const h2_response* head) {
  const Fields hs(head->headers, head->header_count);
  return result(ex_of(h).respond_streaming(ResponseHead{head->status, hs}));
}
int api_write(h2_exchange* h, const char* data, std::size_t size) {
  return result(ex_of(h).write(view(data, size)));
}
int api_write_borrowed(h2_exchange* h, const char* data, std::size_t size, h2_release_fn release,
                       void* ctx) {
  auto once = std::make_shared<ReleaseOnce>(release, ctx, h);
  ExchangeResult r = ex_of(h).write_borrowed(view(data, size), [once] { once->fire(); });
  return result(r);
}
void api_flush(h2_exchange* h, h2_flush_fn fn, void* ctx) {
  auto once = std::make_shared<FlushOnce>(fn, ctx, h, H2_FLUSH_CLOSED);
  ex_of(h).flush([once](FlushResult r) {
    once->fire(r == FlushResult::kWritten ? H2_FLUSH_WRITTEN : H2_FLUSH_CLOSED);
  });
}
int api_close_body(h2_exchange* h, const h2_header* trailers, std::size_t count) {
  const Fields ts(trailers, count);
  return result(ex_of(h).close_body(ts));
}
int api_send_informational(h2_exchange* h, const h2_response* head) {
  const Fields hs(head->headers, head->header_count);
  return result(ex_of(h).send_informational(ResponseHead{head->status, hs}));
}
int api_push(h2_exchange* h, const h2_push_request* req, h2_exchange** pushed) {
  if (pushed) *pushed = nullptr;
  const Fields hs(req->headers, req->header_count);
  PushResult r = ex_of(h).push(PushRequest{view(req->method.data, req->method.size),
                                           view(req->path.data, req->path.size), hs});
  if (r.result == ExchangeResult::kOk && r.exchange && pushed) {
    *pushed = new_handle(std::move(r.exchange), h->module);
    (*pushed)->route = h->route;
  }
  return result(r.result);
}
void api_reset(h2_exchange* h, uint32_t code) {
  ex_of(h).reset(code);
}
int api_response_started(h2_exchange* h) {
  return ex_of(h).response_started() ? 1 : 0;
}
int api_closed(h2_exchange* h) {
  return ex_of(h).closed() ? 1 : 0;
}
void api_on_cancel(h2_exchange* h, h2_cancel_fn fn, void* ctx) {
  auto once = std::make_shared<CancelOnce>(fn, ctx, h, 0);
  ex_of(h).on_cancel([once] { once->fire(1); });
}
void api_schedule(h2_exchange* h, uint64_t delay_ms, h2_timer_fn fn, void* ctx) {
  auto once = std::make_shared<TimerOnce>(fn, ctx, h, 0);
  ex_of(h).schedule(delay_ms, [once] { once->fire(1); });
}
void api_fail(h2_exchange* h, const char* message, std::size_t size) {
  report_handler_failure(ex_of(h), *h->module, view(message, size));
}

// ---- posters (ABI 1.1) ----

void unref_poster(h2_poster* p) {
  if (p->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The exchange's handles are single-threaded: its reference goes back on its own loop (or,
  // when that loop has stopped and nothing else runs the connection, right here).
  p->loop->post([ex = p->exchange, module = p->module](bool) { api_release(ex); });
  delete p;
}
h2_poster* api_poster_new(h2_exchange* h) {
  api_retain(h);
  return new h2_poster{{1}, ex_of(h).loop(), h, h->module};
}
void api_poster_post(h2_poster* p, h2_task_fn fn, void* ctx) {
  if (p == nullptr || fn == nullptr) return;
  p->refs.fetch_add(1, std::memory_order_relaxed);
  p->loop->post([p, fn, ctx](bool run) {
    const RunningRoute running(p->exchange->route);
    if (run) {
      fn(ctx, p->exchange, 1);
    } else {
      fn(ctx, nullptr, 0);
    }
    unref_poster(p);
  });
}
void api_poster_release(h2_poster* p) {
  if (p != nullptr) unref_poster(p);
}

constexpr h2_host_api kApi = {
    H2_ABI_MAJOR,
    H2_ABI_MINOR,
    sizeof(h2_host_api),
    &NoThrow<&api_log>::call,
    &api_config_kind,
    &api_config_bool,
    &api_config_int,
    &api_config_string,
    &api_config_size,
    &api_config_at,
    &api_config_key_at,
    &api_config_find,
    &api_config_location,
    &api_retain,
    &api_release,
    &api_version,
    &api_request_field,
    &api_header_count,
    &api_header_at,
    &api_trailer_count,
    &api_trailer_at,
    &NoThrow<&api_read_body>::call,
    &NoThrow<&api_respond_with_string>::call,
    &NoThrow<&api_respond_with_shared>::call,
    &NoThrow<&api_respond_streaming>::call,
    &NoThrow<&api_write>::call,
    &NoThrow<&api_write_borrowed>::call,
    &NoThrow<&api_flush>::call,
    &NoThrow<&api_close_body>::call,
    &NoThrow<&api_send_informational>::call,
    &NoThrow<&api_push>::call,
    &NoThrow<&api_reset>::call,
    &api_response_started,
    &api_closed,
    &NoThrow<&api_on_cancel>::call,
    &NoThrow<&api_schedule>::call,
    &NoThrow<&api_fail>::call,
    &NoThrow<&api_poster_new>::call,
    &NoThrow<&api_poster_post>::call,
    &NoThrow<&api_poster_release>::call,
    &NoThrow<&upstream_open>::call,
    &upstream_status,
    &upstream_header_count,
    &upstream_header_at,
    &NoThrow<&upstream_read>::call,
    &upstream_trailer_count,
    &upstream_trailer_at,
    &NoThrow<&upstream_write>::call,
    &NoThrow<&upstream_flush>::call,
    &NoThrow<&upstream_end>::call,
    &upstream_error,
    &NoThrow<&upstream_release>::call,
    &upstream_ended_with_head,
};

class ModuleHandler final : public Handler {
 public:
  ModuleHandler(std::shared_ptr<LoadedModule> module, void* state)
      : module_(std::move(module)), state_(state) {}
  ~ModuleHandler() override { module_->descriptor().destroy_handler(state_); }

  void handle(std::shared_ptr<Exchange> exchange) override {
    char err[512] = {};
    int rc = module_->descriptor().handle(state_, new_handle(exchange, module_), err, sizeof err);
    if (rc != 0) {
      err[sizeof err - 1] = '\0';
      report_handler_failure(*exchange, *module_, err[0] ? err : "handle hook failed");
    }
  }

 private:
  std::shared_ptr<LoadedModule> module_;
  void* state_;
};

}  // namespace

const h2_host_api& sdk_host_api() {
  return kApi;
}

std::shared_ptr<Handler> make_module_handler(std::shared_ptr<LoadedModule> module,
                                             void* handler_state) {
  return std::make_shared<ModuleHandler>(std::move(module), handler_state);
}

void report_handler_failure(Exchange& exchange, const LoadedModule& module,
                            std::string_view message) {
  std::string line = "handler failed on ";
  line.append(exchange.method()).append(" ").append(exchange.path()).append(": ");
  line.append(message);
  if (exchange.closed()) {
    line += " (exchange already closed)";
  } else if (!exchange.response_started()) {
    line += " (answered 500)";
  } else {
    line += " (stream reset with INTERNAL_ERROR)";
  }
  module.log(ModuleLogLevel::kError, line);
  if (exchange.closed()) return;
  if (!exchange.response_started()) {
    static constexpr HeaderField kHeaders[] = {{"content-type", "text/plain"}};
    exchange.respond_with_string(ResponseHead{500, kHeaders}, "500 internal server error\n");
  } else {
    exchange.reset(kInternalError);
  }
}

}  // namespace h2::serve
