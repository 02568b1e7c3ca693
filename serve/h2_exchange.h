// The Exchange of one HTTP/2 stream (serve/exchange.h) over protocol/'s Reqd: a thin, non-template
// translation (HeaderField <-> protocol::Field, Result -> ExchangeResult). Bytes are never copied
// here: string bodies are moved into the core, shared and borrowed ones referenced.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "serve/exchange.h"
#include "protocol/reqd.h"
#include "protocol/request_handler.h"

namespace h2::serve {

class H2Exchange;

// What an H2Exchange needs from its connection (implemented by ConnectionDriver). Output readiness and
// stream ends come from the core itself (protocol/request_handler.h), not through here.
class H2Transport {
 public:
  virtual ~H2Transport() = default;
  virtual void schedule(uint64_t delay_ms, std::function<void()> fn) = 0;
  // The connection's event loop (serve/loop.h).
  virtual std::shared_ptr<Loop> loop() const = 0;
};

class H2Exchange final : public Exchange, public std::enable_shared_from_this<H2Exchange> {
 public:
  H2Exchange(protocol::Reqd reqd, std::string peer, bool tls, std::weak_ptr<H2Transport> transport);
  ~H2Exchange() override;

  HttpVersion version() const override { return HttpVersion::kHttp2; }
  std::string_view method() const override { return reqd_.request().method; }
  std::string_view scheme() const override;
  std::string_view authority() const override;
  std::string_view path() const override { return reqd_.request().path; }
  std::string_view protocol() const override { return reqd_.request().protocol; }
  std::span<const HeaderField> headers() const override;
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
  bool response_started() const override { return started_; }
  bool closed() const override { return reqd_.is_closed(); }
  void on_cancel(CancelCallback cb) override { on_cancel_ = std::move(cb); }
  void schedule(std::uint64_t delay_ms, TimerCallback fire) override;
  std::shared_ptr<Loop> loop() const override;

  // The core ended the stream (RequestHandler::on_stream_closed). Ends the peer or the
  // connection caused run the module's on_cancel; in every case the module's callbacks held
  // here are destroyed, which breaks reference cycles through an exchange handle captured in
  // them (serve/exchange.h, "Lifetime").
  void stream_ended(protocol::StreamEnd end);
  int status() const { return status_; }

 private:
  ExchangeResult finish(protocol::Result r);

  protocol::Reqd reqd_;
  protocol::Writer writer_;
  std::string peer_;
  bool tls_;
  std::weak_ptr<H2Transport> transport_;
  bool started_ = false;
  int status_ = 0;
  uint64_t body_bytes_ = 0;  // for the access log line, written when the exchange is destroyed
  std::chrono::steady_clock::time_point began_;  // set only while the access log is on
  CancelCallback on_cancel_;
};

// Maps protocol results onto the Exchange vocabulary.
ExchangeResult to_exchange_result(protocol::Result r);

}  // namespace h2::serve
