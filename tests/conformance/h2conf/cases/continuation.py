"""RFC 9113 §6.10 (CONTINUATION) and §4.3 (field blocks are contiguous)."""

from .. import frames as F
from ..registry import case


def _block(c):
    return c.encode(c.request_fields(extra=[("x-filler", "f" * 60)]), huffman=False)


@case("6.10/one", "HEADERS + one CONTINUATION form one field block")
def one(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:10], end_headers=False), F.continuation(sid, b[10:]))
    c.expect_response(sid)


@case("6.10/many", "a field block in HEADERS + 6 CONTINUATION frames, cut inside "
      "representations, is accepted")
def many(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    cuts = [0, 1, 3, 7, 12, 20, 33, len(b)]
    frames = [F.headers(sid, b[:1], end_headers=False)]
    frames += [F.continuation(sid, b[cuts[i]:cuts[i + 1]], end_headers=i == len(cuts) - 2)
               for i in range(1, len(cuts) - 1)]
    c.send(*frames)
    c.expect_response(sid)


@case("6.10/empty-headers-fragment", "HEADERS with an empty fragment, the block in CONTINUATION, "
      "is accepted")
def empty_headers(c):
    c.start()
    sid = c.new_stream()
    c.send(F.headers(sid, b"", end_headers=False), F.continuation(sid, _block(c)))
    c.expect_response(sid)


@case("6.10/empty-continuations", "empty CONTINUATION frames inside a field block are accepted")
def empty_conts(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False), F.continuation(sid, b"", end_headers=False),
           F.continuation(sid, b[8:], end_headers=False), F.continuation(sid, b""))
    c.expect_response(sid)


@case("6.10/unknown-flags", "undefined flags on CONTINUATION are ignored")
def cont_flags(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False),
           F.raw(F.CONTINUATION, F.END_HEADERS | 0xFB, sid, b[8:]))
    c.expect_response(sid)


@case("6.10/trailers", "a trailer section split over CONTINUATION is accepted")
def cont_trailers(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    t = c.encode([("x-trailer-one", "1"), ("x-trailer-two", "2" * 40)])
    c.send(F.data(sid, b"abc"), F.headers(sid, t[:3], end_stream=True, end_headers=False),
           F.continuation(sid, t[3:]))
    c.expect_response(sid)


@case("6.10/after-end-headers", "CONTINUATION after a HEADERS with END_HEADERS → connection "
      "error PROTOCOL_ERROR")
def after_end(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.continuation(sid, c.encode([("x-late", "1")])))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/stream-0", "CONTINUATION on stream 0 → connection error PROTOCOL_ERROR")
def cont_stream_0(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False), F.raw(F.CONTINUATION, F.END_HEADERS, 0, b[8:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/other-stream", "CONTINUATION on another stream → connection error PROTOCOL_ERROR")
def other_stream(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False), F.continuation(sid + 2, b[8:]))
    c.note_stream(sid + 2)
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/data-interleaved", "DATA inside a field block → connection error PROTOCOL_ERROR")
def data_inside(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_stream=False, end_headers=False), F.data(sid, b"x"),
           F.continuation(sid, b[8:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/ping-interleaved", "PING inside a field block → connection error PROTOCOL_ERROR")
def ping_inside(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False), F.ping(), F.continuation(sid, b[8:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/headers-interleaved", "HEADERS of another stream inside a field block → connection "
      "error PROTOCOL_ERROR")
def headers_inside(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    other = c.new_stream()
    c.send(F.headers(sid, b[:8], end_headers=False), F.headers(other, c.block().bytes()),
           F.continuation(sid, b[8:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/settings-interleaved", "SETTINGS inside a field block → connection error "
      "PROTOCOL_ERROR")
def settings_inside(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False), F.settings(),
           F.continuation(sid, b[8:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/window-update-interleaved", "WINDOW_UPDATE inside a field block → connection error "
      "PROTOCOL_ERROR")
def wu_inside(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False), F.window_update(0, 10),
           F.continuation(sid, b[8:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/rst-interleaved", "RST_STREAM inside a field block → connection error PROTOCOL_ERROR")
def rst_inside(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:8], end_headers=False), F.rst_stream(sid, F.CANCEL),
           F.continuation(sid, b[8:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.10/never-ended", "a field block that never ends, then GOAWAY-worthy junk: a DATA frame "
      "on the same stream after several CONTINUATIONs → connection error PROTOCOL_ERROR")
def never_ended(c):
    c.start()
    sid = c.new_stream()
    b = _block(c)
    c.send(F.headers(sid, b[:4], end_stream=False, end_headers=False),
           *[F.continuation(sid, b[4 + i:5 + i], end_headers=False) for i in range(4)],
           F.data(sid, b"x", end_stream=True))
    c.expect_connection_error(F.PROTOCOL_ERROR)
