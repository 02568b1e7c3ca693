"""The proxy module (modules/proxy/) through the SDK's upstream requests (ABI 1.3,
sdk/include/h2/upstream.hpp) and the host's pooled HTTP/2 client (host/client/upstream_pool.h):
a front h2host proxies to a backend h2host over h2c, TLS (verified against the test CA) and a
Unix socket, and to h2o. Real processes and sockets; bodies are checked by sha256.
"""
import hashlib
import os
import re
import subprocess
import sys
import time
import unittest

import grpc
import h2.events
from concurrent import futures

from h2host_support import CERT, MODULE_DIR, PROBE, H2Client, Host, run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
import bench_servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "attacks"))
from attack_client import RssWatch  # noqa: E402

BACKEND_CONFIG = """
    workers: 1
    listeners:
      - listen: 127.0.0.1:0
      - listen: 127.0.0.1:0
        tls: {certificate: @CERT@, key: @KEY@}
      - listen: unix:@DIR@/backend.sock
    modules:
      directory: %s
      files: [@PROBE@]
    routes:
      - {prefix: /echo, module: echo}
      - {path: /headers, module: probe, config: {mode: headers}}
      - {path: /never, module: probe, config: {mode: wait}}
      - {path: /crash, module: probe, config: {mode: crash}}
      - {prefix: /www/, module: static, config: {root: www, prefix: /www}}
      - {prefix: /, module: hello, config: {message: backend}}
    timeouts: {shutdown_ms: 2000}
""" % MODULE_DIR

FRONT_CONFIG = """
    workers: 1
    listeners:
      - listen: 127.0.0.1:0
    modules:
      directory: %s
    routes:
      - {prefix: /tls/, module: proxy, config: {upstream: "https://localhost:@TLS@",
                                                ca_file: "%s", strip_prefix: /tls}}
      - {prefix: /untrusted/, module: proxy, config: {upstream: "https://localhost:@TLS@",
                                                      strip_prefix: /untrusted}}
      - {prefix: /unix/, module: proxy, config: {upstream: "http://backend",
                                                 unix_socket: "@SOCK@", strip_prefix: /unix}}
      - {prefix: /down/, module: proxy, config: {upstream: "http://127.0.0.1:@DOWN@",
                                                 strip_prefix: /down}}
      - {prefix: /slow/, module: proxy, config: {upstream: "http://127.0.0.1:@H2C@",
                                                 response_timeout_ms: 300, strip_prefix: /slow}}
      - {prefix: /renamed/, module: proxy, config: {upstream: "http://127.0.0.1:@H2C@",
                                                    authority: upstream, forwarded: false,
                                                    via: h2edge,
                                                    strip_prefix: /renamed}}
      - {prefix: /h2o/, module: proxy, config: {upstream: "http://127.0.0.1:@H2O@",
                                                strip_prefix: /h2o}}
      - {prefix: /test.Svc/, module: proxy, config: {upstream: "http://127.0.0.1:@GRPC@"}}
      - {prefix: /, module: proxy, config: {upstream: "http://127.0.0.1:@H2C@"}}
    timeouts: {shutdown_ms: 2000}
    logs:
      error_log: @LOG@
      level: info
      access_log: @ACCESS@
      access_format: '$path $status $upstream_addr $upstream_status $upstream_response_time'
""" % (MODULE_DIR, CERT)


def grpc_server():
    """A python3-grpcio server with generic (bytes in, bytes out) handlers: unary with a
    trailing metadata entry, server streaming, client streaming, and an error status (sent as
    a trailers-only response: one HEADERS frame with grpc-status and END_STREAM)."""
    def unary(request, context):
        context.set_trailing_metadata((("x-trailer", "t1"),))
        return b"echo:" + request

    def stream(request, context):
        for i in range(int(request)):
            yield b"item%d" % i

    def collect(requests, context):
        return b"+".join(requests)

    def fail(request, context):
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Svc", {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Stream": grpc.unary_stream_rpc_method_handler(stream),
        "Collect": grpc.stream_unary_rpc_method_handler(collect),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    }),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def run_bytes(args):
    return subprocess.run(args, capture_output=True, timeout=60)


