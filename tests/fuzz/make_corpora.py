#!/usr/bin/python3
"""Writes the seed corpora of the hpack, connection, http1 and config fuzz targets.

Sources, so that the fuzzers start from what real peers send:
  * hpack: the hpack-test-case stories ($H2_FIXTURES_DIR, other implementations' encoders), as
    stateful block sequences and as round-trip header lists;
  * connection and http1: the first flights of real clients (curl, nghttp, h2load, python3-h2),
    recorded by a loopback server that answers with an HTTP/2 SETTINGS frame (or nothing, for
    HTTP/1.1) and keeps whatever the client sends; plus the conformance suite's frame builders
    (tests/conformance/h2conf/frames.py) for flows no client sends unasked (CONTINUATION,
    trailers, PRIORITY_UPDATE, RST_STREAM, padding);
  * config: every config.yaml in the repository plus the README's example.
Run: /usr/bin/python3 tests/fuzz/make_corpora.py   (needs curl, nghttp, h2load, python3-h2)
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
from h2conf import frames as F  # noqa: E402

FIXTURES = os.environ.get("H2_FIXTURES_DIR", os.path.join(ROOT, "..", "shared", "fixtures"))
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- hpack -----------------------------------------------------------------------------------
def hpack_corpus():
    base = os.path.join(FIXTURES, "hpack-test-case")
    if not os.path.isdir(base):
        sys.exit("hpack-test-case fixtures missing: %s (set H2_FIXTURES_DIR)" % base)
    for impl in ("nghttp2", "go-hpack", "haskell-http2-linear-huffman", "python-hpack",
                 "node-http2-hpack", "swift-nio-hpack"):
        d = os.path.join(base, impl)
        if not os.path.isdir(d):
            continue
        for story in ("story_00.json", "story_10.json", "story_20.json", "story_29.json"):
            p = os.path.join(d, story)
            if not os.path.exists(p):
                continue
            cases = json.load(open(p))["cases"]
            blocks = b""
            lists = b""
            for c in cases[:40]:
                wire = bytes.fromhex(c["wire"])
                blocks += bytes([0, len(wire) >> 8, len(wire) & 255]) + wire
                fields = [list(h.items())[0] for h in c["headers"]]
                fields = [(n.encode(), v.encode()) for n, v in fields
                          if len(n.encode()) < 256 and len(v.encode()) < 256][:127]
                lists += bytes([len(fields)]) + b"".join(
                    bytes([len(n)]) + n + bytes([len(v)]) + v for n, v in fields)
            # decode mode: table 4096, list 64 KiB, 512 fields, 64 KiB strings
            write("hpack", "%s-%s-decode" % (impl, story[:-5]), bytes([0, 0x0F]) + blocks)
            # round trip: Huffman, incremental indexing, some fields sensitive
            write("hpack", "%s-%s-roundtrip" % (impl, story[:-5]), bytes([1, 0x13]) + lists)
    # table size changes between blocks (control bit 0), and a round trip resizing the table
    write("hpack", "resize-decode", bytes([0, 0x0F, 0x03, 0, 1, 0x3f, 0x01, 0, 0]))
    write("hpack", "resize-roundtrip",
          bytes([1, 0x01, 2, 3]) + b"abc" + bytes([1]) + b"x" + bytes([2]) + b"yy" +
          bytes([0x81, 1, 3]) + b"abc" + bytes([1]) + b"x")


# ---- recorded clients --------------------------------------------------------------------------
class Recorder:
    """A loopback server that records what one client sends on one connection. For HTTP/2 it
    answers the preface with an empty SETTINGS and ACKs the client's SETTINGS, so the client
    goes on to send its requests."""

    def __init__(self, http2):
        self.http2 = http2
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.data = b""
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conn, _ = self.sock.accept()
        conn.settimeout(0.4)
        answered = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            self.data += chunk
            if self.http2 and not answered and self.data.startswith(PREFACE):
                conn.sendall(F.settings() + F.settings_ack())
                answered = True
        conn.close()
        self.sock.close()

    def wait(self):
        self.thread.join(5)
        return self.data


def record(http2, argv_for_port):
    rec = Recorder(http2)
    argv = argv_for_port(rec.port)
    try:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5)
    except (subprocess.TimeoutExpired, FileNotFoundError) as e:
        sys.exit("recording %s failed: %s" % (argv[0], e))
    data = rec.wait()
    if not data:
        sys.exit("%s sent nothing" % argv[0])
    return data


def chunked(stream, knobs, seed, step=200):
    """The connection target's framing: [knobs][seed] then [control][len][bytes] chunks, each
    followed by a full drain (control 0); every fourth chunk advances the clock (control 3)."""
    out = bytes([knobs, seed])
    for i in range(0, len(stream), step):
        piece = stream[i:i + step]
        out += bytes([3 if (i // step) % 4 == 3 else 0, len(piece)]) + piece
    return out


def clients_corpus(body_file):
    url = lambda p, path="/": "http://127.0.0.1:%d%s" % (p, path)  # noqa: E731
    h2_clients = {
        "curl-get": lambda p: ["curl", "-s", "--http2-prior-knowledge", url(p)],
        "curl-post": lambda p: ["curl", "-s", "--http2-prior-knowledge", "--data-binary",
                                "@" + body_file, url(p, "/echo")],
        "nghttp-get": lambda p: ["nghttp", "-n", url(p, "/index.html")],
        "nghttp-multi": lambda p: ["nghttp", "-n", "-a", "-m", "3", url(p)],
        "nghttp-post": lambda p: ["nghttp", "-n", "-d", body_file, url(p, "/echo")],
        "h2load": lambda p: ["h2load", "-n", "4", "-c", "1", "-m", "4", url(p)],
        "python-h2": lambda p: ["/usr/bin/python3", "-c", PYTHON_H2_CLIENT, str(p)],
    }
    for name, argv in h2_clients.items():
        stream = record(True, argv)
        write("connection", name, chunked(stream, 0, 0))
        write("connection", name + "-small-windows", chunked(stream, 0x03, 5, 17))
    h1_clients = {
        "curl-get": lambda p: ["curl", "-s", "--http1.1", url(p, "/static/a.txt")],
        "curl-post": lambda p: ["curl", "-s", "--http1.1", "--data-binary", "@" + body_file,
                                url(p, "/echo")],
        "curl-upgrade": lambda p: ["curl", "-s", "--http2", url(p)],
        "curl-chunked": lambda p: ["curl", "-s", "--http1.1", "-H", "Transfer-Encoding: chunked",
                                   "--data-binary", "@" + body_file, url(p, "/echo")],
        "curl-expect": lambda p: ["curl", "-s", "--http1.1", "-H", "Expect: 100-continue",
                                  "--data-binary", "@" + body_file, url(p, "/echo")],
    }
    for name, argv in h1_clients.items():
        write("http1", name, bytes([0x30]) + record(False, argv))


PYTHON_H2_CLIENT = r"""
import socket, sys, h2.connection, h2.config
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
c.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "http"),
                   (":authority", "localhost")], end_stream=True)
