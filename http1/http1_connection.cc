#include "http1/http1_connection.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <cctype>

#include "http1/request_head.h"
#include "serve/dispatch.h"
#include "serve/log.h"

namespace h2::http1 {
namespace {

namespace http = boost::beast::http;
constexpr size_t kBodyBufferBytes = 64 * 1024;
// HTTP/2 bytes kept while the 101 is written before reading stops.
constexpr size_t kMaxUnparsedBytes = 64 * 1024;
constexpr serve::HeaderField kPlain[] = {{"content-type", "text/plain; charset=utf-8"}};

std::optional<uint64_t> earliest(std::optional<uint64_t> a, uint64_t b) {
  return a ? std::min(*a, b) : b;
}

}  // namespace

std::shared_ptr<serve::Http1Engine> Factory::make(const serve::Http1Start& start) const {
  return std::make_shared<Http1Connection>(limits_, start);
}

Http1Connection::Http1Connection(const Limits& limits, const serve::Http1Start& start)
    : limits_(limits),
      runtime_(start.runtime),
      router_(start.router),
      peer_(start.peer.address),
      tls_(start.peer.tls),
      tls_version_(start.peer.tls_version),
      alpn_(start.peer.alpn),
      upgrade_allowed_(start.upgrade_allowed),
      closing_(start.draining),  // accepted as the listeners closed: one request, then close
      now_(start.now),
      start_ms_(start.now),
      progress_ms_(start.now) {
  new_parser();
}

// Destroyed while a handler still has its exchange: the connection is gone (on_cancel, flushes
// answered kClosed, borrowed buffers released). The exchange cannot reach this object any more.
Http1Connection::~Http1Connection() {
  if (exchange_) exchange_->connection_lost();
}

void Http1Connection::new_parser() {
  parser_.emplace();
  parser_->header_limit(
      static_cast<uint32_t>(std::min<uint64_t>(limits_.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(limits_.max_body_bytes);
  head_bytes_ = 0;
}

// ---- input ----

void Http1Connection::on_bytes(std::string_view bytes, uint64_t now) {
  const Driving driving(*this);
  now_ = now;
  if (outcome_ != Outcome::kServing) return;
  if (in_pos_ > 0 && in_pos_ >= in_.size() / 2) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(bytes);
  advance();
}

void Http1Connection::on_peer_eof(uint64_t now) {
  const Driving driving(*this);
  now_ = now;
  peer_eof_ = true;
  if (outcome_ != Outcome::kServing) return;
  // A request whose body is complete is still answered (HTTP/1.1 allows a half-close); the
  // steps below see the EOF where they need more bytes.
  if (phase_ == Phase::kSwitching) return;  // carried into HTTP/2 with the upgrade
  advance();
}

// Beast's parser over the unparsed input. need_buffer (the body buffer is full) is progress,
// not an error; need_more means every byte was looked at.
size_t Http1Connection::feed(boost::system::error_code& ec) {
  ec = {};
  if (in_pos_ == in_.size()) {
    ec = http::error::need_more;
    return 0;
  }
  const size_t n =
      parser_->put(boost::asio::const_buffer(in_.data() + in_pos_, in_.size() - in_pos_), ec);
  in_pos_ += n;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  if (ec == http::error::need_buffer) ec = {};
  return n;
}

// Runs every step the input allows: a step returns true when the next one may have work.
void Http1Connection::advance() {
  while (outcome_ == Outcome::kServing) {
    bool progressed = false;
    switch (phase_) {
      case Phase::kHead:
        progressed = parse_head();
        break;
      case Phase::kUpgradeBody:
        progressed = read_upgrade_body();
        break;
      case Phase::kExchange:
        progressed = body_wanted_ && deliver_body();
        break;
      case Phase::kSwitching:
        break;
    }
    if (!progressed) return;
  }
}

bool Http1Connection::parse_head() {
  if (in_pos_ == in_.size()) {
    if (peer_eof_) finish(Outcome::kDone);  // closed between requests: nothing owed
    return false;
  }
  boost::system::error_code ec;
  const size_t n = feed(ec);
  // Beast consumes whole field lines of an unfinished head and checks its header_limit only
  // against the bytes of one call: the head's total is bounded here (RFC 6585 §5: 431).
  if (!parser_->is_header_done()) {
    head_bytes_ += n;
    if (head_bytes_ + (in_.size() - in_pos_) > limits_.max_header_bytes) {
      reject(431, "request header too large\n");
      return false;
    }
  }
  if (ec == http::error::need_more) {
    if (peer_eof_) {
      H2_LOG(kDebug, "http/1.1 connection from " + peer_ + ": closed inside a request head");
      finish(Outcome::kFailed);
    }
    return false;
  }
  if (ec) {
    fail_request(ec);
    return false;
  }
  on_head();
  return true;
}

void Http1Connection::on_head() {
  const auto& req = parser_->get();
  const bool http11 = req.version() >= 11;  // RFC 9110 §7.8, §10.1.1: not for HTTP/1.0
  // RFC 7540 §3.2: only cleartext connections upgrade, to h2c, and the body is read whole (and
  // bounded) before the 101; a larger declared body is served over HTTP/1.1 instead.
  const auto declared = parser_->content_length();
  const bool upgrade_candidate = upgrade_allowed_ && http11 &&
                                 http::token_list(req[http::field::upgrade]).exists("h2c") &&
                                 (!declared || *declared <= limits_.max_upgrade_body_bytes);
  if (upgrade_candidate) parser_->body_limit(limits_.max_upgrade_body_bytes);
  // RFC 9110 §10.1.1: the client waits for this before sending the body.
  if (http11 && !parser_->is_done() &&
      boost::beast::iequals(req[http::field::expect], "100-continue")) {
    preamble_.emplace_back("HTTP/1.1 100 Continue\r\n\r\n");  // inside a driving call
  }
  if (upgrade_candidate) {
    phase_ = Phase::kUpgradeBody;
    upgrade_body_.clear();
    return;
  }
  on_request();
}

// The next piece of the body into the body buffer (made at the first): the input consumed;
// *got is the body bytes the buffer now holds.
size_t Http1Connection::parse_body_piece(boost::system::error_code& ec, size_t* got) {
  if (!body_buffer_) body_buffer_ = std::make_unique<char[]>(kBodyBufferBytes);
  auto& body = parser_->get().body();
  body.data = body_buffer_.get();
  body.size = kBodyBufferBytes;
  const size_t n = feed(ec);
  *got = kBodyBufferBytes - body.size;
  return n;
}

bool Http1Connection::read_upgrade_body() {
  if (parser_->is_done()) {
    on_request();
    return true;
  }
  boost::system::error_code ec;
  size_t got = 0;
  const size_t n = parse_body_piece(ec, &got);
  if (ec == http::error::need_more) {
    if (peer_eof_) finish(Outcome::kFailed);
    return false;
  }
  if (ec) {
    fail_request(ec);
    return false;
  }
  upgrade_body_.append(body_buffer_.get(), got);
  return n > 0 || parser_->is_done();
}

// One piece of a streamed body for the handler's read_body(), or its end.
bool Http1Connection::deliver_body() {
  auto exchange = exchange_;  // a callback may end the exchange
  if (parser_->is_done()) {
    body_wanted_ = false;
    progress_ms_ = now_;
    exchange->deliver_eof(trailers());
    return true;
  }
  boost::system::error_code ec;
  size_t got = 0;
  const size_t n = parse_body_piece(ec, &got);
  if (ec == http::error::need_more) {
    if (peer_eof_) fail_body(http::error::partial_message);
    return false;
  }
  if (ec) {
    fail_body(ec);
    return false;
  }
  if (got > 0) {
    body_wanted_ = false;
    progress_ms_ = now_;
    exchange->deliver_body(std::string_view(body_buffer_.get(), got));
    return true;
  }
  return n > 0 || parser_->is_done();  // only chunk framing was parsed: go on
}

// Beast appends the fields of a chunked body's trailer section to the message's fields:
// everything after the head's fields is a trailer (RFC 9112 §7.1.2).
std::vector<std::pair<std::string, std::string>> Http1Connection::trailers() const {
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

// ---- requests ----

void Http1Connection::on_request() {
  progress_ms_ = now_;
  // An upgrade candidate's body was read whole (kUpgradeBody); any other request may not upgrade.
  const bool upgrading = phase_ == Phase::kUpgradeBody;
  RequestHead head = read_request_head(parser_->get().base(), parser_->get().keep_alive(),
                                       upgrading, limits_.max_header_fields);
  head_field_count_ = head.field_count;
  if (head.verdict == RequestHead::Verdict::kTooManyFields) {
    return reject(431, "too many request header fields\n");
  }
  serve::Http1Request& request = head.request;
  request.body = std::exchange(upgrade_body_, std::string());
  request.body_streamed = !parser_->is_done();
  if (head.verdict == RequestHead::Verdict::kBadUpgrade) {
    start_exchange(std::move(request));
    exchange_->respond_with_string({400, kPlain}, "bad HTTP2-Settings\n");
    return;
  }
  if (head.verdict == RequestHead::Verdict::kUpgrade && !closing_) {
    upgrade_.request = std::move(request);
    upgrade_.http2_settings = std::move(head.settings_payload);
    preamble_.emplace_back(
        "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n");
    phase_ = Phase::kSwitching;
    return;
  }
  start_exchange(std::move(request));
  serve::dispatch_request(router_, exchange_);
}

void Http1Connection::start_exchange(serve::Http1Request request) {
  ++requests_;
  phase_ = Phase::kExchange;
  body_wanted_ = false;
  progress_ms_ = now_;
  exchange_ = std::make_shared<serve::Http1Exchange>(
      std::move(request), tls_ ? "https" : "http", peer_,
      std::weak_ptr<serve::Http1Transport>(weak_from_this()));
  if (serve::Log::access_enabled()) {
    exchange_->access_notes.tls_version = tls_version_;
    exchange_->access_notes.alpn = alpn_;
  }
}

// Answers an unreadable request; the connection closes after the answer.
void Http1Connection::reject(int status, std::string_view body) {
  serve::Http1Request request;
  request.method = "GET";
  request.keep_alive = false;
  start_exchange(std::move(request));
  exchange_->respond_with_string({status, kPlain}, std::string(body));
}

void Http1Connection::fail_request(boost::system::error_code ec) {
  if (ec == http::error::body_limit) return reject(413, "request body too large\n");
  if (ec == http::error::header_limit) return reject(431, "request header too large\n");
  if (ec.category() == make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return reject(400, "bad request\n");
  }
  finish(Outcome::kFailed);
}

// A streamed body failed: too large (413 if the handler has not answered yet), or its framing
// broke or the peer left (the connection closes).
void Http1Connection::fail_body(boost::system::error_code ec) {
  body_wanted_ = false;
  if (ec == http::error::body_limit && exchange_ && !exchange_->response_started()) {
    exchange_->refuse_keep_alive();
    exchange_->respond_with_string({413, kPlain}, "request body too large\n");
    return;
  }
  H2_LOG(kDebug, "http/1.1 connection from " + peer_ + ": request body: " + ec.message());
  finish(Outcome::kFailed);
}

// ---- output ----

bool Http1Connection::output_pending() const {
  return !preamble_.empty() || (exchange_ && exchange_->has_output());
}

size_t Http1Connection::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  size_t total = 0;
  size_t skip = preamble_pos_;
  for (const std::string& piece : preamble_) {
    if (total >= max_bytes) break;
    const std::string_view view = std::string_view(piece).substr(skip, max_bytes - total);
    skip = 0;
    out.push_back(view);
    total += view.size();
  }
  // The exchange's response follows the preamble ("100 Continue" precedes the final answer).
  if (exchange_ && total < max_bytes) total += exchange_->pending_output(out, max_bytes - total);
  if (total > 0 && write_waiting_since_ == 0) write_waiting_since_ = std::max<uint64_t>(now_, 1);
  return total;
}

void Http1Connection::on_written(size_t n, uint64_t now) {
  const Driving driving(*this);
  now_ = now;
  if (n > 0) {
    write_waiting_since_ = 0;
    progress_ms_ = now;
  }
  while (n > 0 && !preamble_.empty()) {
    const size_t left = preamble_.front().size() - preamble_pos_;
    if (n < left) {
      preamble_pos_ += n;
      n = 0;
      break;
    }
    n -= left;
    preamble_.pop_front();
    preamble_pos_ = 0;
  }
  if (n > 0 && exchange_) {
    auto exchange = exchange_;  // flush callbacks run the handler
    exchange->consume_output(n);
  }
  after_write();
}

void Http1Connection::after_write() {
  if (outcome_ != Outcome::kServing) return;
  if (phase_ == Phase::kSwitching && preamble_.empty()) {
    upgrade_.rest = in_.substr(in_pos_);  // the client's preface may already be here
    upgrade_.peer_eof = peer_eof_;
    upgrade_.draining = closing_;
    in_.clear();
    in_pos_ = 0;
    return finish(Outcome::kUpgrade);
  }
  if (phase_ == Phase::kExchange && exchange_ && exchange_->finished()) response_done();
}

void Http1Connection::response_done() {
  auto exchange = std::move(exchange_);
  if (serve::Log::access_enabled()) exchange->log_access();
  if (!exchange->keep_alive() || closing_) return finish(Outcome::kDone);
  phase_ = Phase::kHead;
  progress_ms_ = now_;
  new_parser();
  advance();  // a pipelined request may be waiting
}

// ---- time ----

void Http1Connection::run_timers() {
  while (!timers_.empty() && timers_.begin()->first <= now_ && outcome_ == Outcome::kServing) {
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fn();
  }
}

void Http1Connection::on_time(uint64_t now) {
  const Driving driving(*this);
  now_ = now;
  due_now_ = false;
  if (outcome_ != Outcome::kServing) return;
  run_timers();
  after_write();  // a response that completed outside on_written
  if (outcome_ != Outcome::kServing) return;
  if (write_waiting_since_ != 0) {
    if (now >= write_waiting_since_ + limits_.write_ms) {
      H2_LOG(kInfo, "http/1.1 connection from " + peer_ + ": write timeout");
      return finish(Outcome::kFailed);
    }
  } else {
    const bool first = phase_ == Phase::kHead && requests_ == 0;
    const uint64_t deadline =
        first ? start_ms_ + limits_.preface_ms : progress_ms_ + limits_.idle_ms;
    if (now >= deadline) {
      H2_LOG(kInfo, "http/1.1 connection from " + peer_ + " timed out");
      return finish(Outcome::kFailed);
    }
  }
  advance();  // a body piece or its end asked for by read_body()
}

std::optional<uint64_t> Http1Connection::next_wakeup_ms() const {
  if (outcome_ != Outcome::kServing) return std::nullopt;
  std::optional<uint64_t> due;
  if (due_now_) due = now_;
  if (!timers_.empty()) due = earliest(due, timers_.begin()->first);
  if (write_waiting_since_ != 0) return earliest(due, write_waiting_since_ + limits_.write_ms);
  const bool first = phase_ == Phase::kHead && requests_ == 0;
  return earliest(due, first ? start_ms_ + limits_.preface_ms : progress_ms_ + limits_.idle_ms);
}

bool Http1Connection::wants_read() const {
  if (outcome_ != Outcome::kServing) return false;
  switch (phase_) {
    case Phase::kHead:         // bounded by max_header_bytes
    case Phase::kUpgradeBody:  // bounded by max_upgrade_body_bytes
      return true;
    case Phase::kSwitching:  // the client's first HTTP/2 frames, until the 101 is written
      return in_.size() - in_pos_ < kMaxUnparsedBytes;
    case Phase::kExchange:
      return body_wanted_;  // backpressure: nothing is read ahead of the handler
  }
  return false;
}

bool Http1Connection::wants_write() const {
  return outcome_ == Outcome::kServing && output_pending();
}

void Http1Connection::drain(uint64_t now) {
  const Driving driving(*this);
  now_ = now;
  closing_ = true;
  // Idle between requests (no byte of the next one yet): close now; otherwise after it.
  if (outcome_ == Outcome::kServing && phase_ == Phase::kHead && in_pos_ == in_.size() &&
      !parser_->got_some()) {
    finish(Outcome::kDone);
  }
}

void Http1Connection::finish(Outcome outcome) {
  if (outcome_ == Outcome::kServing) outcome_ = outcome;
}

// ---- serve::Http1Transport ----

// Inside a driving call the runtime pumps (and reads next_wakeup_ms()) when the call returns: a
// wake() there would cost it a second, posted pump per response.
void Http1Connection::wake() {
  if (driving_ == 0) runtime_.wake();
}

void Http1Connection::output_ready() {
  // A response can complete without queuing a byte (close_body() after its last write was
  // written): on_time() then moves on to the next request.
  if (exchange_ && exchange_->finished()) due_now_ = true;
  wake();
}

void Http1Connection::abort() {
  finish(Outcome::kFailed);
  wake();
}

void Http1Connection::schedule(uint64_t delay_ms, std::function<void()> fn) {
  if (outcome_ != Outcome::kServing) return;
  const uint64_t due = runtime_.now() + delay_ms;
  const bool earlier = timers_.empty() || due < timers_.begin()->first;
  timers_.emplace(due, std::move(fn));
  if (earlier) wake();
}

std::shared_ptr<serve::Loop> Http1Connection::loop() const {
  return runtime_.loop();
}

void Http1Connection::request_body() {
  if (outcome_ != Outcome::kServing || phase_ != Phase::kExchange || body_wanted_) return;
  body_wanted_ = true;
  progress_ms_ = runtime_.now();
  due_now_ = true;  // delivered from on_time (or on_bytes), never inside read_body()
  wake();
}

}  // namespace h2::http1
