"""RFC 9113 §5.1: every stream-state transition a server sees, and frames in the wrong state."""

from hyperframe.frame import DataFrame, HeadersFrame, RstStreamFrame

from .. import frames as F
from ..registry import case

# -- idle -----------------------------------------------------------------------------------------


@case("5.1/idle-data", "idle: DATA → connection error PROTOCOL_ERROR")
def idle_data(c):
    c.start()
    c.send(F.data(1, b"x", end_stream=True))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("5.1/idle-rst-stream", "idle: RST_STREAM → connection error PROTOCOL_ERROR")
def idle_rst(c):
    c.start()
    c.send(F.rst_stream(1, F.CANCEL))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("5.1/idle-window-update", "idle: WINDOW_UPDATE → connection error PROTOCOL_ERROR")
def idle_window_update(c):
    c.start()
    c.send(F.window_update(1, 100))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("5.1/idle-continuation", "idle: CONTINUATION → connection error PROTOCOL_ERROR")
def idle_continuation(c):
    c.start()
    c.send(F.continuation(1, c.block().bytes()))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("5.1/idle-priority", "idle: PRIORITY is allowed and leaves the stream idle (usable)")
def idle_priority(c):
    c.start()
    c.send(F.priority(1, 0, 100))
    c.expect_alive()
    sid = c.request(sid=1)
    c.expect_response(sid)


@case("5.1/idle-to-open", "idle → open on HEADERS; open → half-closed(remote) on END_STREAM DATA")
def idle_to_open(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"abc"), F.data(sid, b"def", end_stream=True))
    c.expect_response(sid)


@case("5.1/idle-to-half-closed", "idle → half-closed(remote) on HEADERS with END_STREAM")
def idle_to_half_closed(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)


@case("5.1/open-to-half-closed-by-trailers",
      "open → half-closed(remote) on a trailer HEADERS with END_STREAM")
def open_to_half_closed_trailers(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"abc"), F.headers(sid, c.encode([("x-trailer", "1")])))
    c.expect_response(sid)

# -- open -----------------------------------------------------------------------------------------


@case("5.1/open-rst-stream", "open → closed on RST_STREAM: no RST_STREAM in reply (§5.4.2), "
      "the connection goes on")
def open_rst(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.rst_stream(sid, F.CANCEL))
    c.expect_alive()
    sid = c.request()
    c.expect_response(sid)


@case("5.1/open-window-update", "open: WINDOW_UPDATE is accepted")
def open_window_update(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.window_update(sid, 1000))
    c.expect_alive()
    c.send(F.data(sid, b"x", end_stream=True))
    c.expect_response(sid)


@case("5.1/open-priority", "open: PRIORITY is accepted")
def open_priority(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.priority(sid, 0, 200))
    c.send(F.data(sid, b"x", end_stream=True))
    c.expect_response(sid)


@case("8.1/no-reset-after-a-complete-request", "a request that ended with its HEADERS gets its "
      "response and no RST_STREAM: §8.1 reserves RST_STREAM(NO_ERROR) for requests still sending")
def no_reset_after_complete_request(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)
    c.expect_alive()  # fails on any RST_STREAM or GOAWAY before the PING ACK


@case("5.1/open-half-closed-local", "open → half-closed(local) when the server ends its response "
      "first: the rest of the request body is still accepted (or reset with NO_ERROR, §8.1)")
def open_half_closed_local(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"part one "))
    deadline = c.deadline(0.5)
    early = False
    seen = []
    while True:
        ev = c._next(deadline)
        if ev == "timeout":
            c.requeue(seen)
            break
        if ev == "connection closed":
            c.fail("connection closed while the request was open")
        if isinstance(ev, RstStreamFrame) and ev.stream_id == sid:
            c.fail("unexpected %s" % ev)
        seen.append(ev)
        if ev.stream_id == sid and (isinstance(ev, DataFrame) and "END_STREAM" in ev.flags or
                                    isinstance(ev, HeadersFrame) and
                                    getattr(ev, "end_stream", False)):
            early = True
            break
    c.send(F.data(sid, b"part two", end_stream=True))
    if early:  # half-closed(local): DATA is still allowed; only NO_ERROR may reset it
        c.send(F.ping(b"hcl-ping"))
        ev = c.expect_frame(lambda e: isinstance(e, RstStreamFrame) or
                            (hasattr(e, "opaque_data") and "ACK" in e.flags),
                            "PING ACK or RST_STREAM(NO_ERROR)")
        if isinstance(ev, RstStreamFrame) and ev.error_code != F.NO_ERROR:
            c.fail("half-closed(local) stream reset with %s" % F.error_name(ev.error_code))
    else:
        c.expect_response(sid)

# -- half-closed (remote) -------------------------------------------------------------------------


def _half_closed_remote(c):
    """A stream whose request is complete, while its (streaming) response may still run."""
    c.start()
    return c.request()


@case("5.1/half-closed-remote-data", "half-closed(remote): DATA → stream error STREAM_CLOSED")
def hcr_data(c):
    sid = _half_closed_remote(c)
    c.send(F.data(sid, b"late"))
    c.expect_stream_error(sid, F.STREAM_CLOSED)


@case("5.1/half-closed-remote-headers",
      "half-closed(remote): HEADERS → stream error STREAM_CLOSED; connection error STREAM_CLOSED "
      "once the server's response closed the stream (§5.1 closed)")
