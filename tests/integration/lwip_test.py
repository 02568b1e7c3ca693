"""The lwIP runtime (lwip_runtime/README.md): h2host on its own TCP/IP stack, a TAP device as
its wire, reached by the kernel's own clients (curl, nghttp, h2load, the conformance suite).

Each class makes a network namespace of its own with a TAP device in it (unique names, removed
at the end), starts h2host inside it with a tap listener at 10.77.0.2 / fd77::2, and talks to it
from the namespace's kernel side (10.77.0.1 / fd77::1). Nothing leaves the namespace.

Needs root and /dev/net/tun. Under CI (CI set) a namespace that cannot be made fails the test;
elsewhere the process exits 77, which ctest reports as "Not Run" (SKIP_RETURN_CODE), never as
passed.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from h2host_support import CERT, KEY, MODULE_DIR, SPEC, Host, run

SOURCE_DIR = os.environ["H2_SOURCE_DIR"]
CONFORMANCE = os.path.join(SOURCE_DIR, "tests", "conformance", "run.py")
STACK = "10.77.0.2"
STACK6 = "fd77::2"


class Namespace:
    """A network namespace holding one TAP device `h2tap0` whose kernel side is 10.77.0.1/24."""

    def __init__(self):
        self.name = "h2lw-%d" % os.getpid()
        self.made = False
        why = self.make()
        if why:
            self.remove()
            if os.environ.get("CI"):
                raise AssertionError("cannot set up the lwIP test namespace: " + why)
            sys.stderr.write("lwip_test: not run: %s\n" % why)
            sys.stderr.flush()
            os._exit(77)

    def make(self):
        if os.geteuid() != 0:
            return "needs root (ip netns, ip tuntap)"
        if not os.path.exists("/dev/net/tun"):
            return "no /dev/net/tun"
        steps = [["ip", "netns", "add", self.name],
                 ["ip", "-n", self.name, "link", "set", "lo", "up"]]
        for step in steps:
            r = run(step)
            if r.returncode != 0:
                return "%s: %s" % (" ".join(step), r.stderr.strip())
            self.made = True
        return self.make_device()

    def make_device(self):
        """The TAP device and its kernel side; None, or what failed."""
        for step in [["tuntap", "add", "dev", "h2tap0", "mode", "tap"],
                     ["addr", "add", "10.77.0.1/24", "dev", "h2tap0"],
                     ["addr", "add", "fd77::1/64", "dev", "h2tap0", "nodad"],
                     ["link", "set", "h2tap0", "up"]]:
            r = run(["ip", "-n", self.name, *step])
            if r.returncode != 0:
                return "ip %s: %s" % (" ".join(step), r.stderr.strip())
        return None

    def exec_prefix(self):
        return ("ip", "netns", "exec", self.name)

    def run(self, args, timeout=120, **kw):
        return subprocess.run([*self.exec_prefix(), *args], capture_output=True, timeout=timeout,
                              **kw)

    def remove(self):
        if self.made:
            run(["ip", "netns", "delete", self.name])  # the TAP device goes with it


def tap_config(extra_routes="", tap_extra="", workers=2, master=True, tls=False):
    return """
    master_process: %s
    workers: %d
    listeners:
      - listen: 127.0.0.1:0
      - listen: %s:8080
        tap: {device: h2tap0, mac: "02:00:00:77:00:02", prefix: 24, address6: "%s/64"%s}%s
    modules:
      directory: %s
      files: [@SPEC@]
    routes:
      - path: /string
        module: spec
        config: {handler: string}
      - path: /bigstring
        module: spec
        config: {handler: bigstring}
      - path: /streaming
        module: spec
        config: {handler: streaming}
      - prefix: /echo
        methods: [POST, PUT]
        module: echo
      - prefix: /files/
        methods: [GET, HEAD]
        module: static
        config: {root: @DIR@/www, prefix: /files}
      %s
      - prefix: /
        module: hello
        config: {message: over lwip}
    """ % ("true" if master else "false", workers, STACK, STACK6, tap_extra,
           "\n        tls: {certificate: %s, key: %s}" % (CERT, KEY) if tls else "", MODULE_DIR,
           extra_routes)


class LwipHostCase(unittest.TestCase):
    """One h2host with a tap listener (TLS when `tls`) for the whole class, in a namespace of
    the class's own; its clean exit is checked at the end."""
    tls = False

    @classmethod
    def setUpClass(cls):
        cls.ns = Namespace()
        try:
            cls.host = Host(tap_config(tls=cls.tls), prefix=cls.ns.exec_prefix())
        except BaseException:
            cls.ns.remove()
            raise
        with open(os.path.join(cls.host.dir, "www", "big.bin"), "wb") as f:
            f.write(os.urandom(4 << 20))

    @classmethod
    def tearDownClass(cls):
        code = cls.host.stop()
        cls.ns.remove()
        assert code == 0, "h2host exited with %s" % code

    def curl(self, *args, timeout=60):
        insecure = ["-k"] if self.tls else []
        r = self.ns.run(["curl", "-sS", *insecure, "--max-time", str(timeout), *args],
                        timeout=timeout + 10)
        # The server's side of a failure goes with it (its error log, debug lines included).
        self.assertEqual(r.returncode, 0,
                         r.stderr.decode(errors="replace") + "\nh2host log:\n" +
                         self.host.log_text()[-4000:])
        return r.stdout


