"""Integration tests: the real h2host binary on ephemeral ports against real clients.

Environment (set by tests/integration/CMakeLists.txt): H2HOST, H2_MODULE_DIR, H2_TEST_MODULE_DIR,
H2_TEST_CERT, H2_TEST_KEY, H2_SOURCE_DIR. Every test asserts on what the clients saw.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import textwrap
import time
import unittest

import h2.config
import h2.connection
import h2.events
import h2.settings

H2HOST = os.environ["H2HOST"]
MODULE_DIR = os.environ["H2_MODULE_DIR"]
TEST_MODULE_DIR = os.environ["H2_TEST_MODULE_DIR"]
BROKEN_DIR = os.path.join(TEST_MODULE_DIR, "broken")
PROBE = os.path.join(TEST_MODULE_DIR, "h2_test_probe.so")
CERT = os.environ["H2_TEST_CERT"]
KEY = os.environ["H2_TEST_KEY"]


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=60,
                          **kw)


class Host:
    """One h2host process with a generated config; ports discovered from its error log."""

    def __init__(self, config):
        self.dir = tempfile.mkdtemp(prefix="h2host-it-")
        self.log = os.path.join(self.dir, "error.log")
        self.access = os.path.join(self.dir, "access.log")
        self.config = os.path.join(self.dir, "config.yaml")
        os.makedirs(os.path.join(self.dir, "www"))  # document root for the static module
        with open(os.path.join(self.dir, "www", "a.txt"), "w") as f:
            f.write("0123456789" * 100)
        self.write_config(config)
        self.proc = subprocess.Popen([H2HOST, "-c", self.config], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.endpoints = self.wait_for("started with")

    def write_config(self, config):
        text = textwrap.dedent(config).replace("@LOG@", self.log).replace("@ACCESS@", self.access)
        text = text.replace("@DIR@", self.dir).replace("@CERT@", CERT).replace("@KEY@", KEY)
        text = text.replace("@PROBE@", PROBE)
        if "logs:" not in text:
            text += "\nlogs: {error_log: %s, level: info}\n" % self.log
        with open(self.config, "w") as f:
            f.write(text)

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for(self, needle, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log_text()
            if needle in text:
                return re.findall(r"listening on (https?)://(\S+)", text)
            if self.proc.poll() is not None:
                raise AssertionError("h2host exited: %s\n%s" % (self.proc.stdout.read(), text))
            time.sleep(0.02)
        raise AssertionError("timeout waiting for %r in:\n%s" % (needle, self.log_text()))

    def port(self, index=0):
        return int(self.endpoints[index][1].rsplit(":", 1)[1])

    def url(self, path="/", index=0):
        scheme, where = self.endpoints[index]
        return "%s://%s%s" % (scheme, where, path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(timeout=20)
        else:
            code = self.proc.returncode
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return code


HELLO_CONFIG = """
    workers: 2
    listeners:
      - listen: 127.0.0.1:0
    routes:
      - path: /probe
        module: probe
      - prefix: /
        module: hello
        config: {message: integration}
    modules:
      directory: %s
      files: [@PROBE@]
