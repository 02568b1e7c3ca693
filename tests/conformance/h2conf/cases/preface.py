"""RFC 9113 §3.4: the connection preface."""

from .. import frames as F
from ..client import CLOSED, TIMEOUT
from ..registry import case


@case("3.4/server-settings-first", "the server's preface is a SETTINGS frame, sent first")
def server_settings_first(c):
    c.start()  # handshake() fails unless the first frame is a non-ACK SETTINGS


@case("3.4/settings-acked", "the client's SETTINGS in the preface is acknowledged (§6.5.3)")
def settings_acked(c):
    c.start(handshake=False)
    c.handshake()
    c.expect_alive()


@case("3.4/invalid-preface", "an invalid client preface → connection error PROTOCOL_ERROR")
def invalid_preface(c):
    c.connect()
    c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + F.settings())
    c.expect_connection_error(F.PROTOCOL_ERROR, goaway_optional=True)  # §3.4: MAY omit GOAWAY


def expect_no_http1_answer(c):
    """The first bytes back must be HTTP/2 frames (then GOAWAY(PROTOCOL_ERROR)) or a plain close,
    never an HTTP/1.1 status line, which an HTTP/2 client reads as a garbage frame header."""
    ev = c._read_frame(c.deadline())
    if bytes(c.buf).startswith(b"HTTP/"):
        c.fail("answered as HTTP/1.1: %r" % bytes(c.buf[:40]))
    if ev not in (CLOSED, TIMEOUT):
        head, body = ev
        if head[:3] == b"HTT":
            c.fail("answered as HTTP/1.1: %r" % (head + body[:31]))
        c.buf[:0] = head + body  # give the frame back to the frame reader
    c.expect_connection_error(F.PROTOCOL_ERROR, goaway_optional=True)


@case("3.4/broken-preface-not-http1",
      "a broken client preface on a port that also serves HTTP/1.1 → PROTOCOL_ERROR, not a 400")
def broken_preface_not_http1(c):
    c.connect()
    c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + F.settings())
    expect_no_http1_answer(c)


@case("3.4/not-a-request-line",
      "bytes that start neither the preface nor an HTTP/1.x request line → PROTOCOL_ERROR")
def not_a_request_line(c):
    c.connect()
    c.send(b"GET / HTTP/2.0\r\n\r\n" + F.settings())
    expect_no_http1_answer(c)


@case("3.4/preface-not-settings",
      "the preface not followed by a SETTINGS frame → connection error PROTOCOL_ERROR")
def preface_not_settings(c):
    c.connect()
    c.send(F.PREFACE + F.ping())
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("3.4/preface-settings-ack-first",
      "a SETTINGS ACK as the first frame is not the preface SETTINGS → PROTOCOL_ERROR")
def preface_settings_ack_first(c):
    c.connect()
    c.send(F.PREFACE + F.settings_ack())
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("3.4/preface-byte-by-byte", "a preface arriving one byte at a time is accepted")
def preface_byte_by_byte(c):
    c.connect()
    for b in F.PREFACE + c.our_settings([(F.ENABLE_PUSH, 0)]):
        c.send(bytes([b]))
    c.handshake()
    sid = c.request()
    c.expect_response(sid)


@case("3.4/request-before-server-preface",
      "frames may follow the client preface without waiting for the server's")
def request_before_server_preface(c):
    c.start(handshake=False)
    sid = c.request()
    c.expect_response(sid)


@case("3.4/preface-bad-settings",
      "a preface SETTINGS frame with a length not a multiple of 6 → FRAME_SIZE_ERROR (§6.5)")
def preface_bad_settings(c):
    c.connect()
    c.send(F.PREFACE + F.raw(F.SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)
