// Sans-I/O HTTP/2 client connection (RFC 9113), the counterpart of ServerConnection: the same
// frame layer (frame/), HPACK (hpack/), windows (detail/flow_control.h), output queue
// (detail/output_queue.h), closed-stream memory and peer SETTINGS rules (detail/peer_settings.h).
// No sockets, threads or clocks: bytes and time go in, bytes and handler calls come out.
//
// Driving loop (the same contract as ServerConnection):
//   ClientConnection conn(&handler, options, now_ms());  // queues the preface + SETTINGS
//   Stream s = conn.submit({"GET", "https", "example.com", "/"}, /*end_stream=*/true);
//   loop {
//     if (conn.wants_write()) { n = conn.pending_output(views, 256 * 1024);
//                               w = writev(sock, views); conn.consume_output(w); }
//     if (readable) { r = read(sock, buf); r > 0 ? conn.process_bytes({buf, r}, now_ms())
//                                                : conn.on_peer_eof(); }
//     if (conn.is_closed()) break;
//     wait for: readable (wants_read), writable (wants_write), conn.next_wakeup_ms() -> on_time,
//               handler.on_output_ready() (a Stream call made outside a driving call).
//   }
// The driving functions are process_bytes, on_peer_eof, pending_output, consume_output, on_time,
// start_graceful_shutdown and the destructor; handler callbacks come only from inside them
// (on_output_ready excepted, see ClientHandler). Views from pending_output stay valid until
// consume_output says they were written.
//
// Example exchanges (C = what we send, S = what the server sends, H = handler calls):
//   GET:   C preface SETTINGS WINDOW_UPDATE HEADERS(1,ES)   S SETTINGS HEADERS(1) DATA(1,ES)
//          H on_response(s, 200, fields) on_data(s, "...") on_stream_closed(s, kCompleted)
//   POST:  submit(head, false); s.write("part 1"); s.write("part 2"); s.end()  C DATA(1) DATA(1,ES)
//          (writes beyond the windows wait in the stream; writable() false above the watermark,
//          then on_writable(s) once it drained)
//   103:   H on_informational(s, 103, fields) ... on_response(s, 200, fields)
//   Refused: S RST_STREAM(1, REFUSED_STREAM)   H on_stream_closed(s, kResetByPeer, REFUSED,
//          retryable = true)
//   GOAWAY(last 3) with streams 1, 3, 5 open: 1 and 3 finish; 5 and every queued request end
//          with kRefusedByGoaway, retryable = true (never sent to the application: RFC 9113 §6.8)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/client_options.h"
#include "protocol/frame/frame_types.h"
#include "protocol/reqd.h"

namespace h2::protocol {

namespace detail {
class ClientCore;
struct ClientStreamState;
}  // namespace detail

// A request head. Pseudo-header values and fields are copied by submit().
struct ClientRequest {
  std::string_view method;
  std::string_view scheme;     // empty for a plain CONNECT (RFC 9113 §8.5)
  std::string_view authority;
  std::string_view path;       // empty for a plain CONNECT
  std::span<const Field> headers = {};
  std::string_view protocol = {};  // extended CONNECT (RFC 8441 §4): needs the server's setting
};

// A response field as it arrived; views valid during the callback only.
using ResponseField = Field;

// How a client stream ended (ClientHandler::on_stream_closed).
enum class ClientStreamEnd : uint8_t {
  kCompleted,          // the whole response arrived (END_STREAM) and our request was sent whole
  kResetByPeer,        // RST_STREAM from the server (REFUSED_STREAM: retryable)
  kResetByUs,          // Stream::reset()
  kProtocolError,      // the server broke the rules on this stream: we sent RST_STREAM(code)
  kHeaderListTooLarge, // a response head/trailers over max_header_list_size: RST_STREAM(CANCEL)
  kRefusedByGoaway,    // above the GOAWAY's last stream id, or never sent: retryable
  kConnectionEnded,    // connection error, EOF or destruction while the stream was open
};
std::string_view client_stream_end_name(ClientStreamEnd end);

// Why submit() or a Stream call failed.
enum class ClientResult : uint8_t {
  kOk,
  kStreamClosed,       // the stream already ended
  kConnectionClosed,   // GOAWAY received / sent, or the connection failed
  kQueueFull,          // max_queued_requests waiting already
  kInvalidArgument,    // missing pseudo-header, uppercase or connection-specific field name
  kNotSupported,       // extended CONNECT without the server's SETTINGS_ENABLE_CONNECT_PROTOCOL
  kAlreadyEnded,       // write()/end() after end()
};

// A counted handle to one request (non-atomic: one thread). Cheap to copy; keeps its stream's
// state alive after the stream ended and after the connection is gone (operations then return
// kStreamClosed).
class ClientStream {
 public:
  ClientStream() = default;
  ClientStream(const ClientStream& other);
  ClientStream& operator=(const ClientStream& other);
  ClientStream(ClientStream&& other) noexcept;
  ClientStream& operator=(ClientStream&& other) noexcept;
  ~ClientStream();