class LwipTest(LwipHostCase):
    """h2c with prior knowledge."""

    def test_startup_names_the_stack(self):
        self.assertIn("listening on http://tap:h2tap0/%s:8080 (lwip: %s/24 [%s]/64 on tap h2tap0)"
                      % (STACK, STACK, STACK6), self.host.log_text())

    def test_prior_knowledge_over_ipv4_and_ipv6(self):
        for where in (STACK, "[%s]" % STACK6):
            out = self.curl("--http2-prior-knowledge", "-w", "\n%{http_code} %{http_version}",
                            "http://%s:8080/" % where)
            self.assertEqual(out.decode(), "over lwip (HTTP/2)\n\n200 2", where)

    def test_a_4_mib_file_arrives_whole(self):
        with open(os.path.join(self.host.dir, "www", "big.bin"), "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        out = self.curl("--http2-prior-knowledge", "http://%s:8080/files/big.bin" % STACK)
        self.assertEqual(hashlib.sha256(out).hexdigest(), want)

    def test_a_64_mib_post_is_echoed_byte_for_byte(self):
        # Also the regression test for Debian's PBUF_POOL overflow (README.md) under the
        # sanitizer leg: full-size frames in both directions for a long time.
        body = os.path.join(self.host.dir, "post.bin")
        with open(body, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1 << 20))
        with open(body, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        out = self.curl("--http2-prior-knowledge", "--data-binary", "@" + body,
                        "http://%s:8080/echo" % STACK, timeout=240)
        os.unlink(body)
        self.assertEqual(len(out), 64 << 20)
        self.assertEqual(hashlib.sha256(out).hexdigest(), want)

    def test_nghttp_with_100_concurrent_streams(self):
        r = self.ns.run(["nghttp", "-n", "-s", "-m", "100", "http://%s:8080/string" % STACK])
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [line for line in r.stdout.decode().splitlines() if line.rstrip().endswith("/string")]
        self.assertEqual(len(rows), 100, r.stdout)
        self.assertTrue(all(re.search(r"\s200\s", row) for row in rows), r.stdout)

    def test_h2load_loses_no_request(self):
        r = self.ns.run(["h2load", "-n", "20000", "-c", "8", "-m", "10",
                         "http://%s:8080/string" % STACK], timeout=180)
        out = r.stdout.decode()
        self.assertIn("20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed", out,
                      self.host.log_text()[-3000:])
        self.assertIn("status codes: 20000 2xx", out)

    def test_conformance_strict_on_every_spec_handler(self):
        for path in ("/string", "/bigstring", "/streaming"):
            r = self.ns.run(["/usr/bin/python3", CONFORMANCE, "--host", STACK, "--port", "8080",
                             "--strict", "--path", path], timeout=240)
            lines = r.stdout.decode().strip().splitlines()
            failed = [line for line in lines if not line.startswith("PASS")]
            last = lines[-1]
            self.assertEqual(r.returncode, 0, path + ":\n" + "\n".join(failed)[-6000:])
            self.assertRegex(last, r"^\d+ passed, 0 failed$", path)

    def test_http11_keep_alive_serves_requests_on_one_connection(self):
        # The connection driver's HTTP/1.1 engine (http1/http1_connection.h) on lwIP.
        r = self.ns.run(["curl", "-sS", "-v", "--max-time", "30", "--http1.1",
                         "-w", "\n%{http_code} %{http_version}\n",
                         "http://%s:8080/string" % STACK, "http://%s:8080/" % STACK])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(),
                         "non-empty data.\n200 1.1\nover lwip (HTTP/1.1)\n\n200 1.1\n")
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_http11_post_of_16_mib_is_streamed_back_byte_for_byte(self):
        body = os.path.join(self.host.dir, "post11.bin")
        with open(body, "wb") as f:
            f.write(os.urandom(16 << 20))
        with open(body, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        for framing in ([], ["-H", "Transfer-Encoding: chunked"]):
            out = self.curl("--http1.1", *framing, "--data-binary", "@" + body,
                            "http://%s:8080/echo" % STACK, timeout=180)
            self.assertEqual(hashlib.sha256(out).hexdigest(), want, framing)
        os.unlink(body)

    def test_h2c_upgrade_continues_as_http2(self):
        # RFC 7540 §3.2: curl --http2 on http:// asks for "Upgrade: h2c"; the answer to the
        # upgrading request comes over HTTP/2 as stream 1.
        r = self.ns.run(["curl", "-sS", "-v", "--max-time", "30", "--http2",
                         "-w", "\n%{http_code} %{http_version}", "http://%s:8080/" % STACK])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), "over lwip (HTTP/2)\n\n200 2")
        self.assertIn(b"101 Switching Protocols", r.stderr)

    def test_h2load_http11_loses_no_request(self):
        r = self.ns.run(["h2load", "--h1", "-n", "5000", "-c", "8",
                         "http://%s:8080/string" % STACK], timeout=180)
        out = r.stdout.decode()
        self.assertIn("5000 total, 5000 started, 5000 done, 5000 succeeded, 0 failed", out,
                      self.host.log_text()[-3000:])
        self.assertIn("Application protocol: http/1.1", out)