c.send_headers(3, [(":method", "POST"), (":path", "/echo"), (":scheme", "http"),
                   (":authority", "localhost"), ("content-length", "5")])
c.send_data(3, b"hello", end_stream=True)
c.ping(b"12345678")
s.sendall(c.data_to_send())
s.settimeout(1)
try:
    s.recv(65536)
except Exception:
    pass
"""


# ---- synthetic flows (the conformance suite's builders) ---------------------------------------
def synthetic_corpus():
    import hpack
    enc = hpack.Encoder()

    def req(sid, method="GET", path="/", extra=(), end=True, **kw):
        block = enc.encode([(":method", method), (":scheme", "http"), (":path", path),
                            (":authority", "localhost")] + list(extra))
        return F.headers(sid, block, end_stream=end, **kw)

    start = PREFACE + F.settings()
    flows = {
        "get": start + F.settings_ack() + req(1),
        "post-trailers": start + req(1, "POST", "/echo", end=False) + F.raw(0, 0, 1, b"body") +
        F.raw(1, 0x5, 1, enc.encode([("x-trailer", "1")])),
        "continuation": start + F.raw(1, 0x1, 1, enc.encode([(":method", "GET"),
                                                             (":scheme", "http")])) +
        F.raw(9, 0x4, 1, enc.encode([(":path", "/"), (":authority", "a")])),
        "rst-and-ping": start + req(1) + req(3) + F.raw(3, 0, 3, b"\0\0\0\x08") +
        F.raw(6, 0, 0, b"12345678") + F.raw(8, 0, 0, b"\0\0\x10\0"),
        "padded-data": start + req(1, "POST", "/echo", end=False) +
        F.raw(0, 0x9, 1, b"\x03abc\0\0\0"),
        "priority-update": start + F.raw(16, 0, 0, b"\0\0\0\x01u=0") + req(1),
        "window-zero": PREFACE + F.raw(4, 0, 0, b"\0\x04\0\0\0\0") + req(1) + req(3),
        "goaway": start + req(1) + F.raw(7, 0, 0, b"\0\0\0\x01\0\0\0\0"),
        "connect": start + F.raw(1, 0x4, 1, enc.encode([(":method", "CONNECT"),
                                                        (":protocol", "websocket"),
                                                        (":scheme", "http"), (":path", "/ws"),
                                                        (":authority", "a")])),
    }
    for name, stream in flows.items():
        write("connection", "synthetic-" + name, chunked(stream, 0, 7))
    write("connection", "prefixed-get", bytes([0x80, 1, 0, 0]))  # preface + SETTINGS given
    http1 = {
        "pipelined": b"GET /a HTTP/1.1\r\nhost: a\r\n\r\nGET /b HTTP/1.1\r\nhost: a\r\n\r\n",
        "upgrade-with-body": b"POST /echo HTTP/1.1\r\nhost: a\r\nconnection: Upgrade, "
                             b"HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQAoAAA\r\n"
                             b"content-length: 3\r\n\r\nabc" + PREFACE + F.settings(),
        "bad-upgrade": b"GET / HTTP/1.1\r\nhost: a\r\nconnection: Upgrade, HTTP2-Settings\r\n"
                       b"upgrade: h2c\r\nhttp2-settings: !!\r\n\r\n",
        "broken-preface": b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
        "http10": b"GET / HTTP/1.0\r\n\r\n",
        "many-fields": b"GET / HTTP/1.1\r\n" + b"a: b\r\n" * 200 + b"\r\n",
        "chunked-trailers": b"POST /echo HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n"
                            b"3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n",
    }
    for name, data in http1.items():
        write("http1", "synthetic-" + name, bytes([0x30]) + data)


def config_corpus():
    for rel in ("config.yaml", "spec-handlers/config.yaml"):
        with open(os.path.join(ROOT, rel), "rb") as f:
            write("config", rel.replace("/", "-"), f.read())
    write("config", "every-section", b"""workers: 2
