#include "serve/http1_exchange.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "serve/host_fields.h"
#include "serve/log.h"
#include "serve/stats.h"

namespace h2::serve {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

bool equals(std::string_view a, std::string_view b) {
  return a == b;
}

// Fields a handler may not set on an HTTP/1.1 response: the exchange frames the message itself.
bool is_framing_field(std::string_view name) {
  return equals(name, "connection") || equals(name, "transfer-encoding") ||
         equals(name, "keep-alive") || equals(name, "upgrade") || equals(name, "content-length") ||
         equals(name, "proxy-connection");
}

// RFC 9110 §15 reason phrases (plus 103, RFC 8297; 429/431, RFC 6585). Empty when unknown:
// RFC 9112 §4 makes the phrase optional.
std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return {};
  }
}

void append_status_line(std::string& out, int status) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
}

void append_fields(std::string& out, std::span<const HeaderField> fields) {
  for (const HeaderField& f : fields) {
    if (is_framing_field(f.name)) continue;
    out.append(f.name);
    out += ": ";
    out.append(f.value);
    out += "\r\n";
  }
}

int64_t content_length_of(std::span<const HeaderField> fields) {
  for (const HeaderField& f : fields) {
    if (f.name == "content-length") {
      int64_t value = -1;
      auto [end, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), value);
      if (ec == std::errc() && end == f.value.data() + f.value.size()) return value;
    }
  }
  return -1;
}

}  // namespace

Http1Exchange::Http1Exchange(Http1Request request, std::string scheme, std::string peer,
                             std::weak_ptr<Http1Transport> transport)
    : request_(std::move(request)),
      scheme_(std::move(scheme)),
      peer_(std::move(peer)),
      transport_(std::move(transport)) {
  fields_.reserve(request_.fields.size());
  for (const auto& [name, value] : request_.fields) fields_.push_back({name, value});
  for (const auto& [name, value] : request_.trailers) trailer_fields_.push_back({name, value});
  keep_alive_ = request_.keep_alive;
  no_body_ = request_.method == "HEAD";
  if (Log::access_enabled()) began_ = std::chrono::steady_clock::now();
  Counters& counters = stats();
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  counters.exchanges_open.fetch_add(1, std::memory_order_relaxed);
}

void Http1Exchange::log_access() const {
  AccessRecord record = access_record_of(*this);
  record.status = status_;
  record.bytes_sent = body_bytes_;
  record.bytes_received = body_received_ + request_.body.size();
  record.duration_us = elapsed_us(began_);
  Log::access(record);
}

Http1Exchange::~Http1Exchange() {
  count_finished(status_, body_bytes_, body_received_ + request_.body.size());
  for (Piece& piece : out_) {
    if (piece.release) piece.release();
  }
}

ExchangeResult Http1Exchange::read_body(ChunkCallback on_chunk, EofCallback on_eof) {
  if (closed_) return ExchangeResult::kClosed;
  if (read_pending_) return ExchangeResult::kInvalid;
  auto transport = transport_.lock();
  if (!transport) return ExchangeResult::kClosed;
  read_pending_ = true;
  if (request_.body_streamed && !stream_eof_) {
    on_chunk_ = std::move(on_chunk);
    on_eof_ = std::move(on_eof);
    transport->request_body();
    return ExchangeResult::kOk;
  }
  // Delivered from the connection's loop, never inline: a handler that reads again from inside
  // on_chunk does not recurse.
  transport->schedule(
      0, [weak = weak_from_this(), on_chunk = std::move(on_chunk), on_eof = std::move(on_eof)] {
        auto self = weak.lock();
        if (!self || self->closed_) return;
        self->read_pending_ = false;
        const std::string& body = self->request_.body;
        if (self->body_read_ < body.size()) {
          const size_t n = std::min(kReadChunk, body.size() - self->body_read_);
          const std::string_view chunk(body.data() + self->body_read_, n);
          self->body_read_ += n;
          on_chunk(chunk);
        } else {
          self->body_eof_delivered_ = true;
          on_eof();
        }
      });
  return ExchangeResult::kOk;
}

void Http1Exchange::deliver_body(std::string_view chunk) {
  body_received_ += chunk.size();
  read_pending_ = false;
  ChunkCallback on_chunk = std::move(on_chunk_);
  on_eof_ = nullptr;
  if (on_chunk && !closed_) on_chunk(chunk);
}

void Http1Exchange::deliver_eof(std::vector<std::pair<std::string, std::string>> trailers) {
  if (!trailers.empty()) {
    request_.trailers = std::move(trailers);
    trailer_fields_.clear();
    for (const auto& [name, value] : request_.trailers) trailer_fields_.push_back({name, value});
  }
  stream_eof_ = true;
  read_pending_ = false;
  body_eof_delivered_ = true;
  EofCallback on_eof = std::move(on_eof_);
  on_chunk_ = nullptr;
  if (on_eof && !closed_) on_eof();
}

std::span<const HeaderField> Http1Exchange::request_trailers() const {
  return body_eof_delivered_ ? std::span<const HeaderField>(trailer_fields_)
                             : std::span<const HeaderField>();
}