class LwipTlsTest(LwipHostCase):
    """The same stack with TLS (tls/tls_connection.h): ALPN h2 and http/1.1."""
    tls = True

    def test_startup_names_https(self):
        self.assertIn("listening on https://tap:h2tap0/%s:8080 (lwip: " % STACK,
                      self.host.log_text())

    def test_alpn_h2_over_ipv4_and_ipv6(self):
        for where in (STACK, "[%s]" % STACK6):
            out = self.curl("--http2", "-w", "\n%{http_code} %{http_version}",
                            "https://%s:8080/" % where)
            self.assertEqual(out.decode(), "over lwip (HTTP/2)\n\n200 2", where)

    def test_alpn_http11_is_served_with_keep_alive(self):
        r = self.ns.run(["curl", "-sS", "-k", "-v", "--max-time", "30", "--http1.1",
                         "-w", "\n%{http_code} %{http_version}\n",
                         "https://%s:8080/string" % STACK, "https://%s:8080/" % STACK])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(),
                         "non-empty data.\n200 1.1\nover lwip (HTTP/1.1)\n\n200 1.1\n")
        self.assertIn(b"ALPN: server accepted http/1.1", r.stderr)
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_a_4_mib_file_and_a_16_mib_post_arrive_whole(self):
        with open(os.path.join(self.host.dir, "www", "big.bin"), "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        out = self.curl("--http2", "https://%s:8080/files/big.bin" % STACK)
        self.assertEqual(hashlib.sha256(out).hexdigest(), want)
        body = os.path.join(self.host.dir, "post.bin")
        with open(body, "wb") as f:
            f.write(os.urandom(16 << 20))
        with open(body, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        out = self.curl("--http2", "--data-binary", "@" + body, "https://%s:8080/echo" % STACK,
                        timeout=180)
        self.assertEqual(hashlib.sha256(out).hexdigest(), want)

    def test_h2load_over_tls_loses_no_request(self):
        r = self.ns.run(["h2load", "-n", "5000", "-c", "8", "-m", "10",
                         "https://%s:8080/string" % STACK], timeout=180)
        out = r.stdout.decode()
        self.assertIn("5000 total, 5000 started, 5000 done, 5000 succeeded, 0 failed", out,
                      self.host.log_text()[-3000:])
        self.assertRegex(out, r"TLS Protocol: TLSv1\.3")

    def test_conformance_strict_over_tls(self):
        for path in ("/string", "/streaming"):
            r = self.ns.run(["/usr/bin/python3", CONFORMANCE, "--host", STACK, "--port", "8080",
                             "--tls", "--strict", "--path", path], timeout=240)
            lines = r.stdout.decode().strip().splitlines()
            failed = [line for line in lines if not line.startswith("PASS")]
            self.assertEqual(r.returncode, 0, path + ":\n" + "\n".join(failed)[-6000:])
            self.assertRegex(lines[-1], r"^\d+ passed, 0 failed$", path)


class LwipStartTest(unittest.TestCase):
    """Start-up errors name the device and the reason in one line; exit status 1."""

    @classmethod
    def setUpClass(cls):
        cls.ns = Namespace()

    @classmethod
    def tearDownClass(cls):
        cls.ns.remove()

    def start_failure(self, config):
        d = tempfile.mkdtemp(prefix="h2host-lwip-")
        path = os.path.join(d, "c.yaml")
        with open(path, "w") as f:
            f.write(config.replace("@SPEC@", SPEC).replace("@DIR@", d))
        os.makedirs(os.path.join(d, "www"))
        r = self.ns.run([os.environ["H2HOST"], "-c", path], timeout=30)
        return r.returncode, r.stderr.decode() + r.stdout.decode()

    def test_no_such_device(self):
        config = tap_config(workers=1, master=False).replace("device: h2tap0", "device: h2nodev0")
        code, out = self.start_failure(textwrap.dedent(config))
        self.assertEqual(code, 1, out)
        self.assertRegex(out, r"c\.yaml:\d+:\d+: cannot attach to tap device \"h2nodev0\": ")

    def test_connections_beyond_max_connections_are_reset(self):
        # lwIP's pools are unbounded in Debian's build: max_connections is the bound.
        config = tap_config(workers=1, master=False, tap_extra=", max_connections: 2")
        host = Host(config, prefix=self.ns.exec_prefix())
        try:
            probe = textwrap.dedent("""
                import socket, sys
                held = [socket.create_connection(("%s", 8080), timeout=5) for _ in range(2)]
                for s in held:
                    s.sendall(b"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n"
                              b"\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00")  # SETTINGS
                    assert len(s.recv(64)) > 0  # the server's SETTINGS: being served
                try:  # lwIP resets it as the handshake completes, or right after
                    third = socket.create_connection(("%s", 8080), timeout=5)
                    data = third.recv(64)
                    print("third:", "closed" if data == b"" else "served")
                except ConnectionResetError:
                    print("third: reset")
            """ % (STACK, STACK))
            r = self.ns.run(["/usr/bin/python3", "-c", probe], timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(r.stdout.decode().strip(), "third: reset")
            # The probe's connections are gone: the stack serves again (once it let them go).
            deadline = time.time() + 5
            while True:
                r = self.ns.run(["curl", "-sS", "--max-time", "5", "--http2-prior-knowledge",
                                 "http://%s:8080/string" % STACK])
                if r.returncode == 0 or time.time() > deadline:
                    break
            self.assertEqual(r.stdout, b"non-empty data.", r.stderr)
        finally:
            self.assertEqual(host.stop(), 0)

    def test_a_device_deleted_under_the_stack_is_waited_for(self):
        host = Host(tap_config(workers=1, master=False), prefix=self.ns.exec_prefix())
        try:
            url = "http://%s:8080/string" % STACK
            get = ["curl", "-sS", "--max-time", "3", "--http2-prior-knowledge", url]
            self.assertEqual(self.ns.run(get).stdout, b"non-empty data.")
            self.assertEqual(run(["ip", "-n", self.ns.name, "link", "del", "h2tap0"]).returncode, 0)
            host.wait_for("tap h2tap0: the device went away")
            # Waiting must be quiet: a poll that reports the dead device forever is a spin.
            def ticks():  # utime + stime of h2host (ip netns exec execs it in place)
                with open("/proc/%d/stat" % host.proc.pid) as f:
                    return sum(int(v) for v in f.read().rsplit(")", 1)[1].split()[11:13])
            before = ticks()
            time.sleep(1.0)  # the measurement window, not a wait for an event
            self.assertLess(ticks() - before, os.sysconf("SC_CLK_TCK") // 4)
            self.assertIsNone(self.ns.make_device())
            host.wait_for("tap h2tap0: attached")
            deadline = time.time() + 10
            while True:
                r = self.ns.run(get)
                if r.returncode == 0 or time.time() > deadline:
                    break
            self.assertEqual(r.stdout, b"non-empty data.", r.stderr)
            self.assertEqual(host.log_text().count("the device went away"), 1)
        finally:
            self.assertEqual(host.stop(), 0)

    def test_a_device_another_h2host_holds_is_refused(self):
        config = tap_config(workers=1, master=False)
        first = Host(config, prefix=self.ns.exec_prefix())
        try:
            code, out = self.start_failure(textwrap.dedent(config))
            self.assertEqual(code, 1, out)
            self.assertIn('tap device "h2tap0" is held by another process', out)
        finally:
            self.assertEqual(first.stop(), 0)


if __name__ == "__main__":
    unittest.main()
