#include "protocol/detail/client_core.h"

#include <algorithm>
#include <array>

#include "protocol/detail/field_chars.h"
#include "protocol/frame/frame_writer.h"

namespace h2::protocol::detail {
namespace {

constexpr size_t kCopyThreshold = 256;  // body pieces copied next to their DATA header

FrameDecoderOptions decoder_options(const ClientOptions& o) {
  FrameDecoderOptions d;
  d.max_frame_size = kDefaultMaxFrameSize;  // raised once our SETTINGS are ACKed
  (void)o;
  return d;
}

hpack::DecoderOptions hpack_options(const ClientOptions& o) {
  hpack::DecoderOptions d;
  d.max_table_size = o.header_table_size;
  d.max_header_list_size = o.max_header_list_size;
  d.max_field_count = o.max_field_count;
  d.max_string_length = o.max_string_length;
  return d;
}

// RFC 9113 §8.2.1 / §8.2.2: a regular field we may send (lowercase, no connection-specific
// field, TE only "trailers"; the same character rules the server applies to requests).
bool sendable_field(const Field& f) {
  if (f.name.empty() || !name_octets_ok(f.name) || !value_octets_ok(f.value)) return false;
  const Special special = classify_field(f.name);
  return special != Special::kConnectionSpecific &&
         (special != Special::kTe || f.value == "trailers");
}

}  // namespace

ClientCore::ClientCore(ClientHandler* handler, const ClientOptions& options, uint64_t now_ms)
    : handler_(handler),
      options_(options),
      decoder_(this, decoder_options(options)),
      hpack_decoder_(hpack_options(options)),
      closed_(options.closed_stream_memory),
      conn_recv_(kDefaultInitialWindowSize),
      now_ms_(now_ms),
      settings_sent_ms_(now_ms) {
  std::array<Setting, 6> settings{};
  size_t n = 0;
  settings[n++] = {static_cast<uint16_t>(SettingId::kEnablePush), options.enable_push ? 1u : 0u};
  if (options.enable_push) {
    settings[n++] = {static_cast<uint16_t>(SettingId::kMaxConcurrentStreams),
                     options.max_concurrent_pushes};
  }
  settings[n++] = {static_cast<uint16_t>(SettingId::kInitialWindowSize),
                   options.initial_stream_window};
  settings[n++] = {static_cast<uint16_t>(SettingId::kMaxHeaderListSize),
                   options.max_header_list_size};
  if (options.max_frame_size != kDefaultMaxFrameSize) {
    settings[n++] = {static_cast<uint16_t>(SettingId::kMaxFrameSize), options.max_frame_size};
  }
  if (options.header_table_size != 4096) {
    settings[n++] = {static_cast<uint16_t>(SettingId::kHeaderTableSize),
                     options.header_table_size};
  }
  const uint32_t bump = conn_recv_.grow_to(std::max(options.connection_window,
                                                    kDefaultInitialWindowSize));
  output_.append_control(kConnectionPreface.size() + 9 + 6 * n + 13, [&](std::string& out) {
    out.append(kConnectionPreface);
    write_settings(out, std::span<const Setting>(settings.data(), n));
    if (bump > 0) write_window_update(out, 0, bump);
  });
}

ClientCore::~ClientCore() {
  ++driving_;
  std::vector<ClientStreamState*> all;
  for (auto& [id, s] : streams_) all.push_back(s);
  for (ClientStreamState* s : queue_) all.push_back(s);
  for (ClientStreamState* s : all) {
    close_stream(s, ClientStreamEnd::kConnectionEnded, ErrorCode::kCancel,
                 s->phase == ClientStreamState::Phase::kQueued);
  }
  // close_stream detached every state (core = nullptr): the handles still held own them now.
  deliver_notes();
  if (all.empty() && (goaway_sent_ || goaway_received_)) {
    notify_connection_closed(ErrorCode::kNoError, "graceful shutdown completed");
  } else {
    notify_connection_closed(ErrorCode::kCancel, "connection destroyed");
  }
  std::vector<Holder> released;
  output_.clear(released);
  for (Holder& h : released) h.finish(false);
}

// ---- API ----

ClientStream ClientCore::submit(const ClientRequest& r, bool end_stream, ClientResult* result) {
  auto refuse = [&](ClientResult why) {
    if (result) *result = why;
    auto* s = new ClientStreamState;
    s->phase = ClientStreamState::Phase::kClosed;
    return ClientStream(s);
  };
  if (failed_ || goaway_received_ || goaway_sent_ || peer_eof_) {
    return refuse(ClientResult::kConnectionClosed);
  }
  const bool connect = r.method == "CONNECT";
  const bool plain_connect = connect && r.protocol.empty();
  if (r.method.empty() || (plain_connect && (!r.scheme.empty() || !r.path.empty() ||
                                            r.authority.empty())) ||
      (!plain_connect && (r.scheme.empty() || r.path.empty())) ||
      (!r.protocol.empty() && !connect)) {
    return refuse(ClientResult::kInvalidArgument);
  }
  for (const Field& f : r.headers) {
    if (!sendable_field(f)) return refuse(ClientResult::kInvalidArgument);
  }
  if (!r.protocol.empty() && settings_received_ && !peer_.enable_connect_protocol) {
    return refuse(ClientResult::kNotSupported);
  }
  if (queue_.size() >= options_.max_queued_requests) return refuse(ClientResult::kQueueFull);

  auto* s = new ClientStreamState;
  s->core = this;
  s->tracked = true;
  s->is_head = r.method == "HEAD";
  s->end_requested = end_stream;
  ClientStream handle(s);
  if (result) *result = ClientResult::kOk;
  const bool extended = !r.protocol.empty();
  if (queue_.empty() && can_open_now(extended)) {
    // The common case: HPACK-encoded straight from the caller's views, nothing copied.
    head_scratch_.clear();
    head_scratch_.push_back({":method", r.method});
    if (!r.scheme.empty()) head_scratch_.push_back({":scheme", r.scheme});
    if (!r.authority.empty()) head_scratch_.push_back({":authority", r.authority});
    if (!r.path.empty()) head_scratch_.push_back({":path", r.path});
    if (extended) head_scratch_.push_back({":protocol", r.protocol});
    for (const Field& f : r.headers) head_scratch_.push_back({f.name, f.value, f.sensitive});
    open_stream(s, head_scratch_);
    notify_output();
    return handle;
  }
  // Waiting for a slot (or for the server's SETTINGS): the head is copied.
  s->fields.reserve(5 + r.headers.size());
  s->fields.emplace_back(":method", r.method);
  if (!r.scheme.empty()) s->fields.emplace_back(":scheme", r.scheme);
  if (!r.authority.empty()) s->fields.emplace_back(":authority", r.authority);
  if (!r.path.empty()) s->fields.emplace_back(":path", r.path);
  if (extended) s->fields.emplace_back(":protocol", r.protocol);
  for (const Field& f : r.headers) s->fields.emplace_back(f.name, f.value, f.sensitive);
  s->head_fields = s->fields.size();
  queue_.push_back(s);
  open_queued();
  notify_output();
  return handle;
}

void ClientCore::ping(uint64_t opaque) {
  if (failed_) return;
  output_.append_control(17, [&](std::string& out) { write_ping(out, opaque, false); });
  notify_output();
}

ClientResult ClientCore::write(ClientStreamState* s, std::string data) {
  if (s->phase == ClientStreamState::Phase::kClosed) return ClientResult::kStreamClosed;
  if (s->end_requested) return ClientResult::kAlreadyEnded;
  if (data.empty()) return ClientResult::kOk;
  s->buffered += data.size();
  s->body.push_back(std::move(data));
  if (!writable(s)) s->was_unwritable = true;
  mark_sending(s);
  notify_output();
  return ClientResult::kOk;
}

ClientResult ClientCore::end(ClientStreamState* s, std::span<const Field> trailers) {
  if (s->phase == ClientStreamState::Phase::kClosed) return ClientResult::kStreamClosed;
  if (s->end_requested) return ClientResult::kAlreadyEnded;
  for (const Field& f : trailers) {
    if (!sendable_field(f)) return ClientResult::kInvalidArgument;
  }
  s->end_requested = true;
  if (!trailers.empty()) {
    s->has_trailers = true;
    // A queued request keeps its head first; the trailers follow it (split by open_queued).
    for (const Field& f : trailers) s->fields.emplace_back(f.name, f.value, f.sensitive);
  }
  mark_sending(s);
  notify_output();
  return ClientResult::kOk;
}

ClientResult ClientCore::reset(ClientStreamState* s, ErrorCode code) {
  if (s->phase == ClientStreamState::Phase::kClosed) return ClientResult::kStreamClosed;
  const bool queued = s->phase == ClientStreamState::Phase::kQueued;
  if (!queued) queue_rst(s->id, code);
  close_stream(s, ClientStreamEnd::kResetByUs, code, queued);
  notify_output();
  return ClientResult::kOk;
}

void ClientCore::consume(ClientStreamState* s, size_t n) {
  if (s->phase != ClientStreamState::Phase::kOpen) return;  // credited when it closed
  n = std::min(n, s->unconsumed);
  s->unconsumed -= n;
  if (n == 0) return;
  credit(s, n);
  notify_output();
}


// ---- driving ----

bool ClientCore::enter_driving() {
  if (driving_ > 0) return false;  // from inside a callback: refused
  ++driving_;
  output_notified_ = false;
  return true;
}

void ClientCore::leave_driving() {
  deliver_notes();
  --driving_;
}

void ClientCore::notify_output() {
  // Only when there is something to write: a loop told of output it cannot find makes no
  // driving call, so the flag would stay set and swallow the next, real notice.
  if (driving_ > 0 || output_notified_ || !wants_write()) return;
  output_notified_ = true;
  try {
    handler_->on_output_ready();
  } catch (...) {
    ++callback_exceptions_;
  }
}

void ClientCore::deliver_notes() {
  while (!notes_.empty() || !writable_notes_.empty()) {
    std::vector<Note> notes = std::move(notes_);
    notes_.clear();
    for (Note& n : notes) {
      guarded(nullptr, [&] { handler_->on_stream_closed(n.stream, n.end, n.code, n.retryable); });
    }
    std::vector<ClientStreamState*> writable = std::move(writable_notes_);
    writable_notes_.clear();
    for (ClientStreamState* s : writable) {
      ClientStream handle(s);
      s->refs--;  // balance: the note held a reference (taken in frame_stream)
      if (s->phase == ClientStreamState::Phase::kOpen) {
        guarded(s, [&] { handler_->on_writable(handle); });
      }
    }
  }
}

void ClientCore::notify_connection_closed(ErrorCode code, std::string_view reason) {
  if (closed_notified_) return;
  closed_notified_ = true;
  guarded(nullptr, [&] { handler_->on_connection_closed(code, reason); });
}

void ClientCore::close_stream(ClientStreamState* s, ClientStreamEnd end, ErrorCode code,
                              bool retryable) {
  if (s->phase == ClientStreamState::Phase::kClosed) return;
  if (s->phase == ClientStreamState::Phase::kQueued) {
    queue_.erase(std::find(queue_.begin(), queue_.end(), s));
  } else {
    streams_.erase(s->id);
    if (s->id % 2 == 1) {
      --open_streams_;
    } else if (open_pushes_ > 0) {
      --open_pushes_;
    }
    closed_.record(s->id, end == ClientStreamEnd::kCompleted ? ClosedHow::kNormally
                                                             : ClosedHow::kResetByUs);
  }
  unmark_sending(s);
  if (data_target_ == s) data_target_ = nullptr;
  if (block_target_ == s) block_ = Block::kDiscard, block_target_ = nullptr;
  s->phase = ClientStreamState::Phase::kClosed;
  drop_body(s);  // unsent body: the server never sees it
  if (s->unconsumed > 0) {  // delivered but never consumed: the connection gets it back (§6.9)
    credit(nullptr, s->unconsumed);
    s->unconsumed = 0;
  }
  ClientStream handle(s);  // keeps the state alive until the note is delivered
  s->tracked = false;
  s->core = nullptr;  // from now on the handles own the state, not the connection
  notes_.push_back(Note{std::move(handle), end, code, retryable});
  if (!failed_) open_queued();
}

void ClientCore::drop_body(ClientStreamState* s) {
  // The output may still hold views of the front piece's framed part: it stays alive until
  // those bytes are written.
  if (!s->body.empty() && s->front_offset > 0 && s->body.front().size() > kCopyThreshold) {
    Holder h;
    h.owned = std::move(s->body.front());
    output_.retire(std::move(h));
  }
  s->body.clear();
  s->front_offset = 0;
  s->buffered = 0;
}

void ClientCore::stream_error(ClientStreamState* s, ErrorCode code, ClientStreamEnd end) {
  if (s->phase != ClientStreamState::Phase::kQueued) queue_rst(s->id, code);
  close_stream(s, end, code, false);
}

void ClientCore::connection_error(ErrorCode code, std::string_view reason) {
  if (failed_) return;
  failed_ = true;
  decoder_.stop();
  if (!goaway_sent_) {
    goaway_sent_ = true;
    output_.append_control(17 + reason.size(), [&](std::string& out) {
      write_goaway(out, last_promised_id_, code, reason);
    });
  }
  std::vector<ClientStreamState*> all;
  for (auto& [id, s] : streams_) all.push_back(s);
  for (ClientStreamState* s : queue_) all.push_back(s);
  for (ClientStreamState* s : all) {
    const bool never_sent = s->phase == ClientStreamState::Phase::kQueued;
    close_stream(s, ClientStreamEnd::kConnectionEnded, code, never_sent);
  }
  notify_connection_closed(code, reason);
}

void ClientCore::start_graceful_shutdown() {
  if (failed_ || goaway_sent_) return;
  goaway_sent_ = true;
  output_.append_control(17, [&](std::string& out) {
    write_goaway(out, last_promised_id_, ErrorCode::kNoError, "");
  });
  while (!queue_.empty()) {
    close_stream(queue_.front(), ClientStreamEnd::kRefusedByGoaway, ErrorCode::kNoError, true);
  }
}

// ---- output ----

bool ClientCore::can_open_now(bool extended) const {
  if (goaway_received_ || goaway_sent_ || failed_ || next_stream_id_ > kMaxStreamId) return false;
  const uint32_t limit =
      settings_received_ ? peer_.max_concurrent : options_.assumed_max_concurrent_streams;
  if (open_streams_ >= limit) return false;
  // RFC 8441 §3: extended CONNECT waits for the server's setting (and fails without it).
  return !extended || (settings_received_ && peer_.enable_connect_protocol);
}

void ClientCore::open_queued() {
  while (!queue_.empty() && !goaway_received_ && !goaway_sent_ && !failed_) {
    const uint32_t limit =
        settings_received_ ? peer_.max_concurrent : options_.assumed_max_concurrent_streams;
    if (open_streams_ >= limit) return;
    ClientStreamState* s = queue_.front();
    bool extended = false;
    for (const OwnedField& f : s->fields) extended |= f.name == ":protocol";
    if (extended && !settings_received_) return;  // RFC 8441 §3: wait for the setting
    queue_.pop_front();
    if (extended && !peer_.enable_connect_protocol) {
      queue_.push_front(s);
      close_stream(s, ClientStreamEnd::kProtocolError, ErrorCode::kProtocolError, false);
      continue;
    }
    if (next_stream_id_ > kMaxStreamId) {
      queue_.push_front(s);
      close_stream(s, ClientStreamEnd::kRefusedByGoaway, ErrorCode::kNoError, true);
      continue;
    }
    // A queued request that was ended with trailers holds its head, then the trailers.
    head_scratch_.clear();
    for (size_t i = 0; i < s->head_fields; ++i) {
      const OwnedField& f = s->fields[i];
      head_scratch_.push_back({f.name, f.value, f.sensitive});
    }
    open_stream(s, head_scratch_);
    s->fields.erase(s->fields.begin(), s->fields.begin() + static_cast<ptrdiff_t>(s->head_fields));
    s->head_fields = 0;
  }
}

void ClientCore::open_stream(ClientStreamState* s, std::span<const hpack::HeaderField> head) {
  s->id = next_stream_id_;
  next_stream_id_ += 2;
  s->phase = ClientStreamState::Phase::kOpen;
  s->send = SendWindow(peer_.initial_window);
  s->recv = RecvWindow(options_.initial_stream_window);
  streams_[s->id] = s;
  ++open_streams_;
  ++streams_opened_;
  block_scratch_.clear();
  hpack_encoder_.encode(head, block_scratch_);
  const bool end_now = s->end_requested && s->body.empty() && !s->has_trailers;
  queue_header_frames(s->id, block_scratch_, end_now);
  if (end_now) s->local_ended = true;
  mark_sending(s);
}

// Streams with body or an end to frame, so that framing and wants_write() look at those only
// (not at every open stream: 1,000 GETs awaiting responses have nothing to send).
void ClientCore::mark_sending(ClientStreamState* s) {
  if (s->in_sending || s->phase != ClientStreamState::Phase::kOpen || s->local_ended ||
      (s->body.empty() && !s->end_requested)) {
    return;
  }
  s->in_sending = true;
  sending_.push_back(s);
}

void ClientCore::unmark_sending(ClientStreamState* s) {
  if (!s->in_sending) return;
  s->in_sending = false;
  sending_.erase(std::find(sending_.begin(), sending_.end(), s));
}

void ClientCore::queue_header_frames(uint32_t id, std::string_view block, bool end_stream) {
  const size_t max = peer_.max_frame_size;
  bool first = true;
  do {
    std::string_view piece = block.substr(0, max);
    block.remove_prefix(piece.size());
    const bool last = block.empty();
    output_.append_control(9 + piece.size(), [&](std::string& out) {
      if (first) {
        write_headers(out, id, piece, end_stream, last);
      } else {
        write_continuation(out, id, piece, last);
      }
    });
    first = false;
  } while (!block.empty());
}

void ClientCore::queue_rst(uint32_t id, ErrorCode code) {
  output_.append_control(13, [&](std::string& out) { write_rst_stream(out, id, code); });
  count_control_frame();
}

void ClientCore::count_control_frame() {
  if (++queued_control_frames_ > options_.max_queued_control_frames) {
    connection_error(ErrorCode::kEnhanceYourCalm, "too many queued control frames");
  }
}

void ClientCore::credit(ClientStreamState* s, size_t n) {
  conn_recv_.on_consumed(static_cast<uint32_t>(n));
  if (uint32_t inc = conn_recv_.take_update()) {
    output_.append_control(13, [&](std::string& out) { write_window_update(out, 0, inc); });
  }
  if (s && s->phase == ClientStreamState::Phase::kOpen && !s->remote_ended) {
    s->recv.on_consumed(static_cast<uint32_t>(n));
    if (uint32_t inc = s->recv.take_update()) {
      output_.append_control(13, [&](std::string& out) { write_window_update(out, s->id, inc); });
    }
  }
}

size_t ClientCore::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  if (!failed_) frame_data(std::min(max_bytes, options_.output_high_watermark));
  return output_.gather(out, max_bytes);
}

