// The respond API: one Reqd per request (model: ocaml-h2's Reqd), handed to
// RequestHandler::on_request() when a request head is complete.
//
// Lifetime and threading. A Reqd (and a Writer) is a counted handle: copying it is cheap and
// every copy keeps the stream's request storage and the connection's core alive, so an
// asynchronous handler may keep one after on_request() returns and use it later. The views
// returned by request() and request_trailers() stay valid for as long as any handle to that
// request exists. Once the stream is over (response sent, reset, or the connection closed or
// destroyed) every operation returns a Result instead of acting; nothing dangles. Handles are
// NOT thread-safe: use them on the thread (or Asio strand) that drives the ServerConnection.
// Callbacks passed in are dropped (destroyed) when the stream ends, which breaks any cycle
// through a handle captured in them.
//
// Typical handler sequences:
//   GET:   reqd.respond_with_string({200, headers}, "hello")
//   POST:  reqd.schedule_read(on_chunk, on_eof)   // on_chunk(view) once; call again for more
//          ... on_eof(): reqd.respond_with_string({201, {}}, "done")
//   Stream: Writer w = reqd.respond_with_streaming({200, headers});
//          w.write("a"); w.write_borrowed(big, release); w.flush(cb); w.close();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "protocol/frame/frame_types.h"

namespace h2::protocol {

namespace detail {
class Core;
struct Stream;
}  // namespace detail

// Outcome of every respond-API operation. No exceptions anywhere.
enum class Result : uint8_t {
  kOk,
  kStreamClosed,      // stream reset or finished; the operation did nothing
  kConnectionClosed,  // connection closed or destroyed
  kAlreadyResponded,  // a final response head was already given
  kNotResponding,     // writer used before/after its response (e.g. write after close)
  kInvalidArgument,   // bad status, uppercase or connection-specific field name, ...
  kPushDisabled,      // peer sent SETTINGS_ENABLE_PUSH=0, or the request is itself pushed
  kPushLimitReached,  // peer's SETTINGS_MAX_CONCURRENT_STREAMS for pushed streams reached
  kReadPending,       // schedule_read while a read is already scheduled
};
std::string_view result_name(Result r);

// One header field. Names must be lowercase (RFC 9113 §8.2.1).
struct Field {
  std::string_view name;
  std::string_view value;
  bool sensitive = false;  // encode as never-indexed (RFC 7541 §6.2.3)
};

// The response head. `headers` is read during the call only (encoded at once).
struct Response {
  uint16_t status = 200;
  std::span<const Field> headers = {};
};

// The request head; all views valid while a handle to the request exists.
struct RequestHead {
  std::string_view method;
  std::string_view scheme;         // empty for CONNECT
  std::string_view authority;      // from :authority (or empty)
  std::string_view path;           // empty for CONNECT
  std::string_view protocol;       // RFC 8441 :protocol, extended CONNECT only
  std::span<const Field> headers;  // regular fields, in order, cookies not joined
  int64_t content_length = -1;     // -1 when absent
  uint32_t stream_id = 0;
};

class Writer;

// Result of Reqd::push(): the pushed request's Reqd (respond to it like any other) or the reason.
struct PushResult;

class Reqd {
 public:
  Reqd() = default;  // an empty handle: every call returns kConnectionClosed
  Reqd(const Reqd& other);
  Reqd(Reqd&& other) noexcept;
  Reqd& operator=(Reqd other) noexcept;
  ~Reqd();

  explicit operator bool() const { return stream_ != nullptr; }
  // The request head. Only valid to call on a non-empty handle.
  const RequestHead& request() const;
  // Request trailers (empty until on_eof, or when there were none).
  std::span<const Field> request_trailers() const;
  uint32_t stream_id() const;
  // True once the stream is over (either side reset it, or both sides ended it).
  bool is_closed() const;

