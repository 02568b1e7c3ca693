// Frames out: header blocks split into HEADERS/PUSH_PROMISE + CONTINUATION, DATA framed from
// stream bodies as flow control and RFC 9218 priorities allow, the output pulled by the writer.
#include <algorithm>

#include "hpack/encoder.h"
#include "protocol/detail/core.h"
#include "protocol/frame/frame_writer.h"

namespace h2::protocol::detail {
namespace {

// Streams are recycled across the connections of a thread (their buffers' capacity kept: no
// allocation per request), not per connection: an idle connection holds none.
// GCC's AddressSanitizer builds free every stream, so that ASan sees misuse. Clang's (the CI
// sanitizer leg; clang 14 does not define __SANITIZE_ADDRESS__) keep the pool on purpose: with
// every stream freed, ASan's quarantine of freed memory grew the reset-flood attack test's RSS
// by 296 MiB (bound 96).
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kPooledStreams = 0;
#else
constexpr size_t kPooledStreams = 256;
#endif
constexpr size_t kPooledBytes = 4096;
// Trivially destructible, so readable until the thread ends: a core destroyed after the pool
// (a thread_local destroyed first at thread exit) frees its streams itself.
thread_local bool stream_pool_gone = false;
struct StreamPool {
  std::vector<Stream*> free;
  ~StreamPool() {
    stream_pool_gone = true;
    for (Stream* s : free) delete s;
  }
};
thread_local StreamPool stream_pool;

}  // namespace

Stream* Core::create_stream(uint32_t id) {
  // RFC 9113 §6.5.3 / §6.9.2: until the client acknowledges our SETTINGS it may send a stream
  // the default window; a smaller setting of ours takes effect at the ACK (on_settings).
  const uint32_t recv_window =
      awaiting_settings_ack_ ? std::max(options_.initial_stream_window, kDefaultInitialWindowSize)
                             : options_.initial_stream_window;
  Stream* s;
  if (stream_pool_gone || stream_pool.free.empty()) {
    s = new Stream(id, recv_window, peer_.initial_window);
  } else {
    s = stream_pool.free.back();
    stream_pool.free.pop_back();
    s->reinit(id, recv_window, peer_.initial_window);
  }
  s->in_map = true;
  streams_.insert(id, s);
  ++streams_opened_;
  return s;
}

void Core::free_stream(Stream* s) {
  s->on_chunk = nullptr;
  s->on_eof = nullptr;
  // A stream whose buffers grew past kPooledBytes (a large request head, an upload the handler
  // read late) is freed: the pool must not pin a peak's memory for the thread's life.
  const size_t kept = s->body_buffer.capacity() + s->trailer_storage.capacity() +
                      s->request_fields.capacity_bytes() + s->trailer_fields.capacity_bytes();
  if (!stream_pool_gone && stream_pool.free.size() < kPooledStreams && s->body.empty() &&
      kept <= kPooledBytes) {
    stream_pool.free.push_back(s);
  } else {
    delete s;
  }
}

void Core::queue_header_frames(uint32_t stream_id, std::string_view block, bool end_stream,
                               uint32_t promised_id) {
  // RFC 9113 §4.3: one block, HEADERS (or PUSH_PROMISE) then CONTINUATION frames, contiguous.
  // A PUSH_PROMISE's first piece leaves room for the 4-octet promised stream id.
  hpack::BlockPieces pieces(block, peer_.max_frame_size,
                            peer_.max_frame_size - (promised_id != 0 ? 4 : 0));
  const size_t count = pieces.count();
  std::string_view piece;
  for (size_t i = 0; pieces.next(&piece); ++i) {
    const bool last = i + 1 == count;
    output_.append_control(kFrameHeaderSize + 4 + piece.size(), [&](std::string& out) {
      if (i > 0) {
        write_continuation(out, stream_id, piece, last);
      } else if (promised_id != 0) {
        write_push_promise(out, stream_id, promised_id, piece, last);
      } else {
        write_headers(out, stream_id, piece, end_stream, last);
      }
    });
  }
}

size_t Core::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  if (!detached_ && !failed_) frame_data(std::min(max_bytes, options_.output_high_watermark));
  return output_.gather(out, max_bytes);
}

void Core::consume_output(size_t written) {
  std::vector<Holder> released;
  released.swap(released_scratch_);
  output_.consume(written, released);
  while (!control_release_at_.empty() && control_release_at_.front() <= output_.written_total()) {
    control_release_at_.pop_front();
  }
  release_holders(released, true);  // may re-enter through flush callbacks
  if (released_scratch_.empty()) released.swap(released_scratch_);
}