master_process: false
runtime: asio
server_header: "off"
listeners:
  - listen: 127.0.0.1:8080
    protocols: [h2c, http/1.1]
  - {listen: "unix:/tmp/h2.sock", runtime: io_uring}
modules: {directory: mods, config: {static: {root: .}}}
routes:
  - {prefix: /, module: static, methods: [GET, HEAD], config: {max_age: 60}}
  - {path: /echo, authority: example.com, module: echo}
limits: {max_concurrent_streams: 10, flow_control_stall_timeout_ms: 1000}
timeouts: {idle_ms: 1000, preface_ms: 100}
http1: {max_header_fields: 10}
connections: {max_per_address: 4}
logs: {level: info, access_log: off, access_format: json}
""")


def main():
    for target in ("hpack", "connection", "http1", "config"):
        shutil.rmtree(os.path.join(HERE, "corpus", target), ignore_errors=True)
    body = os.path.join(HERE, ".corpus-body.tmp")
    with open(body, "wb") as f:
        f.write(b"0123456789" * 300)
    try:
        hpack_corpus()
        clients_corpus(body)
        synthetic_corpus()
        config_corpus()
    finally:
        os.remove(body)
    for target in ("hpack", "connection", "http1", "config"):
        d = os.path.join(HERE, "corpus", target)
        print("%s: %d files, %d bytes" % (target, len(os.listdir(d)),
                                          sum(os.path.getsize(os.path.join(d, n))
                                              for n in os.listdir(d))))


if __name__ == "__main__":
    main()
