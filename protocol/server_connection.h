// The sans-I/O HTTP/2 server connection (RFC 9113). It turns received bytes into RequestHandler
// calls and responses into bytes to send; it owns no socket, thread or clock. Any runtime drives
// it: the Asio host, examples/ (a blocking and a poll(2) server), the in-memory test harness.
//
// The contract a runtime follows (examples/poll_server.cc is this loop, compiled and run by ctest;
// request_handler.h says when callbacks come and what they may do):
//   ServerConnection conn(&handler, options, now_ms());
//   loop:
//     if (conn.wants_read()) { n = read(sock, buf);
//                              n == 0 ? conn.on_peer_eof() : conn.process_bytes({buf, n},
//                              now_ms()); }
//     while (conn.wants_write()) { std::vector<std::string_view> v;
//                                  conn.pending_output(v, 256 * 1024);
//                                  w = writev(sock, v); conn.consume_output(w); }
//     if (conn.is_closed()) { close(sock); destroy conn; done }
//     wait for: readable (if wants_read), writable (if wants_write), the time
//               conn.next_wakeup_ms() -> then conn.on_time(now_ms()),
//               handler.on_output_ready() (output queued from outside the loop, e.g. a timer).
//   The driving functions are process_bytes, on_peer_eof, pending_output, consume_output, on_time,
//   start_graceful_shutdown and the destructor. Time comes in with the input (process_bytes) and
//   through on_time; the connection never reads a clock. After any driving call, re-check
//   wants_write() / wants_read() / is_closed() / next_wakeup_ms(): those are the whole state.
//   process_bytes() consumes everything it is given (it never needs a whole frame at once) unless
//   the connection failed: then it returns fewer bytes and wants_read() turns false.
//   The views from pending_output() stay valid until consume_output() says they were written,
//   even if process_bytes() runs in between (a read may proceed while a gather write is in
//   flight); calling pending_output() again returns the same unwritten bytes first.
//   Every stream the handler saw ends with exactly one on_stream_closed(), including when the
//   connection is destroyed with streams open: no polling of Reqd handles is needed.
//   Invariants a loop may rely on: !wants_read() && !wants_write() implies is_closed(), unless
//   the handler holds streams it has not answered (their output arrives via on_output_ready);
//   on_time() before the wakeup is due is harmless. The number of views pending_output() gives
//   is not capped: write at most IOV_MAX of them and consume_output() what was written.
//   On is_closed(), prefer a lingering close (shutdown(SHUT_WR), read and drop until EOF or a
//   short timeout, then close) to a bare close(): closing with unread input sends RST, which can
//   destroy the last response bytes and the GOAWAY in the peer's receive buffer.
//   on_output_ready() carries no connection: give each connection its own handler (or a
//   handler that knows its connection).
//
// Example exchanges (C = client bytes fed, S = bytes pulled, H = handler calls):
//   GET:     C preface SETTINGS            S SETTINGS, WINDOW_UPDATE(0)
//            C HEADERS(1, END_STREAM)      H on_request -> respond_with_string(200, "hi")
//                                          S SETTINGS ACK, HEADERS(1), DATA(1, END_STREAM)
//                                          H on_stream_closed(kCompleted)
//   POST:    C HEADERS(3) DATA(3) DATA(3, END_STREAM)
//            H on_request -> schedule_read -> on_chunk(..) -> schedule_read -> on_eof
//            S WINDOW_UPDATE(3), WINDOW_UPDATE(0) once half a window was consumed; response
//   reset:   C HEADERS(5) RST_STREAM(5, CANCEL)   H on_request, on_stream_closed(kResetByPeer)
//   GOAWAY:  conn.start_graceful_shutdown(now)  S GOAWAY(2^31-1), PING
//            C PING ACK                      S GOAWAY(last id); open streams finish; is_closed()
//
// Ownership: response bodies are referenced, never copied, into the output (strings are moved
// in once; shared buffers and borrowed writes are referenced). Control frames and headers are
// serialized into a few reused blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame/frame_types.h"
#include "protocol/options.h"
#include "protocol/reqd.h"
#include "protocol/request_handler.h"

