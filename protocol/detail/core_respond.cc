// The respond API behind Reqd and Writer.
#include <algorithm>

#include "protocol/detail/core.h"
#include "protocol/detail/field_chars.h"
#include "protocol/frame/frame_writer.h"

namespace h2::protocol::detail {
namespace {

// RFC 9113 §8.2.1-8.2.2: lowercase names, no connection-specific fields, no pseudo-headers.
bool valid_response_fields(std::span<const Field> fields) {
  for (const Field& f : fields) {
    if (f.name.empty()) return false;
    if (!name_octets_ok(f.name) || classify_field(f.name) == Special::kConnectionSpecific)
      return false;
    if (!value_octets_ok(f.value)) return false;
  }
  return true;
}

}  // namespace

Result Core::check_usable(const Stream* s) const {
  if (s == nullptr || detached_) return Result::kConnectionClosed;
  if (s->state == StreamState::kClosed)
    return failed_ ? Result::kConnectionClosed : Result::kStreamClosed;
  if (failed_) return Result::kConnectionClosed;
  return Result::kOk;
}

EncodeScratch& encode_scratch() {
  thread_local EncodeScratch scratch;
  return scratch;
}

const std::string& Core::encode_head(uint16_t status, std::span<const Field> headers) {
  status_digits_[0] = static_cast<char>('0' + status / 100);
  status_digits_[1] = static_cast<char>('0' + status / 10 % 10);
  status_digits_[2] = static_cast<char>('0' + status % 10);
  HeaderCodec& c = codec();
  EncodeScratch& scratch = encode_scratch();
  scratch.fields.clear();
  scratch.fields.push_back({":status", std::string_view(status_digits_, 3)});
  for (const Field& f : headers) scratch.fields.push_back({f.name, f.value, f.sensitive});
  scratch.block.clear();
  c.encoder.encode(scratch.fields, scratch.block);
  c.head_cache.store(status, headers, scratch.block);
  return scratch.block;
}

Result Core::respond_head(Stream* s, const Response& response, bool informational,
                          bool end_stream) {
  if (s != nullptr && s->responded && !detached_) return Result::kAlreadyResponded;
  if (Result r = check_usable(s); r != Result::kOk) return r;
  if (s->response != ResponseState::kNone) return Result::kAlreadyResponded;
  // RFC 9113 §8.6: 101 is not allowed; 1xx only as informational.
  bool is_1xx = response.status >= 100 && response.status < 200;
  // A head identical to the cached one was validated when it was encoded: checked once, not
  // per response (the cache compares every name and value octet).
  const std::string* cached = codec().head_cache.lookup(response.status, response.headers);
  if (response.status < 100 || response.status > 999 || informational != is_1xx ||
      response.status == 101 || (cached == nullptr && !valid_response_fields(response.headers))) {
    return Result::kInvalidArgument;
  }
  const std::string& block =
      cached != nullptr ? *cached : encode_head(response.status, response.headers);
  bool end = end_stream && !informational;
  queue_header_frames(s->id, block, end, 0);
  if (s->state == StreamState::kReservedLocal) s->state = StreamState::kHalfClosedRemote;
  if (informational) return Result::kOk;
  s->responded = true;
  if (end) {
    s->response = ResponseState::kDone;
    on_local_end(s);
  } else {
    s->response = ResponseState::kStreaming;
  }
  return Result::kOk;
}

Result Core::respond_body(Stream* s, const Response& response, Holder holder,
                          std::string_view body) {
  // A moved-in string may have moved again (small strings live inside the object): view it
  // where it is now.
  if (!holder.owned.empty()) body = holder.owned;
  // HEAD: the head alone, END_STREAM on it; the body (and its owner) is dropped here.
  if (body.empty() || (s != nullptr && s->head_only)) return respond_head(s, response, false, true);
  if (Result r = respond_head(s, response, false, false); r != Result::kOk) return r;
  if (body.size() <= kCopyThreshold && nothing_scheduled() && s->send.available() >= 0 &&
      static_cast<size_t>(s->send.available()) >= body.size() &&
      conn_send_.available() >= static_cast<int64_t>(body.size())) {
    // Small body, nothing competing, window open: one DATA frame copied next to the HEADERS.
    const uint32_t n = static_cast<uint32_t>(body.size());
    output_.append_control(kFrameHeaderSize + n, [&](std::string& out) {
      write_data_header(out, s->id, n, true);
      out.append(body);
    });
    ++data_frames_sent_;
    s->send.consume(n);
    conn_send_.consume(n);
    s->body_accepted = s->body_framed = n;
    s->response = ResponseState::kDone;
    on_local_end(s);
    return Result::kOk;  // `holder` (the string or shared owner) is dropped here
  }
  s->body.push_back(BodyChunk{body, std::move(holder)});
  if (!s->body.back().holder.owned.empty()) {
    // The string was moved into the deque: view it where it lives now.
    s->body.back().data = s->body.back().holder.owned;
  }
  s->body_bytes = body.size();
  s->body_accepted = body.size();
  s->response = ResponseState::kEnding;
  if (nothing_scheduled()) {
    // Nothing competes for the connection: frame now (saves a scheduler round trip).
    frame_one(s);
    if (s->state != StreamState::kClosed) update_schedule(s);
  } else {
    update_schedule(s);
  }
  return Result::kOk;
}

Result Core::write_body(Stream* s, std::string_view data, Holder* holder) {
  if (Result r = check_usable(s); r != Result::kOk) {
    if (holder) count_thrown(holder->finish(false));
    return r;
  }
  if (s->response != ResponseState::kStreaming) {
    if (holder) count_thrown(holder->finish(false));
    return Result::kNotResponding;
  }
  if (data.empty() || s->head_only) {
    // HEAD: accepted and discarded (RFC 9110 §9.3.2); a borrowed buffer is released at once.
    if (holder) count_thrown(holder->finish(true));
    return Result::kOk;
  }
  if (holder == nullptr) {
    // Copy, coalescing into the last copy buffer while it has room (no reallocation, so views
    // already handed to the output stay valid).
    BodyChunk* last = s->body.empty() ? nullptr : &s->body.back();
    if (last && last->holder.owned.capacity() > 0 &&
        last->data.data() + last->data.size() ==
            last->holder.owned.data() + last->holder.owned.size() &&
        last->holder.owned.capacity() - last->holder.owned.size() >= data.size()) {
      last->holder.owned.append(data);
      last->data = std::string_view(last->data.data(), last->data.size() + data.size());
    } else {
      s->body.push_back(BodyChunk{});
      BodyChunk& chunk = s->body.back();
      chunk.holder.owned.reserve(std::max<size_t>(data.size(), 4096));
      chunk.holder.owned.append(data);
      chunk.data = chunk.holder.owned;
    }
  } else {
    s->body.push_back(BodyChunk{data, std::move(*holder)});
  }
  s->body_bytes += data.size();
  s->body_accepted += data.size();
  update_schedule(s);
  return Result::kOk;
}

Result Core::flush(Stream* s, std::function<void(bool)> on_done) {
  if (Result r = check_usable(s); r != Result::kOk) {
    if (on_done) on_done(false);
    return r;
  }
  if (s->body_bytes == 0) {
    Holder h;
    h.on_done = std::move(on_done);
    retire_holder(std::move(h));
  } else {
    s->flushes.emplace_back(s->body_accepted, std::move(on_done));
  }
  return Result::kOk;
}

Result Core::close_body(Stream* s, std::span<const Field> trailers, bool with_trailers) {
  if (Result r = check_usable(s); r != Result::kOk) return r;
  if (s->response != ResponseState::kStreaming) return Result::kNotResponding;
  if (with_trailers && !trailers.empty()) {
    if (!valid_response_fields(trailers)) return Result::kInvalidArgument;
  }
  if (with_trailers && !trailers.empty() && !s->head_only) {  // HEAD: no trailer section either
    s->trailer_storage.clear();
    s->trailer_sizes.clear();
    for (const Field& f : trailers) {
      s->trailer_storage.append(f.name);
      s->trailer_storage.append(f.value);
      s->trailer_sizes.push_back({static_cast<uint32_t>(f.name.size()),
                                  static_cast<uint32_t>(f.value.size()), f.sensitive});
    }
    s->send_trailers = true;
  }
  // The body queued so far is sent whole, however long flow control holds it (unlike
  // ocaml-h2 issue #278, which truncated it at the window).
  s->response = ResponseState::kEnding;
  update_schedule(s);
  return Result::kOk;
}

Result Core::reset_by_handler(Stream* s, ErrorCode code) {
  if (Result r = check_usable(s); r != Result::kOk) return r;
  queue_rst(s->id, code);
  close_stream(s, code, ClosedHow::kResetByUs, StreamEnd::kResetByHandler);
  return Result::kOk;
}

Result Core::report_error(Stream* s) {
  if (Result r = check_usable(s); r != Result::kOk) return r;
  if (s->response == ResponseState::kNone) return respond_head(s, Response{500, {}}, false, true);
  return reset_by_handler(s, ErrorCode::kInternalError);
}

Result Core::schedule_read(Stream* s, std::function<void(std::string_view)> on_chunk,
                           std::function<void()> on_eof) {
  if (s == nullptr || detached_) return Result::kConnectionClosed;
  if (s->on_chunk || s->on_eof) return Result::kReadPending;
  if (s->state == StreamState::kClosed) {
    // Body over (or the stream is gone): the read ends at once.
    if (on_eof) on_eof();
    return s->state == StreamState::kClosed && !s->remote_ended ? Result::kStreamClosed
                                                                : Result::kOk;
  }
  s->on_chunk = std::move(on_chunk);
  s->on_eof = std::move(on_eof);
  deliver_body(s);
  return Result::kOk;
}

PushResult Core::push(Stream* parent, std::string_view method, std::string_view path,
                      std::span<const Field> headers) {
  if (Result r = check_usable(parent); r != Result::kOk) return {r, {}};
  // RFC 9113 §8.4: only when the peer allows it, on a client stream we still send on.
  if (parent->pushed || !peer_.enable_push || goaway_received_) return {Result::kPushDisabled, {}};
  if (open_push_streams_ >= peer_.max_concurrent || next_push_id_ > kMaxStreamId) {
    return {Result::kPushLimitReached, {}};
  }
  if (parent->response == ResponseState::kDone) return {Result::kStreamClosed, {}};
  if ((method != "GET" && method != "HEAD") || path.empty() || !valid_response_fields(headers)) {
    return {Result::kInvalidArgument, {}};  // §8.4.1: safe and cacheable, no body
  }
  const uint32_t id = next_push_id_;
  next_push_id_ += 2;
  Stream* s = create_stream(id);
  s->pushed = true;
  s->state = StreamState::kReservedLocal;
  s->remote_ended = true;
  s->counted = true;
  ++open_push_streams_;
  s->request_fields.begin(false);
  s->request_fields.add(":method", method);
  s->request_fields.add(":scheme", parent->head.scheme);
  if (!parent->head.authority.empty()) s->request_fields.add(":authority", parent->head.authority);
  s->request_fields.add(":path", path);
  for (const Field& f : headers) s->request_fields.add(f.name, f.value);
  s->request_fields.finish(false, &s->head);
  s->head.stream_id = id;
  s->head_only = s->head.method == "HEAD";
  HeaderCodec& c = codec();
  EncodeScratch& scratch = encode_scratch();
  scratch.fields.clear();
  scratch.fields.push_back({":method", s->head.method});
  scratch.fields.push_back({":scheme", s->head.scheme});
  if (!s->head.authority.empty()) scratch.fields.push_back({":authority", s->head.authority});
  scratch.fields.push_back({":path", s->head.path});
  for (const Field& f : s->head.headers) scratch.fields.push_back({f.name, f.value});
  scratch.block.clear();
  c.head_cache.invalidate();
  c.encoder.encode(scratch.fields, scratch.block);
  queue_header_frames(parent->id, scratch.block, false, id);
  s->delivered = true;
  return {Result::kOk, Reqd(this, s)};
}

}  // namespace h2::protocol::detail
