"""Shared pieces of the integration tests: one h2host process per test on ephemeral ports.

Environment (set by tests/integration/CMakeLists.txt): H2HOST, H2_MODULE_DIR, H2_TEST_MODULE_DIR,
H2_TEST_CERT, H2_TEST_KEY, H2_SOURCE_DIR. Every test asserts on what the real clients saw.
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

H2HOST = os.environ["H2HOST"]
MODULE_DIR = os.environ["H2_MODULE_DIR"]
TEST_MODULE_DIR = os.environ["H2_TEST_MODULE_DIR"]
BROKEN_DIR = os.path.join(TEST_MODULE_DIR, "broken")
PROBE = os.path.join(TEST_MODULE_DIR, "h2_test_probe.so")
# The conformance fixture lives apart from the shipped modules (not in MODULE_DIR).
SPEC = os.path.join(os.path.dirname(MODULE_DIR), "spec-handlers", "h2_spec_handlers.so")
CERT = os.environ["H2_TEST_CERT"]
KEY = os.environ["H2_TEST_KEY"]


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=60,
                          **kw)


def children(pid):
    """The live child processes of `pid` (a master's workers)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return {int(p) for p in f.read().split()}
    except FileNotFoundError:
        return set()


class Host:
    """One h2host process with a generated config; ports discovered from its error log."""

    def __init__(self, config, cwd=None, prefix=()):
        self.dir = tempfile.mkdtemp(prefix="h2host-it-")
        self.log = os.path.join(self.dir, "error.log")
        self.access = os.path.join(self.dir, "access.log")
        self.config = os.path.join(self.dir, "config.yaml")
        os.makedirs(os.path.join(self.dir, "www"))  # document root for the static module
        with open(os.path.join(self.dir, "www", "a.txt"), "w") as f:
            f.write("0123456789" * 100)
        self.write_config(config)
        # prefix: e.g. ("ip", "netns", "exec", NAME), which execs h2host in a namespace.
        self.proc = subprocess.Popen([*prefix, H2HOST, "-c", self.config], cwd=cwd,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.endpoints = self.wait_for("started with")

    def write_config(self, config):
        text = textwrap.dedent(config).replace("@LOG@", self.log).replace("@ACCESS@", self.access)
        text = text.replace("@DIR@", self.dir).replace("@CERT@", CERT).replace("@KEY@", KEY)
        text = text.replace("@PROBE@", PROBE).replace("@SPEC@", SPEC)
        if "logs:" not in text:
            text += "\nlogs: {error_log: %s, level: info}\n" % self.log
        # H2_RUNTIME=io_uring: the same suites with every listener on the io_uring runtime.
        runtime = os.environ.get("H2_RUNTIME")
        if runtime and "runtime:" not in text:
            text = "runtime: %s\n" % runtime + text
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
                runtime = os.environ.get("H2_RUNTIME")
                if runtime and "started with" in needle:
                    for line in re.findall(r"listening on http://\S+ \((\w+)\)", text):
                        assert line == runtime, "a cleartext listener is not on " + runtime
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
    cwd = None  # h2host's working directory (None: the test's)

    def setUp(self):
        self.host = Host(self.config, self.cwd)

    def tearDown(self):
        self.assertEqual(self.host.stop(), 0, self.host.log_text())

    def curl(self, *args):
        r = run(["curl", "-sS", "--max-time", "20"] + list(args))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout


class H2Client:
    """A python3-h2 client connection: prior knowledge over TCP, or TLS with ALPN h2."""

    def __init__(self, port, settings=None, tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        if tls:
            context = ssl.create_default_context(cafile=CERT)
            context.set_alpn_protocols(["h2"])
            # No ragged EOFs: a close without TLS close_notify raises SSLEOFError.
            self.sock = context.wrap_socket(self.sock, server_hostname="localhost",
                                            suppress_ragged_eofs=False)
            assert self.sock.selected_alpn_protocol() == "h2"
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

    def collect(self, sids, manual_window=False, on_data=None):
        """Reads until every stream in `sids` ended or was reset. Returns per-stream results."""
        results = {sid: {"headers": None, "data": b"", "trailers": None, "reset": None,
                         "ended": False}
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
                    if on_data:
                        on_data(sid, ev.flow_controlled_length, ev.stream_ended is not None)
                elif isinstance(ev, h2.events.StreamEnded):
                    r["ended"] = True
                    pending.discard(sid)
                elif isinstance(ev, h2.events.StreamReset):
                    r["reset"] = ev.error_code
                    pending.discard(sid)
        return results

    def send_raw(self, frame):
        """Bytes python3-h2 would refuse to send itself (e.g. a GOAWAY on a live connection)."""
        self.flush()
        self.sock.sendall(frame)

    def read_to_eof(self):
        """Reads (answering what needs answers) until the server closes; raises if reset."""
        while not self.closed:
            self.events()

    def close(self):
        self.sock.close()
