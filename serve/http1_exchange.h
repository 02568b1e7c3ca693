// The Exchange of one HTTP/1.1 request (serve/exchange.h), sans-I/O like the HTTP/2 core: the
// connection (http1/http1_connection.h) hands it a parsed request and pulls the response bytes from it
// (pending_output / consume_output) for gather writes; the exchange never touches the socket.
//
// Request body: either streamed on demand (read_body -> Http1Transport::request_body ->
// deliver_body / deliver_eof: one chunk per read_body, nothing read ahead), or - for an
// upgrading request - already whole in Http1Request::body.
//
// Response framing: a string or shared body gets content-length; a streaming body gets
// `transfer-encoding: chunked` (HTTP/1.1 clients) unless the handler set content-length, or is
// delimited by closing the connection (HTTP/1.0 clients). HEAD responses carry no body.
// Trailers go into the last chunk; 1xx responses are sent before the head (never to HTTP/1.0).
// Push is kUnsupported. reset() closes the connection.
//
// Ownership: string bodies are moved in and shared bodies referenced (keep_alive held until
// written); borrowed writes are referenced and released once written or abandoned.
#pragma once

#include <cstdint>
#include <deque>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serve/exchange.h"

namespace h2::serve {

// What an Http1Exchange needs from the connection that owns it (http1::Http1Connection).
class Http1Transport {
 public:
  virtual ~Http1Transport() = default;
  // New response bytes were queued, or the response completed: write / move on.
  virtual void output_ready() = 0;
  // reset(): close the connection now.
  virtual void abort() = 0;
  // Runs `fn` on the connection's thread after `delay_ms` (0 = soon, never inline), unless the
  // connection is destroyed first.
  virtual void schedule(uint64_t delay_ms, std::function<void()> fn) = 0;
  // The connection's event loop (serve/loop.h).
  virtual std::shared_ptr<Loop> loop() const = 0;
  // The handler asked for the next piece of a streamed request body: read some, then call
  // deliver_body() or deliver_eof() (never inline). Backpressure: nothing is read before.
  virtual void request_body() = 0;
};

// The parsed request the session hands over (owned by the exchange from then on).
struct Http1Request {
  std::string method;
  std::string target;
  std::string host;        // Host header ("" when absent)
  bool http10 = false;     // HTTP/1.0: no chunked responses, no 1xx, close by default
  bool keep_alive = true;  // what the request asked for
  std::vector<std::pair<std::string, std::string>> fields;  // lowercase names, in order
  std::string body;            // the whole body, when read before the handler (upgrades)
  bool body_streamed = false;  // the body is read on demand through Http1Transport
  std::vector<std::pair<std::string, std::string>> trailers;  // chunked trailers, lowercase
};

class Http1Exchange final : public Exchange, public std::enable_shared_from_this<Http1Exchange> {
 public:
  Http1Exchange(Http1Request request, std::string scheme, std::string peer,
                std::weak_ptr<Http1Transport> transport);
  ~Http1Exchange() override;

  // ---- Exchange ----
  HttpVersion version() const override { return HttpVersion::kHttp11; }
  std::string_view method() const override { return request_.method; }
  std::string_view scheme() const override { return scheme_; }
  std::string_view authority() const override { return request_.host; }
  std::string_view path() const override { return request_.target; }
  std::string_view protocol() const override { return {}; }
  std::span<const HeaderField> headers() const override { return fields_; }
  std::string_view peer() const override { return peer_; }
  ExchangeResult read_body(ChunkCallback on_chunk, EofCallback on_eof) override;
  std::span<const HeaderField> request_trailers() const override;
  ExchangeResult respond_with_string(const ResponseHead& head, std::string body) override;
  ExchangeResult respond_with_shared(const ResponseHead& head, SharedBytes body) override;
  ExchangeResult respond_streaming(const ResponseHead& head) override;
  ExchangeResult write(std::string_view bytes) override;
  ExchangeResult write_borrowed(std::string_view bytes, ReleaseCallback release) override;
  void flush(FlushCallback done) override;
  ExchangeResult close_body(std::span<const HeaderField> trailers = {}) override;
  ExchangeResult send_informational(const ResponseHead& head) override;
  PushResult push(const PushRequest& request) override;
  void reset(std::uint32_t error_code) override;
  bool response_started() const override { return head_sent_; }
  bool closed() const override { return closed_; }
  void on_cancel(CancelCallback cb) override { on_cancel_ = std::move(cb); }
  void schedule(std::uint64_t delay_ms, TimerCallback fire) override;
  std::shared_ptr<Loop> loop() const override;