ExchangeResult Http1Exchange::start_response(const ResponseHead& head, int64_t content_length,
                                             bool streaming) {
  if (closed_) return ExchangeResult::kClosed;
  if (head_sent_ || head.status < 200 || head.status > 999) return ExchangeResult::kInvalid;
  head_sent_ = true;
  status_ = head.status;
  streaming_ = streaming;
  if (head.status == 204 || head.status == 304) no_body_ = true;
  std::string out;
  out.reserve(256);
  append_status_line(out, head.status);
  // date and server (serve/host_fields.h), unless the module set them.
  const ResponseFields with_host(head.headers);
  append_fields(out, with_host.fields());
  if (content_length >= 0) {
    // RFC 9110 §8.6: no content-length on 204; on 304 only the 200's value, which the body
    // size here is not (a 304 has none), so none.
    if (head.status != 204 && head.status != 304) {
      out += "content-length: ";
      out += std::to_string(content_length);
      out += "\r\n";
    }
  } else if (!no_body_) {
    if (request_.http10) {
      keep_alive_ = false;  // the body ends when the connection closes
    } else {
      chunked_ = true;
      out += "transfer-encoding: chunked\r\n";
    }
  }
  if (!keep_alive_) {
    out += "connection: close\r\n";
  } else if (request_.http10) {
    out += "connection: keep-alive\r\n";
  }
  out += "\r\n";
  queue_owned(std::move(out));
  return ExchangeResult::kOk;
}

ExchangeResult Http1Exchange::respond_with_string(const ResponseHead& head, std::string body) {
  const ExchangeResult r = start_response(head, static_cast<int64_t>(body.size()), false);
  if (r != ExchangeResult::kOk) return r;
  body_bytes_ = body.size();
  if (!no_body_ && !body.empty()) queue_owned(std::move(body));
  complete();
  return ExchangeResult::kOk;
}

ExchangeResult Http1Exchange::respond_with_shared(const ResponseHead& head, SharedBytes body) {
  const ExchangeResult r = start_response(head, static_cast<int64_t>(body.bytes.size()), false);
  if (r != ExchangeResult::kOk) return r;
  body_bytes_ = body.bytes.size();
  if (!no_body_ && !body.bytes.empty()) queue_view(body.bytes, std::move(body.keep_alive), {});
  complete();
  return ExchangeResult::kOk;
}

ExchangeResult Http1Exchange::respond_streaming(const ResponseHead& head) {
  const ExchangeResult r = start_response(head, content_length_of(head.headers), true);
  if (r == ExchangeResult::kOk) notify();
  return r;
}

ExchangeResult Http1Exchange::write(std::string_view bytes) {
  if (closed_) return ExchangeResult::kClosed;
  if (!streaming_ || complete_) return ExchangeResult::kInvalid;
  if (bytes.empty() || no_body_) return ExchangeResult::kOk;
  body_bytes_ += bytes.size();
  std::string piece;
  if (chunked_) {
    char size[20];
    auto end = std::to_chars(size, size + sizeof size, bytes.size(), 16).ptr;
    piece.reserve(bytes.size() + 16);
    piece.append(size, end);
    piece += "\r\n";
    piece.append(bytes);
    piece += "\r\n";
  } else {
    piece.assign(bytes);
  }
  queue_owned(std::move(piece));
  notify();
  return ExchangeResult::kOk;
}

ExchangeResult Http1Exchange::write_borrowed(std::string_view bytes, ReleaseCallback release) {
  if (closed_ || !streaming_ || complete_ || no_body_ || bytes.empty()) {
    const ExchangeResult r = closed_                      ? ExchangeResult::kClosed
                             : (!streaming_ || complete_) ? ExchangeResult::kInvalid
                                                          : ExchangeResult::kOk;
    if (release) release();
    return r;
  }
  body_bytes_ += bytes.size();
  if (chunked_) {
    char size[20];
    auto end = std::to_chars(size, size + sizeof size, bytes.size(), 16).ptr;
    queue_owned(std::string(size, end) + "\r\n");
    queue_view(bytes, nullptr, std::move(release));
    queue_owned("\r\n");
  } else {
    queue_view(bytes, nullptr, std::move(release));
  }
  notify();
  return ExchangeResult::kOk;
}

void Http1Exchange::flush(FlushCallback done) {
  if (closed_) {
    if (done) done(FlushResult::kClosed);
    return;
  }
  if (written_ >= queued_) {
    // Nothing outstanding: complete from the loop, not inline (callers may flush in a loop).
    if (auto transport = transport_.lock()) {
      transport->schedule(0, [weak = weak_from_this(), done = std::move(done)] {
        auto self = weak.lock();
        if (done) done(self && !self->closed_ ? FlushResult::kWritten : FlushResult::kClosed);
      });
    } else if (done) {
      done(FlushResult::kClosed);
    }
    return;
  }
  flushes_.emplace_back(queued_, std::move(done));
}