  bool valid() const { return state_ != nullptr; }
  // 0 until the request was sent (queued for a stream slot or for the server's SETTINGS).
  uint32_t id() const;
  bool ended() const;
  // The response is complete (END_STREAM received). True already during on_response when the
  // final head itself carried END_STREAM: a response with no body and no trailers (a gRPC
  // "trailers-only" answer), which a proxy must relay the same way.
  bool response_ended() const;
  // Request body: the bytes are moved in and referenced until written. Never blocks and never
  // refuses for lack of window: above stream_buffer_high_watermark writable() turns false and
  // on_writable comes once the buffered bytes fell below half of it.
  ClientResult write(std::string data);
  bool writable() const;
  size_t buffered_bytes() const;
  // Ends the request body, with trailers if given (RFC 9113 §8.1).
  ClientResult end(std::span<const Field> trailers = {});
  // RST_STREAM(code) (CANCEL by default); a queued request is dropped. on_stream_closed follows
  // from the next driving call with kResetByUs.
  ClientResult reset(ErrorCode code = ErrorCode::kCancel);
  // With ClientOptions-independent manual credit: by default every on_data chunk counts as
  // consumed when the callback returns. pause_credit(true) stops that; consume(n) then returns
  // credit explicitly (the server stops sending when the window is used up: backpressure).
  void pause_credit(bool paused);
  void consume(size_t n);

  void set_user_data(void* p);
  void* user_data() const;

  bool operator==(const ClientStream& o) const { return state_ == o.state_; }

