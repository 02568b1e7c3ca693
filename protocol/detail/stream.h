// One stream's state inside the connection (RFC 9113 §5.1), the request it carries and the
// response being sent. Owned by the Core; kept alive past its close while Reqd/Writer handles
// refer to it (`handles`).
#pragma once

#include <cstdint>
#include "protocol/detail/ring_queue.h"
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/detail/flow_control.h"
#include "protocol/detail/output_queue.h"
#include "protocol/detail/priority.h"
#include "protocol/detail/request_validation.h"
#include "protocol/reqd.h"

namespace h2::protocol::detail {

// RFC 9113 §5.1 (the states a server stream can be in; "reserved (remote)" is client-only).
enum class StreamState : uint8_t {
  kIdle,
  kReservedLocal,
  kOpen,
  kHalfClosedRemote,
  kHalfClosedLocal,
  kClosed,
};
std::string_view stream_state_name(StreamState s);

enum class ResponseState : uint8_t {
  kNone,       // no final response head yet
  kStreaming,  // head sent, body writer open
  kEnding,     // writer closed: the queued body (and trailers) drain, then END_STREAM
  kDone,       // END_STREAM queued (or the stream was reset)
};

struct BodyChunk {
  std::string_view data;  // the bytes not yet framed
  Holder holder;
};

struct Stream : SchedNode {
  explicit Stream(uint32_t stream_id, uint32_t recv_window, int64_t send_window)
      : id(stream_id), recv(recv_window), send(send_window) {
    sched_id = stream_id;
  }

  // Makes a recycled stream new again, keeping the capacity of its buffers.
  void reinit(uint32_t stream_id, uint32_t recv_window, int64_t send_window) {
    static_cast<SchedNode&>(*this) = SchedNode{};
    sched_id = stream_id;
    id = stream_id;
    state = StreamState::kIdle;
    handles = 0;
    in_map = pushed = delivered = counted = false;
    head = RequestHead{};
    has_trailers = false;
    body_received = 0;
    recv = RecvWindow(recv_window);
    body_buffer.clear();
    body_read_offset = 0;
    remote_ended = eof_delivered = false;
    head_only = false;
    on_chunk = nullptr;
    on_eof = nullptr;
    response = ResponseState::kNone;
    responded = false;
    send = SendWindow(send_window);
    body.clear();
    body_bytes = 0;
    body_accepted = body_framed = 0;
    trailer_storage.clear();
    trailer_sizes.clear();
    send_trailers = false;
    flushes.clear();
    stalled = false;
    stalled_since_ms = 0;
    last_data_ms = 0;
    user_data = nullptr;
  }

  uint32_t id;
  StreamState state = StreamState::kIdle;
  uint32_t handles = 0;    // live Reqd/Writer handles
  bool in_map = false;     // still owned by the Core's stream table
  bool pushed = false;     // server-initiated (even id)
  bool delivered = false;  // on_request called (or push returned): the handler knows it
  bool counted = false;    // counts toward a concurrency limit

  // --- request -----------------------------------------------------------------------------
  RequestFields request_fields;
  RequestFields trailer_fields;
  RequestHead head;
  bool has_trailers = false;
  uint64_t body_received = 0;
  RecvWindow recv;
  std::string body_buffer;  // received, not yet read by the handler
  size_t body_read_offset = 0;
  bool remote_ended = false;  // END_STREAM received
  std::function<void(std::string_view)> on_chunk;
  std::function<void()> on_eof;
  bool eof_delivered = false;
  // A HEAD request: the response carries no content (RFC 9110 §9.3.2, RFC 9113 §8.1), whatever
  // the handler writes.
  bool head_only = false;

  // --- response ----------------------------------------------------------------------------
  ResponseState response = ResponseState::kNone;
  bool responded = false;  // a final response head was queued
  SendWindow send;
  RingQueue<BodyChunk> body;
  size_t body_bytes = 0;       // unframed body bytes in `body`
  uint64_t body_accepted = 0;  // bytes ever written into `body`
  uint64_t body_framed = 0;    // bytes ever framed
  // Response trailers, kept as text: they are HPACK-encoded only when framed, because blocks
  // must reach the peer in the order the encoder made them (RFC 7541 §2.2).
  std::string trailer_storage;
  struct TrailerSizes {
    uint32_t name;
    uint32_t value;
    bool sensitive;
  };
  std::vector<TrailerSizes> trailer_sizes;
  bool send_trailers = false;
  std::vector<std::pair<uint64_t, std::function<void(bool)>>> flushes;  // (body offset, cb)
  // Body waiting while the peer's stream window is closed, since when (flow-control stall).
  bool stalled = false;
  uint64_t stalled_since_ms = 0;
  // When request DATA last arrived (or the request opened): request_body_timeout_ms.
  uint64_t last_data_ms = 0;

  void* user_data = nullptr;

  bool remote_open() const {
    return state == StreamState::kOpen || state == StreamState::kHalfClosedLocal;
  }
  bool local_open() const {
    return state == StreamState::kOpen || state == StreamState::kHalfClosedRemote ||
           state == StreamState::kReservedLocal;
  }
  // Something to frame: body bytes, or the end of the body (empty DATA / trailers).
  bool has_output() const {
    return response != ResponseState::kNone && response != ResponseState::kDone &&
           (body_bytes > 0 || response == ResponseState::kEnding);
  }
};

}  // namespace h2::protocol::detail
