"""RFC 9113 §6.5: SETTINGS format, defined settings and synchronization."""

from .. import frames as F
from ..registry import case


@case("6.5/ack-with-payload", "SETTINGS ACK with a payload → connection error FRAME_SIZE_ERROR")
def ack_payload(c):
    c.start()
    c.send(F.raw(F.SETTINGS, F.ACK, 0, F.settings_payload([(F.ENABLE_PUSH, 0)])))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.5/nonzero-stream", "SETTINGS on a stream other than 0 → connection error PROTOCOL_ERROR")
def nonzero_stream(c):
    c.start()
    c.send(F.settings([(F.ENABLE_PUSH, 0)], stream_id=1))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.5/length-not-multiple-of-6", "SETTINGS of 3 octets → connection error FRAME_SIZE_ERROR")
def bad_length(c):
    c.start()
    c.send(F.raw(F.SETTINGS, 0, 0, b"\x00\x02\x00"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.5/length-13", "SETTINGS of 13 octets → connection error FRAME_SIZE_ERROR")
def bad_length_13(c):
    c.start()
    c.send(F.raw(F.SETTINGS, 0, 0, F.settings_payload([(F.ENABLE_PUSH, 0)] * 2) + b"\x00"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.5/empty", "an empty SETTINGS frame is acknowledged")
def empty(c):
    c.start()
    c.send(c.our_settings([]))
    c.expect_settings_ack()


@case("6.5/several", "SETTINGS frames sent back to back are each acknowledged")
def several(c):
    c.start()
    c.send(*[c.our_settings([(F.MAX_CONCURRENT_STREAMS, 10 + i)]) for i in range(5)])
    for _ in range(5):
        c.expect_settings_ack()
    c.expect_alive()


@case("6.5.2/enable-push-2", "SETTINGS_ENABLE_PUSH of 2 → connection error PROTOCOL_ERROR")
def enable_push_2(c):
    c.start()
    c.send(F.settings([(F.ENABLE_PUSH, 2)]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.5.2/enable-push-1-accepted", "SETTINGS_ENABLE_PUSH of 1 (from a client) is accepted")
def enable_push_1(c):
    c.start()
    c.send(c.our_settings([(F.ENABLE_PUSH, 1)]))
    c.expect_settings_ack()
    sid = c.request()
    c.expect_response(sid)


@case("6.5.2/initial-window-size", "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 → connection error "
      "FLOW_CONTROL_ERROR")
def iws_too_large(c):
    c.start()
    c.send(F.settings([(F.INITIAL_WINDOW_SIZE, 0xFFFFFFFF)]))
    c.expect_connection_error(F.FLOW_CONTROL_ERROR)


@case("6.5.2/initial-window-size-max", "SETTINGS_INITIAL_WINDOW_SIZE of 2^31-1 is accepted")
def iws_max(c):
    c.start()
    c.send(c.our_settings([(F.INITIAL_WINDOW_SIZE, F.MAX_WINDOW)]))
    c.expect_settings_ack()
    sid = c.request()
    c.expect_response(sid)


@case("6.5.2/max-frame-size-too-small", "SETTINGS_MAX_FRAME_SIZE below 16384 → connection error "
      "PROTOCOL_ERROR")
def mfs_small(c):
    c.start()
    c.send(F.settings([(F.MAX_FRAME_SIZE, 16383)]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.5.2/max-frame-size-zero", "SETTINGS_MAX_FRAME_SIZE of 0 → connection error "
      "PROTOCOL_ERROR")
def mfs_zero(c):
    c.start()
    c.send(F.settings([(F.MAX_FRAME_SIZE, 0)]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.5.2/max-frame-size-too-large", "SETTINGS_MAX_FRAME_SIZE above 2^24-1 → connection error "
      "PROTOCOL_ERROR")
def mfs_large(c):
    c.start()
    c.send(F.settings([(F.MAX_FRAME_SIZE, 2**24)]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.5.2/max-frame-size-bounds-accepted", "SETTINGS_MAX_FRAME_SIZE of 16384 and of 2^24-1 "
      "are accepted")
def mfs_bounds(c):
    c.start()
    c.send(c.our_settings([(F.MAX_FRAME_SIZE, 16384)]), c.our_settings([(F.MAX_FRAME_SIZE,
                                                                         2**24 - 1)]))
    c.expect_settings_ack()
    c.expect_settings_ack()
    sid = c.request()
    c.expect_response(sid)


@case("6.5.2/header-table-size-0", "with SETTINGS_HEADER_TABLE_SIZE 0 the server's field blocks "
      "decode with an empty dynamic table (RFC 7541 §4.2)")
def hts_zero(c):
    c.start([(F.ENABLE_PUSH, 0), (F.HEADER_TABLE_SIZE, 0)])
    c.decoder.header_table_size = 0
    for _ in range(3):
        sid = c.request()
        c.expect_response(sid)


@case("6.5.2/max-concurrent-streams-0", "a client SETTINGS_MAX_CONCURRENT_STREAMS of 0 (no push) "
      "does not stop the server answering requests")
def mcs_zero(c):
    c.start([(F.ENABLE_PUSH, 0), (F.MAX_CONCURRENT_STREAMS, 0)])
    sid = c.request()
    c.expect_response(sid)


@case("6.5.2/max-header-list-size", "a client SETTINGS_MAX_HEADER_LIST_SIZE is accepted")
def mhls(c):
    c.start([(F.ENABLE_PUSH, 0), (F.MAX_HEADER_LIST_SIZE, 16384)])
    sid = c.request()
    c.expect_response(sid)


@case("6.5.3/values-in-order", "settings are applied in order: INITIAL_WINDOW_SIZE 0 then 100 in "
      "one frame leaves a window of 100 (DATA flows)")
def values_in_order(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, 0), (F.INITIAL_WINDOW_SIZE, 100)])
    sid = c.request()
    c.expect_response(sid)


@case("6.5.3/mid-connection", "SETTINGS sent mid-connection are acknowledged and applied "
      "(INITIAL_WINDOW_SIZE 0 holds DATA)")
def mid_connection(c):
    c.start()
    c.send(c.our_settings([(F.INITIAL_WINDOW_SIZE, 0)]))
    c.expect_settings_ack()
    c.auto_window = False
    sid = c.request()
    c.expect_no_data(sid, 0.3)
    c.auto_window = True
    c.give_window(sid, 1000, connection=False)
    c.expect_response(sid)
