"""The process model (host/master.h): a master and worker processes, crash isolation, reload of
everything under load, signals and the pid file. Real processes, real signals, real clients."""
import json
import os
import re
import signal
import subprocess
import time
import unittest

from h2host_support import (CERT, MODULE_DIR, H2Client, HostTestCase, Host, children, run)

# Crash isolation is about real signals: in the sanitizer leg a crashing worker must die of
# SIGSEGV as in production, not exit 1 after AddressSanitizer's report.
os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":handle_segv=0:handle_abort=0"

PROCESS_CONFIG = """
    workers: 2
    listeners:
      - listen: 127.0.0.1:0
      - listen: 127.0.0.1:0
        tls: {certificate: @CERT@, key: @KEY@}
    modules:
      directory: %s
      files: [@PROBE@]
    routes:
      - {path: /pid, module: probe, config: {mode: pid}}
      - {path: /crash, module: probe, config: {mode: crash}}
      - {path: /crash-later, module: probe, config: {mode: crash-in-timer}}
      - {path: /events, module: sse, config: {interval_ms: 100, count: 10, event: tick}}
      - {path: /status, module: status}
      - {path: /metrics, module: status, config: {format: prometheus}}
      - {prefix: /, module: hello, config: {message: before}}
    timeouts: {shutdown_ms: 5000}
""" % MODULE_DIR


class H2load:
    """h2load -n in the background, judged per request. h2load's own "0 failed" cannot fail
    here: with -D it never counts a request a dead connection took with it, and with -n it
    counts as failed every request it never sent after a GOAWAY. What must hold is that every
    request that went out came back. Per --log-file row (start in us since the epoch, status,
    duration): a row with start 0 was never written to the wire (nghttp2 refuses the streams it
    still queued once a GOAWAY arrives: status -1, nothing lost); every other row must be a 200.
    Requests taken by a dead connection get no row at all: `lost` counts them too, as
    h2load's started - done."""

    def __init__(self, url, requests, log_path, conns=8, streams=4):
        self.log_path = log_path
        self.proc = subprocess.Popen(["h2load", "-n", str(requests), "-c", str(conns),
                                      "-m", str(streams), "--log-file=" + log_path, url],
                                     stdout=subprocess.PIPE, text=True)

    def finish(self, timeout=120):
        self.out = self.proc.communicate(timeout=timeout)[0]
        self.summary = re.search(r"requests: .*", self.out).group(0)
        self.started = int(re.search(r"(\d+) started", self.summary).group(1))
        self.done = int(re.search(r"(\d+) done", self.summary).group(1))
        with open(self.log_path) as f:
            rows = [line.split("\t") for line in f if line.strip()]
        self.rows = len(rows)
        self.unsent = sum(1 for r in rows if r[0] == "0")
        self.sent_statuses = [r[1] for r in rows if r[0] != "0"]
        failed_sent = sum(1 for status in self.sent_statuses if status != "200")
        self.lost = self.started - self.done + failed_sent
        return self

    def report(self):
        return "%s; never sent: %d; lost: %d" % (self.summary, self.unsent, self.lost)


def pid_over(client):
    sid = client.request("/pid")
    return int(client.collect([sid])[sid]["data"])