namespace h2::protocol {

// The HTTP/1.1 request that asked for "Upgrade: h2c" (RFC 7540 §3.2; RFC 9113 §3.1 keeps the
// mechanism to the older RFC). It becomes stream 1, half-closed (remote).
struct UpgradeRequest {
  std::string_view method;
  std::string_view scheme = "http";
  std::string_view authority;
  std::string_view path;
  std::span<const Field> headers;  // regular fields, lowercase, hop-by-hop fields removed
  std::string body;                // the whole HTTP/1.1 request body, if any (moved in)
};

// Options shared by many connections instead of copied into each (136 bytes per idle
// connection). Non-null. Explicit, so that `{}` still means default options.
struct SharedOptions {
  explicit SharedOptions(std::shared_ptr<const ConnectionOptions> shared)
      : options(std::move(shared)) {}
  std::shared_ptr<const ConnectionOptions> options;
};

class ServerConnection {
 public:
  // `handler` must outlive the connection. `now_ms` starts the idle and SETTINGS timers.
  ServerConnection(RequestHandler* handler, const ConnectionOptions& options = {},
                   uint64_t now_ms = 0);
  // h2c upgrade: `http2_settings` is the base64url-DECODED HTTP2-Settings header value (a
  // SETTINGS payload). If it is malformed, the connection starts in the failed state
  // (is_closed() after its GOAWAY is written). The host has already sent "101 Switching
  // Protocols"; the client preface is still expected first on the input.
  ServerConnection(RequestHandler* handler, const ConnectionOptions& options, uint64_t now_ms,
                   std::string_view http2_settings, UpgradeRequest request);
  // The same two with options shared instead of copied: a runtime serving many connections
  // under one configuration hands each the same immutable options. The connection keeps its
  // reference for its whole life.
  ServerConnection(RequestHandler* handler, SharedOptions options, uint64_t now_ms);
  ServerConnection(RequestHandler* handler, SharedOptions options, uint64_t now_ms,
                   std::string_view http2_settings, UpgradeRequest request);
  ServerConnection(ServerConnection&& other) noexcept;
  ServerConnection& operator=(ServerConnection&& other) noexcept;
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;
  // Ends every stream with its callbacks, like on_peer_eof(): pending reads get on_eof, flushes
  // false, borrowed buffers are released, the handler hears on_stream_closed(kConnectionEnded,
  // CANCEL) for each open stream and on_connection_closed(CANCEL) unless a cause was already
  // told. Reqd handles that outlive it see kConnectionClosed. Not from inside a callback.
  ~ServerConnection();

  // Feeds bytes received at `now_ms` (the embedder's monotonic clock; the value on_time() would
  // get). Returns the bytes consumed: all of them, unless the connection failed (connection
  // error, GOAWAY queued), after which input is ignored. 0 when called from a callback.
  size_t process_bytes(std::string_view bytes, uint64_t now_ms);
  // The peer closed its sending side (read returned 0). Open streams are reset (their handlers
  // get on_stream_closed(kConnectionEnded, CANCEL)); pending output may still be written.
  void on_peer_eof();

  // Appends views of the next bytes to send (at most `max_bytes` in total) to `out` and returns
  // their total size. Frames DATA from streams as flow control and RFC 9218 priorities allow.
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes = SIZE_MAX);
  // `written` bytes of the output were sent; releases their buffers, completes flushes.
  void consume_output(size_t written);

  bool wants_read() const;
  bool wants_write() const;
  // Nothing more will be read or written: the embedder closes the socket.
  bool is_closed() const;

  // The current time; fires due timeouts (SETTINGS ACK, idle, header block, shutdown PING).
  void on_time(uint64_t now_ms);
  // When on_time() must next be called, or nullopt when no timer is armed. It may be in the
  // past: deadlines an API call started outside a driving call wait for a time, and ask for one
  // by returning the last time given. A runtime then calls on_time(now) at once; arming a timer
  // for it costs a timer system call per response (host/asio_connection.h does the former).
  std::optional<uint64_t> next_wakeup_ms() const;

  // GOAWAY(2^31-1, NO_ERROR) + PING; on the PING ACK (or timeout) GOAWAY(last stream id);
  // open streams finish, then the connection closes.
  // `now_ms` starts the PING's timeout (shutdown_ping_timeout_ms).
  void start_graceful_shutdown(uint64_t now_ms);

  // Introspection (tests, logs, metrics).
  size_t open_stream_count() const;
  uint32_t last_peer_stream_id() const;
  // The connection error we sent or received in GOAWAY (kNoError if none).
  ErrorCode goaway_code() const;
  // Handler callbacks that threw (contained, request_handler.h "Exceptions"); driving calls
  // refused because they came from inside a callback. Both are bugs of the embedder to log.
  size_t callback_exceptions() const;
  size_t refused_reentrant_calls() const;

 private:
  detail::Core* core_;
};

}  // namespace h2::protocol