def hcr_headers(c):
    sid = _half_closed_remote(c)
    c.send(F.headers(sid, c.encode([("x-late", "1")])))
    # A handler that answers at once has closed the stream before the late HEADERS is read:
    # then §5.1 "closed" applies, where HEADERS (a reused stream id) is a connection error.
    c.expect_stream_error(sid, F.STREAM_CLOSED, conn_ok=True)


@case("5.1/half-closed-remote-continuation", "half-closed(remote): CONTINUATION → connection "
      "error PROTOCOL_ERROR (no open field block) or stream error STREAM_CLOSED")
def hcr_continuation(c):
    sid = _half_closed_remote(c)
    c.send(F.continuation(sid, c.encode([("x-late", "1")])))
    c.expect_stream_error(sid, F.STREAM_CLOSED, F.PROTOCOL_ERROR, conn_ok=True)


@case("5.1/half-closed-remote-window-update", "half-closed(remote): WINDOW_UPDATE is accepted")
def hcr_window_update(c):
    sid = _half_closed_remote(c)
    c.send(F.window_update(sid, 100))
    c.expect_response(sid)


@case("5.1/half-closed-remote-priority", "half-closed(remote): PRIORITY is accepted")
def hcr_priority(c):
    sid = _half_closed_remote(c)
    c.send(F.priority(sid, 0, 5))
    c.expect_response(sid)


@case("5.1/half-closed-remote-rst-stream",
      "half-closed(remote) → closed on RST_STREAM: no RST_STREAM in reply, connection goes on")
def hcr_rst(c):
    sid = _half_closed_remote(c)
    c.send(F.rst_stream(sid, F.CANCEL))
    c.expect_alive()
    sid = c.request()
    c.expect_response(sid)

# -- closed ---------------------------------------------------------------------------------------


def _closed_by_end_stream(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)
    return sid


@case("5.1/closed-data", "closed (both END_STREAM): DATA → STREAM_CLOSED (stream or connection)")
def closed_data(c):
    sid = _closed_by_end_stream(c)
    c.send(F.data(sid, b"late"))
    c.expect_stream_error(sid, F.STREAM_CLOSED, conn_ok=True)


@case("5.1/closed-headers", "closed (both END_STREAM): HEADERS → connection error STREAM_CLOSED "
      "(§5.1: additional frames after END_STREAM both ways) or PROTOCOL_ERROR (§5.1.1, a reused "
      "stream id)")
def closed_headers(c):
    sid = _closed_by_end_stream(c)
    c.send(F.headers(sid, c.encode(c.request_fields())))
    c.expect_connection_error(F.STREAM_CLOSED, F.PROTOCOL_ERROR)


@case("5.1/closed-continuation", "closed: CONTINUATION → connection error PROTOCOL_ERROR "
      "(no open field block) or STREAM_CLOSED")
def closed_continuation(c):
    sid = _closed_by_end_stream(c)
    c.send(F.continuation(sid, c.encode([("x-late", "1")])))
    c.expect_stream_error(sid, F.STREAM_CLOSED, F.PROTOCOL_ERROR, conn_ok=True)


@case("5.1/closed-priority", "closed: PRIORITY is accepted")
def closed_priority(c):
    sid = _closed_by_end_stream(c)
    c.send(F.priority(sid, 0, 42))
    c.expect_alive()


@case("5.1/closed-window-update-right-after", "closed: a WINDOW_UPDATE that may have crossed the "
      "END_STREAM MUST NOT be treated as an error (§6.9)")
def closed_window_update(c):
    sid = _closed_by_end_stream(c)
    c.send(F.window_update(sid, 10))
    c.expect_alive()


def _closed_by_rst(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.rst_stream(sid, F.CANCEL))
    return sid


@case("5.1/rst-then-data",
      "after receiving RST_STREAM: DATA → stream error STREAM_CLOSED (or connection error)")
def rst_then_data(c):
    sid = _closed_by_rst(c)
    c.send(F.data(sid, b"late"))
    c.expect_stream_error(sid, F.STREAM_CLOSED)


@case("5.1/rst-then-headers",
      "after receiving RST_STREAM: HEADERS → stream error STREAM_CLOSED (or connection error)")
def rst_then_headers(c):
    sid = _closed_by_rst(c)
    c.send(F.headers(sid, c.encode([("x-trailer", "1")])))
    c.expect_stream_error(sid, F.STREAM_CLOSED)


@case("5.1/rst-then-continuation", "after receiving RST_STREAM: CONTINUATION → connection error "
      "PROTOCOL_ERROR or STREAM_CLOSED")
def rst_then_continuation(c):
    sid = _closed_by_rst(c)
    c.send(F.continuation(sid, c.encode([("x-trailer", "1")])))
    c.expect_stream_error(sid, F.STREAM_CLOSED, F.PROTOCOL_ERROR, conn_ok=True)


@case("5.1/rst-then-priority", "after receiving RST_STREAM: PRIORITY is accepted")
def rst_then_priority(c):
    sid = _closed_by_rst(c)
    c.send(F.priority(sid, 0, 1))
    c.expect_alive()


@case("5.1/closed-by-server-reset-ignores", "a stream the server reset: frames that were in "
      "flight are ignored, the connection goes on")
def closed_by_server_reset(c):
    c.start()
    sid = c.new_stream()
    c.send(F.headers(sid, c.block().literal("X-Bad", "1").bytes(), end_stream=False))
    if c.expect_malformed(sid) != "reset":
        return  # the stream did not end in a reset: nothing in flight to ignore
    c.send(F.data(sid, b"in flight"), F.window_update(sid, 5))
    c.expect_alive()
    sid = c.request()
    c.expect_response(sid)
