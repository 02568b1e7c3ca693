#include "serve/h2_exchange.h"

#include <array>
#include <utility>

#include "serve/host_fields.h"
#include "serve/log.h"
#include "serve/stats.h"

namespace h2::serve {
namespace {

protocol::Response to_response(const ResponseHead& head) {
  return protocol::Response{static_cast<uint16_t>(head.status), head.headers};
}

// A final response: the module's fields plus date and server (serve/host_fields.h).
protocol::Response to_response(const ResponseHead& head, const ResponseFields& fields) {
  return protocol::Response{static_cast<uint16_t>(head.status), fields.fields()};
}

}  // namespace

ExchangeResult to_exchange_result(protocol::Result r) {
  switch (r) {
    case protocol::Result::kOk:
      return ExchangeResult::kOk;
    case protocol::Result::kStreamClosed:
    case protocol::Result::kConnectionClosed:
      return ExchangeResult::kClosed;
    case protocol::Result::kPushDisabled:
    case protocol::Result::kPushLimitReached:
      return ExchangeResult::kRefused;
    case protocol::Result::kAlreadyResponded:
    case protocol::Result::kNotResponding:
    case protocol::Result::kInvalidArgument:
    case protocol::Result::kReadPending:
      return ExchangeResult::kInvalid;
  }
  return ExchangeResult::kInvalid;
}

H2Exchange::H2Exchange(protocol::Reqd reqd, std::string peer, bool tls,
                       std::weak_ptr<H2Transport> transport)
    : reqd_(std::move(reqd)), peer_(std::move(peer)), tls_(tls), transport_(std::move(transport)) {
  reqd_.set_user_data(this);
  if (Log::access_enabled()) began_ = std::chrono::steady_clock::now();  // for duration_us
  Counters& counters = stats();
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  counters.exchanges_open.fetch_add(1, std::memory_order_relaxed);
}

H2Exchange::~H2Exchange() {
  if (!reqd_) return;
  count_finished(status_, body_bytes_, reqd_.body_bytes_received());
  if (reqd_.user_data() == this) reqd_.set_user_data(nullptr);
  // One line per exchange, when the module let go of it (for most handlers: right after the
  // response was queued). Status 0 = the handler never answered.
  if (Log::access_enabled()) {
    AccessRecord record = access_record_of(*this);
    record.status = status_;
    record.bytes_sent = body_bytes_;
    record.bytes_received = reqd_.body_bytes_received();
    record.duration_us = elapsed_us(began_);
    record.stream_id = reqd_.stream_id();
    record.tls = tls_;  // the connection's, not the client-sent :scheme
    Log::access(record);
  }
}

std::string_view H2Exchange::scheme() const {
  const std::string_view s = reqd_.request().scheme;
  return s.empty() ? (tls_ ? "https" : "http") : s;
}

std::string_view H2Exchange::authority() const {
  const protocol::RequestHead& head = reqd_.request();
  if (!head.authority.empty()) return head.authority;
  for (const protocol::Field& f : head.headers) {
    if (f.name == "host") return f.value;
  }
  return {};
}

std::span<const HeaderField> H2Exchange::headers() const {
  return reqd_.request().headers;
}

std::span<const HeaderField> H2Exchange::request_trailers() const {
  return reqd_.request_trailers();
}

ExchangeResult H2Exchange::finish(protocol::Result r) {
  return to_exchange_result(r);
}

ExchangeResult H2Exchange::read_body(ChunkCallback on_chunk, EofCallback on_eof) {
  const protocol::Result r = reqd_.schedule_read(std::move(on_chunk), std::move(on_eof));
  return finish(r);  // consuming buffered body may have queued WINDOW_UPDATE
}

ExchangeResult H2Exchange::respond_with_string(const ResponseHead& head, std::string body) {
  const uint64_t size = body.size();
  const ResponseFields fields(head.headers);
  const protocol::Result r =
      reqd_.respond_with_string(to_response(head, fields), std::move(body));
  if (r == protocol::Result::kOk) body_bytes_ += size;
  if (r == protocol::Result::kOk) {
    started_ = true;
    status_ = head.status;
  }
  return finish(r);
}

ExchangeResult H2Exchange::respond_with_shared(const ResponseHead& head, SharedBytes body) {
  const ResponseFields fields(head.headers);
  const protocol::Result r = reqd_.respond_with_shared(to_response(head, fields),
                                                       std::move(body.keep_alive), body.bytes);
  if (r == protocol::Result::kOk) body_bytes_ += body.bytes.size();
  if (r == protocol::Result::kOk) {
    started_ = true;
    status_ = head.status;
  }
  return finish(r);
}

ExchangeResult H2Exchange::respond_streaming(const ResponseHead& head) {
  protocol::Result r = protocol::Result::kOk;
  const ResponseFields fields(head.headers);
  writer_ = reqd_.respond_with_streaming(to_response(head, fields), &r);
  if (r == protocol::Result::kOk) {
    started_ = true;
    status_ = head.status;
  }
  return finish(r);
}

ExchangeResult H2Exchange::write(std::string_view bytes) {
  if (!writer_) return reqd_.is_closed() ? ExchangeResult::kClosed : ExchangeResult::kInvalid;
  const protocol::Result r = writer_.write(bytes);
  if (r == protocol::Result::kOk) body_bytes_ += bytes.size();
  return finish(r);
}

ExchangeResult H2Exchange::write_borrowed(std::string_view bytes, ReleaseCallback release) {
  if (!writer_) {
    if (release) release();
    return reqd_.is_closed() ? ExchangeResult::kClosed : ExchangeResult::kInvalid;
  }
  const protocol::Result r = writer_.write_borrowed(bytes, std::move(release));
  if (r == protocol::Result::kOk) body_bytes_ += bytes.size();
  return finish(r);
}

void H2Exchange::flush(FlushCallback done) {
  if (!writer_) {
    if (done) done(FlushResult::kClosed);
    return;
  }
  const protocol::Result r = writer_.flush([done = std::move(done)](bool written) {
    if (done) done(written ? FlushResult::kWritten : FlushResult::kClosed);
  });
  finish(r);
}

ExchangeResult H2Exchange::close_body(std::span<const HeaderField> trailers) {
  if (!writer_) return reqd_.is_closed() ? ExchangeResult::kClosed : ExchangeResult::kInvalid;
  if (trailers.empty()) return finish(writer_.close());
  return finish(writer_.close_with_trailers(trailers));
}

ExchangeResult H2Exchange::send_informational(const ResponseHead& head) {
  return finish(reqd_.respond_informational(to_response(head)));
}

PushResult H2Exchange::push(const PushRequest& request) {
  protocol::PushResult pushed = reqd_.push(request.method, request.path, request.headers);
  PushResult result;
  result.result = finish(pushed.result);
  if (pushed.result == protocol::Result::kOk) {
    result.exchange =
        std::make_shared<H2Exchange>(std::move(pushed.pushed), peer_, tls_, transport_);
  }
  return result;
}

void H2Exchange::reset(std::uint32_t error_code) {
  // The module's callback may hold the last reference to *this (a handle captured in it):
  // it is destroyed last, after the members were used for the last time.
  CancelCallback dropped = std::exchange(on_cancel_, nullptr);
  finish(reqd_.reset(static_cast<protocol::ErrorCode>(error_code)));
}

std::shared_ptr<Loop> H2Exchange::loop() const {
  if (auto transport = transport_.lock()) return transport->loop();
  return stopped_loop();
}

void H2Exchange::schedule(std::uint64_t delay_ms, TimerCallback fire) {
  if (auto transport = transport_.lock()) transport->schedule(delay_ms, std::move(fire));
}

void H2Exchange::stream_ended(protocol::StreamEnd end) {
  CancelCallback cancel = std::exchange(on_cancel_, nullptr);
  const bool cancelled = end != protocol::StreamEnd::kCompleted &&
                         end != protocol::StreamEnd::kResetByHandler;
  if (cancelled && cancel) cancel();
}  // `cancel` is destroyed last: it may hold the last reference to *this

}  // namespace h2::serve
