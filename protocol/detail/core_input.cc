// Frames in: preface, SETTINGS, PING, GOAWAY, RST_STREAM, WINDOW_UPDATE, PRIORITY(_UPDATE), DATA.
// Header blocks are in core_headers.cc.
#include <algorithm>

#include "protocol/detail/core.h"
#include "protocol/frame/frame_writer.h"

namespace h2::protocol::detail {

Stream* Core::find(uint32_t id) const {
  return streams_.find(id);
}

// RFC 9113 §5.1.1: a stream id above every one the peer (odd) or we (even) opened is idle.
bool Core::idle(uint32_t id) const {
  return (id & 1) ? id > highest_client_id_ : id >= next_push_id_;
}

size_t Core::process_bytes(std::string_view bytes) {
  if (failed_ || detached_ || peer_eof_) return 0;
  size_t total = bytes.size();
  if (preface_matched_ < kConnectionPreface.size()) {
    if (!check_preface(bytes)) return total - bytes.size();
    if (preface_matched_ < kConnectionPreface.size()) return total;
    if (pending_dispatch_id_ != 0) {
      if (Stream* s = find(std::exchange(pending_dispatch_id_, 0))) dispatch_request(s);
    }
  }
  size_t consumed = decoder_.process_bytes(bytes);
  return total - bytes.size() + consumed;
}

// RFC 9113 §3.4: the client preface, matched incrementally; a mismatch is PROTOCOL_ERROR.
bool Core::check_preface(std::string_view& bytes) {
  size_t want = kConnectionPreface.size() - preface_matched_;
  size_t n = std::min(want, bytes.size());
  if (bytes.substr(0, n) != kConnectionPreface.substr(preface_matched_, n)) {
    connection_error(ErrorCode::kProtocolError, "invalid connection preface");
    return false;
  }
  preface_matched_ += n;
  bytes.remove_prefix(n);
  return true;
}

bool Core::on_frame_header(const FrameHeader& h) {
  if (failed_) return false;
  last_activity_ms_ = now_ms_;
  if (h.length != 0 && h.type != FrameType::kData) consecutive_empty_frames_ = 0;
  if (!settings_received_) {
    // RFC 9113 §3.4: the preface's SETTINGS (not an ACK) comes first.
    if (h.type != FrameType::kSettings || h.has(flags::kAck)) {
      connection_error(ErrorCode::kProtocolError, "first frame is not SETTINGS");
      return false;
    }
    settings_received_ = true;
  }
  if (in_block_) {
    // RFC 9113 §6.2, §6.10: only CONTINUATION of the same stream may follow.
    if (h.type != FrameType::kContinuation || h.stream_id != block_stream_id_) {
      connection_error(ErrorCode::kProtocolError, "header block interrupted");
      return false;
    }
  } else if (h.type == FrameType::kContinuation) {
    connection_error(ErrorCode::kProtocolError, "CONTINUATION without a header block");
    return false;
  }
  return true;
}

void Core::on_settings(const FrameHeader& h, std::span<const Setting> settings) {
  if (h.has(flags::kAck)) {
    // RFC 9113 §6.5.3: our settings are in force now.
    if (awaiting_settings_ack_) {
      awaiting_settings_ack_ = false;
      decoder_.set_max_frame_size(options_.max_frame_size);
      // Streams opened before the ACK were given the default window (create_stream).
      for (auto& [id, s] : streams_) s->recv.shrink_to(options_.initial_stream_window);
    }
    return;
  }
  apply_peer_settings(settings);
  if (failed_) return;
  output_.append_control(9, [](std::string& out) { write_settings_ack(out); });
  count_control_frame();
}

void Core::apply_peer_settings(std::span<const Setting> settings) {
  const bool ok = peer_.apply(
      settings,
      [&](uint32_t size) {
        if (codec_) {
          codec_->encoder.set_peer_max_table_size(size);
          codec_->head_cache.invalidate();  // the next block starts with a table size update
        } else {
          peer_table_min_ = std::min(peer_table_min_, size);
          peer_table_last_ = size;
        }
      },
      [&](int64_t delta) {
        for (auto& [id, s] : streams_) {
          if (!s->send.adjust(delta)) return false;
          update_schedule(s);
        }
        return true;
      });
  if (!ok) connection_error(ErrorCode::kFlowControlError, "stream window overflow");
}

void Core::on_ping(const FrameHeader& h, uint64_t opaque) {
  if (h.has(flags::kAck)) {
    if (shutdown_ == Shutdown::kPinging && opaque == kShutdownPing) {
      shutdown_ = Shutdown::kFinal;
      goaway_last_id_ = highest_client_id_;
      send_goaway(goaway_last_id_, ErrorCode::kNoError, "");
    }
    return;
  }
  output_.append_control(17, [&](std::string& out) { write_ping(out, opaque, true); });
  count_control_frame();
}

void Core::on_goaway(const FrameHeader&, uint32_t last_stream_id, ErrorCode code,
                     std::string_view debug) {
  goaway_received_ = true;
  // Our pushed streams above the peer's last id were not processed (RFC 9113 §6.8).
  std::vector<Stream*> unprocessed;
  for (auto& [id, s] : streams_) {
    if (s->pushed && id > last_stream_id) unprocessed.push_back(s);
  }
  for (Stream* s : unprocessed)
    close_stream(s, ErrorCode::kRefusedStream, ClosedHow::kResetByPeer, StreamEnd::kResetByPeer);
  notify_closed(code, debug);
  answer_peer_goaway();  // no stream open: our GOAWAY at once, else when the last one ends
}

void Core::on_rst_stream(const FrameHeader& h, ErrorCode code) {
  Stream* s = find(h.stream_id);
  if (s == nullptr) {
    // RFC 9113 §6.4: RST_STREAM on an idle stream is a connection error; on a closed one it is
    // ignored (§5.1 "closed").
    if (idle(h.stream_id)) connection_error(ErrorCode::kProtocolError, "RST_STREAM on idle stream");
    return;
  }
  if (s->response != ResponseState::kDone && !spend_reset_budget()) {
    // CVE-2023-44487 rapid reset: too many streams reset before we answered.
    return connection_error(ErrorCode::kEnhanceYourCalm, "reset budget exhausted");
  }
  close_stream(s, code, ClosedHow::kResetByPeer, StreamEnd::kResetByPeer);
}

void Core::on_window_update(const FrameHeader& h, uint32_t increment) {
  if (!count_window_update()) return;
  if (h.stream_id == 0) {
    // RFC 9113 §6.9: increment 0 on the connection is a connection error; overflow too (§6.9.1).
    if (increment == 0) return connection_error(ErrorCode::kProtocolError, "WINDOW_UPDATE of 0");
    if (!conn_send_.adjust(increment)) {
      return connection_error(ErrorCode::kFlowControlError, "connection window overflow");
    }
    if (conn_send_.available() > 0) connection_stalled_since_ms_.reset();
    return;
  }
  Stream* s = find(h.stream_id);
  if (s == nullptr) {
    if (idle(h.stream_id)) {
      connection_error(ErrorCode::kProtocolError, "WINDOW_UPDATE on idle stream");
    }
    return;  // closed: allowed for a short while (§5.1), ignored
  }
  if (increment == 0) return stream_error(h.stream_id, ErrorCode::kProtocolError);
  if (!s->send.adjust(increment)) return stream_error(h.stream_id, ErrorCode::kFlowControlError);
  update_schedule(s);
}

void Core::on_priority(const FrameHeader& h, const PrioritySpec& p) {
  if (!count_priority_frame()) return;
  // RFC 9113 §5.3.1: a stream cannot depend on itself. Otherwise RFC 7540 priorities are
  // parsed and ignored (we sent SETTINGS_NO_RFC7540_PRIORITIES, RFC 9218 §2.1).
  if (p.stream_dependency == h.stream_id) stream_error(h.stream_id, ErrorCode::kProtocolError);
}

void Core::on_priority_update(const FrameHeader&, uint32_t id, std::string_view value) {
  if (!count_priority_frame()) return;
  // RFC 9218 §7.1. The frame layer rejected id 0 and non-zero frame stream ids.
  if (Stream* s = find(id)) {
    scheduler().reprioritize(s, parse_priority_field(value, s->priority));
    return;
  }
  if ((id & 1) && idle(id)) {
    // Remembered for a stream not opened yet, bounded by our concurrency limit (§7.1).
    for (auto& [pid, prio] : idle_priorities_) {
      if (pid == id) {
        prio = parse_priority_field(value, prio);
        return;
      }
    }
    if (idle_priorities_.size() < options_.max_concurrent_streams) {
      idle_priorities_.emplace_back(id, parse_priority_field(value));
    }
  }
}

void Core::on_push_promise_start(const FrameHeader&, uint32_t) {
  // RFC 9113 §8.4: a client cannot push.
  connection_error(ErrorCode::kProtocolError, "PUSH_PROMISE from a client");
}

bool Core::on_frame_stream_error(const FrameHeader& h, ErrorCode code, std::string_view) {
  stream_error(h.stream_id, code);
  return true;
}

void Core::on_frame_error(const FrameHeader&, ErrorCode code, std::string_view reason) {
  connection_error(code, reason);
}

// ---- DATA ----------------------------------------------------------------------------------

void Core::on_data_start(const FrameHeader& h) {
  data_stream_id_ = 0;
  // CVE-2019-9518: empty DATA frames cost no window and carry nothing.
  if (h.length != 0 || h.has(flags::kEndStream)) {
    consecutive_empty_frames_ = 0;
  } else if (++consecutive_empty_frames_ > options_.max_consecutive_empty_frames) {
    return connection_error(ErrorCode::kEnhanceYourCalm, "empty DATA frame flood");
  }
  // RFC 9113 §6.9: every DATA frame counts against the connection window, whatever its stream.
  if (!conn_recv_.on_received(h.length)) {
    return connection_error(ErrorCode::kFlowControlError, "connection window exceeded");
  }
  Stream* s = find(h.stream_id);
  if (s == nullptr) {
    if (idle(h.stream_id)) {
      return connection_error(ErrorCode::kProtocolError, "DATA on idle stream");
    }
    if (closed_.lookup(h.stream_id) == ClosedHow::kResetByUs) {
      // §5.1: frames in flight when our RST_STREAM left are ignored, and their connection credit
      // returned, up to the stream window the peer had left. More is a peer that ignores the
      // reset and spends our bandwidth for nothing: no credit, GOAWAY.
      if (!closed_.spend_late_data(h.stream_id, h.length)) {
        // §6.9.1: more than the window the peer was given on that stream.
        return connection_error(ErrorCode::kFlowControlError,
                                "DATA on a reset stream beyond its window");
      }
      return credit_connection(h.length);
    }
    credit_connection(h.length);
    // §6.1. A stream we no longer remember (evicted from the ring) may still have DATA in flight:
    // a stream window of it is tolerated after this reset, as for a refused stream.
    const bool forgotten = closed_.lookup(h.stream_id) == ClosedHow::kUnknown;
    return stream_error(
        h.stream_id, ErrorCode::kStreamClosed,
        forgotten ? std::max<uint32_t>(options_.initial_stream_window, kDefaultInitialWindowSize)
                  : 0);
  }
  if (s->state == StreamState::kReservedLocal) {
    // §5.1 reserved (local): only RST_STREAM, PRIORITY, WINDOW_UPDATE may be received.
    return connection_error(ErrorCode::kProtocolError, "DATA on a reserved stream");
  }
  if (!s->remote_open()) {
    credit_connection(h.length);
    return stream_error(h.stream_id, ErrorCode::kStreamClosed);  // §5.1 half-closed (remote)
  }
  if (!s->recv.on_received(h.length)) {
    credit_connection(h.length);
    return stream_error(h.stream_id, ErrorCode::kFlowControlError);
  }
  s->last_data_ms = now_ms_;
  data_stream_id_ = h.stream_id;
}

void Core::on_data_padding(const FrameHeader& h, uint32_t n) {
  // Padding is flow-controlled but never reaches the handler: consumed at once.
  if (data_stream_id_ == 0) return;
  credit_connection(n);
  if (Stream* s = find(h.stream_id)) credit_stream(s, n);
}

void Core::on_data_chunk(uint32_t stream_id, std::string_view data) {
  if (data_stream_id_ != stream_id) return;
  uint32_t n = static_cast<uint32_t>(data.size());
  Stream* s = find(stream_id);
  if (s == nullptr || !s->remote_open()) {
    credit_connection(n);
    return;
  }
  s->body_received += n;
  if (s->head.content_length >= 0 && s->body_received > uint64_t(s->head.content_length)) {
    // RFC 9113 §8.1.1: more DATA than content-length is malformed.
    data_stream_id_ = 0;
    credit_connection(n);
    return stream_error(stream_id, ErrorCode::kProtocolError);
  }
  if (s->on_chunk && s->body_read_offset == s->body_buffer.size()) {
    // A read is waiting and nothing is buffered: hand the decoder's view over, no copy.
    Reqd guard(this, s);
    auto cb = std::move(s->on_chunk);
    s->on_chunk = nullptr;
    s->on_eof = nullptr;
    if (!guarded([&] { cb(data); })) report_error(s);
    credit_connection(n);
    credit_stream(s, n);
    return;
  }
  s->body_buffer.append(data);
}

void Core::on_data_end(const FrameHeader& h) {
  if (data_stream_id_ != h.stream_id) return;
  data_stream_id_ = 0;
  if (!h.has(flags::kEndStream)) return;
  if (Stream* s = find(h.stream_id)) end_of_body(s);
}

void Core::end_of_body(Stream* s) {
  // RFC 9113 §8.1.1: the DATA received must add up to content-length.
  if (s->head.content_length >= 0 && s->body_received != uint64_t(s->head.content_length)) {
    return stream_error(s->id, ErrorCode::kProtocolError);
  }
  s->remote_ended = true;
  if (s->state == StreamState::kHalfClosedLocal) {
    close_stream(s, ErrorCode::kNoError, ClosedHow::kNormally, StreamEnd::kCompleted);
    return;
  }
  s->state = StreamState::kHalfClosedRemote;
  deliver_body(s);
}

void Core::deliver_body(Stream* s) {
  if (s->body_read_offset < s->body_buffer.size() && s->on_chunk) {
    Reqd guard(this, s);
    std::string_view data = std::string_view(s->body_buffer).substr(s->body_read_offset);
    s->body_read_offset = s->body_buffer.size();
    auto cb = std::move(s->on_chunk);
    s->on_chunk = nullptr;
    s->on_eof = nullptr;
    cb(data);
    // The chunk is consumed: drop it (unless a nested read already did) and reopen windows.
    if (s->body_read_offset == s->body_buffer.size()) {
      s->body_buffer.clear();
      s->body_read_offset = 0;
    }
    if (upgraded_ && s->id == 1) return;  // the HTTP/1.1 body was not flow-controlled
    uint32_t n = static_cast<uint32_t>(data.size());
    credit_connection(n);
    credit_stream(s, n);
    return;
  }
  if (s->body_read_offset == s->body_buffer.size() && s->remote_ended && s->on_eof) {
    Reqd guard(this, s);
    auto cb = std::move(s->on_eof);
    s->on_chunk = nullptr;
    s->on_eof = nullptr;
    s->eof_delivered = true;
    if (!guarded(cb)) report_error(s);
  }
}

void Core::credit_connection(uint32_t n) {
  if (failed_ || n == 0) return;
  const bool was_closed = conn_recv_.available() <= 0;
  conn_recv_.on_consumed(n);
  if (uint32_t increment = conn_recv_.take_update()) {
    queue_window_update(0, increment);
    if (was_closed) {
      // Bodies that waited on the closed connection window may move again: their silence
      // counts from now, and the check that skipped them runs again.
      connection_credit_ms_ = stamp();
      if (options_.request_body_timeout_ms != 0 && !body_check_ms_) {
        body_check_ms_ = now_ms_ + options_.request_body_timeout_ms;
      }
    }
  }
}

void Core::credit_stream(Stream* s, uint32_t n) {
  if (failed_ || n == 0) return;
  s->recv.on_consumed(n);
  if (s->remote_ended || !s->remote_open()) return;  // no more DATA expected
  if (uint32_t increment = s->recv.take_update()) {
    queue_window_update(s->id, increment);
    note_body_expected(s);  // the peer may send again: its silence counts from now
  }
}

}  // namespace h2::protocol::detail
