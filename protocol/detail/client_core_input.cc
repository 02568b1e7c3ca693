// The frames a server sends to a client (RFC 9113 §6), judged from the client's side: response
// heads, 1xx, trailers, pushes, the windows the server grants, its SETTINGS, PING and GOAWAY.
#include <charconv>

#include "protocol/detail/client_core.h"
#include "protocol/detail/field_chars.h"
#include "protocol/frame/frame_writer.h"

namespace h2::protocol::detail {
namespace {

bool parse_length(std::string_view v, uint64_t& out) {
  if (v.empty() || v.size() > 19) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && p == v.data() + v.size();
}

}  // namespace

bool ClientCore::on_frame_header(const FrameHeader& h) {
  // RFC 9113 §6.10: a header block is only continued by CONTINUATION on the same stream.
  if (in_block_ != (h.type == FrameType::kContinuation) ||
      (in_block_ && h.stream_id != block_stream_id_)) {
    connection_error(ErrorCode::kProtocolError, "CONTINUATION out of sequence");
    return false;
  }
  if ((h.type == FrameType::kData || h.type == FrameType::kHeaders ||
       h.type == FrameType::kContinuation) &&
      h.length == 0 && !h.has(flags::kEndStream) && !h.has(flags::kEndHeaders)) {
    if (++consecutive_empty_frames_ > options_.max_consecutive_empty_frames) {
      connection_error(ErrorCode::kEnhanceYourCalm, "too many empty frames");
      return false;
    }
  } else if (h.length > 0) {
    consecutive_empty_frames_ = 0;
  }
  return true;
}

// ---- DATA ----

void ClientCore::on_data_start(const FrameHeader& h) {
  data_target_ = nullptr;
  if (!conn_recv_.on_received(h.length)) {
    return connection_error(ErrorCode::kFlowControlError, "DATA beyond the connection window");
  }
  ClientStreamState* s = find(h.stream_id);
  if (!s) {
    credit(nullptr, h.length);  // a stream we closed: the bytes still count (§6.9)
    if (h.stream_id >= next_stream_id_ && h.stream_id % 2 == 1) {
      connection_error(ErrorCode::kProtocolError, "DATA on an idle stream");
    } else if (closed_.lookup(h.stream_id) == ClosedHow::kNormally) {
      queue_rst(h.stream_id, ErrorCode::kStreamClosed);
    }
    return;
  }
  if (!s->final_head || s->remote_ended) {
    credit(nullptr, h.length);
    return stream_error(s, s->remote_ended ? ErrorCode::kStreamClosed : ErrorCode::kProtocolError,
                        ClientStreamEnd::kProtocolError);
  }
  if (!s->recv.on_received(h.length)) {
    credit(nullptr, h.length);
    return stream_error(s, ErrorCode::kFlowControlError, ClientStreamEnd::kProtocolError);
  }
  data_target_ = s;
}

void ClientCore::on_data_padding(const FrameHeader&, uint32_t padding) {
  credit(data_target_, padding);  // padding is never delivered, so it is consumed now
}

void ClientCore::on_data_chunk(uint32_t, std::string_view data) {
  ClientStreamState* s = data_target_;
  if (!s) return;
  s->received_length += data.size();
  if (s->content_length && s->received_length > *s->content_length) {
    credit(nullptr, data.size());
    return stream_error(s, ErrorCode::kProtocolError, ClientStreamEnd::kProtocolError);
  }
  ClientStream handle(s);
  // Paused credit: the chunk is owed before the handler sees it, so a consume() from inside
  // on_data gives it back at once (and closing the stream in the callback credits it).
  const bool paused = s->credit_paused;
  if (paused) s->unconsumed += data.size();
  guarded(s, [&] { handler_->on_data(handle, data); });
  if (paused) return;
  if (data_target_ == s) {
    credit(s, data.size());
  } else if (s->phase == ClientStreamState::Phase::kClosed) {
    credit(nullptr, data.size());
  }
}

void ClientCore::on_data_end(const FrameHeader& h) {
  ClientStreamState* s = data_target_;
  data_target_ = nullptr;
  if (!s || !h.has(flags::kEndStream)) return;
  // RFC 9113 §8.1.1: content-length must match the DATA received (HEAD and 304 carry none).
  if (s->content_length && !s->is_head && s->received_length != *s->content_length) {
    return stream_error(s, ErrorCode::kProtocolError, ClientStreamEnd::kProtocolError);
  }
  s->remote_ended = true;
  if (!s->local_ended) {
    // The response is complete before our request body (§8.1): stop sending it.
    drop_body(s);
    s->local_ended = true;
    queue_rst(s->id, ErrorCode::kNoError);
  }
  finish_if_done(s);
}

// ---- header blocks ----

void ClientCore::on_headers_start(const FrameHeader& h, const std::optional<PrioritySpec>&) {
  ClientStreamState* s = find(h.stream_id);
  Block kind = Block::kDiscard;
  if (s && !s->remote_ended) {
    kind = s->final_head ? Block::kTrailers : Block::kResponse;
  } else if (!s && ((h.stream_id % 2 == 1 && h.stream_id >= next_stream_id_) ||
                    (h.stream_id % 2 == 0 && h.stream_id > last_promised_id_))) {
    // Servers never open streams with HEADERS (§8.4: only PUSH_PROMISE reserves one).
    connection_error(ErrorCode::kProtocolError, "HEADERS on an idle stream");
    return;
  }
  start_block(h, kind, s);
}

void ClientCore::on_push_promise_start(const FrameHeader& h, uint32_t promised_id) {
  if (!options_.enable_push) {
    return connection_error(ErrorCode::kProtocolError, "PUSH_PROMISE with push disabled");
  }
  ClientStreamState* parent = find(h.stream_id);
  if (promised_id % 2 != 0 || promised_id <= last_promised_id_) {
    return connection_error(ErrorCode::kProtocolError, "PUSH_PROMISE with a bad stream id");
  }
  last_promised_id_ = promised_id;
  promised_ = nullptr;
  if (parent && parent->id % 2 == 1) {
    auto* p = new ClientStreamState;
    p->core = this;
    p->tracked = true;
    p->phase = ClientStreamState::Phase::kReserved;
    p->id = promised_id;
    p->local_ended = true;  // §8.4: a pushed stream is half-closed (local) for the client
    p->send = SendWindow(peer_.initial_window);
    p->recv = RecvWindow(options_.initial_stream_window);
    streams_[promised_id] = p;
    promised_ = p;
  }
  start_block(h, parent ? Block::kPromise : Block::kDiscard, parent);
}

void ClientCore::on_continuation_start(const FrameHeader&) {
  if (++block_continuations_ > options_.max_continuation_frames) {
    connection_error(ErrorCode::kEnhanceYourCalm, "too many CONTINUATION frames");
  }
}

void ClientCore::start_block(const FrameHeader& h, Block kind, ClientStreamState* s) {
  in_block_ = true;
  block_ = kind;
  block_target_ = s;
  block_stream_id_ = h.stream_id;
  block_end_stream_ = h.has(flags::kEndStream);
  block_continuations_ = 0;
  block_started_ms_ = now_ms_;
  block_arena_.clear();
  block_offsets_.clear();
  hpack_decoder_.begin_block(this);
}

void ClientCore::on_header_block_fragment(std::string_view fragment) {
  if (hpack_decoder_.process_bytes(fragment) != hpack::Error::kOk) {
    connection_error(ErrorCode::kCompressionError, "HPACK decoding failed");
  }
}

void ClientCore::on_header(std::string_view name, std::string_view value) {
  if (block_ == Block::kDiscard) return;
  block_offsets_.push_back(static_cast<uint32_t>(block_arena_.size()));
  block_offsets_.push_back(static_cast<uint32_t>(name.size()));
  block_offsets_.push_back(static_cast<uint32_t>(value.size()));
  block_arena_.append(name);
  block_arena_.append(value);
}

// Views into block_arena_, in a reused vector: valid until the next block (a handler cannot
// start one: it may not drive the connection).
const std::vector<Field>& ClientCore::block_view() {
  std::vector<Field>& fields = block_fields_;
  fields.clear();
  for (size_t i = 0; i < block_offsets_.size(); i += 3) {
    std::string_view all(block_arena_);
    fields.push_back({all.substr(block_offsets_[i], block_offsets_[i + 1]),
                      all.substr(block_offsets_[i] + block_offsets_[i + 1], block_offsets_[i + 2])});
  }
  return fields;
}

void ClientCore::on_header_frame_end(const FrameHeader& h) {
  if (failed_ || !h.has(flags::kEndHeaders)) return;
  in_block_ = false;
  end_block();
}

void ClientCore::end_block() {
  const hpack::Error e = hpack_decoder_.end_block();
  if (e == hpack::Error::kTruncatedBlock) {
    return connection_error(ErrorCode::kCompressionError, "truncated header block");
  }
  if (e != hpack::Error::kOk && block_ != Block::kDiscard) {
    // Over max_header_list_size / max_field_count: the fields were decoded (the HPACK state is
    // intact) but not kept. The stream is refused; the connection goes on.
    ClientStreamState* s = block_ == Block::kPromise ? promised_ : block_target_;
    block_ = Block::kDiscard;
    if (s) stream_error(s, ErrorCode::kCancel, ClientStreamEnd::kHeaderListTooLarge);
    return;
  }
  const Block kind = block_;
  block_ = Block::kNone;
  ClientStreamState* s = block_target_;
  block_target_ = nullptr;
  switch (kind) {
    case Block::kResponse:
      return on_response_block(s, block_end_stream_);
    case Block::kTrailers:
      return on_trailers_block(s);
    case Block::kPromise:
      return on_promise_block();
    default:
      return;
  }
}

bool ClientCore::valid_regular_field(std::string_view name, std::string_view value) const {
  return !name.empty() && name_octets_ok(name) && value_octets_ok(value) &&
         classify_field(name) != Special::kConnectionSpecific;
}

void ClientCore::on_response_block(ClientStreamState* s, bool end_stream) {
  const std::vector<Field>& fields = block_view();
  // RFC 9113 §8.3.2: exactly one :status, first; §8.1.1: malformed -> stream PROTOCOL_ERROR.
  int status = -1;
  size_t regular_from = 0;
  bool ok = !fields.empty();
  for (size_t i = 0; ok && i < fields.size(); ++i) {
    const Field& f = fields[i];
    if (!f.name.empty() && f.name[0] == ':') {
      ok = i == 0 && f.name == ":status" && f.value.size() == 3 &&
           std::from_chars(f.value.data(), f.value.data() + 3, status).ptr == f.value.data() + 3 &&
           status >= 100;
      regular_from = i + 1;
    } else {
      ok = valid_regular_field(f.name, f.value);
    }
  }
  ok = ok && status >= 100 && status != 101 && !(status < 200 && end_stream);
  std::optional<uint64_t> length;
  for (size_t i = regular_from; ok && i < fields.size(); ++i) {
    if (classify_field(fields[i].name) == Special::kContentLength) {
      uint64_t v = 0;
      ok = parse_length(fields[i].value, v) && (!length || *length == v);
      length = v;
    }
  }
  if (!ok) return stream_error(s, ErrorCode::kProtocolError, ClientStreamEnd::kProtocolError);
  std::span<const Field> regular(fields.data() + regular_from, fields.size() - regular_from);
  ClientStream handle(s);
  if (status < 200) {
    guarded(s, [&] { handler_->on_informational(handle, static_cast<uint16_t>(status), regular); });
    return;
  }
  s->final_head = true;
  s->head_ended = end_stream;  // response_ended() is true inside on_response already
  if (status != 304 && status != 204) s->content_length = length;
  guarded(s, [&] { handler_->on_response(handle, static_cast<uint16_t>(status), regular); });
  if (s->phase == ClientStreamState::Phase::kReserved) {
    s->phase = ClientStreamState::Phase::kOpen;
  }
  if (end_stream && s->phase != ClientStreamState::Phase::kClosed) {
    if (s->content_length && !s->is_head && *s->content_length != 0) {
      return stream_error(s, ErrorCode::kProtocolError, ClientStreamEnd::kProtocolError);
    }
    s->remote_ended = true;
    if (!s->local_ended) {
      s->body.clear();
      s->buffered = 0;
      s->local_ended = true;
      queue_rst(s->id, ErrorCode::kNoError);
    }
    finish_if_done(s);
  }
}

void ClientCore::on_trailers_block(ClientStreamState* s) {
  const std::vector<Field>& fields = block_view();
  bool ok = block_end_stream_;  // §8.1: trailers end the stream
  for (const Field& f : fields) ok = ok && valid_regular_field(f.name, f.value);
  if (!ok) return stream_error(s, ErrorCode::kProtocolError, ClientStreamEnd::kProtocolError);
  if (s->content_length && !s->is_head && s->received_length != *s->content_length) {
    return stream_error(s, ErrorCode::kProtocolError, ClientStreamEnd::kProtocolError);
  }
  ClientStream handle(s);
  guarded(s, [&] { handler_->on_trailers(handle, fields); });
  if (s->phase == ClientStreamState::Phase::kClosed) return;
  s->remote_ended = true;
  finish_if_done(s);
}

void ClientCore::on_promise_block() {
  ClientStreamState* promised = promised_;
  ClientStreamState* parent = find(block_stream_id_);
  promised_ = nullptr;
  if (!promised) return;
  const std::vector<Field>& fields = block_view();
  bool ok = !fields.empty();
  bool regular = false;
  for (const Field& f : fields) {
    const bool pseudo = !f.name.empty() && f.name[0] == ':';
    ok = ok && (pseudo ? !regular && (f.name == ":method" || f.name == ":scheme" ||
                                      f.name == ":authority" || f.name == ":path")
                       : valid_regular_field(f.name, f.value));
    regular |= !pseudo;
  }
  bool accepted = false;
  if (ok && parent && open_pushes_ < options_.max_concurrent_pushes) {
    ClientStream parent_handle(parent), promised_handle(promised);
    guarded(parent, [&] {
      accepted = handler_->on_push_promise(parent_handle, promised_handle, fields);
    });
  }
  if (accepted && promised->phase == ClientStreamState::Phase::kReserved) {
    ++open_pushes_;
    return;
  }
  if (promised->phase != ClientStreamState::Phase::kClosed) {
    queue_rst(promised->id, ok ? ErrorCode::kCancel : ErrorCode::kProtocolError);
    streams_.erase(promised->id);
    promised->phase = ClientStreamState::Phase::kClosed;
    promised->tracked = false;
    promised->core = nullptr;  // a handle the handler kept now owns it
    if (promised->refs == 0) delete promised;
  }
}

// ---- control frames ----

void ClientCore::on_rst_stream(const FrameHeader& h, ErrorCode code) {
  ClientStreamState* s = find(h.stream_id);
  if (!s) {
    if (h.stream_id % 2 == 1 && h.stream_id >= next_stream_id_) {
      connection_error(ErrorCode::kProtocolError, "RST_STREAM on an idle stream");
    }
    return;
  }
  // §8.1: RST_STREAM(NO_ERROR) after a complete response only stops our request body.
  if (code == ErrorCode::kNoError && s->remote_ended) {
    drop_body(s);
    s->local_ended = true;
    return finish_if_done(s);
  }
  close_stream(s, ClientStreamEnd::kResetByPeer, code, code == ErrorCode::kRefusedStream);
}

void ClientCore::on_settings(const FrameHeader& h, std::span<const Setting> settings) {
  if (h.has(flags::kAck)) {
    if (awaiting_settings_ack_) {
      awaiting_settings_ack_ = false;
      decoder_.set_max_frame_size(options_.max_frame_size);
    }
    return;
  }
  const bool ok = peer_.apply(
      settings, [&](uint32_t size) { hpack_encoder_.set_peer_max_table_size(size); },
      [&](int64_t delta) {
        for (auto& [id, s] : streams_) {
          if (!s->send.adjust(delta)) return false;
        }
        return true;
      });
  if (!ok) return connection_error(ErrorCode::kFlowControlError, "stream window overflow");
  output_.append_control(9, [&](std::string& out) { write_settings_ack(out); });
  count_control_frame();
  settings_received_ = true;
  open_queued();
}

void ClientCore::on_ping(const FrameHeader& h, uint64_t opaque) {
  if (h.has(flags::kAck)) {
    guarded(nullptr, [&] { handler_->on_ping_ack(opaque); });
    return;
  }
  output_.append_control(17, [&](std::string& out) { write_ping(out, opaque, true); });
  count_control_frame();
}

void ClientCore::on_goaway(const FrameHeader&, uint32_t last_id, ErrorCode code,
                           std::string_view debug) {
  if (goaway_received_ && last_id > goaway_last_id_) {
    return connection_error(ErrorCode::kProtocolError, "GOAWAY raised its last stream id");
  }
  goaway_received_ = true;
  goaway_last_id_ = last_id;
  goaway_code_ = code;
  guarded(nullptr, [&] { handler_->on_goaway(last_id, code, debug); });
  // §6.8: streams above last_id were never processed - retry them elsewhere.
  std::vector<ClientStreamState*> refused;
  for (auto& [id, s] : streams_) {
    if (id % 2 == 1 && id > last_id) refused.push_back(s);
  }
  for (ClientStreamState* s : queue_) refused.push_back(s);
  for (ClientStreamState* s : refused) {
    close_stream(s, ClientStreamEnd::kRefusedByGoaway, code, true);
  }
  if (streams_.empty()) notify_connection_closed(code, debug);
}

void ClientCore::on_window_update(const FrameHeader& h, uint32_t increment) {
  if (++window_updates_received_ > options_.max_window_updates_per_data_frame *
                                       (data_frames_sent_ + streams_opened_ + 1)) {
    return connection_error(ErrorCode::kEnhanceYourCalm, "too many WINDOW_UPDATE frames");
  }
  if (h.stream_id == 0) {
    if (increment == 0) return connection_error(ErrorCode::kProtocolError, "WINDOW_UPDATE of 0");
    if (!conn_send_.adjust(increment)) {
      return connection_error(ErrorCode::kFlowControlError, "connection window overflow");
    }
    return;
  }
  ClientStreamState* s = find(h.stream_id);
  if (!s) {
    if (h.stream_id % 2 == 1 && h.stream_id >= next_stream_id_) {
      connection_error(ErrorCode::kProtocolError, "WINDOW_UPDATE on an idle stream");
    }
    return;
  }
  if (increment == 0) {
    return stream_error(s, ErrorCode::kProtocolError, ClientStreamEnd::kProtocolError);
  }
  if (!s->send.adjust(increment)) {
    stream_error(s, ErrorCode::kFlowControlError, ClientStreamEnd::kProtocolError);
  }
}

void ClientCore::on_priority_update(const FrameHeader&, uint32_t, std::string_view) {
  // RFC 9218 §7.1: only clients send PRIORITY_UPDATE.
  connection_error(ErrorCode::kProtocolError, "PRIORITY_UPDATE from a server");
}

void ClientCore::on_frame_error(const FrameHeader&, ErrorCode code, std::string_view reason) {
  connection_error(code, reason);
}

}  // namespace h2::protocol::detail
