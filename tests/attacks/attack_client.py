"""Pieces of the attack suite: a raw HTTP/2 client (frames built with hyperframe, header blocks
encoded by hand so that a test controls every byte), the RSS of an h2host process tree, and the
well-behaved client (python3-h2) whose GET must be served within a second during and after an
attack.

The raw client parses frames with a small struct-based reader instead of hyperframe's: a flood
test reads hundreds of thousands of PING ACKs, and hyperframe's per-frame objects would make the
reader, not the server, the bottleneck.
"""
import collections
import errno
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from h2conf import frames as h2conf_frames  # noqa: E402

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# RFC 9113 §7 error codes.
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB
ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
               4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR",
               7: "REFUSED_STREAM", 8: "CANCEL", 9: "COMPRESSION_ERROR", 0xB: "ENHANCE_YOUR_CALM"}

# Frame types.
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4

# SETTINGS identifiers.
SETTINGS_HEADER_TABLE_SIZE = 0x1
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
SETTINGS_MAX_FRAME_SIZE = 0x5
SETTINGS_MAX_HEADER_LIST_SIZE = 0x6


# ---- frames out (hyperframe) --------------------------------------------------------------------

def settings_frame(values=None, ack=False):
    f = SettingsFrame(0)
    if ack:
        f.flags.add("ACK")
    else:
        f.settings = dict(values or {})
    return f.serialize()


def raw_frame(ftype, flags, stream_id, payload=b""):
    """A frame without hyperframe's checks or cost (floods build hundreds of thousands)."""
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream_id) + payload


def headers_frame(stream_id, block, end_stream=False, end_headers=True):
    f = HeadersFrame(stream_id, data=block)
    if end_stream:
        f.flags.add("END_STREAM")
    if end_headers:
        f.flags.add("END_HEADERS")
    return f.serialize()


def continuation_frame(stream_id, block, end_headers=False):
    f = ContinuationFrame(stream_id, data=block)
    if end_headers:
        f.flags.add("END_HEADERS")
    return f.serialize()


def data_frame(stream_id, payload=b"", end_stream=False):
    f = DataFrame(stream_id, data=payload)
    if end_stream:
        f.flags.add("END_STREAM")
    return f.serialize()


def rst_frame(stream_id, code=CANCEL):
    return RstStreamFrame(stream_id, error_code=code).serialize()


def ping_frame(opaque=b"\0" * 8, ack=False):
    f = PingFrame(0, opaque_data=opaque)
    if ack:
        f.flags.add("ACK")
    return f.serialize()


def window_update_frame(stream_id, increment):
    return WindowUpdateFrame(stream_id, window_increment=increment).serialize()


# ---- HPACK by hand (RFC 7541): stateless literals, or exactly the table operations a test wants --

# RFC 7541 §5.1 integers: the conformance suite's encoder (one copy for both raw clients).
hpack_int = h2conf_frames.hpack_int


def hpack_string(s):
    s = s.encode() if isinstance(s, str) else s
    return hpack_int(len(s), 7) + s  # no Huffman


def literal(name, value, index=False):
    """A literal field with a new name: without indexing (§6.2.2), or with incremental indexing
    (§6.2.1: the field is added to the dynamic table)."""
    return (b"\x40" if index else b"\x00") + hpack_string(name) + hpack_string(value)


def literal_indexed_name(name_index, value):
    """A literal without indexing whose name is static-table entry `name_index` (4-bit prefix)."""
    return hpack_int(name_index, 4) + hpack_string(value)


def indexed(index):
    """§6.1 indexed field: static 1..61, dynamic 62 and up."""
    return hpack_int(index, 7, 0x80)


def request_block(path="/", method="GET", authority="127.0.0.1", extra=()):
    """A request header block that leaves the peer's dynamic table alone."""
    out = bytearray()
    out += {"GET": b"\x82", "POST": b"\x83"}.get(method) or literal_indexed_name(2, method)
    out += b"\x86"  # :scheme http
    out += literal_indexed_name(1, authority)
    out += b"\x84" if path == "/" else literal_indexed_name(4, path)
    for name, value in extra:
        out += literal(name, value)
    return bytes(out)


