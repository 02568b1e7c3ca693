"""RFC 9113 §6.3 (PRIORITY), §6.4 (RST_STREAM) and RFC 9218 priority signals."""

from .. import frames as F
from ..registry import case


@case("6.3/stream-0", "PRIORITY on stream 0 → connection error PROTOCOL_ERROR")
def prio_stream_0(c):
    c.start()
    c.send(F.raw(F.PRIORITY, 0, 0, F.priority_payload(1, 10)))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.3/length-4", "PRIORITY of 4 octets → stream error FRAME_SIZE_ERROR")
def prio_len_4(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.PRIORITY, 0, sid, b"\x00\x00\x00\x00"))
    c.expect_stream_error(sid, F.FRAME_SIZE_ERROR)


@case("6.3/length-6", "PRIORITY of 6 octets → stream error FRAME_SIZE_ERROR")
def prio_len_6(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.PRIORITY, 0, sid, F.priority_payload(0, 1) + b"\x00"))
    c.expect_stream_error(sid, F.FRAME_SIZE_ERROR)


@case("6.3/exclusive", "an exclusive PRIORITY is accepted")
def prio_exclusive(c):
    c.start()
    c.send(F.priority(3, 0, 10, exclusive=True), F.priority(5, 3, 20, exclusive=True))
    c.expect_alive()
    sid = c.request(sid=7)
    c.expect_response(sid)


@case("6.3/tree-before-requests", "a dependency tree of PRIORITY frames on idle streams (as "
      "nghttp sends) is accepted; requests on other streams are served")
def prio_tree(c):
    c.start()
    c.send(F.priority(3, 0, 201), F.priority(5, 0, 101), F.priority(7, 0, 1),
           F.priority(9, 7, 1), F.priority(11, 3, 1))
    sid = c.request(sid=13, prio=(11, 16, False))
    c.expect_response(sid)


@case("6.3/between-field-block", "PRIORITY between HEADERS and CONTINUATION → connection error "
      "PROTOCOL_ERROR (§6.10)")
def prio_in_block(c):
    c.start()
    sid = c.new_stream()
    block = c.block().bytes()
    c.send(F.headers(sid, block[:4], end_headers=False), F.priority(sid, 0, 1),
           F.continuation(sid, block[4:]))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.4/stream-0", "RST_STREAM on stream 0 → connection error PROTOCOL_ERROR")
def rst_stream_0(c):
    c.start()
    c.send(F.raw(F.RST_STREAM, 0, 0, b"\x00\x00\x00\x08"))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.4/length-3", "RST_STREAM of 3 octets → connection error FRAME_SIZE_ERROR")