ExchangeResult Http1Exchange::close_body(std::span<const HeaderField> trailers) {
  if (closed_) return ExchangeResult::kClosed;
  if (!streaming_ || complete_) return ExchangeResult::kInvalid;
  ExchangeResult result = ExchangeResult::kOk;
  if (chunked_) {
    std::string last = "0\r\n";
    append_fields(last, trailers);
    last += "\r\n";
    queue_owned(std::move(last));
  } else if (!trailers.empty()) {
    result = ExchangeResult::kUnsupported;  // content-length or close-delimited: no trailers
  }
  complete();
  return result;
}

ExchangeResult Http1Exchange::send_informational(const ResponseHead& head) {
  if (closed_) return ExchangeResult::kClosed;
  if (head_sent_ || head.status < 100 || head.status > 199 || head.status == 101) {
    return ExchangeResult::kInvalid;
  }
  if (request_.http10) return ExchangeResult::kUnsupported;  // RFC 9110 §15.2
  std::string out;
  append_status_line(out, head.status);
  append_fields(out, head.headers);
  out += "\r\n";
  queue_owned(std::move(out));
  notify();
  return ExchangeResult::kOk;
}

PushResult Http1Exchange::push(const PushRequest&) {
  return {ExchangeResult::kUnsupported, {}};
}

void Http1Exchange::reset(std::uint32_t) {
  if (closed_) return;
  closed_ = true;
  // Module callbacks may hold the last reference to *this: destroyed last, on return.
  DroppedCallbacks dropped = drop_callbacks();
  keep_alive_ = false;
  fire_flushes(FlushResult::kClosed);
  if (auto transport = transport_.lock()) transport->abort();
}

std::shared_ptr<Loop> Http1Exchange::loop() const {
  if (auto transport = transport_.lock()) return transport->loop();
  return stopped_loop();
}

void Http1Exchange::schedule(std::uint64_t delay_ms, TimerCallback fire) {
  if (auto transport = transport_.lock()) transport->schedule(delay_ms, std::move(fire));
}

size_t Http1Exchange::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  size_t total = 0;
  size_t offset = front_offset_;
  for (const Piece& piece : out_) {
    if (total >= max_bytes) break;
    std::string_view view = piece.view.substr(offset);
    offset = 0;
    view = view.substr(0, max_bytes - total);
    out.push_back(view);
    total += view.size();
  }
  return total;
}

void Http1Exchange::consume_output(size_t written) {
  written_ += written;
  while (written > 0 && !out_.empty()) {
    Piece& front = out_.front();
    const size_t left = front.view.size() - front_offset_;
    if (written < left) {
      front_offset_ += written;
      break;
    }
    written -= left;
    front_offset_ = 0;
    ReleaseCallback release = std::move(front.release);
    out_.pop_front();
    if (release) release();
  }
  while (!flushes_.empty() && flushes_.front().first <= written_) {
    FlushCallback done = std::move(flushes_.front().second);
    flushes_.erase(flushes_.begin());
    if (done) done(FlushResult::kWritten);
  }
  if (finished()) {
    closed_ = true;
    DroppedCallbacks dropped = drop_callbacks();  // destroyed last (see reset)
  }
}

void Http1Exchange::connection_lost() {
  if (closed_ && flushes_.empty()) return;
  const bool was_open = !closed_;
  closed_ = true;
  keep_alive_ = false;
  fire_flushes(FlushResult::kClosed);
  for (Piece& piece : out_) {
    if (piece.release) std::exchange(piece.release, nullptr)();
  }
  DroppedCallbacks dropped = drop_callbacks();
  if (was_open && dropped.cancel) dropped.cancel();
}  // `dropped` is destroyed last: it may hold the last reference to *this

void Http1Exchange::queue_owned(std::string bytes) {
  queued_ += bytes.size();
  Piece& piece = out_.emplace_back();
  piece.owned = std::move(bytes);
  piece.view = piece.owned;
}

void Http1Exchange::queue_view(std::string_view bytes, std::shared_ptr<const void> keep,
                               ReleaseCallback release) {
  queued_ += bytes.size();
  out_.push_back(Piece{{}, bytes, std::move(keep), std::move(release)});
}

void Http1Exchange::complete() {
  complete_ = true;
  // The response is whole: no cancellation can follow. Destroyed last (see reset).
  CancelCallback dropped = std::exchange(on_cancel_, nullptr);
  if (request_.body.size() > body_read_) request_.body.clear();  // unread body: dropped
  notify();
}

Http1Exchange::DroppedCallbacks Http1Exchange::drop_callbacks() {
  return DroppedCallbacks{std::exchange(on_cancel_, nullptr), std::exchange(on_chunk_, nullptr),
                          std::exchange(on_eof_, nullptr)};
}

void Http1Exchange::notify() {
  if (auto transport = transport_.lock()) transport->output_ready();
}

void Http1Exchange::fire_flushes(FlushResult result) {
  auto pending = std::move(flushes_);
  flushes_.clear();
  for (auto& [mark, done] : pending) {
    if (done) done(result);
  }
}

}  // namespace h2::serve