# ---- frames in ----------------------------------------------------------------------------------

class Frame(collections.namedtuple("Frame", "type flags stream_id payload")):
    @property
    def error_code(self):  # RST_STREAM, GOAWAY
        if self.type == RST_STREAM:
            return struct.unpack(">I", self.payload[:4])[0]
        if self.type == GOAWAY:
            return struct.unpack(">I", self.payload[4:8])[0]
        raise ValueError("not an RST_STREAM or GOAWAY")

    @property
    def last_stream_id(self):
        return struct.unpack(">I", self.payload[:4])[0] & 0x7FFFFFFF

    @property
    def debug(self):
        return bytes(self.payload[8:])

    @property
    def increment(self):
        return struct.unpack(">I", self.payload[:4])[0] & 0x7FFFFFFF

    def __repr__(self):
        name = {DATA: "DATA", HEADERS: "HEADERS", RST_STREAM: "RST_STREAM", SETTINGS: "SETTINGS",
                PING: "PING", GOAWAY: "GOAWAY", WINDOW_UPDATE: "WINDOW_UPDATE",
                CONTINUATION: "CONTINUATION"}.get(self.type, str(self.type))
        extra = ""
        if self.type in (RST_STREAM, GOAWAY):
            extra = " %s" % ERROR_NAMES.get(self.error_code, self.error_code)
        if self.type == GOAWAY:
            extra += " last=%d %r" % (self.last_stream_id, self.debug)
        return "<%s stream=%d flags=%#x len=%d%s>" % (name, self.stream_id, self.flags,
                                                      len(self.payload), extra)


def is_goaway(f):
    return f.type == GOAWAY