""" % MODULE_DIR


class HostTestCase(unittest.TestCase):
    config = HELLO_CONFIG

    def setUp(self):
        self.host = Host(self.config)

    def tearDown(self):
        self.assertEqual(self.host.stop(), 0, self.host.log_text())

    def curl(self, *args):
        r = run(["curl", "-sS", "--max-time", "20"] + list(args))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout


class ConfigCheckTest(unittest.TestCase):
    """`h2host -t`: exit codes and the exact nginx-like messages."""

    def check(self, config):
        d = tempfile.mkdtemp(prefix="h2host-t-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "c.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent(config))
        r = run([H2HOST, "-t", "-c", path])
        return r.returncode, r.stderr, path

    def test_good_config(self):
        code, err, path = self.check(HELLO_CONFIG.replace("@PROBE@", PROBE))
        self.assertEqual(code, 0)
        self.assertEqual(err, "h2host: the configuration file %s syntax is ok\n"
                              "h2host: configuration file %s test is successful\n" % (path, path))

    def test_repository_config_is_valid(self):
        # As the README runs it: from the repository root.
        r = run([H2HOST, "-t", "-c", "config.yaml"], cwd=os.environ["H2_SOURCE_DIR"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_unknown_key_with_suggestion(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            rotues: []
            """)
        self.assertEqual(code, 1)
        self.assertEqual(err, "h2host: [emerg] %s:3:1: unknown key \"rotues\" in the top level; "
                              "did you mean \"routes\"?\n"
                              "h2host: configuration file %s test failed\n" % (path, path))

    def test_wrong_type_and_bad_value(self):
        code, err, path = self.check("listeners:\n  - listen: 127.0.0.1:0\nworkers: -1\n")
        self.assertEqual(code, 1)
        self.assertIn("h2host: [emerg] %s:3:10: \"workers\" must be an integer, got \"-1\"\n" % path,
                      err)

    def test_missing_certificate(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
                tls: {certificate: missing.pem, key: missing.key}
            """)
        self.assertEqual(code, 1)
        cert = os.path.join(os.path.dirname(path), "missing.pem")
        self.assertIn("h2host: [emerg] %s:3:24: \"certificate\" file \"%s\" does not exist\n"
                      % (path, cert), err)

    def test_certificate_that_is_not_pem(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
                tls: {certificate: %s, key: %s}
            """ % (os.path.abspath(__file__), KEY))
        self.assertEqual(code, 1)
        self.assertIn("h2host: [emerg] %s:2:5: tls: certificate \"%s\": error:" %
                      (path, os.path.abspath(__file__)), err)

    def test_good_tls_config(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
                tls: {certificate: %s, key: %s}
            modules: {directory: %s}
            """ % (CERT, KEY, MODULE_DIR))
        self.assertEqual(code, 0, err)

    def test_route_to_unknown_module(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            modules: {directory: %s}
            routes:
              - {prefix: /, module: helo}
            """ % MODULE_DIR)
        self.assertEqual(code, 1)
        self.assertRegex(err, r"h2host: \[emerg\] %s:5:5: route: unknown module 'helo' \(loaded: "
                         % re.escape(path))

    def refusal(self, name):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            modules:
              files: [%s/%s.so]
            """ % (BROKEN_DIR, name))
        self.assertEqual(code, 1)
        lines = err.splitlines()
        self.assertEqual(lines[0], "h2host: the configuration file %s syntax is ok" % path)
        self.assertEqual(lines[2], "h2host: configuration file %s test failed" % path)
        return lines[1]

    def test_refuses_missing_export(self):
        self.assertEqual(self.refusal("missing_export"),
                         "h2host: [emerg] module %s/missing_export.so: missing export "
                         "'h2_module_descriptor_v1'" % BROKEN_DIR)

    def test_refuses_other_abi_major(self):
        self.assertEqual(self.refusal("wrong_abi_major"),
                         "h2host: [emerg] module %s/wrong_abi_major.so: ABI major 99 differs "
                         "from the host's 1" % BROKEN_DIR)

    def test_refuses_newer_abi_minor(self):
        self.assertEqual(self.refusal("newer_abi_minor"),
                         "h2host: [emerg] module %s/newer_abi_minor.so: ABI 1.1 is newer than "
                         "the host's 1.0" % BROKEN_DIR)

    def test_refuses_other_build_signature(self):
        version = run([H2HOST, "--version"]).stdout
        host_sig = re.search(r"build (.*)\)", version).group(1)
        self.assertEqual(self.refusal("wrong_signature"),
                         "h2host: [emerg] module %s/wrong_signature.so: build signature "
                         "'64-bit LE, gcc 13, libstdc++ cxx11-abi=0' differs from the host's '%s'"
                         % (BROKEN_DIR, host_sig))

    def test_refuses_taken_name(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            modules:
              files: [%s/dup_a.so, %s/dup_b.so]
            """ % (BROKEN_DIR, BROKEN_DIR))
        self.assertEqual(code, 1)
        self.assertIn("h2host: [emerg] module %s/dup_b.so: name 'dup' is already taken by "
                      "%s/dup_a.so\n" % (BROKEN_DIR, BROKEN_DIR), err)

    def test_refuses_non_elf(self):
        self.assertTrue(self.refusal("not_elf").startswith(
            "h2host: [emerg] module %s/not_elf.so: cannot load: " % BROKEN_DIR))

    def test_version_and_help(self):
        r = run([H2HOST, "--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^h2host \d+\.\d+\.\d+ \(module ABI 1\.\d+, build .+\)\n$")
        r = run([H2HOST, "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("-t, --test", r.stdout)
        r = run([H2HOST, "--bogus"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("h2host: unknown option \"--bogus\"", r.stderr)


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
      - prefix: /
        module: hello
        config: {message: tls}
    modules:
      directory: %s
      files: [@PROBE@]
""" % MODULE_DIR


class TlsTest(HostTestCase):
    config = TLS_CONFIG

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


class H2Client:
    """A python3-h2 client connection over a plain socket (prior knowledge)."""

    def __init__(self, port, settings=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def events(self):
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            return []
        events = self.conn.receive_data(data)
        self.flush()
        return events

    def request(self, path, method="GET", end_stream=True, extra=()):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", method), (":scheme", "http"),
                                     (":authority", "127.0.0.1"), (":path", path)] + list(extra),
                               end_stream=end_stream)
        self.flush()
        return sid

    def collect(self, sids, manual_window=False):
        """Reads until every stream in `sids` ended or was reset. Returns per-stream results."""
        results = {sid: {"headers": None, "data": b"", "trailers": None, "reset": None}
                   for sid in sids}
        pending = set(sids)
        while pending and not self.closed:
            for ev in self.events():
                sid = getattr(ev, "stream_id", None)
                if sid not in results:
                    continue
                r = results[sid]
                if isinstance(ev, h2.events.ResponseReceived):
                    r["headers"] = dict(ev.headers)
                elif isinstance(ev, h2.events.TrailersReceived):
                    r["trailers"] = dict(ev.headers)
                elif isinstance(ev, h2.events.DataReceived):
                    r["data"] += ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                    self.flush()
                elif isinstance(ev, h2.events.StreamEnded):
                    pending.discard(sid)
                elif isinstance(ev, h2.events.StreamReset):
                    r["reset"] = ev.error_code
                    pending.discard(sid)
        return results

    def close(self):
        self.sock.close()


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


class SignalsTest(HostTestCase):
    config = """
        listeners:
          - listen: 127.0.0.1:0
          - listen: unix:@DIR@/h2.sock
        modules: {directory: %s}
        routes:
          - {prefix: /, module: hello, config: {message: before}}
        logs: {error_log: @LOG@, level: info, access_log: @ACCESS@}
    """ % MODULE_DIR

    def test_unix_socket_and_access_log(self):
        sock = os.path.join(self.host.dir, "h2.sock")
        out = self.curl("--unix-socket", sock, "--http2-prior-knowledge", "http://x/u")
        self.assertEqual(out, "before (HTTP/2)\n")
        out = self.curl("--unix-socket", sock, "http://x/v")
        self.assertEqual(out, "before (HTTP/1.1)\n")
        with open(self.host.access) as f:
            log = f.read()
        self.assertRegex(log, r'- - \[[^\]]+\] "GET /u HTTP/2.0" 200 16\n')
        self.assertRegex(log, r'- - \[[^\]]+\] "GET /v HTTP/1.1" 200 18\n')

    def test_sighup_reloads_routes_for_new_connections(self):
        self.assertEqual(self.curl(self.host.url("/")), "before (HTTP/1.1)\n")
        with open(self.host.config) as f:
            text = f.read()
        with open(self.host.config, "w") as f:
            f.write(text.replace("message: before", "message: after"))
        self.host.proc.send_signal(signal.SIGHUP)
        self.host.wait_for("reload done")
        self.assertEqual(self.curl(self.host.url("/")), "after (HTTP/1.1)\n")

    def test_sighup_keeps_open_connections_on_their_config(self):
        c = H2Client(self.host.port())
        sid = c.request("/one")
        self.assertEqual(c.collect([sid])[sid]["data"], b"before (HTTP/2)\n")
        with open(self.host.config) as f:
            text = f.read()
        with open(self.host.config, "w") as f:
            f.write(text.replace("message: before", "message: after"))
        self.host.proc.send_signal(signal.SIGHUP)
        self.host.wait_for("reload done")
        sid = c.request("/two")  # same connection: not dropped, still the old routes
        self.assertEqual(c.collect([sid])[sid]["data"], b"before (HTTP/2)\n")
        self.assertEqual(self.curl("--http2-prior-knowledge", self.host.url("/")),
                         "after (HTTP/2)\n")
        c.close()

    def test_bad_reload_keeps_the_running_config(self):
        with open(self.host.config, "a") as f:
            f.write("bogus: 1\n")
        self.host.proc.send_signal(signal.SIGHUP)
        self.host.wait_for("reload failed")
        self.assertEqual(self.curl(self.host.url("/")), "before (HTTP/1.1)\n")

    def test_sigterm_sends_goaway_and_exits(self):
        c = H2Client(self.host.port())
        sid = c.request("/first")
        results = c.collect([sid])
        self.assertEqual(results[sid]["data"], b"before (HTTP/2)\n")
        self.host.proc.send_signal(signal.SIGTERM)
        # Raw frames: python3-h2 refuses the PING that follows the first GOAWAY (RFC 9113
        # §6.8 graceful shutdown: GOAWAY(2^31-1), PING, GOAWAY(last id)).
        data = b""
        while True:
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        goaways = []
        while len(data) >= 9:
            length = int.from_bytes(data[:3], "big")
            frame_type = data[3]
            payload = data[9:9 + length]
            if frame_type == 0x7:  # GOAWAY
                goaways.append((int.from_bytes(payload[:4], "big") & 0x7fffffff,
                                int.from_bytes(payload[4:8], "big")))
            data = data[9 + length:]
        self.assertTrue(goaways, "no GOAWAY before the close")
        self.assertEqual(goaways[0], (2**31 - 1, 0))
        self.assertEqual(goaways[-1], (sid, 0))
        self.assertEqual(self.host.proc.wait(timeout=15), 0)
        c.close()


SHIPPED_CONFIG = """
    listeners:
      - listen: 127.0.0.1:0
    modules: {directory: %s}
    limits: {initial_stream_window: 65535, connection_window: 65535}
    routes:
      - {prefix: /echo, module: echo}
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


TIMEOUT_CONFIG = """
    listeners:
      - listen: 127.0.0.1:0
      - listen: 127.0.0.1:0
        tls: {certificate: @CERT@, key: @KEY@}
    modules: {directory: %s}
    routes:
      - {path: /events, module: sse, config: {interval_ms: 100, count: 5, event: tick}}
      - {prefix: /, module: hello}
    timeouts: {idle_ms: 300, preface_ms: 300, tls_handshake_ms: 300, shutdown_ms: 5000}
""" % MODULE_DIR


class TimeoutsTest(HostTestCase):
    """timeouts: enforced by the runtime (preface, TLS handshake) and the core (idle)."""
    config = TIMEOUT_CONFIG

    def closed_after(self, port):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        start = time.time()
        data = s.recv(65536)
        elapsed = time.time() - start
        s.close()
        return data, elapsed

    def test_silent_connection_closed_after_preface_timeout(self):
        data, elapsed = self.closed_after(self.host.port(0))
        self.assertEqual(data, b"")
        self.assertGreaterEqual(elapsed, 0.25)
        self.assertLess(elapsed, 3)

    def test_tls_handshake_timeout(self):
        data, elapsed = self.closed_after(self.host.port(1))
        self.assertEqual(data, b"")
        self.assertGreaterEqual(elapsed, 0.25)
        self.assertLess(elapsed, 3)

    def test_idle_http2_connection_gets_goaway(self):
        c = H2Client(self.host.port())
        sid = c.request("/")
        c.collect([sid])
        start = time.time()
        terminated = None
        while terminated is None and not c.closed:
            for ev in c.events():
                if isinstance(ev, h2.events.ConnectionTerminated):
                    terminated = ev
        self.assertIsNotNone(terminated)
        self.assertEqual(terminated.error_code, 0)
        self.assertLess(time.time() - start, 3)
        c.close()

    def test_sigterm_lets_an_open_stream_finish(self):
        # An SSE stream of 5 events over ~0.5 s is open when SIGTERM arrives: it completes,
        # then h2host exits 0 (graceful stop).
        proc = subprocess.Popen(["curl", "-sS", "--http2-prior-knowledge", self.host.url("/events")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.15)
        self.host.proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.count("event: tick"), 5, out)
        self.assertEqual(self.host.proc.wait(timeout=20), 0)


if __name__ == "__main__":
    unittest.main()
