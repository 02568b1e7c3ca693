// What the embedder implements to receive requests and to learn everything else it must know
// about its connection. This interface plus ServerConnection is the whole contract a runtime
// needs: no polling, no re-entrancy flag, no call-order folklore.
//
// When callbacks run. Every callback comes from inside a driving function of ServerConnection
// (process_bytes, on_peer_eof, pending_output, consume_output, on_time,
// start_graceful_shutdown, the destructor), on the caller's thread, with one exception:
// on_output_ready() comes from inside a Reqd/Writer call made while no driving function runs
// (a timer, another connection's callback, a task posted by a module thread).
// Callbacks given to Reqd/Writer (body reads, flushes, releases) follow the same rule; a release
// or flush callback may also run from inside the Reqd/Writer call that ended its stream.
//
// What callbacks may do. Use any Reqd/Writer, of this stream or another, of this connection or
// another. They must NOT call a driving function of the connection they come from (such a call
// is refused: process_bytes() returns 0, the others do nothing) nor destroy it: post that to the
// event loop instead.
//
// Exceptions. Callbacks should not throw. One that does is contained where the core called it
// and counted (ServerConnection::callback_exceptions()): a throwing on_request or body-read
// callback answers its stream with Reqd::report_error() (500, or RST_STREAM(INTERNAL_ERROR) once
// the response started); an exception from any other callback is dropped. The connection and
// its other streams go on.
//
// Example sequences (H = handler calls, D = the driving call they come from):
//   GET:            D process_bytes: on_request(reqd) -> respond_with_string(...)
//                   D pending_output / consume_output: on_stream_closed(reqd, kCompleted)
//   POST in chunks: on_request -> reqd.schedule_read(...) -> on_chunk ... on_eof -> respond
//   Peer resets:    on_request ... D process_bytes: on_stream_closed(reqd, kResetByPeer, CANCEL)
//   Late answer:    (timer) reqd.respond_with_string(...) -> on_output_ready()
//                   -> embedder schedules a write -> pending_output ... on_stream_closed(...)
//   Connection error / GOAWAY received / peer EOF: on_stream_closed(..., kConnectionEnded, code)
//                   for every stream it kills, then on_connection_closed(code, reason)
//   ~ServerConnection with streams open: on_stream_closed(..., kConnectionEnded, CANCEL) each,
//                   then on_connection_closed(CANCEL, "connection destroyed") unless already said
#pragma once

#include <cstdint>
#include <string_view>

#include "protocol/frame/frame_types.h"
#include "protocol/reqd.h"

namespace h2::protocol {

// How a stream ended (RequestHandler::on_stream_closed).
enum class StreamEnd : uint8_t {
  // The response was sent whole (END_STREAM written to the output). The request was received
  // whole too, or the response completed first and we sent RST_STREAM(NO_ERROR) to stop the
  // rest of the body (RFC 9113 §8.1; Reqd::body_complete() stays false then).
  kCompleted,
  kResetByPeer,      // the peer sent RST_STREAM (code is the peer's) or refused a push
  kStreamError,      // the peer broke the protocol on this stream: we sent RST_STREAM(code)
  kResetByHandler,   // Reqd::reset() or report_error() after the response had started
  kConnectionEnded,  // connection error (our code), peer GOAWAY/EOF, or the connection destroyed
};
std::string_view stream_end_name(StreamEnd end);

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // A request head is complete and valid (RFC 9113 §8.1-8.5). The body, if any, follows through
  // reqd.schedule_read(). The handler may respond synchronously or keep `reqd` and respond later.
  virtual void on_request(Reqd& reqd) = 0;
  // Called exactly once for every stream the handler knows (on_request was called for it, or it
  // was returned by Reqd::push), whatever ended it, and never from inside a Reqd/Writer call.
  // Pending body reads got on_eof() and pending flushes false before this call. The Reqd's
  // operations now return kStreamClosed / kConnectionClosed. `code` is kNoError for kCompleted.
  virtual void on_stream_closed(Reqd& reqd, StreamEnd end, ErrorCode code) {
    (void)reqd;
    (void)end;
    (void)code;
  }
  // Output became ready while no driving function was running (a Reqd/Writer call from a timer,
  // another connection, a posted task): the embedder should call pending_output() soon - post
  // a write to its loop. Called at most once between two driving calls, however many Reqd calls
  // queue output in between. Never called while a driving function runs (after every driving
  // call the embedder checks wants_write() itself).
  virtual void on_output_ready() {}
  // The connection is ending: we sent a connection error (our GOAWAY code), the peer sent
  // GOAWAY (its code; open streams may still finish), the peer closed the socket (NO_ERROR),
  // or the ServerConnection was destroyed (CANCEL). `reason` is the GOAWAY debug text. Called
  // at most once per cause.
  virtual void on_connection_closed(ErrorCode code, std::string_view reason) {
    (void)code;
    (void)reason;
  }
};

}  // namespace h2::protocol
