// HTTP/1.1 over any Asio AsyncStream with Boost.Beast's parser: one request at a time
// (keep-alive, no pipelining), each handed to the router as an Http1Exchange whose output is
// gather-written from its queue. A cleartext request with a valid "Upgrade: h2c" is answered
// 101 and the connection continues as an H2Session with that request as stream 1.
//
// Request bodies are streamed with backpressure: the handler's read_body() makes the session
// read and parse the next piece (Beast's buffer_body into one reused 64 KiB buffer); nothing is
// read ahead. A response that completes before its request body was read to the end closes
// the connection (a lingering close, host/lingering_close.h: the unread rest is dropped, not
// answered with an RST). An upgrading request's body is read whole first (it becomes stream 1's
// body).
//
// Bounds: the head by http1.max_header_bytes, the body by http1.max_body_bytes (413 beyond),
// an upgrading request's body by http1.max_upgrade_body_bytes. Timeouts: preface_ms for the
// first head, idle_ms between requests and while reading a body, write_ms per write.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/h2_session.h"
#include "http1/h2c_upgrade.h"
#include "http1/request_head.h"
#include "serve/http1_engine.h"
#include "serve/http1_exchange.h"
#include "host/lingering_close.h"
#include "serve/log.h"
#include "host/runtime.h"
#include "host/stream_close.h"
#include "host/write_staging.h"

namespace h2::host {

template <class Stream>
class Http1Session final : public serve::Http1Transport,
                           public SessionBase,
                           public std::enable_shared_from_this<Http1Session<Stream>> {
 public:
  Http1Session(Stream stream, ConnectionContext context, boost::beast::flat_buffer buffer)
      : stream_(std::move(stream)),
        context_(std::move(context)),
        buffer_(std::move(buffer)),
        timer_(stream_.get_executor()) {
    context_.worker->add(this);
  }
  ~Http1Session() override {
    if (registered_) context_.worker->remove(this);
  }

  void start() {
    // Accepted as the listeners closed: its request is served, then the connection closes.
    if (context_.worker->draining()) closing_ = true;
    read_head();
  }

  // ---- Http1Transport ----
  void output_ready() override {
    if (!writing_ && !closed_) do_write();
  }
  void abort() override { close(); }
  std::shared_ptr<serve::Loop> loop() const override { return context_.worker->loop(); }
  void schedule(uint64_t delay_ms, std::function<void()> fn) override {
    auto timer = std::make_shared<boost::asio::steady_timer>(stream_.get_executor());
    timer->expires_after(std::chrono::milliseconds(delay_ms));
    timer->async_wait([timer, weak = this->weak_from_this(), fn = std::move(fn)](auto ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      fn();
    });
  }

  void request_body() override {
    if (closed_ || body_reading_ || !parser_) return;
    if (parser_->is_done()) {
      // The last piece was already delivered: the end comes from the loop, never inline.
      boost::asio::post(stream_.get_executor(), [weak = this->weak_from_this()] {
        auto self = weak.lock();
        if (self && !self->closed_ && self->exchange_) {
          self->exchange_->deliver_eof(self->trailers());
        }
      });
      return;
    }
    body_reading_ = true;
    reading_ = true;
    auto& body = parser_->get().body();
    body.data = body_buffer_.data();
    body.size = body_buffer_.size();
    if (!writing_) arm(config().timeouts.idle_ms);
    boost::beast::http::async_read_some(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
          self->body_reading_ = false;
          self->reading_ = false;
          if (self->closed_) return self->linger_.read_finished(self);
          if (ec == boost::beast::http::error::need_buffer) ec = {};
          if (ec) return self->fail_body(ec);
          const size_t got = self->body_buffer_.size() - self->parser_->get().body().size;
          auto exchange = self->exchange_;
          if (!exchange) return;
          if (got > 0) {
            exchange->deliver_body(std::string_view(self->body_buffer_.data(), got));
          } else if (self->parser_->is_done()) {
            exchange->deliver_eof(self->trailers());
          } else {
            self->request_body();  // only chunk framing was parsed: read on
          }
        });
  }

  // ---- SessionBase ----
  void shutdown_gracefully() override {
    closing_ = true;
    if (!exchange_) finish();  // idle between requests
  }
  void close_now() override { close(); }

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  const HostConfig& config() const { return context_.snapshot->config; }

