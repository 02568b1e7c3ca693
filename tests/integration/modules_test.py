"""Modules through the real binary: failing handlers, push, 103, the shipped modules."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
import unittest

import h2.events
import h2.settings

from h2host_support import (H2HOST, MODULE_DIR, PROBE, H2Client, HostTestCase, run)


MODULE_FAILURE_CONFIG = """
    listeners:
      - listen: 127.0.0.1:0
    modules:
      directory: %s
      files: [@PROBE@]
    routes:
      - {path: /throw, module: probe, config: {mode: throw}}
      - {path: /throw-after-head, module: probe, config: {mode: throw-after-head}}
      - {path: /push, module: probe, config: {mode: push}}
      - {path: /early-hints, module: probe, config: {mode: early-hints}}
      - {prefix: /, module: hello}
""" % MODULE_DIR


class ModuleFailuresTest(HostTestCase):
    config = MODULE_FAILURE_CONFIG

    def test_throwing_handler_gives_500_and_the_connection_goes_on(self):
        # HTTP/2: same connection (curl 7.88 cannot reuse a prior-knowledge connection for a
        # second URL - it fails the same way against nghttpd - so python3-h2 is the client).
        c = H2Client(self.host.port())
        sid = c.request("/throw")
        results = c.collect([sid])
        self.assertEqual(results[sid]["headers"][b":status"], b"500")
        sid = c.request("/")
        results = c.collect([sid])
        self.assertEqual(results[sid]["headers"][b":status"], b"200")
        c.close()
        r = run(["curl", "-sv", "--http1.1", "-o", "/dev/null", "-o", "/dev/null", "-w",
                 "%{http_code} ", self.host.url("/throw"), self.host.url("/")])
        self.assertEqual(r.stdout, "500 200 ")
        self.assertIn("Re-using existing connection", r.stderr)
        self.assertIn("probe failure before the head", self.host.log_text())

    def test_throw_after_head_resets_the_stream(self):
        c = H2Client(self.host.port())
        sid = c.request("/throw-after-head")
        sid2 = c.request("/ok")
        results = c.collect([sid, sid2])
        self.assertEqual(results[sid]["reset"], 2)  # INTERNAL_ERROR
        self.assertEqual(results[sid2]["data"], b"hello from h2host (HTTP/2)\n")
        c.close()

    def test_push_with_nghttp(self):
        r = run(["nghttp", "-v", self.host.url("/push")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("recv PUSH_PROMISE frame", r.stdout)
        self.assertIn(":path: /pushed.css", r.stdout)
        self.assertIn("push: ok", r.stdout)
        self.assertIn("body{}", r.stdout)

    def test_push_result_over_http1(self):
        out = run(["curl", "-s", "--http1.1", self.host.url("/push")]).stdout
        self.assertEqual(out, "push: unsupported")

    def test_early_hints(self):
        r = run(["curl", "-sv", "--http2-prior-knowledge", self.host.url("/early-hints")])
        self.assertIn("< HTTP/2 103", r.stderr)
        self.assertIn("< link: </a.css>; rel=preload", r.stderr)
        self.assertEqual(r.stdout, "103: ok")
        r = run(["curl", "-sv", "--http1.1", self.host.url("/early-hints")])
        self.assertIn("< HTTP/1.1 103 Early Hints", r.stderr)
        self.assertEqual(r.stdout, "103: ok")


SHIPPED_CONFIG = """
    listeners:
      - listen: 127.0.0.1:0
    modules: {directory: %s, files: [@SPEC@]}
    limits: {initial_stream_window: 65535, connection_window: 65535}
    http1: {max_body_bytes: 8388608}
    routes:
      - {prefix: /echo, module: echo}
      - {prefix: /upload, methods: [POST, PUT], module: echo}
      - {path: /events, module: sse, config: {interval_ms: 30, count: 3, event: tick}}
      - {prefix: /static/, module: static, config: {root: @DIR@/www, prefix: /static}}
      - {path: /string, module: spec, config: {handler: string}}
      - {path: /bigstring, module: spec, config: {handler: bigstring}}
      - {path: /streaming, module: spec, config: {handler: streaming}}
      - {path: /immediately, module: spec, config: {handler: immediately}}
      - {path: /push, module: spec, config: {handler: push}}
      - {prefix: /, module: hello}