class RawConnection:
    """One TCP connection speaking raw HTTP/2 frames. Reads are bounded by deadlines: nothing here
    sleeps and hopes. `closed` turns true on EOF or a reset from the server."""

    def __init__(self, port, host="127.0.0.1", source=None, rcvbuf=None, preface=True,
                 settings=None, ack_settings=True, connect_timeout=2.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Before connect(): also caps the window scale, so the server's writes block early.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source:
            self.sock.bind((source, 0))
        self.sock.settimeout(connect_timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        self.reset = False  # the close was an RST (ECONNRESET) rather than a FIN
        self.received_bytes = 0
        self.ack_settings = ack_settings
        self.server_settings_seen = False
        self.frames = []  # frames handed out by wait_for/wait_close (DATA and PING not kept)
        self.pending = collections.deque()  # parsed, not yet handed out
        self.decoder = hpack.Decoder()  # every server header block, in order (HPACK state)
        self.decoder.max_header_list_size = 1 << 20
        self.block = None  # (stream id, bytes) of a header block awaiting CONTINUATION
        self.heads = collections.defaultdict(list)  # stream id -> [{name: value}] decoded
        if preface:
            self.send(PREFACE + settings_frame(settings))

    def send(self, data):
        """Sends everything; False when the server already closed (EPIPE / ECONNRESET)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False
        except OSError as e:
            if e.errno in (errno.EPIPE, errno.ECONNRESET):
                return False
            raise

    def _read_some(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.closed = self.reset = True
            return False
        if not data:
            self.closed = True
            return False
        self.received_bytes += len(data)
        self.buf += data
        return True

    def feed(self, data):
        """Bytes read by someone else (a selector loop over many connections): parsed, the
        server's SETTINGS ACKed, every frame but DATA and PING kept in `frames`."""
        self.received_bytes += len(data)
        self.buf += data
        self._parse()
        while self.pending:
            f = self.pending.popleft()
            if f.type not in (DATA, PING):
                self.frames.append(f)

    def _parse(self):
        out = []
        view = memoryview(self.buf)
        pos = 0
        n = len(self.buf)
        while n - pos >= 9:
            length = (view[pos] << 16) | (view[pos + 1] << 8) | view[pos + 2]
            if n - pos < 9 + length:
                break
            ftype, flags = view[pos + 3], view[pos + 4]
            sid = struct.unpack_from(">I", view, pos + 5)[0] & 0x7FFFFFFF
            payload = bytes(view[pos + 9:pos + 9 + length])
            out.append(Frame(ftype, flags, sid, payload))
            pos += 9 + length
        view.release()
        del self.buf[:pos]
        for f in out:
            if f.type in (HEADERS, CONTINUATION):
                self._header_block(f)
            if f.type == SETTINGS and not f.flags & ACK:
                self.server_settings_seen = True
                if self.ack_settings:
                    self.send(settings_frame(ack=True))
        self.pending.extend(out)

    def _header_block(self, f):
        payload = f.payload
        if f.type == HEADERS:
            if f.flags & 0x8:  # PADDED
                payload = payload[1:len(payload) - payload[0]]
            if f.flags & 0x20:  # PRIORITY
                payload = payload[5:]
            self.block = (f.stream_id, bytearray(payload))
        elif self.block is not None:
            self.block[1].extend(payload)
        if f.flags & END_HEADERS and self.block is not None:
            sid, block = self.block
            self.block = None
            fields = self.decoder.decode(bytes(block), raw=True)
            self.heads[sid].append({k.decode(): v.decode() for k, v in fields})

    def status(self, stream_id):
        """The :status of the stream's first decoded header block, or None."""
        heads = self.heads.get(stream_id)
        return int(heads[0][":status"]) if heads else None

    def wait_for(self, predicate, within):
        """Reads until a frame satisfies `predicate` (returned with the seconds it took), the
        server closes, or `within` seconds pass (None)."""
        start = time.monotonic()
        deadline = start + within
        while True:
            self._parse()
            while self.pending:
                f = self.pending.popleft()
                if f.type not in (DATA, PING):
                    self.frames.append(f)
                if predicate(f):
                    return f, time.monotonic() - start
            if self.closed or time.monotonic() >= deadline:
                return None, time.monotonic() - start
            self._read_some(deadline)

    def wait_close(self, within):
        """Reads (and keeps the frames) until EOF or reset; returns the seconds it took, None
        on timeout."""
        _, seconds = self.wait_for(lambda f: False, within)
        return seconds if self.closed else None

    def goaways(self):
        return [f for f in self.frames if f.type == GOAWAY]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def handshake(conn, within=1.0):
    """Waits for the server's SETTINGS (ACKed by the reader) and returns the frames seen."""
    f, _ = conn.wait_for(lambda f: f.type == SETTINGS and not f.flags & ACK, within)
    if f is None:
        raise AssertionError("no SETTINGS from the server within %.1f s (closed=%s)" %
                             (within, conn.closed))
    return f


# ---- the h2host process tree --------------------------------------------------------------------

def process_tree(root):
    """root and every descendant, by ppid (workers are forked children of the master)."""
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


class RssWatch:
    """Samples the summed VmRSS of an h2host process tree every 20 ms while active; `growth_mib`
    is the peak minus the value when the watch started."""

    def __init__(self, root_pid, interval=0.02):
        self.root = root_pid
        self.interval = interval
        self.pids = process_tree(root_pid)
        self.baseline = rss_kib(self.pids)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        rounds = 0
        while not self._stop.is_set():
            rounds += 1
            if rounds % 25 == 0:
                self.pids = process_tree(self.root)  # a respawned worker would be new
            self.peak = max(self.peak, rss_kib(self.pids))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pids))
        return False

    @property
    def growth_mib(self):
        return (self.peak - self.baseline) / 1024.0


# ---- the well-behaved client --------------------------------------------------------------------

