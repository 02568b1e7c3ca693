"""RFC 9113 §5.2, §6.9, §6.9.1, §6.9.2: flow control."""

from .. import frames as F
from ..registry import case


@case("6.9/zero-increment-connection",
      "WINDOW_UPDATE of 0 on the connection → connection error PROTOCOL_ERROR")
def zero_conn(c):
    c.start()
    c.send(F.window_update(0, 0))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.9/zero-increment-stream",
      "WINDOW_UPDATE of 0 on a stream → stream error PROTOCOL_ERROR")
def zero_stream(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.window_update(sid, 0))
    c.expect_stream_error(sid, F.PROTOCOL_ERROR)


@case("6.9/length-3", "WINDOW_UPDATE of 3 octets → connection error FRAME_SIZE_ERROR")
def length_3(c):
    c.start()
    c.send(F.raw(F.WINDOW_UPDATE, 0, 0, b"\x00\x00\x01"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.9/length-5", "WINDOW_UPDATE of 5 octets → connection error FRAME_SIZE_ERROR")
def length_5(c):
    c.start()
    c.send(F.raw(F.WINDOW_UPDATE, 0, 0, b"\x00\x00\x00\x01\x00"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.9/interleaved", "WINDOW_UPDATE frames on the connection and the stream during a "
      "request are accepted")
def interleaved(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.window_update(0, 1), F.data(sid, b"a"), F.window_update(sid, 1),
           F.data(sid, b"b", end_stream=True))
    c.expect_response(sid)


@case("6.9.1/connection-window-overflow", "a connection window above 2^31-1 → connection error "
      "FLOW_CONTROL_ERROR")
def conn_overflow(c):
    c.start()
    c.send(F.window_update(0, F.MAX_WINDOW))
    c.expect_connection_error(F.FLOW_CONTROL_ERROR)


@case("6.9.1/connection-window-overflow-in-steps", "two WINDOW_UPDATEs taking the connection "
      "window above 2^31-1 → connection error FLOW_CONTROL_ERROR")
def conn_overflow_steps(c):
    c.start()
    c.send(F.window_update(0, F.MAX_WINDOW - c.recv_conn_window))
    c.expect_alive()
    c.send(F.window_update(0, 1))
    c.expect_connection_error(F.FLOW_CONTROL_ERROR)


@case("6.9.1/stream-window-overflow", "a stream window above 2^31-1 → stream error "
      "FLOW_CONTROL_ERROR")
def stream_overflow(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.window_update(sid, F.MAX_WINDOW))
    c.expect_stream_error(sid, F.FLOW_CONTROL_ERROR)


@case("6.9.1/stream-window-max-ok", "a stream window of exactly 2^31-1 is allowed")
def stream_window_max(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.window_update(sid, F.MAX_WINDOW - c.initial_window))
    c.send(F.data(sid, b"x", end_stream=True))
    c.expect_response(sid)


@case("5.2.1/zero-window-holds-data", "with SETTINGS_INITIAL_WINDOW_SIZE 0 the server sends no "
      "DATA until a WINDOW_UPDATE opens the stream")
def zero_window(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, 0)])
    c.auto_window = False
    sid = c.request()
    c.expect_no_data(sid, 0.5)
    c.auto_window = True
    c.give_window(sid, 65535, connection=False)
    c.expect_response(sid)


@case("5.2.1/one-byte-window", "with a 1-octet stream window the server sends DATA one octet at a "
      "time and completes as the window reopens")
def one_byte_window(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, 1)])
    sid = c.request()  # auto_window gives back each octet; _account_data checks the window
    c.expect_response(sid, timeout=10)


@case("5.2.2/headers-not-flow-controlled", "with a zero stream window the response HEADERS "
      "still arrive (only DATA is flow controlled, §6.9)")
def headers_not_fc(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, 0)])
    c.auto_window = False
    sid = c.request()
    c.expect_frame(lambda e: getattr(e, "fields", None) is not None and e.stream_id == sid,
                   "response HEADERS on stream %d" % sid, keep=True)
    c.auto_window = True
    c.give_window(sid, 65535, connection=False)
    c.expect_response(sid)


@case("6.9.2/initial-window-too-large", "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 → "
      "connection error FLOW_CONTROL_ERROR")
