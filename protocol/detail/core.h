// The connection's engine behind ServerConnection, Reqd and Writer. Split over files by concern:
// core.cc (life cycle, timers, closing), core_input.cc (frames in), core_headers.cc (header
// blocks, requests), core_output.cc (framing, flow control out), core_respond.cc (respond API).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hpack/decoder.h"
#include "hpack/encoder.h"
#include "protocol/detail/closed_streams.h"
#include "protocol/detail/flow_control.h"
#include "protocol/detail/head_cache.h"
#include "protocol/detail/output_queue.h"
#include "protocol/detail/peer_settings.h"
#include "protocol/detail/priority.h"
#include "protocol/detail/stream.h"
#include "protocol/detail/stream_table.h"
#include "protocol/frame/frame_decoder.h"
#include "protocol/options.h"
#include "protocol/request_handler.h"
#include "protocol/server_connection.h"

namespace h2::protocol::detail {

// Scratch for encoding one header block, shared by the connections of a thread: encoding runs
// no callback, so two uses never overlap, and a connection holds none of it.
struct EncodeScratch {
  std::string block;
  std::vector<hpack::HeaderField> fields;
};
EncodeScratch& encode_scratch();

class Core final : public FrameVisitor, public hpack::HeaderSink {
 public:
  // Opaque data of the PING of a graceful shutdown (RFC 9113 §6.8).
  // Body pieces up to this size are copied next to their frame header (one iovec instead of
  // two, and no reference to a small string that a move could relocate); larger ones are
  // referenced where they live.
  static constexpr size_t kCopyThreshold = 256;
  static constexpr uint64_t kShutdownPing = 0x6832676f61776179;  // "h2goaway"

  // `options` is shared, not copied: every connection of a configuration reads the same one
  // (136 bytes per idle connection saved).
  Core(RequestHandler* handler, std::shared_ptr<const ConnectionOptions> options, uint64_t now_ms);
  ~Core() override;

  // Reference count: the ServerConnection holds one, every Reqd/Writer handle one.
  void add_ref() { ++refs_; }
  void release() {
    if (--refs_ == 0) delete this;
  }
  void acquire(Stream* s) {
    add_ref();
    ++s->handles;
  }
  void drop(Stream* s);
  // The ServerConnection is going away: every stream ends with its callbacks (on_eof, flushes
  // false, on_stream_closed(kConnectionEnded)), then no handler is called again.
  void detach();
  bool detached() const { return detached_; }

  // ---- the embedder contract (request_handler.h) ----
  // Brackets every driving call of ServerConnection. enter() refuses (returns false) a call made
  // from inside a callback; leave() delivers the stream-closed notifications queued meanwhile.
  bool enter_driving();
  void leave_driving();
  // Brackets every respond-API call: the outermost one, made while no driving call runs,
  // tells the embedder that output became ready (once per batch).
  void enter_api() { ++api_depth_; }
  void leave_api();
  // Runs a handler callback; an exception is contained and counted. Returns false if it threw.
  template <typename F>
  bool guarded(F&& f) noexcept {
    try {
      f();
      return true;
    } catch (...) {
      ++callback_exceptions_;
      return false;
    }
  }
  size_t callback_exceptions() const { return callback_exceptions_; }
  size_t refused_reentrant_calls() const { return refused_reentrant_calls_; }

  // ---- driving (ServerConnection) ----
  bool start_upgrade(std::string_view http2_settings, UpgradeRequest request);
  size_t process_bytes(std::string_view bytes);
  void on_peer_eof();
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes);
  void consume_output(size_t written);
  bool wants_read() const;
  bool wants_write() const;
  bool is_closed() const;
  void on_time(uint64_t now_ms);
  // After process_bytes / on_time: now_ms_ is no longer the embedder's current time (see stamp()).
  void mark_time_stale() { time_fresh_ = false; }
  std::optional<uint64_t> next_wakeup_ms() const;
  void start_graceful_shutdown();
  size_t open_stream_count() const { return streams_.size(); }
  uint32_t last_peer_stream_id() const { return highest_client_id_; }
  ErrorCode goaway_code() const { return goaway_code_; }

