"""HTTP/1.1, h2c (prior knowledge, Upgrade), TLS + ALPN and python3-h2 clients."""
import os
import socket
import ssl
import struct
import unittest

import h2.config
import h2.connection
import h2.events
import h2.settings

from h2host_support import (CERT, KEY, MODULE_DIR, PROBE, H2Client, HostTestCase, run)


class Http1Test(HostTestCase):
    def test_keep_alive_serves_several_requests_on_one_connection(self):
        out = self.curl("-v", self.host.url("/a"), self.host.url("/b"), "--http1.1")
        self.assertEqual(out, "integration (HTTP/1.1)\nintegration (HTTP/1.1)\n")
        r = run(["curl", "-sv", "--http1.1", self.host.url("/a"), self.host.url("/b")])
        self.assertIn("Re-using existing connection", r.stderr)

    def raw(self, request):
        with socket.create_connection(("127.0.0.1", self.host.port()), timeout=10) as s:
            s.sendall(request)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data
                data += chunk

    def test_chunked_request_body_and_connection_close(self):
        resp = self.raw(b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        self.assertTrue(resp.startswith(b"HTTP/1.1 200 OK\r\n"), resp)
        self.assertIn(b"connection: close\r\n", resp)
        self.assertTrue(resp.endswith(b"integration (HTTP/1.1)\n"))

    def test_bad_http2_settings_gets_400_and_no_upgrade(self):
        resp = self.raw(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                        b"Upgrade: h2c\r\nHTTP2-Settings: %%%\r\n\r\n")
        self.assertTrue(resp.startswith(b"HTTP/1.1 400 Bad Request\r\n"), resp)
        self.assertNotIn(b"101", resp.split(b"\r\n")[0])

    def test_two_http2_settings_get_400(self):
        resp = self.raw(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                        b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nHTTP2-Settings: AAMAAABk"
                        b"\r\n\r\n")
        self.assertTrue(resp.startswith(b"HTTP/1.1 400 Bad Request\r\n"), resp)

    def test_malformed_request_gets_400(self):
        resp = self.raw(b"GET / HTTP/1.1\r\nHost a\r\n\r\n")
        self.assertTrue(resp.startswith(b"HTTP/1.1 400 Bad Request\r\n"), resp)

    def test_probe_sees_request_head(self):
        out = self.curl("--http1.1", "-H", "x-test: yes", self.host.url("/probe"))
        self.assertIn("method=GET\n", out)
        self.assertIn("path=/probe\n", out)
        self.assertIn("version=1.1\n", out)
        self.assertIn("x-test=yes\n", out)


class H2cTest(HostTestCase):
    def test_prior_knowledge(self):
        out = self.curl("--http2-prior-knowledge", "-w", "%{http_version}", self.host.url("/x"))
        self.assertEqual(out, "integration (HTTP/2)\n2")

    def test_upgrade(self):
        r = run(["curl", "-sv", "--http2", "-w", "%{http_version}", self.host.url("/up")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("< HTTP/1.1 101 Switching Protocols", r.stderr)
        self.assertEqual(r.stdout, "integration (HTTP/2)\n2")

    def test_upgrade_with_body(self):
        r = run(["curl", "-sv", "--http2", "-d", "x" * 1000, self.host.url("/probe")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("version=2\n", r.stdout)
        self.assertIn("method=POST\n", r.stdout)

    def test_nghttp(self):
        r = run(["nghttp", "-v", self.host.url("/n")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("integration (HTTP/2)", r.stdout)
        self.assertIn(":status: 200", r.stdout)
        self.assertRegex(r.stdout, r"SETTINGS_NO_RFC7540_PRIORITIES|recv SETTINGS frame")


TLS_CONFIG = """
    listeners:
      - listen: 127.0.0.1:0
        tls: {certificate: @CERT@, key: @KEY@}
    routes:
      - path: /probe
        module: probe
      - prefix: /www/
        module: static
        config: {root: @DIR@/www, prefix: /www}
      - prefix: /
        module: hello
        config: {message: tls}
    modules:
      directory: %s
      files: [@PROBE@]
""" % MODULE_DIR


class RecordCountingTlsClient:
    """TLS through memory BIOs over a plain socket, so the records the server sends can be
    counted: (content type, length) of each record header (RFC 8446 §5.1) as it arrives."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        context = ssl.create_default_context(cafile=CERT)
        context.set_alpn_protocols(["h2"])
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.records = []
        self.pending = b""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._send_out()
                self._receive()
        self._send_out()

    def _send_out(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _receive(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.pending += data
        while len(self.pending) >= 5:
            ctype, _, length = struct.unpack("!BHH", self.pending[:5])
            if len(self.pending) < 5 + length:
                break
            self.records.append((ctype, length))
            self.pending = self.pending[5 + length:]
        self.incoming.write(data)

    def send(self, data):
        self.tls.write(data)
        self._send_out()

    def recv(self):
        while True:
            try:
                return self.tls.read(1 << 20)
            except ssl.SSLWantReadError:
                self._send_out()
                self._receive()


def fetch_counting_records(test, port, path):
    """GET `path` over TLS (ALPN h2) with the windows wide open, so the server can send the whole
    body at once. Returns the body and the lengths of the application-data records it came in."""
    c = RecordCountingTlsClient(port)
    test.assertEqual(c.tls.selected_alpn_protocol(), "h2")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: (1 << 31) - 1})
    conn.increment_flow_control_window((1 << 31) - 1 - 65535)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                            (":authority", "localhost"), (":path", path)], end_stream=True)
    c.send(conn.data_to_send())
    before = len(c.records)
    body, ended = b"", False
    while not ended:
        for ev in conn.receive_data(c.recv()):
            if isinstance(ev, h2.events.DataReceived):
                body += ev.data
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                ended = True
        c.send(conn.data_to_send())
    c.sock.close()
    return body, [length for ctype, length in c.records[before:] if ctype == 23]


class TlsTest(HostTestCase):
    config = TLS_CONFIG

    def test_served_by_the_configured_runtime(self):
        runtime = os.environ.get("H2_RUNTIME", "asio")
        self.assertRegex(self.host.log_text(), r"listening on https://\S+ \(%s\)" % runtime)

    def test_alpn_h2(self):
        out = self.curl("--cacert", CERT, "-w", "%{http_version}", self.host.url("/"))
        self.assertEqual(out, "tls (HTTP/2)\n2")

    def test_alpn_http11(self):
        out = self.curl("--cacert", CERT, "--http1.1", "-w", "%{http_version}", self.host.url("/"))
        self.assertEqual(out, "tls (HTTP/1.1)\n1.1")

    def test_nghttp_over_tls(self):
        r = run(["nghttp", "-v", self.host.url("/")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("The negotiated protocol: h2", r.stdout)
        self.assertIn("tls (HTTP/2)", r.stdout)

    def test_tls13_and_tls12_aead_only(self):
        port = str(self.host.port())
        r = run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3",
                 "-alpn", "h2"], input="")
        self.assertIn("ALPN protocol: h2", r.stdout)
        self.assertIn("TLSv1.3", r.stdout)
        # RFC 9113 §9.2.2: TLS 1.2 with ECDHE + AEAD works, a CBC suite is refused.
        r = run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_2",
                 "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], input="")
        self.assertIn("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256", r.stdout)
        r = run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_2",
                 "-cipher", "ECDHE-ECDSA-AES128-SHA"], input="")
        self.assertNotEqual(r.returncode, 0)
        r = run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_1"], input="")
        self.assertNotEqual(r.returncode, 0)


    def test_a_large_response_goes_out_in_full_tls_records(self):
        # Encrypting each buffer of a gather list alone made a 9-byte record and a 16 KiB one
        # per DATA frame. tls::TlsConnection fills whole 16 KiB records while more output
        # follows: 1 MiB in 64 full ones plus a few short ones, not 128.
        with open(os.path.join(self.host.dir, "www", "big.bin"), "wb") as f:
            f.write(os.urandom(1 << 20))
        body, records = fetch_counting_records(self, self.host.port(), "/www/big.bin")
        self.assertEqual(len(body), 1 << 20)
        full = sum(1 for length in records if length >= 16 * 1024)
        self.assertGreaterEqual(full, 60, records)
        self.assertLessEqual(len(records), 90, records)


class TlsH2OnlyTest(HostTestCase):
    """A TLS listener offering h2 only. Under H2_RUNTIME=io_uring it is served by the io_uring
    runtime itself, with TLS from tls/tls_connection.h (no hand-off to Asio)."""
    config = TLS_CONFIG.replace("tls: {certificate: @CERT@, key: @KEY@}",
                                "tls: {certificate: @CERT@, key: @KEY@}\n        protocols: [h2]")

    def test_served_by_the_configured_runtime(self):
        runtime = os.environ.get("H2_RUNTIME", "asio")
        self.assertRegex(self.host.log_text(), r"listening on https://\S+ \(%s\)" % runtime)

    def test_alpn_h2_and_the_alert_for_http11(self):
        out = self.curl("--cacert", CERT, "-w", "%{http_version}", self.host.url("/"))
        self.assertEqual(out, "tls (HTTP/2)\n2")
        r = run(["curl", "-sS", "--max-time", "10", "--cacert", CERT, "--http1.1",
                 self.host.url("/")])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no application protocol", r.stderr.lower())

    def test_nghttp_and_h2load_over_tls(self):
        r = run(["nghttp", "-v", self.host.url("/")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("The negotiated protocol: h2", r.stdout)
        r = run(["h2load", "-n", "4000", "-c", "4", "-m", "10", self.host.url("/")])
        self.assertIn("4000 total, 4000 started, 4000 done, 4000 succeeded, 0 failed", r.stdout)

    def test_a_large_response_arrives_whole_in_full_records(self):
        data = os.urandom(1 << 20)
        with open(os.path.join(self.host.dir, "www", "big.bin"), "wb") as f:
            f.write(data)
        body, records = fetch_counting_records(self, self.host.port(), "/www/big.bin")
        self.assertEqual(body, data)
        full = sum(1 for length in records if length >= 16 * 1024)
        self.assertGreaterEqual(full, 60, records)
        self.assertLessEqual(len(records), 90, records)


class PythonH2Test(HostTestCase):
    def test_100_concurrent_streams(self):
        c = H2Client(self.host.port())
        sids = [c.request("/s%d" % i) for i in range(100)]
        results = c.collect(sids)
        for sid in sids:
            self.assertEqual(results[sid]["headers"][b":status"], b"200")
            self.assertEqual(results[sid]["data"], b"integration (HTTP/2)\n")
        c.close()

    def test_reset_mid_stream_keeps_the_connection(self):
        c = H2Client(self.host.port())
        # A POST whose body never finishes, reset by the client; then a normal request.
        sid = c.request("/probe", method="POST", end_stream=False)
        c.conn.send_data(sid, b"partial body")
        c.conn.reset_stream(sid, error_code=8)  # CANCEL
        c.flush()
        sid2 = c.request("/after")
        results = c.collect([sid2])
        self.assertEqual(results[sid2]["headers"][b":status"], b"200")
        self.assertEqual(results[sid2]["data"], b"integration (HTTP/2)\n")
        c.close()

    def test_request_with_trailers(self):
        c = H2Client(self.host.port())
        sid = c.request("/probe", method="POST", end_stream=False)
        c.conn.send_data(sid, b"body")
        c.conn.send_headers(sid, [("x-trailer", "t")], end_stream=True)
        c.flush()
        results = c.collect([sid])
        self.assertEqual(results[sid]["headers"][b":status"], b"200")
        self.assertIn(b"method=POST\n", results[sid]["data"])
        c.close()

    def test_small_client_window(self):
        # The client's stream window is 16 bytes: every response still arrives whole (the
        # server waits for WINDOW_UPDATEs), RFC 9113 §6.9.
        c = H2Client(self.host.port(), {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16})
        sids = [c.request("/w%d" % i) for i in range(10)]
        results = c.collect(sids)
        for sid in sids:
            self.assertEqual(results[sid]["data"], b"integration (HTTP/2)\n")
        c.close()


if __name__ == "__main__":
    unittest.main()
