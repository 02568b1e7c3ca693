// The engine behind ClientConnection and ClientStream. client_core.cc: life cycle, submitting,
// output (HEADERS, DATA framing under the peer's windows), closing; client_core_input.cc: the
// frames the server sends. Shares with the server core the frame layer, HPACK, the windows, the
// output queue, the closed-stream ring and PeerSettings.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hpack/decoder.h"
#include "hpack/encoder.h"
#include "protocol/client_connection.h"
#include "protocol/detail/closed_streams.h"
#include "protocol/detail/flow_control.h"
#include "protocol/detail/output_queue.h"
#include "protocol/detail/peer_settings.h"
#include "protocol/detail/ring_queue.h"
#include "protocol/frame/frame_decoder.h"

namespace h2::protocol::detail {

// A request field kept until it is sent (a queued head, trailers).
struct OwnedField {
  OwnedField(std::string_view n, std::string_view v, bool s = false)
      : name(n), value(v), sensitive(s) {}
  std::string name, value;
  bool sensitive;  // never indexed (RFC 7541 §6.2.3), as the caller asked
};

struct ClientStreamState {
  enum class Phase : uint8_t { kQueued, kOpen, kReserved, kClosed };
  ClientCore* core = nullptr;  // null once closed: then the handles alone own the state
  uint32_t refs = 0;           // ClientStream handles
  bool tracked = false;        // the core still lists it (open, queued or reserved)
  Phase phase = Phase::kQueued;
  uint32_t id = 0;
  bool is_head = false;        // HEAD request: content-length describes no body (RFC 9110 §9.3.2)
  bool end_requested = false;  // end() called: END_STREAM follows the buffered body
  bool local_ended = false;    // END_STREAM queued to the output
  bool remote_ended = false;
  bool final_head = false;
  bool head_ended = false;  // the final head carried END_STREAM (set before on_response)
  bool credit_paused = false;
  bool was_unwritable = false;
  bool in_sending = false;     // listed in ClientCore::sending_
  std::optional<uint64_t> content_length;
  uint64_t received_length = 0;
  SendWindow send;
  RecvWindow recv;
  RingQueue<std::string> body;   // request body waiting for windows (allocated at first use)
  size_t front_offset = 0;       // bytes of body.front() already framed
  size_t buffered = 0;
  size_t unconsumed = 0;  // DATA delivered while credit was paused, not yet consumed
  std::vector<OwnedField> fields;  // queued head, then trailers
  size_t head_fields = 0;  // how many of `fields` are the head (until it is sent)
  bool has_trailers = false;
  void* user_data = nullptr;
};

class ClientCore final : public FrameVisitor, public hpack::HeaderSink {
 public:
  ClientCore(ClientHandler* handler, const ClientOptions& options, uint64_t now_ms);
  ~ClientCore() override;

  // ---- API (ClientConnection / ClientStream) ----
  ClientStream submit(const ClientRequest& request, bool end_stream, ClientResult* result);
  void ping(uint64_t opaque);
  ClientResult write(ClientStreamState* s, std::string data);
  ClientResult end(ClientStreamState* s, std::span<const Field> trailers);
  ClientResult reset(ClientStreamState* s, ErrorCode code);
  void consume(ClientStreamState* s, size_t n);
  bool writable(const ClientStreamState* s) const {
    return s->buffered < options_.stream_buffer_high_watermark;
  }

  // ---- driving ----
  bool enter_driving();
  void leave_driving();
  size_t process_bytes(std::string_view bytes, uint64_t now_ms);
  void on_peer_eof();
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes);
  void consume_output(size_t written);
  void on_time(uint64_t now_ms);
  std::optional<uint64_t> next_wakeup_ms() const;
  void start_graceful_shutdown();
  bool wants_read() const;
  bool wants_write() const;
  bool is_closed() const;

  size_t open_stream_count() const { return open_streams_; }
  size_t queued_request_count() const { return queue_.size(); }
  bool settings_received() const { return settings_received_; }
  uint32_t peer_max_concurrent_streams() const { return peer_.max_concurrent; }
  bool peer_allows_extended_connect() const { return peer_.enable_connect_protocol; }
  bool goaway_received() const { return goaway_received_; }
  ErrorCode goaway_code() const { return goaway_code_; }
  size_t callback_exceptions() const { return callback_exceptions_; }

  // ---- FrameVisitor ----
  bool on_frame_header(const FrameHeader& h) override;
  void on_data_start(const FrameHeader& h) override;
  void on_data_padding(const FrameHeader& h, uint32_t padding_and_pad_length) override;
  void on_data_chunk(uint32_t stream_id, std::string_view data) override;
  void on_data_end(const FrameHeader& h) override;
  void on_headers_start(const FrameHeader& h, const std::optional<PrioritySpec>& p) override;
  void on_push_promise_start(const FrameHeader& h, uint32_t promised_stream_id) override;
  void on_continuation_start(const FrameHeader& h) override;
  void on_header_block_fragment(std::string_view fragment) override;
  void on_header_frame_end(const FrameHeader& h) override;
  void on_priority(const FrameHeader&, const PrioritySpec&) override {}
  void on_rst_stream(const FrameHeader& h, ErrorCode code) override;
  void on_settings(const FrameHeader& h, std::span<const Setting> settings) override;
  void on_ping(const FrameHeader& h, uint64_t opaque_data) override;
  void on_goaway(const FrameHeader& h, uint32_t last_stream_id, ErrorCode code,
                 std::string_view debug_data) override;
  void on_window_update(const FrameHeader& h, uint32_t increment) override;
  void on_priority_update(const FrameHeader& h, uint32_t, std::string_view) override;
  void on_frame_error(const FrameHeader& h, ErrorCode code, std::string_view reason) override;