def fresh_get(port, path, within=1.0, source=None):
    """One GET on a new connection by python3-h2, all of it (connect, handshake, response) within
    `within` seconds. Returns (status, body, seconds); raises socket.timeout past the deadline."""
    start = time.monotonic()
    deadline = start + within
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if source:
            sock.bind((source, 0))
        sock.settimeout(within)
        sock.connect(("127.0.0.1", port))
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"),
                                (":authority", "127.0.0.1"), (":path", path)], end_stream=True)
        sock.sendall(conn.data_to_send())
        status, body, done = None, bytearray(), False
        while not done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("fresh GET %s not answered within %.1f s" % (path, within))
            sock.settimeout(remaining)
            data = sock.recv(65536)
            if not data:
                raise AssertionError("fresh GET %s: connection closed (status %s, %d bytes)" %
                                     (path, status, len(body)))
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                    status = int(dict(ev.headers)[b":status"])
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    body += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    done = True
                elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                    raise AssertionError("fresh GET %s reset (%d)" % (path, ev.error_code))
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    raise AssertionError("fresh GET %s: GOAWAY %d" % (path, ev.error_code))
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
        return status, bytes(body), time.monotonic() - start
    finally:
        sock.close()


class Background:
    """Runs `fn` in a thread (an attack that must go on while the main thread probes)."""

    def __init__(self, fn, *args):
        self.result = None
        self.error = None
        self._thread = threading.Thread(target=self._run, args=(fn,) + args, daemon=True)
        self._thread.start()

    def _run(self, fn, *args):
        try:
            self.result = fn(*args)
        except BaseException as e:  # reported by join()
            self.error = e

    def join(self, timeout):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the attack thread did not finish within %.1f s" % timeout)
        if self.error:
            raise self.error
        return self.result


def flood(conn, chunk, max_bytes, max_seconds=5.0, stop=None, block_timeout=0.3):
    """Sends `chunk` (bytes, or a function of the chunk's index returning them) again and again
    on a dup of the connection's socket (so that a reader in another thread keeps its own
    timeout) until the server stops reading (one send blocked for `block_timeout`), the
    connection fails, `max_bytes` or `max_seconds` were reached, or `stop` (a threading.Event) is
    set. Returns (bytes sent, why) with why in blocked, failed, cap, stopped."""
    sock = conn.sock.dup()
    sock.settimeout(block_timeout)
    sent = 0
    index = 0
    end = time.monotonic() + max_seconds
    try:
        while sent < max_bytes:
            if stop is not None and stop.is_set():
                return sent, "stopped"
            if time.monotonic() >= end:
                return sent, "cap"
            data = chunk(index) if callable(chunk) else chunk
            index += 1
            try:
                sock.sendall(data)
            except socket.timeout:
                return sent, "blocked"
            except OSError:
                return sent, "failed"
            sent += len(data)
        return sent, "cap"
    finally:
        sock.close()


TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
              6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
              11: "CLOSING"}


def server_end_state(server_port, client_port):
    """The kernel's TCP state of the server's end of a loopback connection (/proc/net/tcp), or
    None once it is gone: how a test sees that the server closed a connection the client does not
    read (the FIN waits behind the unread bytes, so the client itself cannot see it yet)."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            local, remote = parts[1], parts[2]
            if (int(local.rsplit(":", 1)[1], 16) == server_port and
                    int(remote.rsplit(":", 1)[1], 16) == client_port):
                return int(parts[3], 16)
    return None


def raw_exchange(port, data, within=1.0, source=None):
    """Sends raw bytes on a new connection and reads until the server closes or `within` passes.
    Returns (bytes received, seconds until the close or None, reset)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        sock.bind((source, 0))
    start = time.monotonic()
    deadline = start + within
    out = bytearray()
    try:
        sock.settimeout(within)
        sock.connect(("127.0.0.1", port))
        if data:
            sock.sendall(data)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(out), None, False
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return bytes(out), None, False
            except ConnectionResetError:
                return bytes(out), time.monotonic() - start, True
            if not chunk:
                return bytes(out), time.monotonic() - start, False
            out += chunk
    finally:
        sock.close()


def parse_frames(data):
    """Frames in a byte string; raises if it does not parse as whole HTTP/2 frames."""
    frames, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 9:
            raise ValueError("trailing %d bytes are not a frame header" % (len(data) - pos))
        length = int.from_bytes(data[pos:pos + 3], "big")
        if len(data) - pos - 9 < length:
            raise ValueError("truncated frame")
        sid = int.from_bytes(data[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        frames.append(Frame(data[pos + 3], data[pos + 4], sid, data[pos + 9:pos + 9 + length]))
        pos += 9 + length
    return frames