""" % MODULE_DIR


class ShippedModulesTest(HostTestCase):
    """The shipped modules and the spec handlers through the real binary."""
    config = SHIPPED_CONFIG

    def head_of(self, *args):
        out = self.curl("-sS", "-o", "/dev/null", "-D", "-", *args)
        return {k.lower(): v for k, v in re.findall(r"^([^:\r\n]+): ([^\r\n]*)", out, re.M)}, out

    def test_method_the_most_specific_route_refuses_is_405_with_allow(self):
        # RFC 9110 §15.5.6; "/" accepts GET, but /upload is the most specific route.
        for proto in ("--http2-prior-knowledge", "--http1.1"):
            fields, out = self.head_of(proto, self.host.url("/upload/x"))
            self.assertRegex(out, r"^HTTP/[12](\.1)? 405")
            self.assertEqual(fields["allow"], "POST, PUT")
        self.assertEqual(self.curl("--http2-prior-knowledge", "-d", "up",
                                   self.host.url("/upload/x")), "up")

    def test_date_and_server_on_both_protocols_and_304_without_content_length(self):
        date = r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$"
        for proto in ("--http2-prior-knowledge", "--http1.1"):
            fields, _ = self.head_of(proto, self.host.url("/static/a.txt"))
            self.assertRegex(fields["date"], date)  # RFC 9110 §6.6.1
            self.assertEqual(fields["server"], "h2host")
        etag = self.head_of("--http1.1", self.host.url("/static/a.txt"))[0]["etag"]
        fields, out = self.head_of("--http1.1", "-H", "if-none-match: " + etag,
                                   self.host.url("/static/a.txt"))
        self.assertRegex(out, r"^HTTP/1.1 304")
        self.assertNotIn("content-length", fields)  # RFC 9110 §8.6


    def test_echo_large_body_through_small_windows(self):
        # Server windows are 65535 (limits above); the client's own window is 4096, so both
        # directions wait for WINDOW_UPDATEs many times over a 1 MiB body.
        c = H2Client(self.host.port(), {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 4096})
        body = os.urandom(1 << 20)
        sid = c.request("/echo", method="POST", end_stream=False)
        # Read while sending: echo streams back as it reads, and only reads what was flushed.
        import threading
        results = {}
        reader = threading.Thread(target=lambda: results.update(c.collect([sid])))
        reader.start()
        sent = 0
        while sent < len(body):
            window = min(c.conn.local_flow_control_window(sid), 16384)
            if window <= 0:
                time.sleep(0.001)
                continue
            c.conn.send_data(sid, body[sent:sent + window])
            c.flush()
            sent += window
        c.conn.end_stream(sid)
        c.flush()
        reader.join(timeout=60)
        self.assertFalse(reader.is_alive())
        self.assertEqual(results[sid]["headers"][b":status"], b"200")
        self.assertEqual(len(results[sid]["data"]), len(body))
        self.assertTrue(results[sid]["data"] == body)
        c.close()

    def test_http1_echo_streams_a_large_chunked_body(self):
        body_file = os.path.join(self.host.dir, "body.bin")
        data = os.urandom(5 << 20)
        with open(body_file, "wb") as f:
            f.write(data)
        for extra in ([], ["-H", "transfer-encoding: chunked"]):
            r = subprocess.run(["curl", "-sS", "--http1.1", "--data-binary", "@" + body_file,
                                "-H", "content-type: application/octet-stream"] + extra +
                               [self.host.url("/echo")], capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(r.stdout), len(data), extra)
            self.assertTrue(r.stdout == data, extra)

    def test_http1_chunked_trailers_come_back_from_echo(self):
        with socket.create_connection(("127.0.0.1", self.host.port()), timeout=10) as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                         b"TE: trailers\r\nConnection: close\r\n\r\n"
                         b"5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n")
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data)
        self.assertIn(b"transfer-encoding: chunked\r\n", data)
        self.assertTrue(data.endswith(b"5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n"), data)

    def test_http1_body_over_the_limit_gets_413(self):
        body_file = os.path.join(self.host.dir, "big.bin")
        with open(body_file, "wb") as f:
            f.write(b"x" * (9 << 20))
        r = run(["curl", "-s", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}",
                 "--data-binary", "@" + body_file, self.host.url("/echo")])
        self.assertEqual(r.stdout, "413")

    def test_echo_returns_request_trailers(self):
        c = H2Client(self.host.port())
        sid = c.request("/echo", method="POST", end_stream=False)
        c.conn.send_data(sid, b"payload")
        c.conn.send_headers(sid, [("x-checksum", "abc")], end_stream=True)
        c.flush()
        results = c.collect([sid])
        self.assertEqual(results[sid]["data"], b"payload")
        self.assertEqual(results[sid]["trailers"], {b"x-checksum": b"abc"})
        c.close()

    def test_reset_mid_stream_then_next_request(self):
        c = H2Client(self.host.port())
        sid = c.request("/streaming")
        # Wait for the first piece of the streaming response, then cancel it.
        got = False
        while not got:
            for ev in c.events():
                if isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    c.conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                    got = True
        c.conn.reset_stream(sid, error_code=8)
        c.flush()
        sid2 = c.request("/string", method="POST", end_stream=False)
        c.conn.send_data(sid2, b"x" * 100, end_stream=True)
        c.flush()
        results = c.collect([sid2])
        self.assertEqual(results[sid2]["data"], b"non-empty data.")
        c.close()

    def test_spec_handlers_over_h2c(self):
        url = self.host.url
        for path in ("/string", "/bigstring"):
            out = self.curl("--http2-prior-knowledge", "-d", "some body", url(path))
            self.assertEqual(out, "non-empty data.", path)
        # /immediately answers before the request body: the whole response (END_STREAM) arrives
        # while the client has not sent a byte of body yet.
        c = H2Client(self.host.port())
        sid = c.request("/immediately", method="POST", end_stream=False)
        results = c.collect([sid])
        self.assertEqual(results[sid]["headers"][b":status"], b"200")
        self.assertEqual(results[sid]["data"], b"non-empty data.")
        c.close()
        start = time.time()
        out = self.curl("--http2-prior-knowledge", url("/streaming"))
        self.assertGreater(len(out), 0)
        self.assertGreaterEqual(time.time() - start, 0.5)  # written in pieces over ~1 s

    def test_spec_push_with_nghttp(self):
        r = run(["nghttp", "-v", self.host.url("/push")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("recv PUSH_PROMISE frame", r.stdout)
        self.assertIn(":path: /pushed", r.stdout)
        self.assertIn("pushed data.", r.stdout)
        self.assertIn("non-empty data.", r.stdout)

    def test_sse_events_over_time(self):
        for flag in ("--http2-prior-knowledge", "--http1.1"):
            out = self.curl(flag, self.host.url("/events"))
            self.assertEqual(out.count("event: tick"), 3, out)

    def test_static_etag_range(self):
        url = self.host.url("/static/a.txt")
        r = run(["curl", "-sv", "--http2-prior-knowledge", url])
        self.assertEqual(r.stdout, "0123456789" * 100)
        etag = re.search(r"< etag: (\S+)", r.stderr).group(1)
        r = run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                 "-H", "if-none-match: " + etag, url])
        self.assertEqual(r.stdout, "304")
        r = run(["curl", "-s", "--http2-prior-knowledge", "-w", " %{http_code}", "-r", "5-14", url])
        self.assertEqual(r.stdout, "5678901234 206")
        r = run(["curl", "-s", "--http2-prior-knowledge", "--path-as-is", "-o", "/dev/null",
                 "-w", "%{http_code}", self.host.url("/static/../config.yaml")])
        self.assertEqual(r.stdout, "403")  # no path traversal


class StaticRootTest(HostTestCase):
    """A relative static `root` is relative to the config file's directory (like every relative
    path of config.yaml, nginx's prefix), not to h2host's working directory."""
    config = """
        listeners:
          - listen: 127.0.0.1:0
        modules: {directory: %s}
        routes:
          - {prefix: /static/, module: static, config: {root: www, prefix: /static}}
          - {prefix: /up/, module: static, config: {root: ./www/../www/, prefix: /up}}
    """ % MODULE_DIR
    cwd = "/"  # not the config file's directory (a temporary one)

    def test_relative_root_is_resolved_against_the_config_directory(self):
        for path in ("/static/a.txt", "/up/a.txt"):
            out = self.curl("--http2-prior-knowledge", self.host.url(path))
            self.assertEqual(out, "0123456789" * 100)

    def test_missing_relative_root_names_the_resolved_directory(self):
        d = tempfile.mkdtemp(prefix="h2host-root-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "c.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent("""
                listeners: [{listen: 127.0.0.1:0}]
                modules: {directory: %s}
                routes: [{prefix: /, module: static, config: {root: nowhere}}]
            """ % MODULE_DIR))
        r = run([H2HOST, "-t", "-c", path], cwd="/")
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:4:%d: root 'nowhere' (%s/nowhere) is not a directory"
                      % (path, len("routes: [{prefix: /, module: static, config: {root: ") + 1, d),
                      r.stderr)


def run_bytes(args):
    return subprocess.run(args, capture_output=True, timeout=60)


class StaticLargeFilesTest(HostTestCase):
    """Files above cache_max_file_size are streamed with pread from a descriptor the cache keeps
    open (cache_open_files) or, with the cache off, one opened per response: both give the same
    bytes, ranges included, and a replaced file is picked up once its entry expires."""
    config = """
        listeners:
          - listen: 127.0.0.1:0
        modules: {directory: %s}
        routes:
          - {prefix: /kept/, module: static, config: {root: www, prefix: /kept,
                                                      chunk_size: 4096, cache_valid_ms: 200}}
          - {prefix: /fresh/, module: static, config: {root: www, prefix: /fresh,
                                                       chunk_size: 4096, cache_valid_ms: 0}}
    """ % MODULE_DIR

    def test_large_files_with_and_without_the_open_file_cache(self):
        big = os.urandom(300 * 1024 + 7)
        path = os.path.join(self.host.dir, "www", "big.bin")
        with open(path, "wb") as f:
            f.write(big)
        for prefix in ("/kept", "/fresh"):
            r = run_bytes(["curl", "-sS", "--http2-prior-knowledge", self.host.url(prefix + "/big.bin")])
            self.assertEqual(r.stdout, big, prefix)
            r = run_bytes(["curl", "-sS", "-r", "5000-150000", "--http2-prior-knowledge",
                           self.host.url(prefix + "/big.bin")])
            self.assertEqual(r.stdout, big[5000:150001], prefix)
        # Replaced (a new inode): the kept descriptor serves the old file until the entry
        # expires (200 ms), then the new one; never a mix of the two.
        replaced = os.urandom(200 * 1024)
        with open(path + ".new", "wb") as f:
            f.write(replaced)
        os.rename(path + ".new", path)
        deadline = time.monotonic() + 5
        while True:
            r = run_bytes(["curl", "-sS", "--http2-prior-knowledge", self.host.url("/kept/big.bin")])
            self.assertIn(r.stdout, (big, replaced))
            if r.stdout == replaced or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(r.stdout, replaced)
        r = run_bytes(["curl", "-sS", "--http2-prior-knowledge", self.host.url("/fresh/big.bin")])
        self.assertEqual(r.stdout, replaced)


if __name__ == "__main__":
    unittest.main()
