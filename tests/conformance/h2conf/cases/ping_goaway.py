"""RFC 9113 §6.6 (PUSH_PROMISE), §6.7 (PING) and §6.8 (GOAWAY)."""

from hyperframe.frame import PingFrame

from .. import frames as F
from ..registry import case


@case("6.6/client-push-promise", "a PUSH_PROMISE from a client → connection error PROTOCOL_ERROR "
      "(§8.4)")
def client_push(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    payload = b"\x00\x00\x00\x02" + c.block().bytes()
    c.send(F.raw(F.PUSH_PROMISE, F.END_HEADERS, sid, payload))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.6/client-push-promise-stream-0", "a PUSH_PROMISE on stream 0 → connection error "
      "PROTOCOL_ERROR")
def client_push_0(c):
    c.start()
    c.send(F.raw(F.PUSH_PROMISE, F.END_HEADERS, 0, b"\x00\x00\x00\x02" + c.block().bytes()))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.7/ack", "PING is answered with a PING ACK carrying the same 8 octets")
def ping_ack(c):
    c.start()
    c.send(F.ping(b"\x00\x01\x02\x03\xfc\xfd\xfe\xff"))
    c.expect_ping_ack(b"\x00\x01\x02\x03\xfc\xfd\xfe\xff")


@case("6.7/ack-not-answered", "a PING with ACK is not answered")
def ping_ack_not_answered(c):
    c.start()
    c.send(F.ping(b"unasked!", ack=True), F.ping(b"second!!"))
    c.expect_ping_ack(b"second!!")
    c.drain(0.3)
    acks = [l for l in c.log if "unasked" in l]
    if acks:
        c.fail("the server answered a PING ACK: %s" % acks)


@case("6.7/stream-nonzero", "PING on a stream other than 0 → connection error PROTOCOL_ERROR")
def ping_stream(c):
    c.start()
    c.send(F.raw(F.PING, 0, 1, b"12345678"))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.7/length-6", "PING of 6 octets → connection error FRAME_SIZE_ERROR")
def ping_len_6(c):
    c.start()
    c.send(F.raw(F.PING, 0, 0, b"123456"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.7/length-9", "PING of 9 octets → connection error FRAME_SIZE_ERROR")
def ping_len_9(c):
    c.start()
    c.send(F.raw(F.PING, 0, 0, b"123456789"))
    c.expect_connection_error(F.FRAME_SIZE_ERROR)


@case("6.7/many", "20 PINGs in a row are each acknowledged, in order")
def ping_many(c):
    c.start()
    payloads = [b"ping%04d" % i for i in range(20)]
    c.send(*[F.ping(p) for p in payloads])
    got = []
    while len(got) < 20:
        ev = c.expect_frame(lambda e: isinstance(e, PingFrame) and "ACK" in e.flags, "PING ACK")
        got.append(bytes(ev.opaque_data))
    if got != payloads:
        c.fail("PING ACKs out of order or wrong: %r" % got)


@case("6.7/during-request", "a PING in the middle of a request body is answered and the request "
      "completes")
def ping_during(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"a"), F.ping(b"midreqst"))
    c.expect_ping_ack(b"midreqst")
    c.send(F.data(sid, b"b", end_stream=True))
    c.expect_response(sid)


@case("6.8/stream-nonzero", "GOAWAY on a stream other than 0 → connection error PROTOCOL_ERROR")
def goaway_stream(c):
    c.start()
    c.send(F.goaway(0, F.NO_ERROR, stream_id=1))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("6.8/client-goaway-completes-requests", "after a client GOAWAY(NO_ERROR) the server still "
      "completes the requests in flight")
def client_goaway(c):
    c.start()
    sid1 = c.request()
    sid2 = c.request("POST", end_stream=False)
    c.send(F.goaway(0, F.NO_ERROR, b"client leaving"))
    c.send(F.data(sid2, b"body", end_stream=True))
    c.expect_response(sid1)
    c.expect_response(sid2)


@case("6.8/client-goaway-debug-data", "a client GOAWAY with debug data is accepted")
def client_goaway_debug(c):
    c.start()
    sid = c.request()
    c.send(F.goaway(0, F.NO_ERROR, b"x" * 200))
    c.expect_response(sid)


@case("6.8/server-goaway-last-stream-id", "a server GOAWAY never names a stream the client did "
      "not open")
def server_goaway_last(c):
    c.start()
    for _ in range(3):
        sid = c.request()
        c.expect_response(sid)
    c.send(F.raw(F.PING, 0, 3, b"12345678"))
    c.expect_connection_error(F.PROTOCOL_ERROR)  # checks last_stream_id <= 5