def sha(data):
    return hashlib.sha256(data).hexdigest()


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = Host(BACKEND_CONFIG)
        cls.big = os.urandom(5 << 20)
        with open(os.path.join(cls.backend.dir, "www", "big.bin"), "wb") as f:
            f.write(cls.big)
        paths = bench_servers.Paths(
            work=cls.backend.dir, www=os.path.join(cls.backend.dir, "www"), cert=CERT,
            key=os.environ["H2_TEST_KEY"], h2host=os.environ["H2HOST"], modules=MODULE_DIR)
        os.chmod(cls.backend.dir, 0o755)
        cls.h2o = bench_servers.make_server("h2o", paths, False, bench_servers.free_port())
        cls.h2o.start()
        cls.h2o.wait_ready()
        cls.grpc, grpc_port = grpc_server()
        cls.down_port = bench_servers.free_port()
        config = (FRONT_CONFIG.replace("@H2C@", str(cls.backend.port(0)))
                  .replace("@TLS@", str(cls.backend.port(1)))
                  .replace("@SOCK@", os.path.join(cls.backend.dir, "backend.sock"))
                  .replace("@DOWN@", str(cls.down_port))
                  .replace("@H2O@", str(cls.h2o.port))
                  .replace("@GRPC@", str(grpc_port)))
        cls.front = Host(config)

    @classmethod
    def tearDownClass(cls):
        front_log, backend_log = cls.front.log_text(), cls.backend.log_text()
        codes = (cls.front.stop(), cls.backend.stop())
        cls.h2o.stop()
        cls.grpc.stop(0)
        assert codes == (0, 0), (codes, front_log, backend_log)

    def curl(self, *args):
        r = run(["curl", "-sS", "--max-time", "20"] + list(args))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def url(self, path):
        return self.front.url(path)

    def test_get_over_h2c_and_http1_and_a_large_download(self):
        self.assertEqual(self.curl("--http2-prior-knowledge", self.url("/x")), "backend (HTTP/2)\n")
        self.assertEqual(self.curl(self.url("/x")), "backend (HTTP/2)\n")  # h2 upstream
        r = run_bytes(["curl", "-sS", "--http2-prior-knowledge", self.url("/www/big.bin")])
        self.assertEqual(sha(r.stdout), sha(self.big))

    def test_upload_is_streamed_both_ways(self):
        # 20 MiB over HTTP/2; 10 MiB over HTTP/1.1 (bounded by http1.max_body_bytes, 16 MiB).
        for flags, size in ((["--http2-prior-knowledge"], 20 << 20), ([], 10 << 20)):
            body = os.urandom(size)
            path = os.path.join(self.front.dir, "up.bin")
            with open(path, "wb") as f:
                f.write(body)
            r = run_bytes(["curl", "-sS", "--max-time", "60", *flags, "--data-binary",
                           "@" + path, "-H", "content-type: application/octet-stream",
                           self.url("/echo")])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sha(r.stdout), sha(body), flags)

    def test_trailers_pass_both_ways(self):
        c = H2Client(self.front.port())
        sid = c.request("/echo", method="POST", end_stream=False,
                        extra=[("te", "trailers"), ("content-type", "application/grpc")])
        c.conn.send_data(sid, b"payload")
        c.conn.send_headers(sid, [("grpc-status", "0"), ("x-sum", "abc")], end_stream=True)
        c.flush()
        reply = c.collect([sid])[sid]
        c.close()
        self.assertEqual(reply["headers"][b":status"], b"200")
        self.assertEqual(reply["data"], b"payload")
        self.assertEqual(reply["trailers"], {b"grpc-status": b"0", b"x-sum": b"abc"})

    def test_forwarded_fields_added_and_hop_by_hop_fields_dropped(self):
        out = self.curl("-H", "Connection: x-drop", "-H", "x-drop: 1", "-H", "x-keep: 2",
                        "-H", "Keep-Alive: timeout=5", self.url("/headers"))
        self.assertIn("x-keep: 2\n", out)
        self.assertNotIn("x-drop", out)
        self.assertNotIn("keep-alive", out)
        self.assertNotIn("connection:", out)
        self.assertIn("x-forwarded-for: 127.0.0.1\n", out)
        self.assertIn("x-forwarded-proto: http\n", out)
        self.assertRegex(out, r'forwarded: for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"')
        self.assertRegex(out, r":authority: 127\.0\.0\.1:%d\n" % self.front.port())
        renamed = self.curl(self.url("/renamed/headers"))
        self.assertIn(":authority: 127.0.0.1:%d\n" % self.backend.port(0), renamed)
        self.assertIn(":path: /headers\n", renamed)
        self.assertNotIn("x-forwarded-for", renamed)

    def test_via_is_added_both_ways_when_configured(self):
        # RFC 9110 §7.6.3: received-protocol and the proxy's pseudonym, after what came before.
        out = self.curl("-i", "-H", "Via: 1.1 client-side", self.url("/renamed/headers"))
        self.assertIn("via: 1.1 client-side, 1.1 h2edge\n", out)  # the request at the backend
        self.assertRegex(out, r"(?m)^via: 2 h2edge$")  # the response, at the client
        out = run(["curl", "-sS", "-i", "--http2-prior-knowledge",
                   self.url("/renamed/headers")]).stdout
        self.assertIn("via: 2 h2edge\n", out)
        self.assertNotIn("via:", self.curl(self.url("/headers")))  # not configured: none

    def test_tls_upstream_verified_and_refused_without_the_ca(self):
        self.assertEqual(self.curl(self.url("/tls/x")), "backend (HTTP/2)\n")
        r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                 self.url("/untrusted/x")])
        self.assertEqual(r.stdout, "502")
        self.front.wait_for("certificate verify failed")

    def test_unix_socket_and_h2o_upstreams(self):
        self.assertEqual(self.curl(self.url("/unix/x")), "backend (HTTP/2)\n")
        r = run_bytes(["curl", "-sS", "--http2-prior-knowledge", self.url("/h2o/big.bin")])
        self.assertEqual(sha(r.stdout), sha(self.big))

    def test_unreachable_upstream_502_slow_upstream_504(self):
        r = run(["curl", "-s", "-w", " %{http_code}", self.url("/down/x")])
        self.assertTrue(r.stdout.endswith(" 502"), r.stdout)
        self.front.wait_for("Connection refused (answered 502)")
        r = run(["curl", "-s", "-w", " %{http_code}", self.url("/slow/never")])
        self.assertTrue(r.stdout.endswith(" 504"), r.stdout)
        # The front stays up and serves the next request.
        self.assertEqual(self.curl(self.url("/x")), "backend (HTTP/2)\n")

    def test_256_mib_both_ways_with_the_proxys_rss_bounded(self):
        # End-to-end flow control: 256 MiB go up through the front to the backend's echo module
        # and back, streamed both ways; the front never holds the body (its RSS grows by far
        # less than it). The sanitizer leg checks the bytes only: ASan's quarantine keeps up to
        # 256 MiB of freed memory, so RSS says nothing there.
        path = os.path.join(self.backend.dir, "upload.bin")
        sent = hashlib.sha256()
        block = os.urandom(1 << 20)
        with open(path, "wb") as f:
            for i in range(256):
                chunk = block[i:] + block[:i]  # no two MiB alike
                f.write(chunk)
                sent.update(chunk)
        try:
            with RssWatch(self.front.proc.pid) as watch:
                p = subprocess.Popen(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "300",
                                      "-X", "POST", "-T", path, self.url("/echo")],
                                     stdout=subprocess.PIPE)
                got, size = hashlib.sha256(), 0
                with p.stdout:
                    for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
                        got.update(chunk)
                        size += len(chunk)
                self.assertEqual(p.wait(), 0)
        finally:
            os.remove(path)
        self.assertEqual(size, 256 << 20)
        self.assertEqual(got.hexdigest(), sent.hexdigest())
        if not os.environ.get("H2_SANITIZE"):
            self.assertLess(watch.growth_mib, 64, "the front's RSS grew by %.1f MiB"
                            % watch.growth_mib)

    def test_a_slow_reader_does_not_make_the_proxy_buffer_the_response(self):
        # 64 MiB read at 32 MiB/s: the backend is slowed through the front (flow control end to
        # end), the front holds a few windows, not the response.
        name = "slow.bin"
        path = os.path.join(self.backend.dir, "www", name)
        block = os.urandom(1 << 20)
        with open(path, "wb") as f:
            for i in range(64):
                f.write(block[i:] + block[:i])
        with open(path, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        try:
            with RssWatch(self.front.proc.pid) as watch:
                r = run_bytes(["curl", "-sS", "--http2-prior-knowledge", "--limit-rate", "32M",
                               self.url("/www/" + name)])
        finally:
            os.remove(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(hashlib.sha256(r.stdout).hexdigest(), want)
        if not os.environ.get("H2_SANITIZE"):  # see the 256 MiB test
            self.assertLess(watch.growth_mib, 16, "the front's RSS grew by %.1f MiB"
                            % watch.growth_mib)

    def access_line(self, path, timeout=10):
        """The front's access-log line for `path` (written when the exchange ends)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.front.access):
                with open(self.front.access) as f:
                    for line in f:
                        if line.startswith(path + " "):
                            return line.rstrip("\n")
            time.sleep(0.02)
        self.fail("no access-log line for %s" % path)

    def test_access_log_names_the_upstream_its_status_and_response_time(self):
        # nginx's $upstream_addr, $upstream_status, $upstream_response_time (seconds, ms).
        self.assertEqual(self.curl(self.url("/x?log=1")), "backend (HTTP/2)\n")
        line = self.access_line("/x?log=1")
        self.assertRegex(line, r"^/x\?log=1 200 127\.0\.0\.1:%d 200 \d+\.\d{3}$"
                         % self.backend.port(0))
        # Refused: nginx's 502 for the upstream's status, the address it tried.
        run(["curl", "-s", self.url("/down/log")])
        self.assertRegex(self.access_line("/down/log"),
                         r"^/down/log 502 127\.0\.0\.1:%d 502 \d+\.\d{3}$" % self.down_port)
        # A Unix socket upstream: its path.
        self.assertEqual(self.curl(self.url("/unix/log")), "backend (HTTP/2)\n")
        self.assertRegex(self.access_line("/unix/log"),
                         r"^/unix/log 200 unix:\S+backend\.sock 200 \d+\.\d{3}$")

    def test_upstream_crash_mid_request_is_502_and_the_next_request_reconnects(self):
        r = run(["curl", "-s", "-w", " %{http_code}", self.url("/crash")])
        self.assertTrue(r.stdout.endswith(" 502"), r.stdout)
        self.backend.wait_for("respawning")
        for _ in range(100):  # the respawned backend worker serves again
            r = run(["curl", "-s", self.url("/x")])
            if r.stdout == "backend (HTTP/2)\n":
                break
        self.assertEqual(r.stdout, "backend (HTTP/2)\n")

    def test_grpc_through_the_proxy(self):
        with grpc.insecure_channel("127.0.0.1:%d" % self.front.port()) as channel:
            reply, call = channel.unary_unary("/test.Svc/Unary").with_call(b"hi", timeout=10)
            self.assertEqual(reply, b"echo:hi")
            self.assertIn(("x-trailer", "t1"), [(m.key, m.value) for m in call.trailing_metadata()])
            items = list(channel.unary_stream("/test.Svc/Stream")(b"5", timeout=10))
            self.assertEqual(items, [b"item0", b"item1", b"item2", b"item3", b"item4"])
            reply = channel.stream_unary("/test.Svc/Collect")(iter([b"a", b"b", b"c"]), timeout=10)
            self.assertEqual(reply, b"a+b+c")
            # A trailers-only error answer reaches the client as the status it is.
            with self.assertRaises(grpc.RpcError) as failed:
                channel.unary_unary("/test.Svc/Fail")(b"x", timeout=10)
            self.assertEqual(failed.exception.code(), grpc.StatusCode.NOT_FOUND)
            self.assertEqual(failed.exception.details(), "no such thing")

    def test_many_concurrent_streams_through_the_proxy(self):
        r = run(["h2load", "-n", "2000", "-c", "4", "-m", "20", self.url("/x")])
        self.assertRegex(r.stdout, r"2000 succeeded, 0 failed, 0 errored", r.stdout)


if __name__ == "__main__":
    unittest.main()