class ProcessModelTest(HostTestCase):
    config = PROCESS_CONFIG

    def master(self):
        return self.host.proc.pid

    def wait_children(self, count, exclude=(), timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = children(self.master()) - set(exclude)
            if len(live) >= count:
                return live
            time.sleep(0.01)
        self.fail("the master did not have %d new workers:\n%s" % (count, self.host.log_text()))

    def connections_by_worker(self, wanted=2):
        """H2 connections until `wanted` distinct workers answered: {pid: [client, ...]}.
        The workers share each listening socket and the kernel wakes whichever it likes, so
        connections are opened in bursts (several handshakes pending at once reach both)."""
        by_pid = {}
        for _ in range(20):
            burst = [H2Client(self.host.port()) for _ in range(8)]
            for c in burst:
                by_pid.setdefault(pid_over(c), []).append(c)
            if len(by_pid) >= wanted:
                return by_pid
            time.sleep(0.05)
        self.fail("connections never reached %d workers: %r" % (wanted, list(by_pid)))

    def test_master_forks_worker_processes_and_writes_the_pid_file(self):
        with open(os.path.join(self.host.dir, "h2host.pid")) as f:
            self.assertEqual(int(f.read()), self.master())
        workers = self.wait_children(2)
        self.assertEqual(len(workers), 2)
        served = set(self.connections_by_worker(2))
        self.assertEqual(served, workers)  # the master itself serves nothing
        self.assertRegex(self.host.log_text(), r"\[notice\] %d#0: h2host \S+ started with 2 worker"
                         % self.master())
        self.assertRegex(self.host.log_text(), r"\[info\] \d+#1: loaded module probe")

    def status(self, client):
        sid = client.request("/status")
        reply = client.collect([sid])[sid]
        self.assertEqual(reply["headers"][b":status"], b"200")
        return json.loads(reply["data"])

    def test_status_counts_per_worker_and_keeps_a_crashed_workers_counts_in_the_total(self):
        by_pid = self.connections_by_worker(2)
        victim, survivor = list(by_pid)
        for pid, clients in by_pid.items():  # 5 GETs of 7 bytes on each worker's first client
            sids = [clients[0].request("/") for _ in range(5)]
            replies = clients[0].collect(sids)
            self.assertEqual({r["headers"][b":status"] for r in replies.values()}, {b"200"})
        before = self.status(by_pid[survivor][0])
        workers = {w["pid"]: w for w in before["workers"]}
        self.assertEqual(set(workers), {victim, survivor})
        self.assertGreaterEqual(workers[victim]["requests"], 6)  # its /pid calls and the 5 GETs
        self.assertGreaterEqual(workers[victim]["responses"]["2xx"], 6)
        self.assertGreaterEqual(workers[victim]["bytes_sent"], 5 * len("before\n"))
        self.assertGreaterEqual(workers[survivor]["connections_open"], 1)
        self.assertEqual(before["total"]["requests"],
                         sum(w["requests"] for w in before["workers"]))
        crash = by_pid[victim][0]
        crash.request("/crash")
        crash.read_to_eof()
        self.wait_children(2, exclude=(victim,))
        after = self.status(by_pid[survivor][0])
        self.assertNotIn(victim, {w["pid"] for w in after["workers"]})
        # The dead worker's counts stay in the total: one more request (the /crash) at least.
        self.assertGreater(after["total"]["requests"], before["total"]["requests"])
        self.assertGreaterEqual(after["total"]["responses"]["2xx"],
                                before["total"]["responses"]["2xx"])
        sid = by_pid[survivor][0].request("/metrics")
        text = by_pid[survivor][0].collect([sid])[sid]["data"].decode()
        self.assertIn("# TYPE h2host_requests_total counter", text)
        self.assertRegex(text, r'h2host_requests_total\{worker="total"\} \d+\n')
        self.assertIn('h2host_connections_open{worker="%d"}' % survivor, text)

    def test_a_crashing_route_takes_one_worker_and_the_other_serves_on(self):
        by_pid = self.connections_by_worker(2)
        victim, survivor = list(by_pid)
        crash_client = by_pid[victim][0]
        start = time.monotonic()
        crash_client.request("/crash")
        crash_client.read_to_eof()  # the worker died: its connection closed
        for c in by_pid[survivor]:  # the other worker's connections never noticed
            self.assertEqual(pid_over(c), survivor)
        replacement = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            fresh = children(self.master()) - {victim, survivor}
            if fresh:
                replacement = fresh.pop()
                break
            time.sleep(0.005)
        self.assertIsNotNone(replacement, self.host.log_text())
        served_by_new = None
        while time.monotonic() < deadline and served_by_new is None:
            c = H2Client(self.host.port())
            if pid_over(c) == replacement:
                served_by_new = time.monotonic() - start
            c.close()
        self.assertIsNotNone(served_by_new, "the replacement never served")
        print("\ncrash to replacement serving: %.1f ms" % (served_by_new * 1000))
        log = self.host.log_text()
        self.assertRegex(log, r"worker %d \(generation 1, slot \d\) was killed by signal 11 "
                              r"\(SIGSEGV\).*; it was running route path /crash \(module probe, "
                              r".*config.yaml:\d+\); respawning now" % victim)
        for group in by_pid.values():
            for c in group:
                c.close()

    def test_a_crash_in_a_later_callback_names_its_route_too(self):
        c = H2Client(self.host.port())
        victim = pid_over(c)
        c.request("/crash-later")  # answered never: a timer of the exchange crashes
        c.read_to_eof()
        self.host.wait_for("respawning")
        self.assertRegex(self.host.log_text(),
                         r"worker %d \(generation 1, slot \d\) was killed by signal 11 \(SIGSEGV\)"
                         r"; it was running route path /crash-later \(module probe" % victim)
        c.close()

    def test_kill_segv_under_h2load_fails_only_the_victims_connections(self):
        by_pid = self.connections_by_worker(2)
        victim, survivor = list(by_pid)
        load = H2load(self.host.url("/"), 400000, os.path.join(self.host.dir, "h2load.log"))
        time.sleep(0.5)
        os.kill(victim, signal.SIGSEGV)
        # Throughout, the survivor's long-lived connections answer every request.
        answered = 0
        until = time.monotonic() + 1
        while time.monotonic() < until:
            for c in by_pid[survivor]:
                self.assertEqual(pid_over(c), survivor)
                answered += 1
        load.finish()
        self.assertGreater(answered, 10)
        self.assertIn("killed by signal 11 (SIGSEGV)", self.host.log_text())
        # The victim's in-flight requests died with it: the per-request check sees them (it is
        # the check the reload test relies on), and no more than its connections could hold.
        print("\nh2load during kill -SEGV: " + load.report())
        if load.started < 400000:  # the kill landed while h2load still ran on the victim
            self.assertGreater(load.lost, 0, load.out)
        self.assertLessEqual(load.lost, 8 * 4, load.out)
        self.assertEqual(load.rows, load.done)
        for group in by_pid.values():
            for c in group:
                c.close()

    def test_quick_deaths_back_off(self):
        seen = set(children(self.master()))
        for _ in range(3):  # kill slot after slot as soon as it is replaced
            workers = self.wait_children(2)
            victim = sorted(workers - seen)[0] if workers - seen else sorted(workers)[0]
            seen |= workers
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while victim in children(self.master()) and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(0.4)
        log = self.host.log_text()
        self.assertIn("was killed by signal 9 (SIGKILL)", log)
        self.assertRegex(log, r"respawning in \d+ ms \(\d quick deaths in a row\)")
        self.assertEqual(self.curl(self.host.url("/")), "before (HTTP/1.1)\n")

    def reload_with(self, old, new):
        with open(self.host.config) as f:
            text = f.read()
        with open(self.host.config, "w") as f:
            f.write(text.replace(old, new))

    def test_sighup_under_h2load_h2c_and_tls_fails_no_request(self):
        old_workers = self.wait_children(2)
        # For 3 s on 8 connections per listener; the reload lands in the middle.
        loads = [H2load(self.host.url("/", index), 2000000,
                        os.path.join(self.host.dir, "h2load-%d.log" % index))
                 for index in (0, 1)]
        time.sleep(1)
        self.reload_with("message: before", "message: after")
        self.host.proc.send_signal(signal.SIGHUP)
        self.host.wait_for("reload done")
        for load in loads:
            load.finish()
            # h2load does not reconnect: after the old workers' GOAWAY it sends nothing more
            # (its "failed"); whatever it did send must have been answered, with a 200.
            print("\nh2load across SIGHUP: " + load.report())
            self.assertEqual(load.lost, 0, load.out)
            self.assertEqual(load.rows, load.done)
            self.assertGreater(len(load.sent_statuses), 1000)
        self.assertEqual(self.curl(self.host.url("/")), "after (HTTP/1.1)\n")
        self.assertEqual(self.curl("--cacert", CERT, "--resolve",
                                   "localhost:%d:127.0.0.1" % self.host.port(1),
                                   "https://localhost:%d/" % self.host.port(1)), "after (HTTP/2)\n")
        deadline = time.monotonic() + 10
        while children(self.master()) & old_workers and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertFalse(children(self.master()) & old_workers, "the old generation drained")

    def test_reload_rebinds_a_new_listener_and_keeps_the_unchanged(self):
        self.reload_with("listeners:\n", "listeners:\n  - listen: unix:@DIR@/added.sock\n"
                         .replace("@DIR@", self.host.dir))
        port = self.host.port()
        self.host.proc.send_signal(signal.SIGHUP)
        self.host.wait_for("reload done")
        out = self.curl("--unix-socket", os.path.join(self.host.dir, "added.sock"), "http://x/")
        self.assertEqual(out, "before (HTTP/1.1)\n")
        self.assertEqual(self.curl("http://127.0.0.1:%d/" % port), "before (HTTP/1.1)\n")

    def test_module_crashing_in_init_on_reload_keeps_the_running_generation(self):
        running = self.wait_children(2)
        self.reload_with("  files: [", "  config: {probe: {crash_init: true}}\n  files: [")
        self.host.proc.send_signal(signal.SIGHUP)
        self.host.wait_for("reload failed")
        log = self.host.log_text()
        self.assertRegex(log, r"reload failed, keeping the running configuration: worker \d+ "
                              r"\(generation 2, slot \d\) was killed by signal 11 \(SIGSEGV\) "
                              r"while initialising module probe")
        # The failed generation's other worker is stopped right after the failure is logged:
        # wait (bounded) until the master has reaped it.
        deadline = time.monotonic() + 10
        while children(self.master()) != running and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(children(self.master()), running)
        self.assertEqual(self.curl(self.host.url("/")), "before (HTTP/1.1)\n")

    def test_usr1_reopens_the_log_after_it_was_moved(self):
        moved = self.host.log + ".1"
        os.rename(self.host.log, moved)
        self.host.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.host.log) and len(children(self.master())) == 2:
                break
            time.sleep(0.01)
        H2Client(self.host.port()).close()
        self.host.proc.send_signal(signal.SIGUSR1)  # the workers write to the new file too
        self.host.wait_for("#1: received SIGUSR1")
        with open(moved) as f:
            self.assertIn("received SIGUSR1, reopening the log files", f.read())
        self.assertEqual(len(children(self.master())), 2)  # USR1 killed nobody

    def test_sigquit_lets_a_streaming_response_finish(self):
        events = subprocess.Popen(["curl", "-sSN", "--http2-prior-knowledge", "--max-time", "20",
                                   self.host.url("/events")], stdout=subprocess.PIPE, text=True)
        first = ""  # the stream is in flight once its first event arrived
        while "event: tick" not in first:
            line = events.stdout.readline()
            self.assertTrue(line, "the event stream ended before its first event")
            first += line
        start = time.monotonic()
        self.host.proc.send_signal(signal.SIGQUIT)
        out = first + events.communicate(timeout=20)[0]
        self.assertEqual(events.returncode, 0)
        self.assertEqual(out.count("event: tick"), 10)
        self.assertEqual(self.host.proc.wait(timeout=20), 0)
        print("\nSIGQUIT to exit with a stream in flight: %.0f ms" % ((time.monotonic() - start)
                                                                      * 1000))
        self.assertFalse(os.path.exists(os.path.join(self.host.dir, "h2host.pid")))

    def test_dash_s_reload_and_stop_through_the_pid_file(self):
        self.reload_with("message: before", "message: again")
        r = run([os.environ["H2HOST"], "-s", "reload", "-c", self.host.config])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.host.wait_for("reload done")
        self.assertEqual(self.curl(self.host.url("/")), "again (HTTP/1.1)\n")
        r = run([os.environ["H2HOST"], "-s", "bogus", "-c", self.host.config])
        self.assertEqual(r.returncode, 1)
        self.assertIn('invalid signal "bogus"', r.stderr)
        r = run([os.environ["H2HOST"], "-s", "stop", "-c", self.host.config])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.host.proc.wait(timeout=20), 0)

    def test_ignored_signals_are_not_fatal(self):
        workers = self.wait_children(2)
        for sig in (signal.SIGUSR2, signal.SIGPIPE, signal.SIGWINCH):
            self.host.proc.send_signal(sig)
            for w in workers:
                os.kill(w, sig)
        time.sleep(0.2)
        self.assertIsNone(self.host.proc.poll())
        self.assertEqual(children(self.master()), workers)
        self.assertEqual(self.curl(self.host.url("/")), "before (HTTP/1.1)\n")


