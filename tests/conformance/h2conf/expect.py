"""What a case expects: the `expect_*` methods of a connection.

Each reads events (frames, CLOSED, TIMEOUT) through `Conn._next` until the expected outcome, a
contradicting one, or the timeout, and raises `CaseFailure` naming what came instead. Frames
read on the way that belong to someone else go back to the queue (`requeue`), so a case can wait
for several outcomes one after the other.
"""

import time

from hyperframe.frame import (ContinuationFrame, DataFrame, ExtensionFrame, GoAwayFrame,
                              HeadersFrame, PingFrame, RstStreamFrame, SettingsFrame,
                              WindowUpdateFrame)

from . import frames as F

CLOSED = "connection closed"
TIMEOUT = "timeout"


class CaseFailure(Exception):
    pass


def describe(frame):
    """One line per frame for failure reports."""
    name = type(frame).__name__.replace("Frame", "").upper()
    flags = "|".join(sorted(frame.flags)) if frame.flags else ""
    s = "%s(stream=%d%s" % (name, frame.stream_id, ", " + flags if flags else "")
    if isinstance(frame, GoAwayFrame):
        s += ", last_stream_id=%d, %s, debug=%r" % (
            frame.last_stream_id, F.error_name(frame.error_code), bytes(frame.additional_data))
    elif isinstance(frame, RstStreamFrame):
        s += ", %s" % F.error_name(frame.error_code)
    elif isinstance(frame, DataFrame):
        s += ", %d bytes" % frame.flow_controlled_length
    elif isinstance(frame, SettingsFrame):
        s += ", %s" % dict(frame.settings)
    elif isinstance(frame, WindowUpdateFrame):
        s += ", +%d" % frame.window_increment
    elif isinstance(frame, PingFrame):
        s += ", %r" % bytes(frame.opaque_data)
    elif isinstance(frame, ExtensionFrame):
        s += ", type=0x%x" % frame.type
    fields = getattr(frame, "fields", None)
    if fields is not None:
        s += ", %s" % [(n.decode(errors="replace"), v.decode(errors="replace"))
                       for n, v in fields if n.startswith(b":")]
    return s + ")"


