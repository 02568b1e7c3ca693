"""RFC 9113 §4.1 (frame format) and §4.2 (frame size)."""

from .. import frames as F
from ..registry import case


@case("4.1/unknown-flags-headers", "undefined flags on HEADERS are ignored")
def unknown_flags_headers(c):
    c.start()
    sid = c.new_stream()
    block = c.encode(c.request_fields())
    c.send(F.raw(F.HEADERS, F.END_STREAM | F.END_HEADERS | 0x02 | 0x10 | 0x40 | 0x80, sid, block))
    c.expect_response(sid)


@case("4.1/unknown-flags-data", "undefined flags on DATA are ignored")
def unknown_flags_data(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.DATA, F.END_STREAM | 0x02 | 0x04 | 0x10 | 0x20 | 0x40 | 0x80, sid, b"body"))
    c.expect_response(sid)


@case("4.1/unknown-flags-ping", "undefined flags on PING are ignored; the ACK echoes the data")
def unknown_flags_ping(c):
    c.start()
    c.send(F.raw(F.PING, 0xFE, 0, b"flags!!!"))
    c.expect_ping_ack(b"flags!!!")


@case("4.1/unknown-flags-settings", "undefined flags on SETTINGS are ignored (still acknowledged)")
def unknown_flags_settings(c):
    c.start()
    c.unacked_settings.append([])
    c.send(F.raw(F.SETTINGS, 0xFE, 0, b""))
    c.expect_settings_ack()
    c.expect_alive()


@case("4.1/reserved-bit-stream-id",
      "the reserved bit of the stream identifier is ignored when receiving")
def reserved_bit(c):
    c.start()
    sid = c.new_stream()
    block = c.encode(c.request_fields())
    c.send(F.raw(F.HEADERS, F.END_STREAM | F.END_HEADERS, sid | 0x80000000, block))
    c.expect_response(sid)


@case("4.1/reserved-bit-window-update",
      "the reserved bit of a WINDOW_UPDATE increment is ignored (§6.9)")
def reserved_bit_window_update(c):
    c.start()
    c.send(F.window_update(0, 0x80000001))
    c.expect_alive()
    sid = c.request()
    c.expect_response(sid)


@case("4.2/data-too-large",
      "DATA above SETTINGS_MAX_FRAME_SIZE → FRAME_SIZE_ERROR (stream or connection)")
def data_too_large(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"x" * (c.server_max_frame_size + 1), end_stream=True))
    c.expect_stream_error(sid, F.FRAME_SIZE_ERROR, conn_ok=True)


@case("4.2/headers-too-large",
      "HEADERS above SETTINGS_MAX_FRAME_SIZE → connection error FRAME_SIZE_ERROR")
def headers_too_large(c):
    c.start()
    sid = c.new_stream()
    block = c.block().literal("x-big", "a" * (c.server_max_frame_size + 10)).bytes()
    c.send(F.headers(sid, block))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("4.2/continuation-too-large",
      "CONTINUATION above SETTINGS_MAX_FRAME_SIZE → connection error FRAME_SIZE_ERROR")
def continuation_too_large(c):
    c.start()
    sid = c.new_stream()
    block = c.block().literal("x-big", "a" * (c.server_max_frame_size + 10)).bytes()
    c.send(F.headers(sid, block[:10], end_headers=False), F.continuation(sid, block[10:]))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("4.2/settings-too-large",
      "SETTINGS above SETTINGS_MAX_FRAME_SIZE → connection error FRAME_SIZE_ERROR")
def settings_too_large(c):
    c.start()
    n = (c.server_max_frame_size // 6 + 1) * 6
    c.send(F.raw(F.SETTINGS, 0, 0, F.settings_payload([(0xF0F0, 1)] * (n // 6))))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("4.2/ping-too-large",
      "a PING above SETTINGS_MAX_FRAME_SIZE → connection error FRAME_SIZE_ERROR")
def ping_too_large(c):
    c.start()
    c.send(F.raw(F.PING, 0, 0, b"p" * (c.server_max_frame_size + 1)))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("4.2/max-size-data-accepted",
      "DATA of exactly SETTINGS_MAX_FRAME_SIZE octets is accepted")
def max_size_data(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    size = min(c.server_max_frame_size, c.send_conn_window, c.server_initial_window)
    c.send(F.data(sid, b"m" * size, end_stream=True))
    c.expect_response(sid)


@case("4.2/headers-padded-too-short",
      "HEADERS with PADDED but no room for the Pad Length → connection error FRAME_SIZE_ERROR")
def headers_padded_too_short(c):
    c.start()
    c.send(F.raw(F.HEADERS, F.PADDED | F.END_HEADERS | F.END_STREAM, 1, b""))
    c.note_stream(1)
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("4.2/headers-priority-too-short", "HEADERS with PRIORITY but fewer than 5 octets → "
      "connection error FRAME_SIZE_ERROR")
def headers_priority_too_short(c):
    c.start()
    c.note_stream(1)
    c.send(F.raw(F.HEADERS, F.PRIORITY_FLAG | F.END_HEADERS | F.END_STREAM, 1, b"\x00\x00\x00"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("4.2/data-padded-too-short",
      "DATA with PADDED and an empty payload → FRAME_SIZE_ERROR (stream or connection)")
def data_padded_too_short(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.DATA, F.PADDED | F.END_STREAM, sid, b""))
    c.expect_stream_error(sid, F.FRAME_SIZE_ERROR, conn_ok=True)


@case("4.2/goaway-too-short",
      "GOAWAY shorter than 8 octets → connection error FRAME_SIZE_ERROR")
def goaway_too_short(c):
    c.start()
    c.send(F.raw(F.GOAWAY, 0, 0, b"\x00\x00\x00\x00\x00\x00\x00"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)