  void arm(uint64_t ms) {
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(std::chrono::milliseconds(ms));
    timer_.async_wait([weak = this->weak_from_this(), generation](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->timer_generation_ != generation) return;
      H2_LOG(kInfo, "http/1.1 connection from " + self->context_.peer + " timed out");
      self->close();
    });
  }
  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void read_head() {
    if (closing_) {
      finish();
      return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(config().http1.max_header_bytes));
    parser_->body_limit(config().http1.max_body_bytes);
    arm(requests_ == 0 ? config().timeouts.preface_ms : config().timeouts.idle_ms);
    reading_ = true;
    boost::beast::http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
          self->reading_ = false;
          self->on_head(ec);
        });
  }

  void on_head(boost::system::error_code ec) {
    if (closed_) return linger_.read_finished(this->shared_from_this());
    if (ec) {
      fail_request(ec);
      return;
    }
    auto& req = parser_->get();
    // RFC 7540 §3.2: only cleartext connections upgrade; the body is bounded before 101.
    if (upgrade_candidate()) {
      parser_->body_limit(config().http1.max_upgrade_body_bytes);
    }
    if (req[boost::beast::http::field::expect] == "100-continue" && !parser_->is_done()) {
      continue_sent_ = std::string("HTTP/1.1 100 Continue\r\n\r\n");
      boost::asio::async_write(stream_, boost::asio::buffer(continue_sent_),
                               [self = this->shared_from_this()](auto ec2, size_t) {
                                 if (ec2) return self->close();
                                 self->after_head();
                               });
      return;
    }
    after_head();
  }

  // RFC 7540 §3.2: a cleartext request asking for Upgrade, on a listener that offers h2.
  bool upgrade_candidate() const {
    return context_.protocols.http2 && !context_.tls &&
           parser_->get().count(boost::beast::http::field::upgrade) != 0;
  }

  // An upgrade candidate's body is read whole (bounded); any other request goes to its handler
  // now and its body is streamed on demand.
  void after_head() {
    if (upgrade_candidate()) {
      upgrade_body_.clear();
      return read_whole_body();
    }
    on_request();
  }

  void read_whole_body() {
    if (parser_->is_done()) return on_request();
    auto& body = parser_->get().body();
    body.data = body_buffer_.data();
    body.size = body_buffer_.size();
    reading_ = true;
    boost::beast::http::async_read_some(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
          self->reading_ = false;
          if (self->closed_) return self->linger_.read_finished(self);
          if (ec == boost::beast::http::error::need_buffer) ec = {};
          if (ec) return self->fail_request(ec);
          const size_t got = self->body_buffer_.size() - self->parser_->get().body().size;
          self->upgrade_body_.append(self->body_buffer_.data(), got);
          self->read_whole_body();
        });
  }

  // Beast appends the fields of a chunked body's trailer section to the message's fields:
  // everything after the head's fields is a trailer (RFC 9112 §7.1.2).
  std::vector<std::pair<std::string, std::string>> trailers() const {
    std::vector<std::pair<std::string, std::string>> out;
    size_t index = 0;
    for (const auto& field : parser_->get()) {
      if (index++ < head_field_count_) continue;
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.emplace_back(std::move(name), std::string(field.value()));
    }
    return out;
  }

  // A streamed body failed: too large (413 if the handler has not answered yet) or the
  // transport / framing broke (the connection closes).
  void fail_body(boost::system::error_code ec) {
    namespace http = boost::beast::http;
    if (ec == http::error::body_limit && exchange_ && !exchange_->response_started()) {
      exchange_->refuse_keep_alive();
      static constexpr serve::HeaderField kPlain[] = {{"content-type", "text/plain; charset=utf-8"}};
      exchange_->respond_with_string({413, kPlain}, "request body too large\n");
      return;
    }
    close();
  }

  void fail_request(boost::system::error_code ec) {
    namespace http = boost::beast::http;
    if (ec == http::error::body_limit) return reject(413, "request body too large\n");
    if (ec == http::error::header_limit) return reject(431, "request header too large\n");
    // A malformed message (not a transport failure, not a clean close between requests).
    if (ec.category() == make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return reject(400, "bad request\n");
    }
    close();
  }

  // Answers an unreadable request and closes the connection.
  void reject(int status, std::string body) {
    serve::Http1Request request;
    request.method = "GET";
    request.keep_alive = false;
    start_exchange(std::move(request));
    static constexpr serve::HeaderField kPlain[] = {{"content-type", "text/plain; charset=utf-8"}};
    exchange_->respond_with_string({status, kPlain}, std::move(body));
  }

  void on_request() {
    disarm();
    const bool upgrade_allowed = context_.protocols.http2 && !context_.tls;
    http1::RequestHead head = http1::read_request_head(parser_->get().base(), parser_->get().keep_alive(),
                                         upgrade_allowed, config().http1.max_header_fields);
    head_field_count_ = head.field_count;
    if (head.verdict == http1::RequestHead::Verdict::kTooManyFields) {
      return reject(431, "too many request header fields\n");
    }
    serve::Http1Request& request = head.request;
    request.body = std::move(upgrade_body_);
    upgrade_body_.clear();
    request.body_streamed = !parser_->is_done();
    if (head.verdict == http1::RequestHead::Verdict::kBadUpgrade) {
      start_exchange(std::move(request));
      static constexpr serve::HeaderField kPlain[] = {{"content-type", "text/plain; charset=utf-8"}};
      exchange_->respond_with_string({400, kPlain}, "bad HTTP2-Settings\n");
      return;
    }
    if (head.verdict == http1::RequestHead::Verdict::kUpgrade && !closing_) {
      return upgrade_to_h2(std::move(request), std::move(head.settings_payload));
    }
    start_exchange(std::move(request));
    serve::dispatch_request(context_.snapshot->router, exchange_);
  }

  void start_exchange(serve::Http1Request request) {
    ++requests_;
    // While a handler works no I/O is pending, so the session keeps itself alive until the
    // response is written or the connection closes; idle_ms bounds a handler that never answers.
    self_ = this->shared_from_this();
    arm(config().timeouts.idle_ms);
    exchange_ = std::make_shared<serve::Http1Exchange>(
        std::move(request), context_.tls ? "https" : "http", context_.peer,
        std::weak_ptr<serve::Http1Transport>(this->weak_from_this()));
    if (serve::Log::access_enabled()) {
      exchange_->access_notes.tls_version = context_.tls_version;
      exchange_->access_notes.alpn = context_.alpn;
    }
  }

  void upgrade_to_h2(serve::Http1Request request, std::string payload) {
    upgrade_response_ =
        "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n";
    upgrade_request_ = std::move(request);
    upgrade_payload_ = std::move(payload);
    boost::asio::async_write(
        stream_, boost::asio::buffer(upgrade_response_),
        [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
          if (ec || self->closed_) return self->close();
          self->finish_upgrade();
        });
  }

  void finish_upgrade() {
    protocol::UpgradeRequest request = serve::to_upgrade_request(upgrade_request_, upgrade_fields_);
    const std::string initial(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    closed_ = true;  // this object is done; the stream moves to the HTTP/2 session
    disarm();
    registered_ = false;
    context_.worker->remove(this);
    auto h2 = std::make_shared<H2Session<Stream>>(std::move(stream_), context_);
    // The views in `request` (fields, method, ...) point into upgrade_request_, alive here.
    h2->start_upgraded(upgrade_payload_, std::move(request), initial);
  }

  void do_write() {
    if (writing_ || closed_ || !exchange_) return;
    views_.clear();
    const size_t total = exchange_->pending_output(views_, write_limit<Stream>(256 * 1024));
    if (total == 0) {
      if (exchange_->finished()) on_response_done();
      return;
    }
    prepare_write<Stream>(views_, staging_, buffers_);
    writing_ = true;
    arm(config().timeouts.write_ms);
    boost::asio::async_write(
        stream_, buffers_,
        [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->staging_.release();
          if (self->closed_) return;
          self->disarm();
          if (ec) {
            self->writing_ = false;
            return self->close();
          }
          // Flush callbacks run the handler, which may queue more: writing_ stays set until
          // they return so output_ready() does not start a second, overlapping write.
          auto exchange = self->exchange_;
          exchange->consume_output(n);
          self->writing_ = false;
          if (self->closed_) return;
          if (!exchange->finished()) self->arm(self->config().timeouts.idle_ms);
          self->do_write();
        });
  }

  void on_response_done() {
    auto self = std::move(self_);
    auto exchange = std::move(exchange_);
    if (serve::Log::access_enabled()) {
      exchange->log_access();
    }
    if (exchange->keep_alive() && !closing_) {
      read_head();
    } else {
      finish();
    }
  }

  // After a complete response (or when idle): a lingering close (host/lingering_close.h), so
  // that unread bytes from the client (e.g. the rest of a request body the handler did not
  // read) do not turn the close into an RST that destroys the response at the client.
  void finish() {
    if (closed_) return;
    end_exchange();
    linger_.start(this->shared_from_this(), reading_);
  }

  // Failures and timeouts: close the socket at once.
  void close() {
    linger_.abort();
    if (!closed_) end_exchange();
  }

  void end_exchange() {
    closed_ = true;
    disarm();
    auto self = std::move(self_);  // released when this call returns
    if (exchange_) exchange_->connection_lost();
  }

  Stream stream_;
  ConnectionContext context_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer timer_;
  LingeringClose<Stream> linger_{stream_};
  std::optional<Parser> parser_;
  std::shared_ptr<serve::Http1Exchange> exchange_;
  std::shared_ptr<Http1Session> self_;  // set while an exchange is in progress
  std::vector<std::string_view> views_;
  std::vector<boost::asio::const_buffer> buffers_;
  WriteStaging staging_;  // TLS: the write in flight, copied into one buffer (write_staging.h)
  std::array<char, 64 * 1024> body_buffer_;  // one reused buffer for request body pieces
  std::string upgrade_body_;
  bool body_reading_ = false;
  size_t head_field_count_ = 0;
  std::string continue_sent_;
  std::string upgrade_response_;
  serve::Http1Request upgrade_request_;
  std::vector<protocol::Field> upgrade_fields_;  // views into upgrade_request_
  std::string upgrade_payload_;
  uint64_t timer_generation_ = 0;
  uint64_t requests_ = 0;
  bool writing_ = false;
  bool reading_ = false;  // a head or body read is in flight
  bool closing_ = false;
  bool closed_ = false;
  bool registered_ = true;
};

}  // namespace h2::host