class Expectations:
    """Mixin for `Conn` (client.py)."""

    # -- outcomes ---------------------------------------------------------------------------------
    def fail(self, msg):
        raise CaseFailure(msg)

    def deadline(self, timeout=None):
        return time.monotonic() + (self.opts.timeout if timeout is None else timeout)

    def _check_goaway(self, frame):
        if frame.last_stream_id > self.highest_stream_id:
            self.fail("GOAWAY last_stream_id %d above the highest stream we opened (%d) "
                      "(RFC 9113 §6.8)" % (frame.last_stream_id, self.highest_stream_id))

    def expect_connection_error(self, *codes, goaway_optional=False):
        """RFC 9113 §5.4.1: GOAWAY with one of `codes`, or (non-strict mode) the connection
        closed. Strict mode wants the GOAWAY and then the TCP connection closed, unless the RFC
        lets the GOAWAY be omitted (`goaway_optional`, §3.4). Returns the GOAWAY or None."""
        names = "/".join(F.error_name(c) for c in codes)
        deadline = self.deadline()
        while True:
            ev = self._next(deadline)
            if ev == TIMEOUT:
                self.fail("expected connection error %s, got no error within %.1fs" %
                          (names, self.opts.timeout))
            if ev == CLOSED:
                if self.opts.strict and not goaway_optional:
                    self.fail("expected GOAWAY(%s) before the close (strict mode)" % names)
                return None
            if isinstance(ev, GoAwayFrame):
                self._check_goaway(ev)
                if ev.error_code not in codes:
                    self.fail("expected GOAWAY(%s), got %s" % (names, describe(ev)))
                if self.opts.strict:
                    self.expect_closed()
                return ev

    def expect_stream_error(self, sid, *codes, conn_ok=False):
        """RFC 9113 §5.4.2: RST_STREAM on `sid` with one of `codes`; a connection error with one
        of them is allowed too (§5.4.1), and so (non-strict mode) is the connection closing.
        Strict mode wants the RST_STREAM unless the RFC itself allows a connection error for
        this case (`conn_ok`), and then a GOAWAY."""
        strict = self.opts.strict and not conn_ok
        names = "/".join(F.error_name(c) for c in codes)
        deadline = self.deadline()
        while True:
            ev = self._next(deadline)
            if ev == TIMEOUT:
                self.fail("expected stream error %s on stream %d, got none within %.1fs" %
                          (names, sid, self.opts.timeout))
            if ev == CLOSED:
                if self.opts.strict:
                    self.fail("expected RST_STREAM(%s), connection closed (strict mode)" % names)
                return "closed"
            if isinstance(ev, RstStreamFrame) and ev.stream_id == sid:
                if ev.error_code not in codes:
                    self.fail("expected RST_STREAM(%s), got %s" % (names, describe(ev)))
                return "reset"
            if isinstance(ev, GoAwayFrame):
                self._check_goaway(ev)
                if ev.error_code not in codes or strict:
                    self.fail("expected RST_STREAM(%s) on stream %d, got %s" %
                              (names, sid, describe(ev)))
                return "goaway"

    def expect_malformed(self, sid, after_response_start=False):
        """RFC 9113 §8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR; a
        server MAY answer it with a 4xx response first (non-strict mode accepts the response).
        Returns how it ended: 'reset', 'goaway', 'closed' or 'response'.
        `after_response_start`: the malformation only shows in the body or trailers, so a handler
        that answers at once may already have started (or finished) a 2xx response; the stream
        error is still required (RFC 9113 §8.1.1)."""
        deadline = self.deadline()
        while True:
            ev = self._next(deadline)
            if ev == TIMEOUT:
                self.fail("expected stream error PROTOCOL_ERROR on stream %d (malformed "
                          "request), got none within %.1fs" % (sid, self.opts.timeout))
            if ev == CLOSED:
                if self.opts.strict:
                    self.fail("expected RST_STREAM(PROTOCOL_ERROR), connection closed")
                return "closed"
            if isinstance(ev, RstStreamFrame) and ev.stream_id == sid:
                if ev.error_code != F.PROTOCOL_ERROR:
                    self.fail("expected RST_STREAM(PROTOCOL_ERROR), got %s" % describe(ev))
                return "reset"
            if isinstance(ev, GoAwayFrame):
                self._check_goaway(ev)
                if ev.error_code != F.PROTOCOL_ERROR or self.opts.strict:
                    self.fail("expected RST_STREAM(PROTOCOL_ERROR), got %s" % describe(ev))
                return "goaway"
            if isinstance(ev, HeadersFrame) and ev.stream_id == sid:
                status = dict(ev.fields).get(b":status", b"")
                if status.startswith(b"1"):
                    continue
                if status.startswith(b"4") and not self.opts.strict:
                    return "response"
                if after_response_start and ev.stream_id == sid:
                    continue
                self.fail("expected the malformed request to be refused, got a %r response" %
                          status.decode(errors="replace"))

    def expect_response(self, sid, status=200, body=None, allow_body=True, timeout=None):
        """A complete response on `sid`: its final :status, then DATA to END_STREAM. `status`
        may be an int, a tuple of ints or None (any). `body` defaults to the configured one;
        when none is configured, a 200 must still carry some content (the spec handlers'
        responses are never empty)."""
        body = self.opts.body if body is None else body
        deadline = self.deadline(timeout)
        got_status, received, trailers = None, bytearray(), None
        others = []
        while True:
            ev = self._next(deadline)
            if ev in (TIMEOUT, CLOSED):
                self.fail("expected a response on stream %d, got %s%s" % (
                    sid, ev, "" if got_status is None else " after :status %s" % got_status))
            if isinstance(ev, RstStreamFrame) and ev.stream_id == sid:
                self.fail("expected a response on stream %d, got %s" % (sid, describe(ev)))
            if isinstance(ev, GoAwayFrame):
                self._check_goaway(ev)
                if ev.error_code != F.NO_ERROR or ev.last_stream_id < sid:
                    self.fail("expected a response on stream %d, got %s" % (sid, describe(ev)))
            if ev.stream_id != sid:
                others.append(ev)
                continue
            if isinstance(ev, (HeadersFrame, ContinuationFrame)) and hasattr(ev, "fields"):
                fields = dict(ev.fields)
                if got_status is None:
                    st = fields.get(b":status", b"")
                    if not st.isdigit():
                        self.fail("response without a valid :status: %r" % ev.fields)
                    if st.startswith(b"1"):
                        continue
                    got_status = int(st)
                else:
                    trailers = ev.fields
                if ev.end_stream:
                    break
            elif isinstance(ev, DataFrame):
                received += bytes(ev.data)
                if "END_STREAM" in ev.flags:
                    break
        self.requeue([e for e in others if e.stream_id != 0])
        want = (status,) if isinstance(status, int) else status
        if want is not None and got_status not in want:
            self.fail("expected :status %s, got %s" % (status, got_status))
        if not allow_body and received:
            self.fail("expected no content, got %d bytes" % len(received))
        if body is not None and got_status == 200 and bytes(received) != body:
            self.fail("expected body %r, got %r" % (body, bytes(received)))
        if body is None and status == 200 and allow_body and not received:
            self.fail("expected a non-empty body, got none")
        return got_status, bytes(received), trailers

    def expect_ping_ack(self, payload=b"h2conf!!", forbid_errors=True):
        """A PING ACK echoing `payload` (RFC 9113 §6.7). With `forbid_errors`, any RST_STREAM or
        GOAWAY before it fails: the check that something was ignored."""
        deadline = self.deadline()
        seen = []
        while True:
            ev = self._next(deadline)
            if ev in (TIMEOUT, CLOSED):
                self.fail("expected PING ACK, got %s" % ev)
            if forbid_errors and isinstance(ev, (RstStreamFrame, GoAwayFrame)):
                self.fail("expected no error (PING ACK), got %s" % describe(ev))
            if isinstance(ev, PingFrame) and "ACK" in ev.flags:
                if bytes(ev.opaque_data) != payload:
                    self.fail("PING ACK with payload %r, expected %r" %
                              (bytes(ev.opaque_data), payload))
                self.requeue(seen)
                return
            if ev.stream_id != 0:
                seen.append(ev)

    def expect_alive(self, payload=b"alive?!!"):
        """The connection is still up and reported no error: a PING comes back."""
        self.send(F.ping(payload))
        self.expect_ping_ack(payload)

    def expect_settings_ack(self):
        deadline = self.deadline()
        want = len(self.unacked_settings) - 1
        seen = []
        while len(self.unacked_settings) > want:
            ev = self._next(deadline)
            if ev in (TIMEOUT, CLOSED):
                self.fail("expected SETTINGS ACK, got %s" % ev)
            if isinstance(ev, GoAwayFrame):
                self.fail("expected SETTINGS ACK, got %s" % describe(ev))
            if ev.stream_id != 0:
                seen.append(ev)
        self.requeue(seen)

    def expect_closed(self):
        deadline = self.deadline()
        while True:
            ev = self._next(deadline)
            if ev == CLOSED:
                return
            if ev == TIMEOUT:
                self.fail("expected the connection to be closed after GOAWAY (RFC 9113 §5.4.1)")

    def expect_frame(self, predicate, what, timeout=None, keep=False):
        """The first frame matching `predicate`; frames before it (and, with `keep`, the frame
        itself) stay queued for the next expect_* call. RST_STREAM or GOAWAY first fails."""
        deadline = self.deadline(timeout)
        seen = []
        while True:
            ev = self._next(deadline)
            if ev in (TIMEOUT, CLOSED):
                self.fail("expected %s, got %s" % (what, ev))
            if predicate(ev):
                self.requeue(seen + [ev] if keep else seen)
                return ev
            if isinstance(ev, (GoAwayFrame, RstStreamFrame)):
                self.fail("expected %s, got %s" % (what, describe(ev)))
            seen.append(ev)

    def expect_no_data(self, sid, seconds):
        """No DATA on `sid` for `seconds` (flow control holds it back)."""
        deadline = time.monotonic() + seconds
        seen = []
        while True:
            ev = self._next(deadline)
            if ev == TIMEOUT:
                self.requeue(seen)
                return
            if ev == CLOSED or isinstance(ev, (GoAwayFrame, RstStreamFrame)):
                self.fail("expected the stream to wait for window, got %s" % (
                    ev if ev == CLOSED else describe(ev)))
            if isinstance(ev, DataFrame) and ev.stream_id == sid and ev.flow_controlled_length:
                self.fail("DATA sent with no flow-control window: %s" % describe(ev))
            seen.append(ev)

    def drain(self, seconds=0.2):
        """Reads what arrives for a moment (and so answers SETTINGS/PING)."""
        deadline = time.monotonic() + seconds
        while self._next(deadline) not in (TIMEOUT, CLOSED):
            pass