class StartupTest(unittest.TestCase):
    def test_module_crashing_in_init_at_start_is_named_and_exits_1(self):
        with self.assertRaises(AssertionError) as failed:
            Host(PROCESS_CONFIG.replace("      files: [",
                                        "      config: {probe: {crash_init: true}}\n      files: ["))
        self.assertRegex(str(failed.exception), r"killed by signal 11 \(SIGSEGV\) while "
                                                r"initialising module probe")

    @unittest.skipUnless(os.geteuid() == 0, "dropping privileges needs root")
    def test_workers_drop_to_user_and_group(self):
        host = Host(PROCESS_CONFIG.replace("    workers: 2",
                                           "    workers: 2\n    user: nobody\n    group: nogroup"))
        try:
            workers = children(host.proc.pid)
            self.assertEqual(len(workers), 2)
            for w in workers:
                with open("/proc/%d/status" % w) as f:
                    status = f.read()
                uid = int(re.search(r"Uid:\s+(\d+)", status).group(1))
                self.assertEqual(uid, 65534)  # nobody
            with open("/proc/%d/status" % host.proc.pid) as f:
                self.assertRegex(f.read(), r"Uid:\s+0\s")  # the master keeps root to re-bind
            r = run(["curl", "-sS", host.url("/")])
            self.assertEqual(r.stdout, "before (HTTP/1.1)\n")
        finally:
            self.assertEqual(host.stop(), 0)


if __name__ == "__main__":
    unittest.main()
