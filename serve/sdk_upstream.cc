#include "serve/sdk_upstream.h"

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "serve/log.h"
#include "serve/module_library.h"
#include "serve/sdk_handles.h"
#include "serve/upstream.h"

namespace h2::serve {

const char* to_string(UpstreamError e) {
  switch (e) {
    case UpstreamError::kNone:
      return "none";
    case UpstreamError::kConnect:
      return "connect";
    case UpstreamError::kTimeout:
      return "timeout";
    case UpstreamError::kReset:
      return "reset";
    case UpstreamError::kProtocol:
      return "protocol";
    case UpstreamError::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace h2::serve

// A module's handle to one upstream request (opaque to modules). The head callback is not a
// serve::sdk::Once: it may run several times (1xx) before its one final call.
struct h2_upstream {
  std::unique_ptr<h2::serve::UpstreamCall> call;
  std::shared_ptr<h2::serve::LoadedModule> module;  // keeps head_fn's code loaded
  int32_t route = h2::serve::kNoRoute;
  h2_upstream_head_fn head_fn = nullptr;
  void* head_ctx = nullptr;
  bool head_done = false;
  bool released = false;
  // The access log's note of this request (AccessNotes::upstreams), while the log is on.
  std::weak_ptr<h2::serve::Exchange> exchange;
  std::chrono::steady_clock::time_point opened;
  int note = -1;  // its index in the exchange's notes, once the head (or failure) came

  void head(int event) {
    if (head_done) return;
    if (event != H2_UPSTREAM_INFORMATIONAL) {
      head_done = true;
      note_head(event);
    }
    const h2::serve::RunningRoute running(route);
    head_fn(head_ctx, this, event);
  }

  void note_head(int event) {
    const std::shared_ptr<h2::serve::Exchange> ex = exchange.lock();
    if (!ex) return;
    h2::serve::UpstreamNote n;
    n.address = std::string(call->peer());
    if (event == H2_UPSTREAM_RESPONSE) {
      n.status = call->status();
    } else if (!released) {  // nginx's values for a request that got no response
      n.status = call->error() == h2::serve::UpstreamError::kTimeout ? 504 : 502;
    }
    note = ex->access_notes.note_upstream(std::move(n));
    if (event != H2_UPSTREAM_RESPONSE || call->ended_with_head()) note_end();
  }

  // The response ended (its last byte, a failure, or the module let it go): its time.
  void note_end() {
    const std::shared_ptr<h2::serve::Exchange> ex = note >= 0 ? exchange.lock() : nullptr;
    if (!ex) return;
    auto& notes = ex->access_notes.upstreams;
    if (static_cast<size_t>(note) >= notes.size() || notes[note].response_ms >= 0) return;
    notes[note].response_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - opened)
                                  .count();
  }
};

namespace h2::serve::sdk {
namespace {

h2_header field_at(std::span<const HeaderField> list, std::size_t i) {
  if (i >= list.size()) return h2_header{{nullptr, 0}, {nullptr, 0}};
  return h2_header{c_str(list[i].name), c_str(list[i].value)};
}

}  // namespace

int upstream_open(h2_exchange* ex, const h2_upstream_request* request, h2_upstream_head_fn fn,
                  void* ctx, h2_upstream** out) {
  if (out) *out = nullptr;
  if (request == nullptr || fn == nullptr || out == nullptr) return H2_INVALID;
  UpstreamClient* client = ex_of(ex).loop()->upstream();
  if (client == nullptr) return H2_UNSUPPORTED;
  const Fields headers(request->headers, request->header_count);
  UpstreamRequest req;
  req.origin = view(request->origin.data, request->origin.size);
  req.unix_socket = view(request->unix_socket.data, request->unix_socket.size);
  req.method = view(request->method.data, request->method.size);
  req.authority = view(request->authority.data, request->authority.size);
  req.path = view(request->path.data, request->path.size);
  req.headers = headers;
  req.end_stream = request->end_stream != 0;
  req.connect_timeout_ms = request->connect_timeout_ms;
  req.response_timeout_ms = request->response_timeout_ms;
  req.verify_peer = request->verify_peer != 0;
  req.ca_file = view(request->ca_file.data, request->ca_file.size);

  auto up = std::make_unique<h2_upstream>();
  up->module = ex->module;
  up->route = ex->route;
  up->head_fn = fn;
  up->head_ctx = ctx;
  if (Log::access_enabled()) {
    up->exchange = ex->exchange;
    up->opened = std::chrono::steady_clock::now();
  }
  h2_upstream* raw = up.get();
  UpstreamCall::Events events;
  events.on_informational = [raw] { raw->head(H2_UPSTREAM_INFORMATIONAL); };
  events.on_response = [raw] { raw->head(H2_UPSTREAM_RESPONSE); };
  events.on_failed = [raw] { raw->head(H2_UPSTREAM_FAILED); };
  ExchangeResult r = ExchangeResult::kInvalid;
  std::string why;
  up->call = client->open(req, std::move(events), &r, &why);
  if (r != ExchangeResult::kOk || !up->call) {
    ex->module->log(ModuleLogLevel::kWarn, "upstream request refused: " + why);
    return H2_INVALID;
  }
  *out = up.release();
  return H2_OK;
}

int upstream_status(h2_upstream* up) {
  return up->call->status();
}
int upstream_ended_with_head(h2_upstream* up) {
  return up->call->ended_with_head() ? 1 : 0;
}
std::size_t upstream_header_count(h2_upstream* up) {
  return up->call->headers().size();
}
h2_header upstream_header_at(h2_upstream* up, std::size_t index) {
  return field_at(up->call->headers(), index);
}

int upstream_read(h2_upstream* up, h2_read_fn fn, void* ctx) {
  auto once =
      std::make_shared<ReadOnce>(fn, ctx, up->module, up->route, H2_READ_CANCELLED, nullptr, 0);
  ExchangeResult r = up->call->read_body(
      [once](std::string_view chunk) { once->fire(H2_READ_CHUNK, chunk.data(), chunk.size()); },
      [once, up] {
        up->note_end();  // before the module hears of it (it may release the handle)
        once->fire(H2_READ_EOF, nullptr, 0);
      });
  if (r != ExchangeResult::kOk) once->fire(H2_READ_CANCELLED, nullptr, 0);
  return result(r);
}
std::size_t upstream_trailer_count(h2_upstream* up) {
  return up->call->trailers().size();
}
h2_header upstream_trailer_at(h2_upstream* up, std::size_t index) {
  return field_at(up->call->trailers(), index);
}

int upstream_write(h2_upstream* up, const char* data, std::size_t size) {
  return result(up->call->write(view(data, size)));
}
void upstream_flush(h2_upstream* up, h2_flush_fn fn, void* ctx) {
  auto once = std::make_shared<FlushOnce>(fn, ctx, up->module, up->route, H2_FLUSH_CLOSED);
  up->call->flush([once](FlushResult r) {
    once->fire(r == FlushResult::kWritten ? H2_FLUSH_WRITTEN : H2_FLUSH_CLOSED);
  });
}
int upstream_end(h2_upstream* up, const h2_header* trailers, std::size_t count) {
  const Fields ts(trailers, count);
  return result(up->call->end(ts));
}

int upstream_error(h2_upstream* up, h2_str* reason) {
  UpstreamError e = up->call->error();
  std::string_view why = up->call->reason();
  if (e == UpstreamError::kNone && up->released) {
    e = UpstreamError::kCancelled;
    why = "released by the module";
  }
  if (reason) *reason = c_str(why);
  return static_cast<int>(e);
}

void upstream_release(h2_upstream* up) {
  if (up == nullptr) return;
  up->released = true;
  up->head(H2_UPSTREAM_FAILED);  // the last call of head_fn when it had none yet
  up->note_end();
  std::unique_ptr<h2_upstream> owned(up);
  owned->call.reset();  // cancels upstream; a pending read's guard reports H2_READ_CANCELLED
}

}  // namespace h2::serve::sdk