  // ---- hpack::HeaderSink ----
  void on_header(std::string_view name, std::string_view value) override;

 private:
  enum class Block : uint8_t { kNone, kResponse, kTrailers, kPromise, kDiscard };
  struct Note {
    ClientStream stream;
    ClientStreamEnd end;
    ErrorCode code;
    bool retryable;
  };

  // client_core.cc
  // Runs a handler callback: an exception is contained, counted and resets its stream.
  template <typename F>
  void guarded(ClientStreamState* s, F&& f) noexcept {
    try {
      f();
    } catch (...) {
      ++callback_exceptions_;
      if (s && s->phase != ClientStreamState::Phase::kClosed) {
        stream_error(s, ErrorCode::kInternalError, ClientStreamEnd::kResetByUs);
      }
    }
  }
  void connection_error(ErrorCode code, std::string_view reason);
  void close_stream(ClientStreamState* s, ClientStreamEnd end, ErrorCode code, bool retryable);
  void stream_error(ClientStreamState* s, ErrorCode code, ClientStreamEnd end);
  void drop_body(ClientStreamState* s);
  void deliver_notes();
  void notify_output();
  void notify_connection_closed(ErrorCode code, std::string_view reason);
  bool can_open_now(bool extended) const;
  void open_queued();
  void open_stream(ClientStreamState* s, std::span<const hpack::HeaderField> head);
  void mark_sending(ClientStreamState* s);
  void unmark_sending(ClientStreamState* s);
  void queue_header_frames(uint32_t id, std::string_view block, bool end_stream);
  void queue_rst(uint32_t id, ErrorCode code);
  void count_control_frame();
  void frame_data(size_t budget);
  bool frame_stream(ClientStreamState* s, size_t& budget);
  void finish_if_done(ClientStreamState* s);
  ClientStreamState* find(uint32_t id) const;
  void credit(ClientStreamState* s, size_t n);

  // client_core_input.cc
  void start_block(const FrameHeader& h, Block kind, ClientStreamState* s);
  void end_block();
  void on_response_block(ClientStreamState* s, bool end_stream);
  void on_trailers_block(ClientStreamState* s);
  void on_promise_block();
  const std::vector<Field>& block_view();
  bool valid_regular_field(std::string_view name, std::string_view value) const;

  ClientHandler* handler_;
  ClientOptions options_;
  FrameDecoder decoder_;
  hpack::Decoder hpack_decoder_;
  hpack::Encoder hpack_encoder_;
  OutputQueue output_;
  ClosedStreams closed_;
  PeerSettings peer_;
  SendWindow conn_send_;
  RecvWindow conn_recv_;
  std::unordered_map<uint32_t, ClientStreamState*> streams_;  // open and reserved
  std::deque<ClientStreamState*> queue_;                      // waiting for a slot
  std::vector<ClientStreamState*> sending_;  // open, with body or END_STREAM to frame
  std::vector<ClientStreamState*> ready_scratch_;
  std::vector<Note> notes_;
  std::vector<ClientStreamState*> writable_notes_;
  size_t open_streams_ = 0;  // ours, counted against the peer's MAX_CONCURRENT_STREAMS
  uint32_t next_stream_id_ = 1;
  uint32_t last_promised_id_ = 0;
  uint32_t open_pushes_ = 0;

  uint32_t driving_ = 0;
  bool output_notified_ = false;
  bool closed_notified_ = false;
  bool settings_received_ = false;
  bool awaiting_settings_ack_ = true;
  bool failed_ = false;
  bool peer_eof_ = false;
  bool goaway_received_ = false;
  bool goaway_sent_ = false;
  uint32_t goaway_last_id_ = kMaxStreamId;
  ErrorCode goaway_code_ = ErrorCode::kNoError;
  size_t callback_exceptions_ = 0;

  // header block in progress
  Block block_ = Block::kNone;
  bool in_block_ = false;
  uint32_t block_stream_id_ = 0;
  bool block_end_stream_ = false;
  uint32_t block_continuations_ = 0;
  uint64_t block_started_ms_ = 0;
  ClientStreamState* block_target_ = nullptr;
  ClientStreamState* promised_ = nullptr;
  std::string block_arena_;
  std::vector<uint32_t> block_offsets_;  // name start, name size, value size per field
  std::vector<Field> block_fields_;      // block_view()

  ClientStreamState* data_target_ = nullptr;

  uint64_t now_ms_ = 0;
  uint64_t settings_sent_ms_ = 0;
  uint32_t consecutive_empty_frames_ = 0;
  uint64_t window_updates_received_ = 0;
  uint64_t data_frames_sent_ = 0;
  uint64_t streams_opened_ = 0;
  uint32_t queued_control_frames_ = 0;
  std::vector<Holder> released_scratch_;
  std::vector<hpack::HeaderField> head_scratch_;  // a request head on its way to HPACK
  std::string block_scratch_;                     // its encoded block
};

}  // namespace h2::protocol::detail
