"""RFC 9113 §5.1.1 (stream identifiers) and §5.1.2 (stream concurrency)."""

from hyperframe.frame import GoAwayFrame, RstStreamFrame

from .. import frames as F
from ..registry import case


@case("5.1.1/even-stream-id", "a client HEADERS on an even stream → connection error "
      "PROTOCOL_ERROR")
def even_stream_id(c):
    c.start()
    c.send(F.headers(2, c.encode(c.request_fields())))
    c.expect_connection_error(F.PROTOCOL_ERROR)


@case("5.1.1/decreasing-stream-id", "a new stream numerically lower than an opened one → "
      "connection error PROTOCOL_ERROR (or STREAM_CLOSED: the skipped id is closed, §5.1)")
def decreasing(c):
    c.start()
    sid = c.request(sid=5)
    c.expect_response(sid)
    c.send(F.headers(3, c.encode(c.request_fields())))
    c.expect_connection_error(F.PROTOCOL_ERROR, F.STREAM_CLOSED)  # 3 is implicitly closed


@case("5.1.1/skipped-ids-closed", "opening stream 5 closes idle streams 1 and 3: HEADERS on 3 → "
      "connection error PROTOCOL_ERROR (or STREAM_CLOSED)")
def skipped_closed(c):
    c.start()
    c.request(sid=5, end_stream=False)
    c.send(F.headers(3, c.encode(c.request_fields())))
    c.expect_connection_error(F.PROTOCOL_ERROR, F.STREAM_CLOSED)


@case("5.1.1/gaps-allowed", "stream identifiers need not be consecutive (1, then 9)")
def gaps_allowed(c):
    c.start()
    sid = c.request(sid=1)
    c.expect_response(sid)
    sid = c.request(sid=9)
    c.expect_response(sid)


@case("5.1.1/max-stream-id", "the largest stream identifier 2^31-1 is usable")
def max_stream_id(c):
    c.start()
    sid = c.request(sid=2**31 - 1)
    c.expect_response(sid)


@case("5.1.1/reuse-stream-id", "reusing a finished stream's identifier for a new request → "
      "connection error PROTOCOL_ERROR or STREAM_CLOSED")
def reuse(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)
    c.request(sid=sid)
    c.expect_stream_error(sid, F.PROTOCOL_ERROR, F.STREAM_CLOSED, conn_ok=True)


def _fill(c):
    limit = c.server_settings.get(F.MAX_CONCURRENT_STREAMS)
    if limit is None:
        c.fail("the server advertises no SETTINGS_MAX_CONCURRENT_STREAMS: concurrency is "
               "unbounded (RFC 9113 §5.1.2 recommends at least 100; §10.5 a limit)")
    if limit > 1000:
        c.fail("SETTINGS_MAX_CONCURRENT_STREAMS %d is too large to test" % limit)
    return [c.request("POST", end_stream=False) for _ in range(limit)]


@case("5.1.2/exceed-max-concurrent", "a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS → stream "
      "error PROTOCOL_ERROR or REFUSED_STREAM")
def exceed_concurrent(c):
    c.start()
    _fill(c)
    sid = c.request("POST", end_stream=False)
    c.expect_stream_error(sid, F.PROTOCOL_ERROR, F.REFUSED_STREAM)


@case("5.1.2/slot-freed-by-reset", "a stream closed by RST_STREAM frees its concurrency slot")
def slot_freed(c):
    c.start()
    opened = _fill(c)
    c.send(F.rst_stream(opened[0], F.CANCEL))
    c.expect_alive()
    sid = c.request()
    c.expect_response(sid)


@case("5.1.2/up-to-limit", "open streams up to the limit are all served")
def up_to_limit(c):
    c.start()
    opened = _fill(c)
    for sid in opened:
        c.send(F.data(sid, b"x", end_stream=True))
    for sid in opened:
        c.expect_response(sid)
    got = [f for f in c.log if f.startswith("RSTSTREAM")]
    if got:
        c.fail("streams within the limit were reset: %s" % got[:3])


@case("5.1.2/refused-then-retry", "after a REFUSED_STREAM/PROTOCOL_ERROR refusal the connection "
      "still serves new streams once a slot is free")
def refused_retry(c):
    c.start()
    opened = _fill(c)
    extra = c.request("POST", end_stream=False)
    ev = c.expect_frame(lambda e: isinstance(e, (RstStreamFrame, GoAwayFrame)) and
                        e.stream_id in (0, extra), "RST_STREAM on stream %d" % extra)
    if isinstance(ev, GoAwayFrame) and not c.opts.strict and ev.error_code in (
            F.PROTOCOL_ERROR, F.REFUSED_STREAM):
        return  # escalated to a connection error (§5.4.1); --strict refuses that
    if ev.error_code not in (F.PROTOCOL_ERROR, F.REFUSED_STREAM):
        c.fail("refused with %s" % F.error_name(ev.error_code))
    c.send(F.data(opened[0], b"x", end_stream=True))
    c.expect_response(opened[0])
    sid = c.request()
    c.expect_response(sid)
