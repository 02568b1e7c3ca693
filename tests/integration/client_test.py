"""h2get (protocol::ClientConnection on the Asio runtime, host/client/) against real servers:
h2host, h2o, nghttpd and nginx from Debian, each over h2c (prior knowledge) and TLS (ALPN h2,
the build's test certificate trusted through --cacert). Bodies are checked by sha256.

The servers are the benchmark's (tests/bench/bench_servers.py): the same configs, started on
free ports and stopped by PID.
"""
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
import bench_servers  # noqa: E402

H2GET = os.environ["H2GET"]
SERVERS = ["h2host-asio", "h2o", "nghttpd", "nginx"]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def h2get(*args, stdin=None, timeout=60):
    return subprocess.run([H2GET, *args], capture_output=True, timeout=timeout, input=stdin)


class OneConnectionServer:
    """Listens on a free port of `address`; serve() (in a thread) handles one connection."""

    def __init__(self, address="127.0.0.1"):
        self.listener = socket.socket()
        self.listener.bind((address, 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.join(timeout=30)
        self.listener.close()


class OneTlsHandshake(OneConnectionServer):
    """A TLS server (the test certificate, the given ALPN list) for one connection."""

    def __init__(self, address, alpn):
        super().__init__(address)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.environ["H2_TEST_CERT"], os.environ["H2_TEST_KEY"])
        self.ctx.set_alpn_protocols(alpn)

    def serve(self):
        conn, _ = self.listener.accept()
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass  # the client gave up: what the test expects



class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="h2get-it-")
        os.chmod(cls.work, 0o755)  # nginx's worker (nobody) reads the docroot
        www = os.path.join(cls.work, "www")
        os.makedirs(www)
        cls.small = b"hello, world\n"
        cls.big = os.urandom(3 << 20)
        with open(os.path.join(www, "small.txt"), "wb") as f:
            f.write(cls.small)
        with open(os.path.join(www, "big.bin"), "wb") as f:
            f.write(cls.big)
        cls.upload = os.path.join(cls.work, "upload.bin")
        with open(cls.upload, "wb") as f:
            f.write(os.urandom(2 << 20) + b"tail")
        paths = bench_servers.Paths(
            work=cls.work, www=www, cert=os.environ["H2_TEST_CERT"], key=os.environ["H2_TEST_KEY"],
            h2host=os.environ["H2HOST"], modules=os.environ["H2_MODULE_DIR"])
        cls.servers = {}
        try:
            for name in SERVERS:
                for tls in (False, True):
                    s = bench_servers.make_server(name, paths, tls, bench_servers.free_port())
                    s.start()
                    cls.servers[(name, tls)] = s
            for s in cls.servers.values():
                s.wait_ready()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers.values():
            s.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def each(self):
        for (name, tls), server in self.servers.items():
            with self.subTest(server=name, tls=tls):
                yield server, ["--cacert", os.environ["H2_TEST_CERT"]] if tls else []

    def test_get_a_large_file_from_every_server(self):
        for server, tls_args in self.each():
            r = h2get(*tls_args, server.url("/big.bin"))
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(sha(r.stdout), sha(self.big))

    def test_upload_from_a_file_is_echoed_whole(self):
        with open(self.upload, "rb") as f:
            sent = f.read()
        for server, tls_args in self.each():
            out = os.path.join(self.work, "echoed.bin")
            r = h2get(*tls_args, "-d", "@" + self.upload, "-o", out, server.url("/echo"))
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            with open(out, "rb") as f:
                self.assertEqual(sha(f.read()), sha(sent))

    def test_concurrent_requests_share_one_connection(self):
        for server, tls_args in self.each():
            r = h2get(*tls_args, "-v", "-m", "20", server.url("/small.txt"))
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(r.stdout, self.small * 20)
            frames = r.stderr.decode()
            # One connection: one client preface SETTINGS, streams 1..39.
            self.assertEqual(frames.count("send SETTINGS frame <length="), 2)  # ours + the ACK
            self.assertIn("stream_id=39>", frames)

    def test_status_class_is_the_exit_status(self):
        for server, tls_args in self.each():
            r = h2get(*tls_args, server.url("/no-such-file"))
            self.assertEqual(r.returncode, 4, r.stderr.decode())

    def test_verbose_prints_frames_and_decoded_fields_both_ways(self):
        server = self.servers[("h2host-asio", False)]
        r = h2get("-v", server.url("/small.txt"))
        self.assertEqual(r.returncode, 0)
        text = r.stderr.decode()
        for line in ("send SETTINGS frame", "send HEADERS frame", ":method: GET",
                     ":path: /small.txt", "recv SETTINGS frame", "recv HEADERS frame",
                     ":status: 200", "recv DATA frame <length=13, flags=0x01, stream_id=1>",
                     "; END_STREAM", "send GOAWAY frame"):
            self.assertIn(line, text)

    def test_certificates_are_verified(self):
        server = self.servers[("nghttpd", True)]
        r = h2get(server.url("/small.txt"))  # the system store does not trust the test cert
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"certificate verify failed", r.stderr)
        r = h2get("-k", server.url("/small.txt"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, self.small)
        # The certificate names localhost and 127.0.0.1: a trusted certificate for another
        # name is refused too.
        with OneTlsHandshake("127.0.0.2", ["h2"]) as peer:
            r = h2get("--cacert", os.environ["H2_TEST_CERT"], f"https://127.0.0.2:{peer.port}/")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"certificate verify failed: IP address mismatch", r.stderr)

    def test_tls_without_h2_in_alpn_is_refused_with_the_reason(self):
        # We offer h2 only (no HTTP/1.1 client yet); the server knows only http/1.1.
        with OneTlsHandshake("127.0.0.1", ["http/1.1"]) as peer:
            r = h2get("--cacert", os.environ["H2_TEST_CERT"], f"https://127.0.0.1:{peer.port}/")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"did not select h2 through ALPN (got none)", r.stderr)

    def test_connection_refused_and_response_timeout_fail_with_the_reason(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = h2get(f"http://127.0.0.1:{port}/")  # nobody listens there now
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"Connection refused", r.stderr)
        with socket.socket() as silent:  # accepts (backlog) and never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
            r = h2get("--timeout", "0.3", url)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"response timeout", r.stderr)

    def test_usage_errors_exit_2_and_help_lists_the_options(self):
        self.assertEqual(h2get().returncode, 2)
        self.assertEqual(h2get("ftp://x/").returncode, 2)
        self.assertEqual(h2get("-m", "0", "http://x/").returncode, 2)
        r = h2get("--help")
        self.assertEqual(r.returncode, 0)
        for option in (b"--method", b"--data", b"--header", b"--output", b"--verbose",
                       b"--multiply", b"--insecure", b"--cacert", b"--unix-socket", b"--timeout"):
            self.assertIn(option, r.stdout)

    def test_body_from_stdin_and_request_fields(self):
        server = self.servers[("h2host-asio", False)]
        r = h2get("-d", "@-", "-H", "X-Test: yes", server.url("/echo"), stdin=b"from stdin")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, b"from stdin")