  // ---- respond API (Reqd / Writer) ----
  Result schedule_read(Stream* s, std::function<void(std::string_view)> on_chunk,
                       std::function<void()> on_eof);
  Result respond_head(Stream* s, const Response& response, bool informational, bool end_stream);
  Result respond_body(Stream* s, const Response& response, Holder holder, std::string_view body);
  Result write_body(Stream* s, std::string_view data, Holder* holder);
  Result flush(Stream* s, std::function<void(bool)> on_done);
  Result close_body(Stream* s, std::span<const Field> trailers, bool with_trailers);
  Result reset_by_handler(Stream* s, ErrorCode code);
  Result report_error(Stream* s);
  PushResult push(Stream* parent, std::string_view method, std::string_view path,
                  std::span<const Field> headers);
  Result check_usable(const Stream* s) const;

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
  void on_priority(const FrameHeader& h, const PrioritySpec& p) override;
  void on_rst_stream(const FrameHeader& h, ErrorCode code) override;
  void on_settings(const FrameHeader& h, std::span<const Setting> settings) override;
  void on_ping(const FrameHeader& h, uint64_t opaque_data) override;
  void on_goaway(const FrameHeader& h, uint32_t last_stream_id, ErrorCode code,
                 std::string_view debug_data) override;
  void on_window_update(const FrameHeader& h, uint32_t increment) override;
  void on_priority_update(const FrameHeader& h, uint32_t prioritized_stream_id,
                          std::string_view value) override;
  bool on_frame_stream_error(const FrameHeader& h, ErrorCode code,
                             std::string_view reason) override;
  void on_frame_error(const FrameHeader& h, ErrorCode code, std::string_view reason) override;

  // ---- hpack::HeaderSink ----
  void on_header(std::string_view name, std::string_view value) override;

 private:
  enum class BlockTarget : uint8_t { kNone, kRequest, kTrailers, kDiscard };
  enum class Shutdown : uint8_t { kNone, kPinging, kFinal };

  // core.cc
  void send_preface();
  void connection_error(ErrorCode code, std::string_view reason);
  // RST_STREAM(code). For a stream without state (refused, or closed), `late_data` is the DATA
  // the peer may still have in flight on it (ClosedStreams::spend_late_data).
  void stream_error(uint32_t id, ErrorCode code, uint32_t late_data = 0);
  // Ends `s` (may delete it: do not touch it afterwards). A stream the handler knows is queued
  // for on_stream_closed (delivered by leave_driving): `end` is what the handler is told
  // unless the stream completed both ways, which is always kCompleted.
  void close_stream(Stream* s, ErrorCode code, ClosedHow how, StreamEnd end);
  void deliver_closed_notes();
  void count_thrown(size_t n) { callback_exceptions_ += n; }
  void finish_stream_if_done(Stream* s);
  void send_goaway(uint32_t last_id, ErrorCode code, std::string_view debug);
  // After the peer's GOAWAY, once no stream is left: our GOAWAY(NO_ERROR, last id), queued
  // after every stream's final frames, then is_closed() when it was written (RFC 9113 §6.8).
  void answer_peer_goaway();
  // Forgets a header block in progress (drops its stream reference).
  void abandon_block();
  void notify_closed(ErrorCode code, std::string_view reason);
  void count_control_frame();
  bool spend_reset_budget();
  // Counts one frame of a kind that costs work but carries nothing; false (after the
  // connection error) when the peer is over its allowance.
  bool count_window_update();
  bool count_priority_frame();
  void release_holders(std::vector<Holder>& released, bool written);
  // Releases `h` once the bytes queued so far are written (at once if nothing is queued).
  void retire_holder(Holder h);

  // core_input.cc
  Stream* find(uint32_t id) const;
  bool check_preface(std::string_view& bytes);
  void apply_peer_settings(std::span<const Setting> settings);
  void credit_connection(uint32_t n);
  void credit_stream(Stream* s, uint32_t n);
  void deliver_body(Stream* s);
  void end_of_body(Stream* s);

