// Header blocks (HEADERS + CONTINUATION) decoded as they arrive; requests opened and dispatched.
#include <algorithm>

#include "hpack/error.h"
#include "protocol/detail/core.h"
#include "protocol/frame/frame_writer.h"

namespace h2::protocol::detail {

void Core::on_headers_start(const FrameHeader& h, const std::optional<PrioritySpec>& priority) {
  const uint32_t id = h.stream_id;
  in_block_ = true;
  block_stream_id_ = id;
  block_end_stream_ = h.has(flags::kEndStream);
  block_continuations_ = 0;
  block_started_ms_ = now_ms_;
  block_refused_ = false;
  block_target_ = BlockTarget::kDiscard;
  block_stream_ = nullptr;
  codec().decoder.begin_block(this);
  // RFC 9113 §5.3.1: self-dependency is a stream error (the block is still decoded for HPACK).
  bool self_dependent = priority && priority->stream_dependency == id;

  if (Stream* s = find(id)) {
    if (s->state == StreamState::kReservedLocal) {
      // §5.1 reserved (local): only RST_STREAM, PRIORITY, WINDOW_UPDATE may be received.
      return connection_error(ErrorCode::kProtocolError, "HEADERS on a reserved stream");
    }
    if (!s->remote_open()) {
      // §5.1 half-closed (remote): STREAM_CLOSED.
      block_refused_ = true;
      block_refuse_code_ = ErrorCode::kStreamClosed;
    } else if (!block_end_stream_ || self_dependent) {
      // §8.1: a second HEADERS (trailers) must end the stream.
      block_refused_ = true;
      block_refuse_code_ = ErrorCode::kProtocolError;
    } else {
      block_target_ = BlockTarget::kTrailers;
      block_stream_ = s;
      acquire(s);
      s->trailer_fields.begin(true);
    }
    return;
  }
  const bool client_id = (id & 1) != 0;
  if (!client_id && idle(id)) {
    // §5.1.1: clients open odd streams only.
    return connection_error(ErrorCode::kProtocolError, "HEADERS on an even stream id");
  }
  if (!client_id || id <= highest_client_id_) {
    ClosedHow how = closed_.lookup(id);
    if (how == ClosedHow::kResetByUs) return;  // §5.1: ignored after our RST_STREAM
    if (how == ClosedHow::kUnknown) {
      // §5.1.1: ids must increase (or the stream closed too long ago to tell).
      return connection_error(
          client_id ? ErrorCode::kProtocolError : ErrorCode::kStreamClosed,
          client_id ? "stream id not increasing" : "HEADERS on a closed stream");
    }
    if (how == ClosedHow::kNormally) {
      // §5.1 closed by END_STREAM both ways: "additional frames ... MUST be treated as a
      // connection error of type STREAM_CLOSED"; a HEADERS here also reuses a stream id
      // (§5.1.1). nghttpd, h2o and nginx all end the connection too.
      return connection_error(ErrorCode::kStreamClosed, "HEADERS on a closed stream");
    }
    // §5.1 closed after the peer's RST_STREAM: a stream error STREAM_CLOSED. The block is still
    // decoded (HPACK state stays in sync), then RST_STREAM goes out and the connection goes on.
    block_refused_ = true;
    block_refuse_code_ = ErrorCode::kStreamClosed;
    return;
  }
  highest_client_id_ = id;
  // Streams below `id` can never open now (§5.1.1), so PRIORITY_UPDATEs kept for them are dead;
  // dropping them keeps the bounded list from filling with ids that were skipped or refused.
  std::erase_if(idle_priorities_, [id](const auto& entry) { return entry.first < id; });
  if (shutdown_ == Shutdown::kFinal && id > goaway_last_id_) return;  // §6.8: ignored
  if (open_client_streams_ >= options_.max_concurrent_streams) {
    block_refused_ = true;  // §5.1.2
    block_refuse_code_ = ErrorCode::kRefusedStream;
    return;
  }
  if (self_dependent) {
    block_refused_ = true;
    block_refuse_code_ = ErrorCode::kProtocolError;
    return;
  }
  Stream* s = create_stream(id);
  s->state = StreamState::kOpen;
  s->counted = true;
  ++open_client_streams_;
  s->request_fields.begin(false);
  block_target_ = BlockTarget::kRequest;
  block_stream_ = s;
  acquire(s);
}

void Core::on_continuation_start(const FrameHeader&) {
  if (++block_continuations_ > options_.max_continuation_frames) {
    connection_error(ErrorCode::kEnhanceYourCalm, "too many CONTINUATION frames");
  }
}

void Core::on_header_block_fragment(std::string_view fragment) {
  if (!in_block_) return;
  hpack::Error e = codec().decoder.process_bytes(fragment);
  if (e != hpack::Error::kOk) {
    // RFC 9113 §4.3: a decoding error is a connection error COMPRESSION_ERROR.
    connection_error(ErrorCode::kCompressionError, hpack::error_name(e));
  }
}

void Core::on_header(std::string_view name, std::string_view value) {
  if (block_stream_ == nullptr) return;
  if (block_target_ == BlockTarget::kRequest) {
    block_stream_->request_fields.add(name, value);
  } else if (block_target_ == BlockTarget::kTrailers) {
    block_stream_->trailer_fields.add(name, value);
  }
}

void Core::on_header_frame_end(const FrameHeader& h) {
  if (in_block_ && h.has(flags::kEndHeaders)) end_block();
}

void Core::end_block() {
  in_block_ = false;
  hpack::Error e = codec().decoder.end_block();
  Stream* s = block_stream_;
  block_stream_ = nullptr;
  if (e != hpack::Error::kOk && hpack::is_connection_error(e)) {
    if (s) drop(s);
    return connection_error(ErrorCode::kCompressionError, hpack::error_name(e));
  }
  const uint32_t id = block_stream_id_;
  if (s == nullptr) {
    // A refused request may have its body in flight: up to a stream window of it (ours, or the
    // default while our SETTINGS are not acknowledged) is ignored like any late DATA (§5.1).
    const uint32_t in_flight =
        std::max<uint32_t>(options_.initial_stream_window, kDefaultInitialWindowSize);
    if (block_refused_) stream_error(id, block_refuse_code_, in_flight);
    return;
  }
  Reqd guard(this, s);
  drop(s);                                       // the block's own reference; `guard` keeps it
  if (s->state == StreamState::kClosed) return;  // reset while the block was arriving

  if (block_target_ == BlockTarget::kTrailers) {
    if (e != hpack::Error::kOk ||
        s->trailer_fields.finish(options_.enable_connect_protocol, nullptr) != Malformed::kNone) {
      return stream_error(id, ErrorCode::kProtocolError);  // §8.1.1 malformed trailers
    }
    s->has_trailers = true;
    return end_of_body(s);
  }

  if (e != hpack::Error::kOk) {
    // Header list too large / too many fields: the request is refused with 431 (§8.2.2,
    // RFC 6585), the connection goes on.
    if (block_end_stream_) {
      s->remote_ended = true;
      s->state = StreamState::kHalfClosedRemote;
    }
    respond_head(s, Response{431, {}}, false, true);
    return;
  }
  if (s->request_fields.finish(options_.enable_connect_protocol, &s->head) != Malformed::kNone) {
    return stream_error(id, ErrorCode::kProtocolError);  // §8.1.1
  }
  s->head.stream_id = id;
  s->head_only = s->head.method == "HEAD";
  for (const Field& f : s->head.headers) {
    if (f.name == "priority") s->priority = parse_priority_field(f.value, s->priority);
  }
  for (auto it = idle_priorities_.begin(); it != idle_priorities_.end(); ++it) {
    if (it->first == id) {  // RFC 9218 §7.1: PRIORITY_UPDATE overrides the header
      s->priority = it->second;
      idle_priorities_.erase(it);
      break;
    }
  }
  if (block_end_stream_) {
    if (s->head.content_length > 0) return stream_error(id, ErrorCode::kProtocolError);
    s->remote_ended = true;
    s->state = StreamState::kHalfClosedRemote;
  } else {
    note_body_expected(s);
  }
  dispatch_request(s);
}

void Core::dispatch_request(Stream* s) {
  s->delivered = true;
  if (detached_) return;
  Reqd reqd(this, s);
  if (!guarded([&] { handler_->on_request(reqd); })) report_error(s);
}

}  // namespace h2::protocol::detail