 private:
  friend class detail::ClientCore;
  friend class ClientConnection;
  explicit ClientStream(detail::ClientStreamState* state);
  detail::ClientStreamState* state_ = nullptr;
};

// What the embedder implements. Same rules as RequestHandler: callbacks come from inside
// driving calls on the connection's thread (on_output_ready: from a Stream call made outside
// one), may use any ClientStream and submit() new requests, must not call a driving function of
// this connection or destroy it. A callback that throws is contained and counted
// (ClientConnection::callback_exceptions()); its stream is reset with INTERNAL_ERROR.
class ClientHandler {
 public:
  virtual ~ClientHandler() = default;
  // 1xx other than 101 (RFC 9110 §15.2; 103 Early Hints, RFC 8297). Zero or more times.
  virtual void on_informational(ClientStream& s, uint16_t status,
                                std::span<const ResponseField> fields) {
    (void)s, (void)status, (void)fields;
  }
  // The final response head (validated: RFC 9113 §8.3.2 :status only, §8.2.2 no connection-
  // specific fields, lowercase names).
  virtual void on_response(ClientStream& s, uint16_t status,
                           std::span<const ResponseField> fields) = 0;
  // Body bytes as they arrive, never copied (the view is valid during the call only).
  virtual void on_data(ClientStream& s, std::string_view data) { (void)s, (void)data; }
  virtual void on_trailers(ClientStream& s, std::span<const ResponseField> fields) {
    (void)s, (void)fields;
  }
  // Buffered request body fell below half of the high watermark after writable() was false.
  virtual void on_writable(ClientStream& s) { (void)s; }
  // Exactly once for every submitted stream. `retryable`: the server never processed it
  // (REFUSED_STREAM, above a GOAWAY's last stream id, or never sent), so it may be retried on
  // another connection (RFC 9113 §8.7).
  virtual void on_stream_closed(ClientStream& s, ClientStreamEnd end, ErrorCode code,
                                bool retryable) {
    (void)s, (void)end, (void)code, (void)retryable;
  }
  // enable_push only: the server promises `promised` for `request` on `parent`. Return true to
  // accept it (its response then arrives through on_response/on_data/... on `promised`), false
  // to refuse (RST_STREAM CANCEL).
  virtual bool on_push_promise(ClientStream& parent, ClientStream& promised,
                               std::span<const ResponseField> request) {
    (void)parent, (void)promised, (void)request;
    return false;
  }
  virtual void on_goaway(uint32_t last_stream_id, ErrorCode code, std::string_view debug) {
    (void)last_stream_id, (void)code, (void)debug;
  }
  virtual void on_ping_ack(uint64_t opaque) { (void)opaque; }
  // A Stream call made outside a driving call queued output: wants_write() is true when it
  // comes (a write that waits for window does not call it). Once per batch: the next notice
  // comes after the loop made a driving call (pending_output, ...). Write, do not drive, from it.
  virtual void on_output_ready() {}
  // The connection ended: our connection error, the server's GOAWAY + all streams done, EOF, or
  // destruction. At most once.
  virtual void on_connection_closed(ErrorCode code, std::string_view reason) {
    (void)code, (void)reason;
  }
};

class ClientConnection {
 public:
  // Queues the client preface (RFC 9113 §3.4), our SETTINGS and the connection window update.
  ClientConnection(ClientHandler* handler, const ClientOptions& options, uint64_t now_ms);
  // Ends every open stream with on_stream_closed(kConnectionEnded), then on_connection_closed
  // (NO_ERROR after a completed graceful shutdown, else CANCEL).
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // A new request. It is sent at once when a stream slot is free (the server's
  // SETTINGS_MAX_CONCURRENT_STREAMS), else queued in submission order. An invalid or refused
  // request returns a handle whose stream ended (on_stream_closed is not called for it) and
  // sets `*result` when given.
  ClientStream submit(const ClientRequest& request, bool end_stream,
                      ClientResult* result = nullptr);
  // PING with `opaque`; the ACK comes as on_ping_ack.
  void ping(uint64_t opaque);

  // ---- driving ----
  size_t process_bytes(std::string_view bytes, uint64_t now_ms);
  void on_peer_eof();
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes);
  void consume_output(size_t written);
  void on_time(uint64_t now_ms);
  std::optional<uint64_t> next_wakeup_ms() const;
  // GOAWAY(NO_ERROR) and no new requests (queued ones end retryable); open streams finish,
  // then is_closed().
  void start_graceful_shutdown(uint64_t now_ms);

  bool wants_read() const;
  bool wants_write() const;
  bool is_closed() const;

  // ---- state ----
  size_t open_stream_count() const;
  size_t queued_request_count() const;
  // The server's SETTINGS arrived (its limits are known).
  bool settings_received() const;
  uint32_t peer_max_concurrent_streams() const;
  bool peer_allows_extended_connect() const;
  // A GOAWAY was received: submit() now fails with kConnectionClosed.
  bool goaway_received() const;
  ErrorCode goaway_code() const;
  size_t callback_exceptions() const;

 private:
  detail::ClientCore* core_;
};

}  // namespace h2::protocol