  // core_headers.cc
  void start_block(const FrameHeader& h, BlockTarget target, Stream* s);
  void end_block();
  void open_request_stream(uint32_t id, const FrameHeader& h);
  void dispatch_request(Stream* s);

  // core_output.cc
  Stream* create_stream(uint32_t id);
  void free_stream(Stream* s);
  // The HPACK block of a response head, encoded (valid until the next encode); callers look in
  // head_cache_ first.
  const std::string& encode_head(uint16_t status, std::span<const Field> headers);
  bool idle(uint32_t id) const;
  void queue_rst(uint32_t id, ErrorCode code);
  void queue_window_update(uint32_t id, uint32_t increment);
  void queue_header_frames(uint32_t stream_id, std::string_view block, bool end_stream,
                           uint32_t promised_id);
  void frame_data(size_t budget);
  bool frame_one(Stream* s);
  void on_local_end(Stream* s);
  void update_schedule(Stream* s);
  // Flow-control stall timers (ConnectionOptions::flow_control_stall_timeout_ms).
  void note_stream_stall(Stream* s, bool stalled);
  void note_connection_stall();
  void fire_stall_timers();
  // request_body_timeout_ms: arms the (lazy) check for a request whose body is to come.
  void note_body_expected(Stream* s);
  void fire_body_timers();
  bool awaits_body(const Stream* s) const;
  void complete_flushes(Stream* s);

  RequestHandler* handler_;
  std::shared_ptr<const ConnectionOptions> shared_options_;
  const ConnectionOptions& options_;  // *shared_options_
  uint32_t refs_ = 1;
  bool detached_ = false;

  // embedder contract state
  struct ClosedNote {
    Reqd reqd;
    StreamEnd end;
    ErrorCode code;
  };
  uint32_t driving_ = 0;
  uint32_t api_depth_ = 0;
  bool output_notified_ = false;
  bool connection_closed_notified_ = false;
  std::vector<ClosedNote> closed_notes_;
  std::vector<ClosedNote> closed_notes_scratch_;
  size_t callback_exceptions_ = 0;
  size_t refused_reentrant_calls_ = 0;

  FrameDecoder decoder_;
  // HPACK state (about 740 bytes), made at the first header block in either direction: a
  // connection that has not carried a request yet holds none of it.
  struct HeaderCodec {
    explicit HeaderCodec(const hpack::DecoderOptions& options) : decoder(options) {}
    hpack::Decoder decoder;
    hpack::Encoder encoder;
    HeadCache head_cache;
  };
  HeaderCodec& codec();
  std::unique_ptr<HeaderCodec> codec_;
  // The peer's SETTINGS_HEADER_TABLE_SIZE changes before the codec exists: its first block
  // signals the smallest and the last (RFC 7541 §4.2), as if the encoder had seen each one.
  uint32_t peer_table_min_ = UINT32_MAX;
  uint32_t peer_table_last_ = 0;
  OutputQueue output_;
  // Streams with something to send (RFC 9218 order), made when the first one queues a body that
  // does not go out with its head: a connection serving small responses never makes it.
  std::unique_ptr<PriorityScheduler> scheduler_;
  PriorityScheduler& scheduler() {
    if (!scheduler_) scheduler_ = std::make_unique<PriorityScheduler>();
    return *scheduler_;
  }
  bool nothing_scheduled() const { return !scheduler_ || scheduler_->empty(); }
  template <typename Pred>
  SchedNode* pick_scheduled(Pred&& eligible) const {
    return scheduler_ ? scheduler_->pick(std::forward<Pred>(eligible)) : nullptr;
  }
  ClosedStreams closed_;
  StreamTable streams_;