def rst_len_3(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.RST_STREAM, 0, sid, b"\x00\x00\x08"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.4/length-5", "RST_STREAM of 5 octets → connection error FRAME_SIZE_ERROR")
def rst_len_5(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.raw(F.RST_STREAM, 0, sid, b"\x00\x00\x00\x08\x00"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.4/idle-far", "RST_STREAM on a far idle stream → connection error PROTOCOL_ERROR")
def rst_idle_far(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)
    c.send(F.rst_stream(101, F.CANCEL))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.4/no-more-frames", "after the client resets a streaming response the server stops "
      "sending on it (at most frames already in flight)")
def rst_stops(c):
    c.start()
    sid = c.request()
    c.send(F.rst_stream(sid, F.CANCEL))
    c.expect_alive()
    c.drain(1.2)
    late = [l for l in c.log[c.log.index("PING(stream=0, ACK, b'alive?!!')") + 1:]
            if l.startswith(("DATA(stream=%d" % sid, "HEADERS(stream=%d" % sid))]
    if late:
        c.fail("frames on a reset stream long after the reset: %s" % late[:3])


@case("9218/priority-header", "a request with an RFC 9218 Priority header field is served")
def priority_header(c):
    c.start()
    sid = c.request(extra=[("priority", "u=0, i")])
    c.expect_response(sid)


@case("9218/priority-update-open-stream", "PRIORITY_UPDATE for an open request stream is "
      "accepted (applied or, by a server not implementing RFC 9218, ignored)")
def priority_update_open(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.priority_update(sid, b"u=7"), F.data(sid, b"x", end_stream=True))
    c.expect_response(sid)


@case("9218/priority-update-idle-stream", "PRIORITY_UPDATE before the request it prioritizes "
      "(idle stream) is accepted")
def priority_update_idle(c):
    c.start()
    c.send(F.priority_update(1, b"u=2, i"))
    sid = c.request(sid=1)
    c.expect_response(sid)


def _implements_9218(c):
    return F.NO_RFC7540_PRIORITIES in c.server_settings


@case("9218/priority-update-nonzero-stream", "PRIORITY_UPDATE on a stream other than 0 → "
      "connection error PROTOCOL_ERROR (a server not announcing RFC 9218 may ignore it)")
def priority_update_nonzero(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.priority_update(sid, b"u=1", stream_id=sid))
    if _implements_9218(c):
        c.expect_connection_error(F.PROTOCOL_ERROR)
    else:
        c.send(F.ping(b"9218-ign"))
        ev = c.expect_frame(lambda e: hasattr(e, "error_code") or
                            (hasattr(e, "opaque_data") and "ACK" in e.flags),
                            "GOAWAY(PROTOCOL_ERROR) or PING ACK (ignored)")
        if hasattr(ev, "error_code") and ev.error_code != F.PROTOCOL_ERROR:
            c.fail("expected PROTOCOL_ERROR or nothing, got %s" % F.error_name(ev.error_code))


@case("9218/priority-update-stream-0-target", "PRIORITY_UPDATE prioritizing stream 0 → connection "
      "error PROTOCOL_ERROR (a server not announcing RFC 9218 may ignore it)")
def priority_update_zero_target(c):
    c.start()
    c.send(F.priority_update(0, b"u=1"))
    if _implements_9218(c):
        c.expect_connection_error(F.PROTOCOL_ERROR)
    else:
        c.send(F.ping(b"9218-ign"))
        ev = c.expect_frame(lambda e: hasattr(e, "error_code") or
                            (hasattr(e, "opaque_data") and "ACK" in e.flags),
                            "GOAWAY(PROTOCOL_ERROR) or PING ACK (ignored)")
        if hasattr(ev, "error_code") and ev.error_code != F.PROTOCOL_ERROR:
            c.fail("expected PROTOCOL_ERROR or nothing, got %s" % F.error_name(ev.error_code))


@case("9218/no-rfc7540-priorities-invalid", "SETTINGS_NO_RFC7540_PRIORITIES of 2 → connection "
      "error PROTOCOL_ERROR (a server not announcing RFC 9218 may ignore the setting)")
def no7540_invalid(c):
    c.start()
    c.send(c.our_settings([(F.NO_RFC7540_PRIORITIES, 2)]))
    if _implements_9218(c):
        c.expect_connection_error(F.PROTOCOL_ERROR)
    else:
        c.send(F.ping(b"9218-ign"))
        ev = c.expect_frame(lambda e: hasattr(e, "error_code") or
                            (hasattr(e, "opaque_data") and "ACK" in e.flags),
                            "GOAWAY(PROTOCOL_ERROR) or PING ACK (ignored)")
        if hasattr(ev, "error_code") and ev.error_code != F.PROTOCOL_ERROR:
            c.fail("expected PROTOCOL_ERROR or nothing, got %s" % F.error_name(ev.error_code))


@case("9218/no-rfc7540-priorities-then-priority", "with SETTINGS_NO_RFC7540_PRIORITIES=1 the "
      "client's PRIORITY frames and flags are ignored, requests served")
def no7540_then_priority(c):
    c.start([(F.ENABLE_PUSH, 0), (F.NO_RFC7540_PRIORITIES, 1)])
    c.send(F.priority(3, 0, 200))
    sid = c.request(sid=5, prio=(3, 10, True))
    c.expect_response(sid)
