"""RFC 9113 §5.5: unknown frame types, flags and settings are ignored."""

from .. import frames as F
from ..registry import case


@case("5.5/unknown-frame-connection", "an unknown frame type on stream 0 is ignored")
def unknown_conn(c):
    c.start()
    c.send(F.raw(F.UNKNOWN_TYPE, 0, 0, b"whatever"))
    c.expect_alive()


@case("5.5/unknown-frame-open-stream", "an unknown frame type on an open stream is ignored")
def unknown_open(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.UNKNOWN_TYPE, 0xFF, sid, b"ext"), F.data(sid, b"x", end_stream=True))
    c.expect_response(sid)


@case("5.5/unknown-frame-idle-stream", "an unknown frame type on an idle stream is ignored and "
      "does not open it (a lower stream is still usable)")
def unknown_idle(c):
    c.start()
    c.send(F.raw(F.UNKNOWN_TYPE, 0, 7, b"ext"))
    sid = c.request(sid=1)
    c.expect_response(sid)


@case("5.5/unknown-frame-closed-stream", "an unknown frame type on a closed stream is ignored")
def unknown_closed(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)
    c.send(F.raw(F.UNKNOWN_TYPE, 0, sid, b"ext"))
    c.expect_alive()


@case("5.5/unknown-frame-between-data", "unknown frames between DATA frames are ignored")
def unknown_between_data(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"a"), F.raw(0x42, 0, sid, b""), F.raw(0x43, 0, 0, b"x" * 100),
           F.data(sid, b"b", end_stream=True))
    c.expect_response(sid)


@case("5.5/unknown-frame-empty-and-large", "unknown frames of 0 and of SETTINGS_MAX_FRAME_SIZE "
      "octets are ignored")
def unknown_sizes(c):
    c.start()
    c.send(F.raw(0x77, 0, 0, b""), F.raw(0x78, 0, 0, b"z" * c.server_max_frame_size))
    c.expect_alive()


@case("5.5/unknown-frame-in-field-block", "an unknown frame inside a field block → connection "
      "error PROTOCOL_ERROR (§4.3, §6.10)")
def unknown_in_block(c):
    c.start()
    sid = c.new_stream()
    block = c.block().bytes()
    c.send(F.headers(sid, block[:3], end_headers=False), F.raw(F.UNKNOWN_TYPE, 0, sid, b"x"),
           F.continuation(sid, block[3:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("5.5/unknown-setting", "an unknown setting identifier is ignored (SETTINGS acknowledged)")
def unknown_setting(c):
    c.start()
    c.send(c.our_settings([(0x00FF, 12345), (0xFFFF, 0)]))
    c.expect_settings_ack()
    sid = c.request()
    c.expect_response(sid)


@case("5.5/altsvc-from-client", "an ALTSVC frame from a client is ignored (RFC 7838 §4)")
def altsvc(c):
    c.start()
    c.send(F.raw(F.ALTSVC, 0, 0, b"\x00\x00" + b'h2=":443"'))
    c.expect_alive()


@case("5.5/extension-frame-with-flags-on-stream-0",
      "unknown frame types with every flag set are ignored")
def unknown_flags(c):
    c.start()
    c.send(*[F.raw(t, 0xFF, 0, b"\x00" * 8) for t in (0x20, 0x30, 0xFA, 0xFF)])
    c.expect_alive()
