// What the embedder implements to receive requests. All calls come from inside
// ServerConnection's driving functions (process_bytes, on_time, on_peer_eof, consume_output,
// start_graceful_shutdown), on the caller's thread, never re-entrantly from each other. A
// callback may use any Reqd/Writer but must not call the driving functions nor destroy the
// ServerConnection (post that to the event loop instead).
//
// Example sequence for one GET:       on_request(reqd)  -> handler responds now or later
// POST read in chunks:                on_request(reqd)  -> reqd.schedule_read(...) -> on_chunk...
// Peer resets while we stream:        on_request(reqd) ... on_stream_reset(reqd, CANCEL)
// Connection error / GOAWAY received: on_stream_reset(...) for every stream it kills, then
//                                     on_connection_closed(...)
#pragma once

#include <string_view>

#include "protocol/frame/frame_types.h"
#include "protocol/reqd.h"

namespace h2::protocol {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // A request head is complete and valid (RFC 9113 §8.1-8.5). The body, if any, follows through
  // reqd.schedule_read(). The handler may respond synchronously or keep `reqd` and respond later.
  virtual void on_request(Reqd& reqd) = 0;
  // The stream ended abnormally before the handler finished: the peer sent RST_STREAM (`code`
  // is the peer's), or the connection failed (code of the connection error). The Reqd's
  // operations now return kStreamClosed. Pending body reads get on_eof() before this call.
  virtual void on_stream_reset(Reqd& reqd, ErrorCode code) {
    (void)reqd;
    (void)code;
  }
  // The connection is ending: we sent a connection error (our GOAWAY code), the peer sent
  // GOAWAY (its code; open streams may still finish), or the peer closed the socket
  // (NO_ERROR). `reason` is the GOAWAY debug text. Called at most once per cause.
  virtual void on_connection_closed(ErrorCode code, std::string_view reason) {
    (void)code;
    (void)reason;
  }
};

}  // namespace h2::protocol