  // Body reading with backpressure. Exactly one of the callbacks is called later (possibly
  // synchronously, from inside schedule_read, when data is already buffered):
  //   on_chunk(data) with the next piece of body (view valid during the call only; the bytes are
  //   consumed when it returns and the flow-control window reopens by that much), or on_eof()
  //   when the body is complete (trailers then readable) or the stream was reset, including by
  //   our own RST_STREAM(NO_ERROR) when the response completed before the request body
  //   (RFC 9113 §8.1; body_complete() then stays false).
  // Call schedule_read again from (or after) on_chunk for more.
  Result schedule_read(std::function<void(std::string_view)> on_chunk,
                       std::function<void()> on_eof);
  // True when the request body has been fully received (END_STREAM seen) and read.
  bool body_complete() const;
  // Request body bytes received so far (DATA payload, padding excluded), read or not.
  uint64_t body_bytes_received() const;

  // A response to HEAD carries no content (RFC 9110 §9.3.2), whatever the mode below: string
  // and shared bodies are dropped (END_STREAM on the HEADERS frame), streaming writes are
  // accepted and discarded (borrowed buffers released at once, flushes still complete, trailers
  // dropped) and close() ends the stream. Header fields, content-length included, go out as given.

  // Informational response (1xx, e.g. 103 Early Hints RFC 8297) before the final one.
  Result respond_informational(const Response& response);
  // Final response with a body string moved in once (never copied again).
  Result respond_with_string(const Response& response, std::string body);
  // Final response with a shared immutable buffer: no copy; `body` is a view into *owner,
  // kept alive until written.
  Result respond_with_shared(const Response& response, std::shared_ptr<const void> owner,
                             std::string_view body);
  // Final response whose body follows through the returned Writer (empty on error: see result).
  Writer respond_with_streaming(const Response& response, Result* result = nullptr);

  // Server push (RFC 9113 §8.4): sends PUSH_PROMISE on this stream with the given request
  // (:method GET/HEAD, :scheme, :authority from this request unless given) and returns the
  // promised stream's Reqd, to be answered like any other.
  PushResult push(std::string_view method, std::string_view path,
                  std::span<const Field> headers = {});

  // The handler resets the stream (RST_STREAM with `code`).
  Result reset(ErrorCode code = ErrorCode::kInternalError);
  // The handler failed: 500 if no response head was sent yet, else RST_STREAM(INTERNAL_ERROR).
  Result report_error();

  // One pointer of embedder state (the host keeps its per-request object here).
  void set_user_data(void* data);
  void* user_data() const;

 private:
  friend class detail::Core;
  friend class Writer;
  Reqd(detail::Core* core, detail::Stream* stream);
  detail::Core* core_ = nullptr;
  detail::Stream* stream_ = nullptr;
};

struct PushResult {
  Result result = Result::kOk;
  Reqd pushed;
};

// Streaming response body. A counted handle like Reqd.
class Writer {
 public:
  Writer() = default;
  Writer(const Writer& other);
  Writer(Writer&& other) noexcept;
  Writer& operator=(Writer other) noexcept;
  ~Writer();
  explicit operator bool() const { return stream_ != nullptr; }

  // Copies `data` into the stream's send queue (small writes coalesce).
  Result write(std::string_view data);
  // No copy: `data` must stay valid until `release` is called (after it was written to the
  // socket, or when the stream ended). `release` is always called exactly once, possibly
  // from inside consume_output() or a reset.
  Result write_borrowed(std::string_view data, std::function<void()> release);
  // No copy: `data` views into *owner, which is kept alive until written.
  Result write_shared(std::shared_ptr<const void> owner, std::string_view data);
  // `on_done(true)` once every byte written so far left through consume_output(),
  // `on_done(false)` if the stream or connection closed first. Called exactly once; at once
  // (inside flush) when nothing is pending.
  Result flush(std::function<void(bool written)> on_done);
  // Ends the body; everything written is still sent whole, even if flow control blocks it now.
  Result close();
  // Ends the body with trailers (a HEADERS frame with END_STREAM after the last DATA).
  Result close_with_trailers(std::span<const Field> trailers);
  bool is_closed() const;
  // Bytes written but not yet framed (waiting for flow-control window or the scheduler).
  size_t buffered_bytes() const;

 private:
  friend class detail::Core;
  friend class Reqd;
  Writer(detail::Core* core, detail::Stream* stream);
  detail::Core* core_ = nullptr;
  detail::Stream* stream_ = nullptr;
};

}  // namespace h2::protocol
