"""RFC 9113 §6.1 (DATA) and §6.2 (HEADERS)."""

from .. import frames as F
from ..registry import case


@case("6.1/stream-0", "DATA on stream 0 → connection error PROTOCOL_ERROR")
def data_stream_0(c):
    c.start()
    c.send(F.raw(F.DATA, 0, 0, b"x"))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.1/pad-length-too-large", "DATA whose Pad Length equals the payload length → connection "
      "error PROTOCOL_ERROR")
def data_pad_too_large(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.DATA, F.PADDED | F.END_STREAM, sid, b"\x05abcd"))  # 5 octets of payload
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.1/pad-length-way-too-large", "DATA whose Pad Length exceeds the payload → connection "
      "error PROTOCOL_ERROR")
def data_pad_way_too_large(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.DATA, F.PADDED | F.END_STREAM, sid, b"\xffab"))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.1/padded", "padded DATA is accepted; the padding is not content")
def data_padded(c):
    c.start()
    sid = c.request("POST", end_stream=False, extra=[("content-length", "4")])
    c.send(F.data(sid, b"ab", pad=10), F.data(sid, b"cd", end_stream=True, pad=0))
    c.expect_response(sid)


@case("6.1/padding-only", "DATA that is all padding (Pad Length = payload - 1) is accepted")
def data_padding_only(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.DATA, F.PADDED, sid, b"\x09" + b"\x00" * 9), F.data(sid, b"x", end_stream=True))
    c.expect_response(sid)


@case("6.1/padding-counts-for-flow-control", "padding is flow controlled: padded DATA up to the "
      "window is accepted and the upload completes")
def data_padding_flow(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    for _ in range(8):
        c.send(F.data(sid, b"p" * 10, pad=200))
        c.send_conn_window -= 211
        c.send_stream_window[sid] -= 211
    c.send_body(sid, b"q" * 70000)
    c.expect_response(sid, timeout=5)


@case("6.1/empty-end-stream", "an empty DATA frame with END_STREAM ends the request")
def data_empty_end(c):
    c.start()
    sid = c.request(end_stream=False)
    c.send(F.data(sid, b"", end_stream=True))
    c.expect_response(sid)


@case("6.1/many-small", "a body in 100 one-octet DATA frames is accepted")
def data_many(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(*[F.data(sid, b"d") for _ in range(99)], F.data(sid, b"d", end_stream=True))
    c.expect_response(sid)


@case("6.2/stream-0", "HEADERS on stream 0 → connection error PROTOCOL_ERROR")
def headers_stream_0(c):
    c.start()
    c.send(F.raw(F.HEADERS, F.END_HEADERS | F.END_STREAM, 0, c.block().bytes()))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.2/pad-length-too-large", "HEADERS padding beyond the field block fragment → connection "
      "error PROTOCOL_ERROR")
def headers_pad_too_large(c):
    c.start()
    block = c.block().bytes()
    c.note_stream(1)
    c.send(F.raw(F.HEADERS, F.PADDED | F.END_HEADERS | F.END_STREAM, 1,
                 bytes([len(block) + 1]) + block))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.2/pad-with-priority-too-large", "HEADERS with PRIORITY whose padding leaves no room → "
      "connection error PROTOCOL_ERROR")
def headers_pad_prio_too_large(c):
    c.start()
    block = c.block().bytes()
    c.note_stream(1)
    payload = bytes([len(block) + 1]) + F.priority_payload(0, 15) + block
    c.send(F.raw(F.HEADERS, F.PADDED | F.PRIORITY_FLAG | F.END_HEADERS | F.END_STREAM, 1,
                 payload))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.2/padded", "padded HEADERS are accepted")
def headers_padded(c):
    c.start()
    sid = c.request(pad=32)
    c.expect_response(sid)


@case("6.2/priority-flag", "HEADERS with the PRIORITY flag are accepted")
def headers_priority(c):
    c.start()
    sid = c.request(prio=(0, 200, True))
    c.expect_response(sid)


@case("6.2/padded-and-priority", "HEADERS with PADDED and PRIORITY are accepted")
def headers_padded_priority(c):
    c.start()
    sid = c.request(pad=7, prio=(0, 1, False))
    c.expect_response(sid)


@case("6.2/priority-on-idle-dependency", "a PRIORITY flag depending on an idle stream is accepted")
def headers_prio_idle(c):
    c.start()
    sid = c.request(prio=(99, 16, False))
    c.expect_response(sid)


@case("6.2/end-stream-with-continuation", "END_STREAM on HEADERS followed by CONTINUATION ends "
      "the request once END_HEADERS arrives")
def headers_end_stream_cont(c):
    c.start()
    sid = c.new_stream()
    block = c.encode(c.request_fields(extra=[("x-pad", "v" * 50)]))
    c.send(F.headers(sid, block[:5], end_stream=True, end_headers=False),
           F.continuation(sid, block[5:]))
    c.expect_response(sid)


@case("6.2/second-headers-without-end-stream", "a second HEADERS without END_STREAM (trailers "
      "must end the stream) → malformed, stream error PROTOCOL_ERROR (§8.1)")
def headers_second_no_es(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"x"), F.headers(sid, c.encode([("x-trailer", "1")]), end_stream=False))
    c.expect_malformed(sid, after_response_start=True)