void Core::frame_data(size_t budget) {
  while (output_.size() < budget) {
    SchedNode* node = pick_scheduled([&](SchedNode* n) {
      auto* s = static_cast<Stream*>(n);
      return s->body_bytes == 0 || (s->send.available() > 0 && conn_send_.available() > 0);
    });
    if (node == nullptr) {
      // Bodies left behind a closed connection window start its stall clock.
      if (conn_send_.available() <= 0 && pick_scheduled([](SchedNode* n) {
                                           return static_cast<Stream*>(n)->body_bytes > 0;
                                         }) != nullptr) {
        note_connection_stall();
      }
      return;
    }
    auto* s = static_cast<Stream*>(node);
    acquire(s);
    frame_one(s);
    if (s->state != StreamState::kClosed) {
      update_schedule(s);
      scheduler_->rotate(s);
    }
    drop(s);
  }
}

// Frames one DATA frame (and the trailers or END_STREAM when the body ends) for `s`.
bool Core::frame_one(Stream* s) {
  // The frame size follows the windows and the peer's MAX_FRAME_SIZE, never the writer's
  // budget (which only decides how far ahead frame_data() frames).
  int64_t allowed = std::min<int64_t>(
      {s->send.available(), conn_send_.available(), int64_t{peer_.max_frame_size}});
  size_t n = std::min<size_t>(s->body_bytes, static_cast<size_t>(std::max<int64_t>(allowed, 0)));
  if (n == 0 && s->body_bytes > 0) return false;  // blocked by flow control
  const bool last = s->response == ResponseState::kEnding && n == s->body_bytes;
  const bool end_stream = last && !s->send_trailers;
  if (n > 0 || end_stream) {
    const uint32_t id = s->id;
    output_.append_control(kFrameHeaderSize + (n <= kCopyThreshold ? n : 0), [&](std::string& out) {
      write_data_header(out, id, static_cast<uint32_t>(n), end_stream);
      if (n <= kCopyThreshold) {
        size_t left = n;
        for (auto it = s->body.begin(); left > 0; ++it) {
          size_t k = std::min(left, it->data.size());
          out.append(it->data.substr(0, k));
          left -= k;
        }
      }
    });
    size_t left = n;
    while (left > 0) {
      BodyChunk& chunk = s->body.front();
      size_t k = std::min(left, chunk.data.size());
      if (n > kCopyThreshold) output_.append_view(chunk.data.substr(0, k));
      chunk.data.remove_prefix(k);
      left -= k;
      if (chunk.data.empty()) {
        retire_holder(std::move(chunk.holder));
        s->body.pop_front();
      }
    }
    ++data_frames_sent_;
    s->send.consume(static_cast<uint32_t>(n));
    conn_send_.consume(static_cast<uint32_t>(n));
    s->body_bytes -= n;
    s->body_framed += n;
    complete_flushes(s);
  }
  if (last) {
    if (s->send_trailers) {
      // Encoded now, right before queueing: HPACK blocks must go out in encoding order.
      HeaderCodec& c = codec();
      EncodeScratch& scratch = encode_scratch();
      scratch.fields.clear();
      std::string_view storage = s->trailer_storage;
      for (const auto& [name_size, value_size, sensitive] : s->trailer_sizes) {
        scratch.fields.push_back(
            {storage.substr(0, name_size), storage.substr(name_size, value_size), sensitive});
        storage.remove_prefix(name_size + value_size);
      }
      scratch.block.clear();
      c.head_cache.invalidate();
      c.encoder.encode(scratch.fields, scratch.block);
      queue_header_frames(s->id, scratch.block, true, 0);
    }
    s->response = ResponseState::kDone;
    on_local_end(s);
  }
  return true;
}

void Core::complete_flushes(Stream* s) {
  size_t done = 0;
  while (done < s->flushes.size() && s->flushes[done].first <= s->body_framed) {
    Holder h;
    h.on_done = std::move(s->flushes[done].second);
    retire_holder(std::move(h));
    ++done;
  }
  if (done > 0) s->flushes.erase(s->flushes.begin(), s->flushes.begin() + done);
}