def initial_too_large(c):
    c.start()
    c.send(F.settings([(F.INITIAL_WINDOW_SIZE, 2**31)]))
    c.expect_connection_error(F.FLOW_CONTROL_ERROR)


@case("6.9.2/initial-window-change-overflows-stream", "a SETTINGS_INITIAL_WINDOW_SIZE change "
      "that takes an open stream's window above 2^31-1 → connection error FLOW_CONTROL_ERROR")
def initial_change_overflow(c):
    # Window 0, then 2^31-1 by WINDOW_UPDATE; the server may send DATA meanwhile, but no more
    # than the 64 KiB connection window, so raising the initial size by 1 MiB must overflow.
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, 0)])
    c.auto_window = False
    sid = c.request("POST", end_stream=False)
    c.give_window(sid, F.MAX_WINDOW, connection=False)
    c.expect_alive()
    c.send(c.our_settings([(F.INITIAL_WINDOW_SIZE, 1 << 20)]))
    c.expect_connection_error(F.FLOW_CONTROL_ERROR)


@case("6.9.2/initial-window-change-applies", "raising SETTINGS_INITIAL_WINDOW_SIZE from 0 to 1 "
      "lets exactly one octet of DATA flow on an existing stream")
def initial_change_applies(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, 0)])
    c.auto_window = False
    sid = c.request()
    c.expect_no_data(sid, 0.3)
    c.send(c.our_settings([(F.INITIAL_WINDOW_SIZE, 1)]))
    got = c.expect_frame(lambda e: e.stream_id == sid and hasattr(e, "flow_controlled_length")
                         and e.flow_controlled_length > 0, "1 octet of DATA")
    if got.flow_controlled_length != 1:
        c.fail("expected 1 octet of DATA, got %d" % got.flow_controlled_length)


@case("6.9.2/negative-window", "lowering SETTINGS_INITIAL_WINDOW_SIZE can make a stream window "
      "negative: no DATA until WINDOW_UPDATEs bring it above zero")
def negative_window(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, 0)])
    c.auto_window = False
    sid = c.request()
    c.expect_no_data(sid, 0.2)
    c.send(c.our_settings([(F.INITIAL_WINDOW_SIZE, 3)]))
    first = c.expect_frame(lambda e: e.stream_id == sid and hasattr(e, "flow_controlled_length")
                           and e.flow_controlled_length > 0, "DATA within a 3-octet window")
    if "END_STREAM" in first.flags:
        c.fail("the response body is too short for this case (%d octets)" %
               first.flow_controlled_length)
    used = first.flow_controlled_length
    c.send(c.our_settings([(F.INITIAL_WINDOW_SIZE, 0)]))  # window: 3 - used - 3 < 0
    deadline = c.deadline()
    while c.unacked_settings:  # DATA sent before the server saw the change counts too
        ev = c._next(deadline)
        if ev in ("timeout", "connection closed"):
            c.fail("expected SETTINGS ACK, got %s" % ev)
        if ev.stream_id == sid and hasattr(ev, "flow_controlled_length"):
            used += ev.flow_controlled_length
    c.send(F.window_update(sid, used))
    c.recv_stream_window[sid] += used  # back to exactly 0
    c.expect_no_data(sid, 0.3)
    c.give_window(sid, 1, connection=False)
    got = c.expect_frame(lambda e: e.stream_id == sid and hasattr(e, "flow_controlled_length")
                         and e.flow_controlled_length > 0, "1 octet of DATA")
    if got.flow_controlled_length != 1:
        c.fail("expected 1 octet of DATA, got %d" % got.flow_controlled_length)


@case("6.9.2/initial-window-not-connection", "SETTINGS_INITIAL_WINDOW_SIZE does not change the "
      "connection window: a connection WINDOW_UPDATE to exactly 2^31-1 is still accepted")
def initial_not_connection(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, F.MAX_WINDOW)])
    c.send(F.window_update(0, F.MAX_WINDOW - 65535))
    c.expect_alive()
    sid = c.request()
    c.expect_response(sid)


@case("5.2.1/large-upload", "a 256 KiB request body sent within the server's windows completes: "
      "the server returns credit as it consumes DATA")
def large_upload(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send_body(sid, b"u" * (256 * 1024))
    c.expect_response(sid, timeout=5)