class PythonH2Server(OneConnectionServer):
    """A python3-h2 server for one connection: answers stream 1 with 200 "first", then sends
    GOAWAY(last_stream_id=1) without answering the others (RFC 9113 §6.8: they were not
    processed, so the client may retry them)."""

    def serve(self):
        import h2.config
        import h2.connection
        import h2.events
        conn_sock, _ = self.listener.accept()
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        conn_sock.sendall(conn.data_to_send())
        requests = []
        with conn_sock:
            while len(requests) < 3:
                data = conn_sock.recv(65536)
                if not data:
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        requests.append(event.stream_id)
                conn_sock.sendall(conn.data_to_send())
            conn.send_headers(1, [(":status", "200")])
            conn.send_data(1, b"first", end_stream=True)
            conn.close_connection(last_stream_id=1)
            conn_sock.sendall(conn.data_to_send())
            while conn_sock.recv(65536):
                pass



class ClientEdgeCasesTest(unittest.TestCase):
    def test_requests_above_a_goaways_last_stream_id_are_reported_retryable(self):
        with PythonH2Server() as server:
            r = h2get("-m", "3", f"http://127.0.0.1:{server.port}/x")
        self.assertEqual(r.stdout, b"first")
        self.assertEqual(r.returncode, 1)  # two requests got no response
        self.assertIn(b"refused by GOAWAY (NO_ERROR), retryable", r.stderr)

    def test_unix_socket(self):
        sys.path.insert(0, os.path.dirname(__file__))
        from h2host_support import Host, MODULE_DIR
        host = Host("""
            workers: 1
            listeners:
              - listen: unix:@DIR@/h2.sock
            routes:
              - prefix: /
                module: hello
                config: {message: over a unix socket}
            modules:
              directory: %s
        """ % MODULE_DIR)
        try:
            r = h2get("--unix-socket", os.path.join(host.dir, "h2.sock"), "http://x/")
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertIn(b"over a unix socket", r.stdout)
        finally:
            self.assertEqual(host.stop(), 0)


if __name__ == "__main__":
    unittest.main()
