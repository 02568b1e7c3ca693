// Life cycle, connection and stream errors, closing, timers.
#include "protocol/detail/core.h"

#include <algorithm>

#include "protocol/frame/frame_writer.h"

namespace h2::protocol::detail {
namespace {

hpack::DecoderOptions decoder_options(const ConnectionOptions& o) {
  hpack::DecoderOptions d;
  d.max_table_size = o.header_table_size;
  d.max_string_length = o.max_string_length;
  d.max_header_list_size = o.max_header_list_size;
  d.max_field_count = o.max_field_count;
  return d;
}

}  // namespace

std::string_view stream_state_name(StreamState s) {
  switch (s) {
    case StreamState::kIdle:
      return "idle";
    case StreamState::kReservedLocal:
      return "reserved (local)";
    case StreamState::kOpen:
      return "open";
    case StreamState::kHalfClosedRemote:
      return "half-closed (remote)";
    case StreamState::kHalfClosedLocal:
      return "half-closed (local)";
    case StreamState::kClosed:
      return "closed";
  }
  return "unknown";
}

}  // namespace h2::protocol::detail

namespace h2::protocol {

std::string_view stream_end_name(StreamEnd end) {
  switch (end) {
    case StreamEnd::kCompleted:
      return "completed";
    case StreamEnd::kResetByPeer:
      return "reset by peer";
    case StreamEnd::kStreamError:
      return "stream error";
    case StreamEnd::kResetByHandler:
      return "reset by handler";
    case StreamEnd::kConnectionEnded:
      return "connection ended";
  }
  return "unknown";
}

}  // namespace h2::protocol