void ClientCore::consume_output(size_t written) {
  released_scratch_.clear();
  output_.consume(written, released_scratch_);
  if (output_.empty()) queued_control_frames_ = 0;
  for (Holder& h : released_scratch_) callback_exceptions_ += h.finish(true);
  released_scratch_.clear();
}

void ClientCore::frame_data(size_t budget) {
  if (output_.size() >= budget) return;
  budget -= output_.size();
  bool progress = true;
  while (budget > 0 && progress) {
    progress = false;
    // Drop what has nothing left to send (its end was framed, or its body went on a reset).
    std::erase_if(sending_, [](ClientStreamState* s) {
      const bool done = s->local_ended || (s->body.empty() && !s->end_requested);
      if (done) s->in_sending = false;
      return done;
    });
    ready_scratch_ = sending_;  // frame_stream may close a stream (unmark_sending)
    std::sort(ready_scratch_.begin(), ready_scratch_.end(),
              [](auto* a, auto* b) { return a->id < b->id; });  // deterministic order
    for (ClientStreamState* s : ready_scratch_) {
      if (budget == 0) break;
      if (!s->in_sending) continue;  // closed by an earlier frame_stream of this round
      progress |= frame_stream(s, budget);
    }
  }
}

// One DATA frame (or the end of the request) for `s`; false if its windows allow nothing.
bool ClientCore::frame_stream(ClientStreamState* s, size_t& budget) {
  if (s->body.empty()) {
    if (!s->end_requested || s->local_ended) return false;
    if (s->has_trailers) {
      head_scratch_.clear();
      for (const OwnedField& f : s->fields) head_scratch_.push_back({f.name, f.value, f.sensitive});
      block_scratch_.clear();
      hpack_encoder_.encode(head_scratch_, block_scratch_);
      queue_header_frames(s->id, block_scratch_, true);
      s->fields.clear();
    } else {
      output_.append_control(9, [&](std::string& out) { write_data_header(out, s->id, 0, true); });
    }
    s->local_ended = true;
    budget -= std::min<size_t>(budget, 9);
    finish_if_done(s);
    return true;
  }
  const int64_t window = std::min(conn_send_.available(), s->send.available());
  if (window <= 0) return false;
  std::string& front = s->body.front();
  const size_t left = front.size() - s->front_offset;
  const size_t n = std::min({left, size_t{peer_.max_frame_size}, static_cast<size_t>(window),
                             std::max<size_t>(budget, 1)});
  const bool last_piece = n == left && s->body.size() == 1;
  const bool end = last_piece && s->end_requested && !s->has_trailers;
  std::string_view piece(front.data() + s->front_offset, n);
  if (n <= kCopyThreshold) {
    output_.append_control(9 + n, [&](std::string& out) {
      write_data_header(out, s->id, static_cast<uint32_t>(n), end);
      out.append(piece);
    });
  } else {
    output_.append_control(9, [&](std::string& out) {
      write_data_header(out, s->id, static_cast<uint32_t>(n), end);
    });
    output_.append_view(piece);
  }
  conn_send_.consume(static_cast<uint32_t>(n));
  s->send.consume(static_cast<uint32_t>(n));
  s->front_offset += n;
  s->buffered -= n;
  ++data_frames_sent_;
  budget -= std::min(budget, n + 9);
  if (s->front_offset == front.size()) {
    if (front.size() > kCopyThreshold) {  // heap buffer: stable across the move
      Holder h;
      h.owned = std::move(front);
      output_.retire(std::move(h));
    }
    s->body.pop_front();
    s->front_offset = 0;
  }
  if (end) {
    s->local_ended = true;
    finish_if_done(s);
  } else if (s->was_unwritable && s->buffered < options_.stream_buffer_high_watermark / 2) {
    s->was_unwritable = false;
    s->refs++;  // held by the note (deliver_notes balances it)
    writable_notes_.push_back(s);
  }
  return true;
}