// END_STREAM was queued (RFC 9113 §5.1).
void Core::on_local_end(Stream* s) {
  if (scheduler_) scheduler_->unlink(s);
  if (s->state == StreamState::kOpen) {
    // RFC 9113 §8.1: the response is complete before the request. RST_STREAM(NO_ERROR), queued
    // after the END_STREAM, asks the client to stop sending a body nobody will read, and the
    // stream ends now instead of waiting half-closed (local) for the client's END_STREAM (as
    // nginx does). DATA still in flight is ignored and its connection credit returned (§5.1
    // closed after our RST_STREAM); a pending read gets on_eof with body_complete() false.
    queue_rst(s->id, ErrorCode::kNoError);
    close_stream(s, ErrorCode::kNoError, ClosedHow::kResetByUs, StreamEnd::kCompleted);
    return;
  }
  close_stream(s, ErrorCode::kNoError, ClosedHow::kNormally, StreamEnd::kCompleted);
}

void Core::update_schedule(Stream* s) {
  const bool waiting = s->in_map && s->has_output();
  const bool window_closed = waiting && s->body_bytes > 0 && s->send.available() <= 0;
  note_stream_stall(s, window_closed);
  if (waiting && !window_closed) {
    scheduler().link(s);
    if (s->body_bytes > 0 && conn_send_.available() <= 0) note_connection_stall();
  } else {
    if (scheduler_) scheduler_->unlink(s);
  }
}

void Core::note_stream_stall(Stream* s, bool stalled) {
  if (stalled == s->stalled) return;
  s->stalled = stalled;
  if (!stalled || options_.flow_control_stall_timeout_ms == 0) return;
  s->stalled_since_ms = stamp();
  // Lazy: the check runs at the earliest deadline any stream may have, and recomputes.
  if (!stream_stall_check_ms_)
    stream_stall_check_ms_ = now_ms_ + options_.flow_control_stall_timeout_ms;
}

void Core::note_connection_stall() {
  if (!connection_stalled_since_ms_ && options_.flow_control_stall_timeout_ms != 0) {
    connection_stalled_since_ms_ = stamp();
  }
}

void Core::note_body_expected(Stream* s) {
  s->last_data_ms = stamp();
  if (options_.request_body_timeout_ms != 0 && !body_check_ms_) {
    body_check_ms_ = now_ms_ + options_.request_body_timeout_ms;
  }
}

// The peer owes us body bytes and nothing of ours stops it from sending them: a window kept
// closed because the handler does not read is our wait, not the peer's silence.
bool Core::awaits_body(const Stream* s) const {
  return s->remote_open() && !s->remote_ended && !s->pushed && s->head.method != "CONNECT" &&
         !(upgraded_ && s->id == 1) && s->recv.available() > 0 && conn_recv_.available() > 0;
}

void Core::fire_body_timers() {
  if (!body_check_ms_ || now_ms_ < *body_check_ms_) return;
  body_check_ms_.reset();
  const uint64_t timeout = options_.request_body_timeout_ms;
  std::vector<uint32_t> expired;
  std::optional<uint64_t> next;
  for (auto& [id, s] : streams_) {
    if (!awaits_body(s)) continue;
    const uint64_t since = std::max(s->last_data_ms, connection_credit_ms_);
    if (now_ms_ - since >= timeout) {
      expired.push_back(id);
    } else {
      const uint64_t due = since + timeout;
      next = next ? std::min(*next, due) : due;
    }
  }
  body_check_ms_ = next;
  for (uint32_t id : expired) stream_error(id, ErrorCode::kCancel);
}

void Core::fire_stall_timers() {
  const uint64_t timeout = options_.flow_control_stall_timeout_ms;
  if (connection_stalled_since_ms_ && now_ms_ - *connection_stalled_since_ms_ >= timeout) {
    connection_stalled_since_ms_.reset();
    const bool bodies_wait =
        conn_send_.available() <= 0 && pick_scheduled([](SchedNode* n) {
                                         return static_cast<Stream*>(n)->body_bytes > 0;
                                       }) != nullptr;
    if (bodies_wait) {
      return connection_error(ErrorCode::kEnhanceYourCalm,
                              "connection flow-control window closed for too long");
    }
  }
  if (!stream_stall_check_ms_ || now_ms_ < *stream_stall_check_ms_) return;
  stream_stall_check_ms_.reset();
  std::vector<uint32_t> expired;
  std::optional<uint64_t> next;
  for (auto& [id, s] : streams_) {
    if (!s->stalled) continue;
    if (now_ms_ - s->stalled_since_ms >= timeout) {
      expired.push_back(id);
    } else {
      const uint64_t due = s->stalled_since_ms + timeout;
      next = next ? std::min(*next, due) : due;
    }
  }
  stream_stall_check_ms_ = next;
  for (uint32_t id : expired) stream_error(id, ErrorCode::kCancel);
}

}  // namespace h2::protocol::detail