  // connection state
  size_t preface_matched_ = 0;
  bool settings_received_ = false;
  bool failed_ = false;  // connection error: GOAWAY queued, input ignored
  bool peer_eof_ = false;
  bool goaway_received_ = false;
  bool goaway_sent_ = false;
  ErrorCode goaway_code_ = ErrorCode::kNoError;
  Shutdown shutdown_ = Shutdown::kNone;
  uint32_t goaway_last_id_ = kMaxStreamId;  // streams above it are ignored after our GOAWAY
  uint32_t highest_client_id_ = 0;
  uint32_t next_push_id_ = 2;
  uint32_t open_client_streams_ = 0;
  uint32_t open_push_streams_ = 0;
  bool upgraded_ = false;
  uint32_t pending_dispatch_id_ = 0;  // h2c stream 1, dispatched after the preface

  PeerSettings peer_;

  // flow control
  SendWindow conn_send_;
  RecvWindow conn_recv_;

  // our SETTINGS
  bool awaiting_settings_ack_ = false;
  uint64_t settings_sent_ms_ = 0;

  // header block in progress
  BlockTarget block_target_ = BlockTarget::kNone;
  bool in_block_ = false;
  uint32_t block_stream_id_ = 0;
  bool block_end_stream_ = false;
  uint32_t block_continuations_ = 0;
  uint64_t block_started_ms_ = 0;
  Stream* block_stream_ = nullptr;
  bool block_refused_ = false;  // stream refused: block decoded then RST_STREAM
  ErrorCode block_refuse_code_ = ErrorCode::kNoError;
  bool block_priority_error_ = false;  // self-dependent PRIORITY in HEADERS

  // DATA in progress
  uint32_t data_stream_id_ = 0;
  bool data_deliver_ = false;

  // timers and budgets
  uint64_t now_ms_ = 0;
  uint64_t last_activity_ms_ = 0;
  uint64_t shutdown_ping_ms_ = 0;
  std::optional<uint64_t> stream_stall_check_ms_;  // no stream stalled before this deadline
  std::optional<uint64_t> connection_stalled_since_ms_;
  std::optional<uint64_t> body_check_ms_;  // no request body times out before this deadline
  uint64_t connection_credit_ms_ = 0;      // our last reopening of a closed connection window
  // Time stamps for timers. now_ms_ is the embedder's time only inside process_bytes / on_time;
  // a respond-API call or pending_output may come much later (a handler answering from a posted
  // task) with no time given. A timer started then is stamped kStampPending, and the next
  // on_time (asked for at once by next_wakeup_ms) gives it the real time: a stale stamp would
  // make a stall, body or idle timeout fire at once.
  static constexpr uint64_t kStampPending = UINT64_MAX;
  bool time_fresh_ = false;
  bool stamps_pending_ = false;
  uint64_t stamp() {
    if (time_fresh_) return now_ms_;
    stamps_pending_ = true;
    return kStampPending;
  }
  void resolve_pending_stamps();
  uint32_t reset_tokens_ = 0;
  uint32_t consecutive_empty_frames_ = 0;
  uint64_t window_updates_received_ = 0;
  uint64_t data_frames_sent_ = 0;
  uint64_t priority_frames_received_ = 0;
  uint64_t streams_opened_ = 0;
  uint64_t reset_window_start_ms_ = 0;
  RingQueue<uint64_t> control_release_at_;  // output positions of queued control frames

  // scratch, reused
  std::vector<Holder> released_scratch_;
  std::string closed_reason_;
  std::vector<std::pair<uint32_t, Priority>> idle_priorities_;  // PRIORITY_UPDATE before HEADERS
  char status_digits_[3] = {};
};

// One respond-API call (Reqd/Writer), for Core::enter_api / leave_api.
class ApiCall {
 public:
  // Holds a reference: a callback run by the call may drop the handle the call came through.
  explicit ApiCall(Core* core) : core_(core) {
    core_->add_ref();
    core_->enter_api();
  }
  ~ApiCall() {
    core_->leave_api();
    core_->release();
  }
  ApiCall(const ApiCall&) = delete;
  ApiCall& operator=(const ApiCall&) = delete;

 private:
  Core* core_;
};

}  // namespace h2::protocol::detail