void ClientCore::finish_if_done(ClientStreamState* s) {
  if (s->local_ended && s->remote_ended && s->phase == ClientStreamState::Phase::kOpen) {
    close_stream(s, ClientStreamEnd::kCompleted, ErrorCode::kNoError, false);
  }
}

ClientStreamState* ClientCore::find(uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

// ---- state ----

size_t ClientCore::process_bytes(std::string_view bytes, uint64_t now_ms) {
  now_ms_ = now_ms;
  if (failed_) return 0;
  return decoder_.process_bytes(bytes);
}

void ClientCore::on_peer_eof() {
  peer_eof_ = true;
  if (failed_) return;
  std::vector<ClientStreamState*> all;
  for (auto& [id, s] : streams_) all.push_back(s);
  for (ClientStreamState* s : queue_) all.push_back(s);
  for (ClientStreamState* s : all) {
    close_stream(s, ClientStreamEnd::kConnectionEnded, ErrorCode::kNoError,
                 s->phase == ClientStreamState::Phase::kQueued);
  }
  notify_connection_closed(ErrorCode::kNoError, "server closed the connection");
}

void ClientCore::on_time(uint64_t now_ms) {
  now_ms_ = now_ms;
  if (failed_) return;
  if (awaiting_settings_ack_ && options_.settings_ack_timeout_ms > 0 &&
      now_ms >= settings_sent_ms_ + options_.settings_ack_timeout_ms) {
    return connection_error(ErrorCode::kSettingsTimeout, "SETTINGS not acknowledged");
  }
  if (in_block_ && options_.header_block_timeout_ms > 0 &&
      now_ms >= block_started_ms_ + options_.header_block_timeout_ms) {
    return connection_error(ErrorCode::kProtocolError, "header block not completed in time");
  }
}

std::optional<uint64_t> ClientCore::next_wakeup_ms() const {
  if (failed_) return std::nullopt;
  std::optional<uint64_t> due;
  auto at = [&](uint64_t t) { due = std::min(due.value_or(UINT64_MAX), t); };
  if (awaiting_settings_ack_ && options_.settings_ack_timeout_ms > 0) {
    at(settings_sent_ms_ + options_.settings_ack_timeout_ms);
  }
  if (in_block_ && options_.header_block_timeout_ms > 0) {
    at(block_started_ms_ + options_.header_block_timeout_ms);
  }
  return due;
}

bool ClientCore::wants_read() const {
  return !failed_ && !peer_eof_ && output_.size() < options_.max_unwritten_output;
}

bool ClientCore::wants_write() const {
  if (!output_.empty()) return true;
  if (failed_) return false;
  for (const ClientStreamState* s : sending_) {
    if (s->local_ended) continue;
    if (s->body.empty() ? s->end_requested
                        : conn_send_.available() > 0 && s->send.available() > 0) {
      return true;
    }
  }
  return false;
}

bool ClientCore::is_closed() const {
  if (!output_.empty()) return false;
  if (failed_ || peer_eof_) return true;
  return (goaway_received_ || goaway_sent_) && streams_.empty() && queue_.empty();
}

}  // namespace h2::protocol::detail