  // ---- driven by the session ----
  // Appends views of the unwritten response bytes; they stay valid until consumed.
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes);
  void consume_output(size_t written);
  // Response bytes are queued and not yet consumed.
  bool has_output() const { return !out_.empty(); }
  // The response is complete and every byte of it was consumed.
  bool finished() const { return complete_ && out_.empty(); }
  // After finished(): may the connection carry another request? Not when the request body
  // was not read to its end (its rest would have to be drained first).
  bool keep_alive() const { return keep_alive_ && body_complete(); }
  bool body_complete() const { return !request_.body_streamed || stream_eof_; }
  // The session's answers to Http1Transport::request_body().
  void deliver_body(std::string_view chunk);
  // `trailers`: the chunked trailer section (lowercase names), readable after on_eof.
  void deliver_eof(std::vector<std::pair<std::string, std::string>> trailers = {});
  // The connection cannot carry another request after this one (e.g. the body was refused).
  void refuse_keep_alive() { keep_alive_ = false; }
  int status() const { return status_; }
  // Writes this exchange's access-log line (call when its response is done; log enabled).
  void log_access() const;
  uint64_t body_bytes() const { return body_bytes_; }
  // The connection is gone: cancel callback, pending flushes get kClosed, borrowed released.
  void connection_lost();

 private:
  struct Piece {
    std::string owned;
    std::string_view view;  // into `owned`, a borrowed buffer, or `keep`
    std::shared_ptr<const void> keep;
    ReleaseCallback release;
  };

  // The module callbacks the exchange still holds, taken out so that the caller destroys them
  // when it no longer touches *this (they may hold the last reference to it).
  struct DroppedCallbacks {
    CancelCallback cancel;
    ChunkCallback on_chunk;
    EofCallback on_eof;
  };
  DroppedCallbacks drop_callbacks();
  ExchangeResult start_response(const ResponseHead& head, int64_t content_length, bool streaming);
  void queue_owned(std::string bytes);
  void queue_view(std::string_view bytes, std::shared_ptr<const void> keep, ReleaseCallback r);
  void complete();
  void notify();
  void fire_flushes(FlushResult result);

  Http1Request request_;
  std::string scheme_;
  std::string peer_;
  std::chrono::steady_clock::time_point began_;  // set only while the access log is on
  std::weak_ptr<Http1Transport> transport_;
  std::vector<HeaderField> fields_;
  std::vector<HeaderField> trailer_fields_;
  size_t body_read_ = 0;
  bool body_eof_delivered_ = false;
  bool read_pending_ = false;
  bool stream_eof_ = false;
  ChunkCallback on_chunk_;  // pending streamed read
  EofCallback on_eof_;

  bool head_sent_ = false;
  bool streaming_ = false;
  bool chunked_ = false;
  bool no_body_ = false;   // HEAD, 204, 304
  bool complete_ = false;  // the last byte of the response is queued
  bool closed_ = false;
  bool keep_alive_ = true;
  int status_ = 0;
  uint64_t body_bytes_ = 0;
  uint64_t body_received_ = 0;  // request body bytes delivered (status counters)

  std::deque<Piece> out_;
  size_t front_offset_ = 0;  // bytes of out_.front() already written
  uint64_t queued_ = 0;
  uint64_t written_ = 0;
  std::vector<std::pair<uint64_t, FlushCallback>> flushes_;
  CancelCallback on_cancel_;
};

}  // namespace h2::serve
