"""One HTTP/2 client connection driven frame by frame.

A case opens a `Conn`, sends bytes, and calls one of the `expect_*` methods, which read frames
until the expected outcome, a contradicting one, the peer closing, or the timeout (2 s by default).
Every frame received is logged in one line so a failure shows what came instead.

While reading, the client keeps the protocol going the way a real client would: it acknowledges
the server's SETTINGS and PINGs, decodes field blocks with its own HPACK decoder, and (unless a
case turns it off) gives back flow-control credit for DATA it receives. It also checks every
frame from the server against rules the server must always follow (frame size, flow control,
no push after ENABLE_PUSH=0, ...): a breach fails the case whatever the case expected.
"""

import socket
import ssl
import time
from collections import deque

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, ExtensionFrame, Frame, GoAwayFrame,
                              HeadersFrame, PingFrame, PushPromiseFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

from . import frames as F
from .expect import CLOSED, TIMEOUT, CaseFailure, Expectations, describe  # noqa: F401


class Options:
    def __init__(self, host, port, tls=False, path="/string", timeout=2.0, strict=False,
                 body=None):
        self.host, self.port, self.tls, self.path = host, port, tls, path
        self.timeout, self.strict = timeout, strict
        self.scheme = "https" if tls else "http"
        self.authority = "%s:%d" % (host, port)
        # The body the spec handlers answer with (None: any body is fine).
        self.body = body