namespace h2::protocol::detail {

Core::Core(RequestHandler* handler, std::shared_ptr<const ConnectionOptions> options,
           uint64_t now_ms)
    : handler_(handler),
      shared_options_(std::move(options)),
      options_(*shared_options_),
      decoder_(this),
      closed_(options_.closed_stream_memory),
      now_ms_(now_ms),
      last_activity_ms_(now_ms),
      reset_tokens_(options_.reset_budget),
      reset_window_start_ms_(now_ms) {
  send_preface();
}

Core::HeaderCodec& Core::codec() {
  if (!codec_) {
    codec_ = std::make_unique<HeaderCodec>(decoder_options(options_));
    if (peer_table_min_ != UINT32_MAX) {
      codec_->encoder.set_peer_max_table_size(peer_table_min_);
      codec_->encoder.set_peer_max_table_size(peer_table_last_);
    }
  }
  return *codec_;
}

Core::~Core() {
  for (auto& [id, s] : streams_) delete s;
}

void Core::send_preface() {
  // RFC 9113 §3.4: the server preface is a SETTINGS frame, sent first.
  Setting settings[8];
  size_t n = 0;
  settings[n++] = {static_cast<uint16_t>(SettingId::kMaxConcurrentStreams),
                   options_.max_concurrent_streams};
  if (options_.initial_stream_window != kDefaultInitialWindowSize) {
    settings[n++] = {static_cast<uint16_t>(SettingId::kInitialWindowSize),
                     options_.initial_stream_window};
  }
  if (options_.max_frame_size != kDefaultMaxFrameSize) {
    settings[n++] = {static_cast<uint16_t>(SettingId::kMaxFrameSize), options_.max_frame_size};
  }
  if (options_.header_table_size != 4096) {
    settings[n++] = {static_cast<uint16_t>(SettingId::kHeaderTableSize),
                     options_.header_table_size};
  }
  settings[n++] = {static_cast<uint16_t>(SettingId::kMaxHeaderListSize),
                   options_.max_header_list_size};
  if (options_.enable_connect_protocol) {
    settings[n++] = {static_cast<uint16_t>(SettingId::kEnableConnectProtocol), 1};
  }
  // RFC 9218 §2.1: we ignore RFC 7540 priority signals.
  settings[n++] = {static_cast<uint16_t>(SettingId::kNoRfc7540Priorities), 1};
  output_.append_control(kFrameHeaderSize + 6 * n, [&](std::string& out) {
    write_settings(out, std::span<const Setting>(settings, n));
  });
  awaiting_settings_ack_ = true;
  settings_sent_ms_ = now_ms_;
  if (uint32_t increment = conn_recv_.grow_to(options_.connection_window)) {
    queue_window_update(0, increment);
  }
}

void Core::queue_rst(uint32_t id, ErrorCode code) {
  output_.append_control(13, [&](std::string& out) { write_rst_stream(out, id, code); });
  count_control_frame();
}

void Core::queue_window_update(uint32_t id, uint32_t increment) {
  output_.append_control(13, [&](std::string& out) { write_window_update(out, id, increment); });
}

void Core::send_goaway(uint32_t last_id, ErrorCode code, std::string_view debug) {
  output_.append_control(17 + debug.size(),
                         [&](std::string& out) { write_goaway(out, last_id, code, debug); });
  goaway_sent_ = true;
  if (code != ErrorCode::kNoError) goaway_code_ = code;
}

void Core::connection_error(ErrorCode code, std::string_view reason) {
  if (failed_) return;
  failed_ = true;
  decoder_.stop();
  abandon_block();
  send_goaway(highest_client_id_, code, reason);
  goaway_code_ = code;
  std::vector<Stream*> open;
  open.reserve(streams_.size());
  for (auto& [id, s] : streams_) open.push_back(s);  // the table is ordered by id
  for (Stream* s : open) close_stream(s, code, ClosedHow::kResetByUs, StreamEnd::kConnectionEnded);
  notify_closed(code, reason);
}

void Core::stream_error(uint32_t id, ErrorCode code, uint32_t late_data) {
  if (failed_) return;
  queue_rst(id, code);
  if (Stream* s = find(id)) {
    close_stream(s, code, ClosedHow::kResetByUs, StreamEnd::kStreamError);
  } else {
    closed_.record(id, ClosedHow::kResetByUs, late_data);
  }
}

void Core::close_stream(Stream* s, ErrorCode code, ClosedHow how, StreamEnd end) {
  if (s->state == StreamState::kClosed) return;
  Reqd guard(this, s);  // keeps `s` alive through the callbacks below
  // What the peer may still send after our RST_STREAM: the stream window it has left.
  uint32_t late_data = 0;
  if (how == ClosedHow::kResetByUs && s->remote_open() && !(upgraded_ && s->id == 1)) {
    late_data = static_cast<uint32_t>(std::max<int64_t>(s->recv.available(), 0));
  }
  s->state = StreamState::kClosed;
  if (scheduler_) scheduler_->unlink(s);
  if (s->counted) {
    (s->pushed ? open_push_streams_ : open_client_streams_)--;
    s->counted = false;
  }
  closed_.record(s->id, how, late_data);
  streams_.erase(s->id);
  s->in_map = false;
  last_activity_ms_ = stamp();
  // Unframed body: released once the bytes already queued are written (a partially framed
  // chunk is still referenced by the output).
  for (BodyChunk& chunk : s->body) retire_holder(std::move(chunk.holder));
  s->body.clear();
  s->body_bytes = 0;
  // Request body received but never read: it is dropped, and its share of the connection window
  // comes back (RFC 9113 §6.9; the stream's own window ends with the stream). Marked read, not
  // cleared: a chunk callback running right now may still view the buffer.
  if (size_t unread = s->body_buffer.size() - s->body_read_offset; unread > 0) {
    s->body_read_offset = s->body_buffer.size();
    if (!(upgraded_ && s->id == 1)) credit_connection(static_cast<uint32_t>(unread));
  }
  // Completed: the response was framed whole, and the request was received whole or cut short
  // by our RST_STREAM(NO_ERROR) after an early response (on_local_end).
  if (s->response == ResponseState::kDone &&
      (s->remote_ended || (how == ClosedHow::kResetByUs && code == ErrorCode::kNoError &&
                           end == StreamEnd::kCompleted))) {
    end = StreamEnd::kCompleted;
    code = ErrorCode::kNoError;
  }
  s->response = ResponseState::kDone;
  auto flushes = std::move(s->flushes);
  s->flushes.clear();
  auto on_eof = std::move(s->on_eof);
  s->on_chunk = nullptr;
  s->on_eof = nullptr;
  if (detached_) return;
  for (auto& flush : flushes) guarded([&] { flush.second(false); });
  if (on_eof) guarded(on_eof);
  if (s->delivered) closed_notes_.push_back({guard, end, code});
  answer_peer_goaway();
}

void Core::deliver_closed_notes() {
  // A handler's on_stream_closed may end more streams (and queue more notes): loop until none.
  while (!closed_notes_.empty() && !detached_) {
    std::vector<ClosedNote> notes;
    notes.swap(closed_notes_scratch_);
    notes.swap(closed_notes_);
    for (ClosedNote& n : notes) {
      guarded([&] { handler_->on_stream_closed(n.reqd, n.end, n.code); });
    }
    notes.clear();  // drops the handles (may free streams)
    if (closed_notes_scratch_.capacity() < notes.capacity()) notes.swap(closed_notes_scratch_);
  }
}

bool Core::enter_driving() {
  if (driving_ != 0 || api_depth_ != 0) {
    ++refused_reentrant_calls_;
    return false;
  }
  driving_ = 1;
  output_notified_ = false;
  return true;
}

void Core::leave_driving() {
  deliver_closed_notes();
  driving_ = 0;
}

void Core::leave_api() {
  // Still counted as inside the call while on_output_ready runs: driving calls made from it
  // are refused like those from any other callback.
  if (api_depth_ == 1 && driving_ == 0 && !detached_ && !output_notified_ && wants_write()) {
    output_notified_ = true;
    guarded([&] { handler_->on_output_ready(); });
  }
  --api_depth_;
}

void Core::answer_peer_goaway() {
  // RFC 9113 §6.8: "Endpoints SHOULD always send a GOAWAY frame before closing a connection".
  // After the peer's GOAWAY we close once the last stream ended; our GOAWAY goes out only then,
  // queued behind every stream's final frames (the queue is written in order), because some
  // clients (python-h2) treat a received GOAWAY as the end and reject DATA still in flight.
  // Our own graceful shutdown (shutdown_ != kNone) and connection errors keep their GOAWAYs.
  if (!goaway_received_ || !streams_.empty() || goaway_sent_ || shutdown_ != Shutdown::kNone ||
      failed_ || peer_eof_ || detached_) {
    return;
  }
  shutdown_ = Shutdown::kFinal;
  goaway_last_id_ = highest_client_id_;
  send_goaway(goaway_last_id_, ErrorCode::kNoError, "");
}

void Core::drop(Stream* s) {
  if (--s->handles == 0 && !s->in_map) free_stream(s);
  release();
}

void Core::abandon_block() {
  in_block_ = false;
  if (Stream* s = std::exchange(block_stream_, nullptr)) drop(s);
}

void Core::detach() {
  // The destructor is a driving call: streams end with their callbacks, as on peer EOF.
  driving_ = 1;
  abandon_block();
  std::vector<Stream*> open;
  for (auto& [id, s] : streams_) open.push_back(s);
  for (Stream* s : open) {
    close_stream(s, ErrorCode::kCancel, ClosedHow::kResetByUs, StreamEnd::kConnectionEnded);
  }
  deliver_closed_notes();
  // The destructor's notice only when no other cause was told.
  if (!connection_closed_notified_) notify_closed(ErrorCode::kCancel, "connection destroyed");
  detached_ = true;
  closed_notes_.clear();
  std::vector<Holder> released;
  output_.clear(released);
  release_holders(released, false);
}

void Core::notify_closed(ErrorCode code, std::string_view reason) {
  if (detached_) return;
  connection_closed_notified_ = true;
  guarded([&] { handler_->on_connection_closed(code, reason); });
}

void Core::count_control_frame() {
  control_release_at_.push_back(output_.queued_total());
  if (control_release_at_.size() > options_.max_queued_control_frames) {
    connection_error(ErrorCode::kEnhanceYourCalm, "too many queued control frames");
  }
}

bool Core::count_window_update() {
  // Per DATA frame sent and per stream (a client may update each stream's window once even
  // when its answer carries no body: 204, 304, HEAD).
  const uint64_t allowed = uint64_t{options_.max_window_updates_per_data_frame} *
                           (data_frames_sent_ + streams_opened_ + 1);
  if (++window_updates_received_ <= allowed) return true;
  connection_error(ErrorCode::kEnhanceYourCalm, "WINDOW_UPDATE flood");
  return false;
}

bool Core::count_priority_frame() {
  const uint64_t allowed =
      uint64_t{options_.max_priority_frames_per_stream} * (streams_opened_ + 1);
  if (++priority_frames_received_ <= allowed) return true;
  connection_error(ErrorCode::kEnhanceYourCalm, "PRIORITY flood");
  return false;
}

bool Core::spend_reset_budget() {
  if (now_ms_ - reset_window_start_ms_ >= options_.reset_budget_window_ms) {
    reset_window_start_ms_ = now_ms_;
    reset_tokens_ = options_.reset_budget;
  }
  if (reset_tokens_ == 0) return false;
  --reset_tokens_;
  return true;
}

void Core::retire_holder(Holder h) {
  if (output_.empty()) {
    count_thrown(h.finish(true));
  } else {
    output_.retire(std::move(h));
  }
}

void Core::release_holders(std::vector<Holder>& released, bool written) {
  for (Holder& h : released) count_thrown(h.finish(written));
  released.clear();
}

bool Core::wants_read() const {
  return !failed_ && !peer_eof_ && !detached_ && output_.size() <= options_.max_unwritten_output &&
         !is_closed();
}

bool Core::wants_write() const {
  // Stream-closed notices queued outside a driving call are delivered by the next one: a loop
  // that only calls pending_output() while wants_write() holds still delivers them.
  if (!output_.empty() || !closed_notes_.empty()) return true;
  if (failed_ || detached_) return false;
  return pick_scheduled([&](SchedNode* n) {
           auto* s = static_cast<Stream*>(n);
           return s->body_bytes == 0 || (s->send.available() > 0 && conn_send_.available() > 0);
         }) != nullptr;
}

bool Core::is_closed() const {
  if (!output_.empty()) return false;
  if (failed_ || peer_eof_ || detached_) return true;
  return (shutdown_ == Shutdown::kFinal || goaway_received_) && streams_.empty();
}

void Core::on_peer_eof() {
  if (peer_eof_ || detached_) return;
  peer_eof_ = true;
  decoder_.stop();
  abandon_block();
  std::vector<Stream*> open;
  for (auto& [id, s] : streams_) open.push_back(s);
  for (Stream* s : open) {
    close_stream(s, ErrorCode::kCancel, ClosedHow::kResetByPeer, StreamEnd::kConnectionEnded);
  }
  if (!failed_) notify_closed(ErrorCode::kNoError, "peer closed the connection");
}

void Core::on_time(uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  time_fresh_ = true;
  if (failed_ || detached_) return;
  resolve_pending_stamps();
  if (awaiting_settings_ack_ && options_.settings_ack_timeout_ms != 0 &&
      now_ms_ - settings_sent_ms_ >= options_.settings_ack_timeout_ms) {
    // RFC 9113 §6.5.3
    return connection_error(ErrorCode::kSettingsTimeout, "SETTINGS not acknowledged");
  }
  if (in_block_ && options_.header_block_timeout_ms != 0 &&
      now_ms_ - block_started_ms_ >= options_.header_block_timeout_ms) {
    return connection_error(ErrorCode::kProtocolError, "header block not completed in time");
  }
  if (shutdown_ == Shutdown::kPinging &&
      now_ms_ - shutdown_ping_ms_ >= options_.shutdown_ping_timeout_ms) {
    shutdown_ = Shutdown::kFinal;
    goaway_last_id_ = highest_client_id_;
    send_goaway(goaway_last_id_, ErrorCode::kNoError, "");
  }
  fire_stall_timers();
  if (failed_) return;
  fire_body_timers();
  if (shutdown_ != Shutdown::kFinal && streams_.empty() && options_.idle_timeout_ms != 0 &&
      now_ms_ - last_activity_ms_ >= options_.idle_timeout_ms) {
    shutdown_ = Shutdown::kFinal;
    goaway_last_id_ = highest_client_id_;
    send_goaway(goaway_last_id_, ErrorCode::kNoError, "idle");
  }
}

void Core::resolve_pending_stamps() {
  if (!stamps_pending_) return;
  stamps_pending_ = false;
  for (auto& [id, s] : streams_) {
    if (s->stalled && s->stalled_since_ms == kStampPending) s->stalled_since_ms = now_ms_;
    if (s->last_data_ms == kStampPending) s->last_data_ms = now_ms_;
  }
  if (connection_stalled_since_ms_ == kStampPending) connection_stalled_since_ms_ = now_ms_;
  if (connection_credit_ms_ == kStampPending) connection_credit_ms_ = now_ms_;
  if (last_activity_ms_ == kStampPending) last_activity_ms_ = now_ms_;
}

std::optional<uint64_t> Core::next_wakeup_ms() const {
  if (failed_ || detached_) return std::nullopt;
  std::optional<uint64_t> next;
  auto consider = [&](uint64_t t) { next = next ? std::min(*next, t) : t; };
  if (stamps_pending_) consider(now_ms_);  // due now: on_time gives the stamps their time
  if (awaiting_settings_ack_ && options_.settings_ack_timeout_ms != 0) {
    consider(settings_sent_ms_ + options_.settings_ack_timeout_ms);
  }
  if (in_block_ && options_.header_block_timeout_ms != 0) {
    consider(block_started_ms_ + options_.header_block_timeout_ms);
  }
  if (shutdown_ == Shutdown::kPinging)
    consider(shutdown_ping_ms_ + options_.shutdown_ping_timeout_ms);
  if (shutdown_ != Shutdown::kFinal && streams_.empty() && options_.idle_timeout_ms != 0) {
    consider(last_activity_ms_ + options_.idle_timeout_ms);
  }
  if (stream_stall_check_ms_) consider(*stream_stall_check_ms_);
  if (body_check_ms_) consider(*body_check_ms_);
  if (connection_stalled_since_ms_) {
    consider(*connection_stalled_since_ms_ + options_.flow_control_stall_timeout_ms);
  }
  return next;
}

void Core::start_graceful_shutdown() {
  if (failed_ || detached_ || shutdown_ != Shutdown::kNone) return;
  // RFC 9113 §6.8: GOAWAY 2^31-1 first, then after a round trip the real last stream id.
  send_goaway(kMaxStreamId, ErrorCode::kNoError, "");
  output_.append_control(17, [&](std::string& out) { write_ping(out, kShutdownPing, false); });
  shutdown_ = Shutdown::kPinging;
  shutdown_ping_ms_ = now_ms_;
}

}  // namespace h2::protocol::detail
