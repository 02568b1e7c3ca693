"""RFC 9113 §5.4 (error handling) and §7 (error codes)."""

from .. import frames as F
from ..registry import case


@case("5.4.1/goaway-then-close", "after a connection error (and its GOAWAY, a SHOULD) the server "
      "MUST close the TCP connection")
def goaway_then_close(c):
    c.start()
    c.send(F.raw(F.DATA, 0, 0, b"x"))  # §6.1: DATA on stream 0
    c.expect_connection_error(F.PROTOCOL_ERROR)
    c.expect_closed()


@case("5.4.1/goaway-last-stream-id", "the GOAWAY of a connection error names the last stream the "
      "server processed: the completed stream 1 (never a stream the client did not open)")
def goaway_last_stream(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)
    c.send(F.window_update(0, 0))
    ev = c.expect_connection_error(F.PROTOCOL_ERROR)
    if ev is not None and ev.last_stream_id != sid:
        c.fail("GOAWAY last_stream_id %d, expected %d (RFC 9113 §6.8)" % (ev.last_stream_id, sid))


@case("5.4.2/stream-error-connection-continues", "after a stream error signalled by RST_STREAM the "
      "connection keeps serving other streams")
def stream_error_continues(c):
    c.start()
    sid = c.new_stream()
    c.send(F.headers(sid, c.block().literal("X-Upper", "1").bytes()))
    if c.expect_malformed(sid) in ("goaway", "closed"):
        return  # §5.4.1 lets a server escalate; --strict refuses that
    sid = c.request()
    c.expect_response(sid)


@case("5.4.2/no-rst-for-rst", "a RST_STREAM is never answered with a RST_STREAM")
def no_rst_for_rst(c):
    c.start()
    sids = [c.request("POST", end_stream=False) for _ in range(3)]
    c.send(*[F.rst_stream(s, F.CANCEL) for s in sids])
    c.expect_alive()


@case("7/unknown-error-code-rst", "RST_STREAM with an unknown error code triggers nothing "
      "special: the stream closes, the connection goes on")
def unknown_code_rst(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.rst_stream(sid, 0xDEAD))
    c.expect_alive()
    sid = c.request()
    c.expect_response(sid)


@case("7/unknown-error-code-goaway", "GOAWAY with an unknown error code triggers nothing special: "
      "the in-flight request is still answered")
def unknown_code_goaway(c):
    c.start()
    sid = c.request()
    c.send(F.goaway(0, 0xBEEF, b"bye"))
    c.expect_response(sid)