class Conn(Expectations):
    def __init__(self, opts, client_settings=((F.ENABLE_PUSH, 0),)):
        self.opts = opts
        self.client_settings = list(client_settings)
        self.sock = None
        self.buf = bytearray()
        self.pending = deque()
        self.log = []
        self.violations = []
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 24
        self.auto_window = True
        self.closed = False
        self.next_stream_id = 1
        self.highest_stream_id = 0
        # What the server told us (RFC 9113 §6.5.2 defaults until then).
        self.server_settings = {}
        self.server_max_frame_size = 16384
        self.server_initial_window = 65535
        self.send_conn_window = 65535
        self.send_stream_window = {}
        # What we promised: the server must respect it.
        self.max_frame_size = 16384
        self.push_enabled = True
        self.initial_window = 65535
        self.unacked_settings = deque()
        self.recv_conn_window = 65535
        self.recv_stream_window = {}
        self.ended_streams = set()
        self.reset_streams = set()
        self.header_block = None  # (first frame, fragments) while a field block is open

    # -- connection setup -------------------------------------------------------------------------
    def connect(self):
        sock = socket.create_connection((self.opts.host, self.opts.port), timeout=self.opts.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.opts.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname=self.opts.host)
            if sock.selected_alpn_protocol() != "h2":
                raise CaseFailure("TLS: ALPN selected %r, not h2 (RFC 9113 §3.2)" %
                                  sock.selected_alpn_protocol())
        self.sock = sock
        return self

    def start(self, client_settings=None, handshake=True):
        """Connects, sends the preface with our SETTINGS and (by default) waits until the server's
        SETTINGS arrived (RFC 9113 §3.4) and ours were acknowledged (§6.5.3)."""
        if client_settings is not None:
            self.client_settings = list(client_settings)
        self.connect()
        self.send(F.PREFACE + self.our_settings(self.client_settings))
        if handshake:
            self.handshake()
        return self

    def handshake(self):
        deadline = time.monotonic() + self.opts.timeout
        first = self._next(deadline)
        if first in (CLOSED, TIMEOUT):
            self.fail("expected the server's SETTINGS, got %s" % first)
        if not isinstance(first, SettingsFrame) or "ACK" in first.flags:
            self.fail("the server's first frame must be SETTINGS (RFC 9113 §3.4), got %s" %
                      describe(first))
        seen = []
        while self.unacked_settings:
            ev = self._next(deadline)
            if ev in (CLOSED, TIMEOUT):
                self.fail("expected SETTINGS ACK, got %s" % ev)
            if not (isinstance(ev, SettingsFrame) and "ACK" in ev.flags):
                seen.append(ev)
        self.requeue(seen)

    def our_settings(self, pairs, stream_id=0):
        """A SETTINGS frame whose values the client will hold the server to once acknowledged."""
        self.unacked_settings.append(list(pairs))
        return F.settings(pairs, stream_id)

    # -- sending ----------------------------------------------------------------------------------
    def send(self, *chunks):
        out = b"".join(c if isinstance(c, (bytes, bytearray)) else c.serialize() for c in chunks)
        try:
            self.sock.sendall(out)
        except OSError as e:
            self.closed = True
            self.log.append("send failed: %s" % e)

    def new_stream(self):
        sid = self.next_stream_id
        self.next_stream_id += 2
        self.note_stream(sid)
        return sid

    def note_stream(self, sid):
        if sid % 2 == 1 and sid > self.highest_stream_id:
            self.highest_stream_id = sid
            self.recv_stream_window.setdefault(sid, self.initial_window)
            self.send_stream_window.setdefault(sid, self.server_initial_window)
        if sid >= self.next_stream_id:
            self.next_stream_id = sid + 2

    def request_fields(self, method="GET", path=None, extra=(), authority=True):
        fields = [(":method", method), (":scheme", self.opts.scheme),
                  (":path", path or self.opts.path)]
        if authority:
            fields.append((":authority", self.opts.authority))
        return fields + list(extra)

    def encode(self, fields, huffman=True):
        return self.encoder.encode(fields, huffman=huffman)

    def block(self):
        """A hand-written field block starting with this connection's request pseudo-headers."""
        return F.Block().request(path=self.opts.path, authority=self.opts.authority,
                                 scheme=self.opts.scheme)

    def request(self, method="GET", path=None, extra=(), end_stream=True, sid=None, **kw):
        """Sends a request's HEADERS frame (encoded with our HPACK encoder); returns its stream."""
        sid = sid or self.new_stream()
        self.note_stream(sid)
        block = self.encode(self.request_fields(method, path, extra))
        self.send(F.headers(sid, block, end_stream=end_stream, **kw))
        return sid

    def send_body(self, sid, body, end_stream=True, frame_size=None):
        """Sends DATA within the server's flow-control windows (RFC 9113 §6.9), waiting for
        WINDOW_UPDATE when they are exhausted. Stops early, as RFC 9113 §8.1 asks, when the
        server has completed its response and resets the stream with NO_ERROR."""
        frame_size = frame_size or self.server_max_frame_size
        deadline = time.monotonic() + self.opts.timeout
        view = memoryview(body)
        seen = []
        while True:
            room = min(frame_size, self.send_conn_window, self.send_stream_window.get(sid, 0))
            if len(view) and room <= 0:
                ev = self._next(deadline)
                if ev == TIMEOUT and sid in self.ended_streams:
                    self.fail("the response is complete but the server neither reads the rest of "
                              "the request body (%d bytes) nor resets the stream with NO_ERROR "
                              "(RFC 9113 §8.1)" % len(view))
                if ev in (CLOSED, TIMEOUT):
                    self.fail("while sending the body (%d bytes left): %s" % (len(view), ev))
                if (isinstance(ev, RstStreamFrame) and ev.stream_id == sid and
                        ev.error_code == F.NO_ERROR and sid in self.ended_streams):
                    self.requeue(seen)
                    return
                if isinstance(ev, (RstStreamFrame, GoAwayFrame)):
                    self.fail("while sending the body: %s" % describe(ev))
                seen.append(ev)
                deadline = time.monotonic() + self.opts.timeout
                continue
            chunk = view[:max(room, 0)]
            view = view[len(chunk):]
            last = not len(view)
            self.send(F.data(sid, bytes(chunk), end_stream=end_stream and last))
            self.send_conn_window -= len(chunk)
            self.send_stream_window[sid] = self.send_stream_window.get(sid, 0) - len(chunk)
            if last:
                self.requeue(seen)
                return

    def requeue(self, events):
        """Gives events read ahead back to the next expect_* call, in their order."""
        self.pending.extendleft(reversed(events))

    # -- receiving --------------------------------------------------------------------------------
    def _read_frame(self, deadline):
        while True:
            if len(self.buf) >= 9:
                length = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + length:
                    head, body = bytes(self.buf[:9]), bytes(self.buf[9:9 + length])
                    del self.buf[:9 + length]
                    return head, body
            if self.closed:
                return CLOSED
            left = deadline - time.monotonic()
            if left <= 0:
                return TIMEOUT
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return TIMEOUT
            except (ConnectionError, ssl.SSLError, OSError) as e:
                self.log.append("read error: %s" % e)
                chunk = b""
            if not chunk:
                self.closed = True
                continue
            self.buf += chunk

    def _next(self, deadline):
        """The next event: a frame (with `.fields` on field-block ends), CLOSED or TIMEOUT."""
        if self.pending:
            return self.pending.popleft()
        while True:
            got = self._read_frame(deadline)
            if got in (CLOSED, TIMEOUT):
                if got == CLOSED and (not self.log or self.log[-1] != CLOSED):
                    self.log.append(CLOSED)
                return got
            head, body = got
            try:
                frame, length = Frame.parse_frame_header(memoryview(head))
                frame.parse_body(memoryview(body))
            except Exception as e:  # hyperframe rejects frames that break RFC 9113 §6
                self.violation("malformed frame from server %s: %s" % (head.hex(), e))
                continue
            self._check(frame, length)
            self.log.append(describe(frame))
            log_index = len(self.log) - 1
            if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                self._apply_server_settings(frame)
            elif isinstance(frame, SettingsFrame):
                self._apply_acked_settings()
            elif isinstance(frame, PingFrame) and "ACK" not in frame.flags:
                self.send(F.ping(bytes(frame.opaque_data), ack=True))
            elif isinstance(frame, WindowUpdateFrame):
                if frame.stream_id == 0:
                    self.send_conn_window += frame.window_increment
                else:
                    self.send_stream_window[frame.stream_id] = (
                        self.send_stream_window.get(frame.stream_id, 0) + frame.window_increment)
            elif isinstance(frame, DataFrame):
                self._account_data(frame)
            elif isinstance(frame, RstStreamFrame):
                self.reset_streams.add(frame.stream_id)
            if isinstance(frame, (HeadersFrame, PushPromiseFrame, ContinuationFrame)):
                if not self._field_block(frame):
                    continue
                self.log[log_index] = describe(frame)
            return frame

    def _field_block(self, frame):
        """Collects HEADERS/PUSH_PROMISE + CONTINUATION; True when `frame` completes a block."""
        if isinstance(frame, ContinuationFrame):
            if self.header_block is None or self.header_block[0].stream_id != frame.stream_id:
                self.violation("CONTINUATION without an open field block (RFC 9113 §6.10)")
                return True
            self.header_block[1].append(bytes(frame.data))
        else:
            self.header_block = (frame, [bytes(frame.data)])
        if "END_HEADERS" not in frame.flags:
            return False
        first, fragments = self.header_block
        self.header_block = None
        try:
            frame.fields = self.decoder.decode(b"".join(fragments), raw=True)
        except Exception as e:
            self.violation("cannot decode the server's field block: %r (RFC 7541)" % e)
            frame.fields = []
        frame.end_stream = "END_STREAM" in first.flags
        frame.stream_id = first.stream_id
        if frame.end_stream:
            self.ended_streams.add(first.stream_id)
        return True

    def _apply_server_settings(self, frame):
        s = dict(frame.settings)
        self.server_settings.update(s)
        if s.get(F.ENABLE_PUSH) == 1:
            self.violation("server sent SETTINGS_ENABLE_PUSH=1 (RFC 9113 §6.5.2)")
        if F.MAX_FRAME_SIZE in s:
            self.server_max_frame_size = s[F.MAX_FRAME_SIZE]
        if F.INITIAL_WINDOW_SIZE in s:
            delta = s[F.INITIAL_WINDOW_SIZE] - self.server_initial_window
            self.server_initial_window = s[F.INITIAL_WINDOW_SIZE]
            for sid in self.send_stream_window:
                self.send_stream_window[sid] += delta
        if F.HEADER_TABLE_SIZE in s and s[F.HEADER_TABLE_SIZE] < 4096:
            self.encoder.header_table_size = s[F.HEADER_TABLE_SIZE]
        self.send(F.settings_ack())

    def _apply_acked_settings(self):
        if not self.unacked_settings:
            self.violation("SETTINGS ACK for nothing we sent (RFC 9113 §6.5.3)")
            return
        for key, value in self.unacked_settings.popleft():
            if key == F.MAX_FRAME_SIZE and 16384 <= value < 2**24:
                self.max_frame_size = value
            elif key == F.ENABLE_PUSH:
                self.push_enabled = value == 1
            elif key == F.HEADER_TABLE_SIZE:
                self.decoder.max_allowed_table_size = value
            elif key == F.INITIAL_WINDOW_SIZE and value <= F.MAX_WINDOW:
                delta = value - self.initial_window
                self.initial_window = value
                for sid in self.recv_stream_window:
                    self.recv_stream_window[sid] += delta

    def _account_data(self, frame):
        n = frame.flow_controlled_length
        sid = frame.stream_id
        self.recv_conn_window -= n
        window = self.recv_stream_window.get(sid, self.initial_window) - n
        self.recv_stream_window[sid] = window
        if self.recv_conn_window < 0 or window < 0:
            self.violation("DATA of %d bytes on stream %d beyond the flow-control window we "
                           "granted (RFC 9113 §6.9.1)" % (n, sid))
        if self.auto_window and n:
            self.give_window(sid, n, stream="END_STREAM" not in frame.flags)

    def give_window(self, sid, n, stream=True, connection=True):
        out = []
        if connection:
            out.append(F.window_update(0, n))
            self.recv_conn_window += n
        if stream:
            out.append(F.window_update(sid, n))
            self.recv_stream_window[sid] = self.recv_stream_window.get(sid, 0) + n
        self.send(*out)

    def _check(self, frame, length):
        """Rules the server must follow in every case."""
        if length > self.max_frame_size:
            self.violation("frame of %d bytes above our SETTINGS_MAX_FRAME_SIZE %d (RFC 9113 "
                           "§4.2)" % (length, self.max_frame_size))
        if isinstance(frame, PushPromiseFrame) and not self.push_enabled:
            self.violation("PUSH_PROMISE after SETTINGS_ENABLE_PUSH=0 (RFC 9113 §6.6)")
        if isinstance(frame, ExtensionFrame) and frame.type == F.PRIORITY_UPDATE:
            self.violation("server sent PRIORITY_UPDATE (RFC 9218 §7.1)")
        if self.header_block is not None and not isinstance(frame, ContinuationFrame):
            self.violation("%s inside a field block (RFC 9113 §4.3)" % describe(frame))
        if isinstance(frame, (HeadersFrame, DataFrame)):
            sid = frame.stream_id
            if sid == 0 or (sid % 2 == 1 and sid > self.highest_stream_id):
                self.violation("%s on a stream we never opened (RFC 9113 §5.1)" % describe(frame))
            if sid in self.ended_streams:
                self.violation("%s after END_STREAM (RFC 9113 §5.1)" % describe(frame))
            if isinstance(frame, DataFrame) and "END_STREAM" in frame.flags:
                self.ended_streams.add(sid)

    def violation(self, msg):
        self.violations.append(msg)
        self.log.append("VIOLATION: " + msg)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
