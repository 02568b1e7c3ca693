// One upstream request inside UpstreamPool (host/client/upstream_pool.h): its state, shared by
// the module's handle (UpstreamCallHandle) and the connection carrying it, so either may go
// first. Every module callback is fired from a point where the state is consistent and
// nothing of it is touched afterwards but through a shared_ptr the firing code holds.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/client/connect.h"
#include "protocol/client_connection.h"
#include "protocol/detail/ring_queue.h"
#include "serve/upstream.h"

namespace h2::host::client {

class UpstreamPool;
class UpstreamConnection;

// Header fields with their bytes (a response head, trailers, a request's fields).
class OwnedFields {
 public:
  void assign(std::span<const protocol::Field> fields);
  std::span<const serve::HeaderField> view() const { return fields_; }

 private:
  std::string bytes_;  // name, value, name, value, ... back to back
  std::vector<serve::HeaderField> fields_;
};

struct UpstreamCallState : std::enable_shared_from_this<UpstreamCallState> {
  // ---- the request (copied at open) ----
  std::string origin_key;
  Url url;
  ConnectOptions connect;
  std::string method, authority, path;
  OwnedFields request_fields;
  bool end_stream = true;
  uint64_t response_timeout_ms = 0;
  int retries_left = 1;

  // Request body written before the stream exists (the connection is still connecting).
  std::vector<std::string> early_body;
  size_t early_bytes = 0;
  bool body_ended = false;
  OwnedFields request_trailers;

  // ---- where it runs ----
  std::weak_ptr<UpstreamConnection> connection;
  protocol::ClientStream stream;  // invalid until submitted
  std::optional<boost::asio::steady_timer> response_timer;

  // ---- the response ----
  serve::UpstreamCall::Events events;
  int status = 0;
  OwnedFields head;
  OwnedFields trailers;
  // DATA not read by the module yet (credit not returned). Not a std::deque: libstdc++'s
  // allocates about 600 bytes on construction, per request (perf: malloc and free were a
  // third of the proxy's CPU); an empty RingQueue owns nothing.
  protocol::detail::RingQueue<std::string> body;
  bool eof = false;              // the response ended normally
  bool ended_with_head = false;  // END_STREAM came on the final head
  bool head_done = false;        // on_response or on_failed fired
  bool finished = false;         // no more events: completed, failed or cancelled
  serve::Exchange::ChunkCallback read_chunk;
  serve::Exchange::EofCallback read_eof;
  std::vector<serve::Exchange::FlushCallback> flushes;
  serve::UpstreamError error = serve::UpstreamError::kNone;
  std::string reason;
  std::string peer;  // serve::UpstreamCall::peer()

  // Starts the request on `conn` (stream, early body, end); false when submit refused it.
  bool submit_on(protocol::ClientConnection& conn, const std::shared_ptr<UpstreamConnection>& c);
  // ---- events from the connection ----
  void on_informational(uint16_t code, std::span<const protocol::Field> fields);
  void on_response(uint16_t code, std::span<const protocol::Field> fields);
  void on_data(std::string_view data);
  void on_trailers(std::span<const protocol::Field> fields);
  void on_writable();
  void on_completed();
  // Terminal: the head callback (on_failed) if no head yet, else the pending read is dropped.
  void fail(serve::UpstreamError why, std::string text);
  // The module's handle is gone: RST_STREAM(CANCEL), drop every callback.
  void cancel();
  // Hands queued body (or the end) to a pending read.
  void deliver();

  size_t buffered_request_bytes() const;
  void close_flushes(serve::FlushResult result);
};

// What the module holds (serve::UpstreamCall).
class UpstreamCallHandle final : public serve::UpstreamCall {
 public:
  // `watermark`: request body buffered before the stream exists above which flush waits.
  UpstreamCallHandle(std::shared_ptr<UpstreamCallState> state,
                     boost::asio::any_io_executor executor, size_t watermark)
      : state_(std::move(state)), executor_(std::move(executor)), watermark_(watermark) {}
  ~UpstreamCallHandle() override { state_->cancel(); }

  int status() const override { return state_->status; }
  std::span<const serve::HeaderField> headers() const override { return state_->head.view(); }
  serve::ExchangeResult read_body(serve::Exchange::ChunkCallback on_chunk,
                                  serve::Exchange::EofCallback on_eof) override;
  std::span<const serve::HeaderField> trailers() const override {
    return state_->trailers.view();
  }
  bool ended_with_head() const override { return state_->ended_with_head; }
  serve::ExchangeResult write(std::string_view bytes) override;
  void flush(serve::Exchange::FlushCallback done) override;
  serve::ExchangeResult end(std::span<const serve::HeaderField> trailers) override;
  serve::UpstreamError error() const override { return state_->error; }
  std::string_view reason() const override { return state_->reason; }
  std::string_view peer() const override { return state_->peer; }

 private:
  void post_flush(serve::Exchange::FlushCallback done, serve::FlushResult result);

  std::shared_ptr<UpstreamCallState> state_;
  boost::asio::any_io_executor executor_;
  size_t watermark_;
};

}  // namespace h2::host::client
