"""The attack suite's base: the h2host under attack (one per test class), the routes and files it
serves, and the checks every scenario makes (see attack_test.py).

Attacks on the real h2host binary: every scenario asserts (1) the server's reaction (the exact
GOAWAY / RST_STREAM code, or the close) within a stated time, (2) the RSS growth of the whole
process tree (master + workers) during the attack under a stated bound, and (3) that a fresh,
well-behaved client (python3-h2 GET of /a.txt) is served in under a second while the attack
connections are still open and again after the attack.

One h2host per test class (tests/integration/h2host_support.py starts it on ephemeral ports); the
configs set every knob a scenario relies on explicitly, so a changed default cannot silently move
a test. See README.md (this folder) for the table of scenarios, defenses and measured values.
"""
import errno
import os
import signal
import selectors
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from h2host_support import MODULE_DIR, Host  # noqa: E402

from attack_client import (  # noqa: E402
    ACK, CANCEL, DATA, END_HEADERS, END_STREAM, ENHANCE_YOUR_CALM, FLOW_CONTROL_ERROR, GOAWAY,
    HEADERS, NO_ERROR,
    PING, PREFACE, PROTOCOL_ERROR, REFUSED_STREAM, RST_STREAM, SETTINGS,
    SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_TIMEOUT,
    WINDOW_UPDATE, Background, RawConnection, RssWatch, TCP_STATES, continuation_frame,
    data_frame, flood, fresh_get, handshake, headers_frame, indexed, is_goaway, literal,
    literal_indexed_name, raw_frame,
    parse_frames, ping_frame, process_tree, raw_exchange, request_block, rst_frame,
    server_end_state, settings_frame, window_update_frame)

SMALL_PATH = "/a.txt"
SMALL_BODY = b"0123456789" * 100  # written by h2host_support.Host into its www/
BIG_PATH = "/big.bin"
BIG_SIZE = 1 << 20
FRESH_WITHIN = 1.0  # seconds: the well-behaved client's whole GET

ROUTES = """
    modules: {directory: %s}
    routes:
      - {path: /get-only, methods: [GET], module: hello}
      - {prefix: /echo, module: echo}
      - {prefix: /, module: static, config: {root: @DIR@/www}}
""" % MODULE_DIR


def start_host(config):
    """h2host_support.Host, retried while the binary is being relinked (missing / text busy)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return Host(config)
        except OSError as e:
            if e.errno not in (errno.ETXTBSY, errno.ENOENT) or time.monotonic() > deadline:
                raise
            time.sleep(1)


class AttackCase(unittest.TestCase):
    config = None
    kills_workers = False  # a scenario that kills workers on purpose (its own class and host)

    @classmethod
    def setUpClass(cls):
        cls.host = start_host(cls.config)
        with open(os.path.join(cls.host.dir, "www", BIG_PATH[1:]), "wb") as f:
            f.write(os.urandom(BIG_SIZE))
        cls.port = cls.host.port()
        cls.pids = sorted(process_tree(cls.host.proc.pid))
        assert len(cls.pids) >= 2, "no worker process: %r" % cls.pids

    @classmethod
    def tearDownClass(cls):
        log = cls.host.log_text()
        code = cls.host.stop()
        assert code == 0, "h2host exited %r:\n%s" % (code, log[-4000:])

    def setUp(self):
        self.conns = []
        self.measured = {}

    def tearDown(self):
        for c in self.conns:
            c.close()
        # No worker crashed or was replaced during the scenario (unless it kills them itself).
        log = self.host.log_text()
        if not self.kills_workers:
            self.assertNotIn("killed by signal", log)
            self.assertEqual(sorted(process_tree(self.host.proc.pid)), self.pids, log[-3000:])
        if self.measured:
            sys.stderr.write("\n  [measured] %s: %s\n" % (self._testMethodName, ", ".join(
                "%s %s" % (k, v) for k, v in self.measured.items())))

    # ---- helpers ------------------------------------------------------------------------------

    def connect(self, port=None, **kw):
        c = RawConnection(port or self.port, **kw)
        self.conns.append(c)
        return c

    def rss(self):
        return RssWatch(self.host.proc.pid)

    def assert_fresh(self, result, when):
        status, body, secs = result
        self.assertEqual(status, 200, when)
        self.assertEqual(body, SMALL_BODY, when)
        self.assertLess(secs, FRESH_WITHIN, when)
        self.measured["fresh %s" % when] = "%.3fs" % secs

    def probe(self, when, source=None):
        """A fresh client's GET, served within FRESH_WITHIN (now, synchronously)."""
        self.assert_fresh(fresh_get(self.port, SMALL_PATH, FRESH_WITHIN, source), when)

    def probe_async(self, source=None):
        """The same GET from another thread, while the main thread goes on with the attack."""
        return Background(fresh_get, self.port, SMALL_PATH, FRESH_WITHIN, source)

    def check_probe(self, background, when):
        self.assert_fresh(background.join(FRESH_WITHIN + 2), when)

    def assert_rss(self, watch, bound_mib):
        # AddressSanitizer (the sanitizer leg, H2_SANITIZE set) keeps freed memory in
        # quarantine and pads every allocation: its bounds are three times ours.
        if os.environ.get("H2_SANITIZE"):
            bound_mib *= 3
        self.measured["rss"] = "+%.1fMiB (bound %d)" % (watch.growth_mib, bound_mib)
        self.assertLess(watch.growth_mib, bound_mib,
                        "RSS grew by %.1f MiB (from %d KiB)" % (watch.growth_mib, watch.baseline))

    def assert_reaction(self, seconds, low, high, what):
        """`seconds`: one reaction time, or a list of them (one per attack connection/stream)."""
        times = seconds if isinstance(seconds, (list, tuple)) else [seconds]
        shown = "%.3f" % times[0] if len(times) == 1 else "%.3f..%.3f" % (min(times), max(times))
        self.measured["reaction"] = "%ss (bound %.1f..%.1f)" % (shown, low, high)
        self.assertGreaterEqual(min(times), low, what)
        self.assertLess(max(times), high, what)

    def expect_goaway(self, conn, code, within, start):
        """Reads until a GOAWAY; asserts its code and that it came within `within` s of `start`.
        Returns (frame, seconds since start)."""
        f, _ = conn.wait_for(is_goaway, within - (time.monotonic() - start))
        elapsed = time.monotonic() - start
        self.assertIsNotNone(f, "no GOAWAY within %.1f s (closed=%s); last frames %r" %
                             (within, conn.closed, conn.frames[-5:]))
        self.assertEqual(f.error_code, code, f)
        return f, elapsed

    def expect_close(self, conn, within=2.0):
        self.assertIsNotNone(conn.wait_close(within), "the server did not close the connection")
