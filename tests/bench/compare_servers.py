#!/usr/bin/python3
"""The project's benchmark: h2host (Asio and io_uring runtimes) against h2o, nghttpd and nginx.

Run through tests/bench/compare_servers.sh, which installs the peers and gnuplot, raises the
file-descriptor limit and bounds the whole run in time. Every server is started by this script
on a free loopback port with equivalent settings (one worker, access logs off, idle timeouts of
600 s, the same files, the same certificate), loaded by the same h2load command lines, and
stopped by the PID this script started. A run fails (non-zero exit, message on stderr) if a
server does not start or any request fails; it never reports numbers from a partial run.

Output: a markdown table on stdout, written with a header (machine, versions, parameters) to
tests/bench/results/<date>-<sha>.md together with a PNG chart (<date>-<sha>.png).

Environment knobs:
  QUICK=1         about a minute: a tenth of the requests, a 16 MiB POST, medians of 3;
                  results go to a temporary directory unless RESULTS_DIR is set
  SERVERS="..."   a subset of: h2host-asio h2host-io_uring h2o nghttpd nginx
  WORKLOADS="..." a subset of: small 1mib conns2000 post256 tls-small tls-1mib idle
  RUNS_1MIB=N     runs per 1 MiB workload (median reported; default 5, QUICK 3)
  RESULTS_DIR=DIR where the .md and .png go
  KEEP_WORK=1     keep the temporary directory (configs, server logs, h2load output)

Uses only /usr/bin/python3 and Debian's python3-h2 (for the idle-connection client).
"""

import argparse
import dataclasses
import datetime
import hashlib
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import h2.config
import h2.connection
import h2.events

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20
SMALL_BODY = b"hello, world\n"  # 13 bytes, the reference small file
ALL_SERVERS = ["h2host-asio", "h2host-io_uring", "h2o", "nghttpd", "nginx"]
PEERS = ["h2o", "nghttpd", "nginx"]
OURS = ["h2host-asio", "h2host-io_uring"]


WARNINGS = []  # things a reader of the results must know; printed and written to the report


class BenchError(Exception):
    """A reason to stop the whole run: a server that did not start, a failed request, a timeout."""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Process-tree accounting from /proc. A server is the PID we started plus every descendant
# (nginx master + worker); threads are already folded into their process's counters.


def _read_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    fields = data[data.rindex(")") + 2 :].split()
    return fields  # fields[0] is field 3 (state) of proc(5)


def process_tree(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_read_stat(entry)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def tree_cpu_seconds(pid):
    """utime + stime of the server and its descendants, in seconds."""
    total = 0
    for p in process_tree(pid):
        try:
            fields = _read_stat(p)
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass  # a process that just exited
    return total / CLK_TCK


def tree_status_kib(pid, key):
    """Sum of a /proc/PID/status memory line (VmRSS, VmHWM) over the tree, in KiB."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# --------------------------------------------------------------------------------------------
# Servers. Each knows how to write its config for one listener (cleartext or TLS) and how the
# POST workload is served by it (h2host streams through the echo module; peers have no echo
# module of their own, so each uses what it ships with, and the table says which).


@dataclasses.dataclass
class Paths:
    work: str
    www: str
    cert: str
    key: str
    h2host: str
    modules: str


class Server:
    name = ""
    post_note = ""

    def __init__(self, paths, tls, port):
        self.paths, self.tls, self.port = paths, tls, port
        self.proc = None
        self.tag = f"{self.name}{'-tls' if tls else ''}-{port}"
        self.log_path = os.path.join(paths.work, self.tag + ".log")

    def command(self):
        raise NotImplementedError

    def check_config(self):
        """Refuse a bad config before starting (h2host -t); peers just fail to start."""

    def url(self, path):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def _write(self, suffix, text):
        path = os.path.join(self.paths.work, self.tag + suffix)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self):
        self.check_config()
        out = open(self.log_path, "w")
        # A session of its own: a Ctrl-C on the terminal reaches only this script, which then
        # stops the servers by PID in order.
        self.proc = subprocess.Popen(
            self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=self.paths.work)
        out.close()

    def wait_ready(self, timeout_s=10.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.tag} exited with {self.proc.returncode} on start:\n"
                                 + self.logs())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                self.after_ready()
                return
            except OSError:
                time.sleep(0.05)
        raise BenchError(f"{self.tag} did not listen on port {self.port} within {timeout_s:.0f} s:\n"
                         + self.logs())

    def after_ready(self):
        """Checks once the port answers (h2host: the runtime really is the one asked for)."""

    def logs(self):
        text = ""
        for path in sorted(os.listdir(self.paths.work)):
            if path.startswith(self.tag) and (path.endswith(".log") or path.endswith(".err")):
                with open(os.path.join(self.paths.work, path), errors="replace") as f:
                    text += f"--- {path}\n{f.read()[-4000:]}"
        return text

    def stop(self):
        """SIGTERM to the PID we started, SIGKILL to its tree if it is still there after 5 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        tree = process_tree(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log(f"{self.tag} ignored SIGTERM for 5 s; killing PIDs {tree}")
            for p in tree:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=5)
        # Descendants (nginx's worker) normally exit with their master; give them a moment.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and
                                                  _alive(p) for p in tree[1:]):
            time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid


def _alive(pid):
    try:
        return _read_stat(pid)[0] != "Z"
    except OSError:
        return False


class H2host(Server):
    post_note = "echo module: the body is streamed back chunk by chunk (end-to-end flow control)"

    def __init__(self, paths, tls, port, runtime):
        self.runtime = runtime
        self.name = f"h2host-{runtime}"
        super().__init__(paths, tls, port)

    def config_path(self):
        tls = (f"\n    tls: {{certificate: {self.paths.cert}, key: {self.paths.key}}}"
               if self.tls else "")
        return self._write(".yaml", f"""\
workers: 1
runtime: {self.runtime}
listeners:
  - listen: 127.0.0.1:{self.port}{tls}
modules:
  directory: {self.paths.modules}
routes:
  - path: /echo
    methods: [POST]
    module: echo
  - prefix: /
    module: static
    config: {{root: {self.paths.www}}}
limits:
  max_concurrent_streams: 128
timeouts:
  idle_ms: 600000
logs:
  error_log: {os.path.join(self.paths.work, self.tag + '.err')}
  level: warn
  access_log: off
""")

    def command(self):
        return [self.paths.h2host, "-c", self.config_path()]

    def check_config(self):
        r = subprocess.run([self.paths.h2host, "-t", "-c", self.config_path()],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise BenchError(f"{self.tag}: h2host -t refused the config:\n{r.stdout}{r.stderr}")

    def after_ready(self):
        # io_uring falls back to Asio where the kernel refuses it; a fallback would make the
        # io_uring column a second Asio column, so it stops the run instead.
        time.sleep(0.1)
        err = self.logs()
        if self.runtime == "io_uring" and "io_uring is unavailable" in err:
            raise BenchError(f"{self.tag}: io_uring is unavailable here:\n{err}")


class H2o(Server):
    name = "h2o"
    post_note = ("mruby handler returning env['rack.input'].read: h2o buffers the whole body "
                 "before the handler runs, then sends it back")

    def command(self):
        ssl = (f"\n  ssl:\n    certificate-file: {self.paths.cert}\n"
               f"    key-file: {self.paths.key}" if self.tls else "")
        conf = self._write(".conf", f"""\
listen:
  host: 127.0.0.1
  port: {self.port}{ssl}
num-threads: 1
max-connections: 4096
http2-idle-timeout: 600
http1-request-timeout: 600
error-log: {os.path.join(self.paths.work, self.tag + '.err')}
hosts:
  default:
    paths:
      /echo:
        mruby.handler: |
          Proc.new do |env|
            [200, {{"content-type" => "application/octet-stream"}}, [env["rack.input"].read]]
          end
      /:
        file.dir: {self.paths.www}
""")
        # No access-log directive: h2o then writes no access log at all.
        return ["h2o", "-c", conf]


class Nghttpd(Server):
    name = "nghttpd"
    post_note = "--echo-upload: the body is spooled to a temporary file, then sent back"

    def command(self):
        # One worker thread is nghttpd's default (-n 1); it has no idle timeout to raise.
        cmd = ["nghttpd", "--address=127.0.0.1", f"--htdocs={self.paths.www}", "--echo-upload",
               "--max-concurrent-streams=128"]
        if self.tls:
            return cmd + [str(self.port), self.paths.key, self.paths.cert]
        return cmd + ["--no-tls", str(self.port)]


class Nginx(Server):
    name = "nginx"
    post_note = ("echo module (libnginx-mod-http-echo, shipped with nginx-light): "
                 "echo_read_request_body spools the body to a temporary file, "
                 "echo_request_body sends it back")

    def command(self):
        work = os.path.join(self.paths.work, self.tag + "-tmp")
        os.makedirs(work, exist_ok=True)
        os.chmod(work, 0o777)  # the worker runs as nobody and writes request bodies here
        tls = (f"ssl_certificate {self.paths.cert}; ssl_certificate_key {self.paths.key};"
               if self.tls else "")
        conf = self._write(".conf", f"""\
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid {work}/nginx.pid;
error_log {os.path.join(self.paths.work, self.tag + '.err')} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  keepalive_timeout 600s;
  keepalive_requests 10000000;
  client_body_timeout 600s;
  send_timeout 600s;
  http2_max_concurrent_streams 128;
  server {{
    listen 127.0.0.1:{self.port} {'ssl ' if self.tls else ''}http2 backlog=4096;
    {tls}
    root {self.paths.www};
    location = /echo {{
      client_max_body_size 0;
      echo_read_request_body;
      echo_request_body;
    }}
  }}
}}
""")
        return ["nginx", "-c", conf, "-e", os.path.join(self.paths.work, self.tag + ".err")]


def make_server(name, paths, tls, port):
    if name.startswith("h2host-"):
        return H2host(paths, tls, port, name.split("-", 1)[1])
    return {"h2o": H2o, "nghttpd": Nghttpd, "nginx": Nginx}[name](paths, tls, port)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServers:
    """Fresh instances of every server for one workload; stopped (by PID) on exit, always."""

    def __init__(self, names, paths, tls):
        self.servers = {n: make_server(n, paths, tls, free_port()) for n in names}

    def __enter__(self):
        try:
            for s in self.servers.values():
                s.start()
            for s in self.servers.values():
                s.wait_ready()
        except BaseException:
            self.stop_all()
            raise
        return self.servers

    def __exit__(self, *exc):
        self.stop_all()

    def stop_all(self):
        for s in self.servers.values():
            s.stop()


# --------------------------------------------------------------------------------------------
# h2load


@dataclasses.dataclass
class Workload:
    key: str
    title: str
    path: str
    n: int
    c: int
    m: int
    runs: int = 1
    tls: bool = False
    post_bytes: int = 0  # > 0: POST a body of this size to /echo
    body_bytes: int = 0  # the size of the GET's file
    warmup_n: int = 0

    def h2load_args(self, n=None):
        args = ["-n", str(n or self.n), "-c", str(self.c), "-m", str(self.m), "-t", "1"]
        return args

    def describe(self):
        body = f", body {human_bytes(self.post_bytes)} (-d)" if self.post_bytes else ""
        return (f"`h2load {' '.join(self.h2load_args())} {'https' if self.tls else 'http'}://"
                f"127.0.0.1:PORT{self.path}`{body}; {self.runs} run(s)"
                + (f", warm-up -n {self.warmup_n}" if self.warmup_n else ""))


@dataclasses.dataclass
class RunResult:
    rps: float
    mib_s: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU per request


def parse_h2load(out, n, tag):
    """Refuses any run where not every request got a 2xx response."""
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    rps = re.search(r"finished in [^,]+, ([\d.]+) req/s", out)
    data = re.search(r"traffic: .*?, .*?, [\d.]+\w* \((\d+)\) data", out)
    if not (m and codes and rps and data):
        raise BenchError(f"{tag}: cannot read h2load's summary:\n{out[-3000:]}")
    total, _, done, ok, failed, errored, timeout = map(int, m.groups())
    ok2xx = int(codes.group(1))
    if ok != n or ok2xx != n or failed or errored or timeout:
        raise BenchError(f"{tag}: {ok}/{n} succeeded, {ok2xx} 2xx, {failed} failed, {errored} "
                         f"errored, {timeout} timed out:\n{out[-3000:]}")
    return float(rps.group(1)), int(data.group(1))


def latency_percentiles(log_path, n, tag):
    durations, bad = [], 0
    with open(log_path) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) < 3:
                continue
            if not cols[1].startswith("2"):
                bad += 1
            durations.append(int(cols[2]))
    if len(durations) != n or bad:
        raise BenchError(f"{tag}: h2load's log has {len(durations)} of {n} requests, "
                         f"{bad} without a 2xx status")
    durations.sort()

    def pct(p):
        return durations[min(len(durations) - 1, int(p / 100 * len(durations)))] / 1000

    return pct(50), pct(99)


def run_h2load(server, wl, work, run_index, n=None, measure=True):
    n = n or wl.n
    tag = f"{server.tag} {wl.key} run {run_index}"
    log_file = os.path.join(work, f"{server.tag}-{wl.key}-{run_index}.reqlog")
    cmd = ["h2load", *wl.h2load_args(n), "-N", "30", "--log-file", log_file]
    if wl.post_bytes:
        cmd += ["-d", os.path.join(work, "post.bin")]
    cmd.append(server.url(wl.path))
    # Generous but finite: a stuck server ends the run instead of hanging it.
    timeout_s = 120 + (wl.post_bytes * wl.n) / (20 * MIB)
    cpu_before = tree_cpu_seconds(server.pid)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{tag}: h2load did not finish within {timeout_s:.0f} s ({' '.join(cmd)})")
    # The server's closing work (GOAWAY, lingering close) belongs to the run: let it finish.
    time.sleep(0.3)
    cpu = tree_cpu_seconds(server.pid) - cpu_before
    with open(os.path.join(work, f"{server.tag}-{wl.key}-{run_index}.h2load"), "w") as f:
        f.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
    if server.proc.poll() is not None:
        raise BenchError(f"{tag}: the server exited ({server.proc.returncode}) during the run:\n"
                         + server.logs())
    if r.returncode != 0:
        raise BenchError(f"{tag}: h2load exited with {r.returncode}:\n{r.stdout[-3000:]}{r.stderr}")
    rps, data_bytes = parse_h2load(r.stdout, n, tag)
    # A 2xx with a short body is a failure too (every peer echoes the POST in full).
    expected = n * (wl.post_bytes or wl.body_bytes)
    if data_bytes != expected:
        raise BenchError(f"{tag}: {data_bytes} response body bytes, expected {expected}:\n"
                         + r.stdout[-3000:])
    if not measure:
        os.unlink(log_file)
        return None
    p50, p99 = latency_percentiles(log_file, n, tag)
    os.unlink(log_file)
    # MiB/s counts body bytes: the response bodies of a GET, the uploaded body of a POST.
    per_request = wl.post_bytes if wl.post_bytes else data_bytes / n
    return RunResult(rps=rps, mib_s=rps * per_request / MIB, p50_ms=p50, p99_ms=p99,
                     cpu_us=cpu * 1e6 / n)


def check_quiet_when_idle(servers, what, window_s=0.5):
    """A server burning CPU with no load would steal the core from the server being measured
    (and its own figures would be wrong): say so in the report."""
    before = {n: tree_cpu_seconds(s.pid) for n, s in servers.items()}
    time.sleep(window_s)
    for n, s in servers.items():
        busy = (tree_cpu_seconds(s.pid) - before[n]) / window_s
        if busy > 0.2:
            msg = f"{n} used {busy:.0%} of a CPU while idle after the {what} workload"
            log("WARNING: " + msg)
            WARNINGS.append(msg)


def median_result(results):
    """Per-column medians over the runs."""
    return RunResult(*(statistics.median(getattr(r, f.name) for r in results)
                       for f in dataclasses.fields(RunResult)))


def run_load_workload(wl, names, paths):
    """Fresh servers; a warm-up each; then the measured runs round-robin over the servers, so
    a burst of noise from elsewhere on the machine spreads over all of them."""
    log(f"workload {wl.key}: {wl.title}")
    runs = {n: [] for n in names}
    with RunningServers(names, paths, wl.tls) as servers:
        if wl.warmup_n:
            for s in servers.values():
                run_h2load(s, wl, paths.work, "warmup", n=wl.warmup_n, measure=False)
        for i in range(wl.runs):
            for name, s in servers.items():
                res = run_h2load(s, wl, paths.work, i)
                runs[name].append(res)
                log(f"  {name:16} run {i + 1}/{wl.runs}: {res.rps:10.0f} req/s "
                    f"{res.mib_s:8.1f} MiB/s  cpu {res.cpu_us:8.2f} us/req")
        peak = {name: tree_status_kib(s.pid, "VmHWM") for name, s in servers.items()}
        check_quiet_when_idle(servers, wl.key)
    return {n: (median_result(runs[n]), peak[n]) for n in names}


# --------------------------------------------------------------------------------------------
# Idle memory: N connections held open after the HTTP/2 handshake, then after one GET each.


class IdleClient:
    def __init__(self, port, count, path, timeout_s=60):
        self.port, self.count, self.path, self.timeout_s = port, count, path, timeout_s
        self.sel = selectors.DefaultSelector()
        self.conns = []  # (socket, H2Connection, state dict)

    def _flush(self, sock, conn):
        data = conn.data_to_send()
        if data:
            sock.setblocking(True)  # a few hundred bytes: never blocks on loopback in practice
            sock.sendall(data)
            sock.setblocking(False)

    def _pump_until(self, done, what):
        deadline = time.monotonic() + self.timeout_s
        while not all(done(st) for _, _, st in self.conns):
            if time.monotonic() > deadline:
                missing = sum(1 for _, _, st in self.conns if not done(st))
                raise BenchError(f"idle client: {missing} of {self.count} connections did not "
                                 f"complete {what} within {self.timeout_s} s")
            for key, _ in self.sel.select(timeout=1.0):
                sock, conn, st = key.data
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    raise BenchError(f"idle client: the server closed a connection during {what}")
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RemoteSettingsChanged):
                        st["server_settings"] = True
                    elif isinstance(ev, h2.events.SettingsAcknowledged):
                        st["our_settings_acked"] = True
                    elif isinstance(ev, h2.events.ResponseReceived):
                        st["status"] = dict(ev.headers).get(b":status")
                    elif isinstance(ev, h2.events.DataReceived):
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        st["response_done"] = True
                    elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                        raise BenchError(f"idle client: server ended a stream/connection: {ev}")
                self._flush(sock, conn)

    def handshake(self):
        cfg = h2.config.H2Configuration(client_side=True, header_encoding=None)
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            sock.setblocking(False)
            conn = h2.connection.H2Connection(cfg)
            conn.initiate_connection()  # preface + SETTINGS
            st = {}
            self.conns.append((sock, conn, st))
            self.sel.register(sock, selectors.EVENT_READ, (sock, conn, st))
            self._flush(sock, conn)
        # Handshake = the server's SETTINGS received and ACKed by us, and ours ACKed by it.
        self._pump_until(lambda st: st.get("server_settings") and st.get("our_settings_acked"),
                         "the handshake")

    def one_get_each(self):
        for sock, conn, _ in self.conns:
            conn.send_headers(1, [(b":method", b"GET"), (b":scheme", b"http"),
                                  (b":authority", f"127.0.0.1:{self.port}".encode()),
                                  (b":path", self.path.encode())], end_stream=True)
            self._flush(sock, conn)
        self._pump_until(lambda st: st.get("response_done"), "one GET")
        bad = [st.get("status") for _, _, st in self.conns if st.get("status") != b"200"]
        if bad:
            raise BenchError(f"idle client: {len(bad)} GETs without status 200: {bad[:5]}")

    def close(self):
        for sock, _, _ in self.conns:
            self.sel.unregister(sock)
            sock.close()
        self.conns = []


def one_connection(port, path):
    """A complete connection (handshake, one GET, close): the server's one-time setup (first
    accept, module caches, lazily created pools) is then not counted as per-connection memory."""
    c = IdleClient(port, 1, path)
    c.handshake()
    c.one_get_each()
    c.close()


def run_idle_workload(count, names, paths, settle_s=1.0):
    log(f"workload idle: {count} connections, after the handshake and after one GET each")
    out = {}
    with RunningServers(names, paths, tls=False) as servers:
        for name, s in servers.items():
            one_connection(s.port, "/small.txt")
            time.sleep(settle_s)
            before = tree_status_kib(s.pid, "VmRSS")
            client = IdleClient(s.port, count, "/small.txt")
            try:
                client.handshake()
                time.sleep(settle_s)
                after_handshake = tree_status_kib(s.pid, "VmRSS")
                client.one_get_each()
                time.sleep(settle_s)
                after_get = tree_status_kib(s.pid, "VmRSS")
            finally:
                client.close()
            out[name] = {
                "handshake": (after_handshake - before) * 1024 / count,
                "get": (after_get - before) * 1024 / count,
                "peak_kib": tree_status_kib(s.pid, "VmHWM"),
            }
            log(f"  {name:16} {out[name]['handshake']:8.0f} B/conn after the handshake, "
                f"{out[name]['get']:8.0f} B/conn after one GET")
        check_quiet_when_idle(servers, "idle")
    return out


# --------------------------------------------------------------------------------------------
# Report


def human_bytes(n):
    return f"{n // MIB} MiB" if n >= MIB and n % MIB == 0 else f"{n} B"


def fmt(x):
    """Three significant digits, whole numbers (with thousands separators) from 100 up."""
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if x == 0:
        return "0"
    text = f"{x:.{max(0, 2 - int(f'{abs(x):e}'.split('e')[1]))}f}"
    return f"{x:,.0f}" if abs(float(text)) >= 100 else text


def ratio(a, b):
    return a / b if a is not None and b else None


def build_table(workloads, load, idle, names):
    header = ["workload", "server", "req/s", "MiB/s", "p50 ms", "p99 ms", "CPU µs/req",
              "peak RSS MiB", "idle B/conn", "asio ÷ peer", "io_uring ÷ peer"]
    rows = []
    for wl in workloads:
        if wl.key == "idle":
            continue
        res = load[wl.key]
        for name in names:
            r, peak = res[name]
            cells = [wl.title, name, fmt(r.rps), fmt(r.mib_s), fmt(r.p50_ms), fmt(r.p99_ms),
                     fmt(r.cpu_us), fmt(peak / 1024), "—"]
            for ours in OURS:
                if name in PEERS and ours in res:
                    o = res[ours][0]
                    cells.append(f"req/s {fmt(ratio(o.rps, r.rps))}x, "
                                 f"CPU {fmt(ratio(o.cpu_us, r.cpu_us))}x")
                else:
                    cells.append("—")
            rows.append(cells)
    if idle:
        for phase, title in (("handshake", "idle conns, after handshake"),
                             ("get", "idle conns, after one GET")):
            for name in names:
                v = idle[name][phase]
                cells = [title, name, "—", "—", "—", "—", "—",
                         fmt(idle[name]["peak_kib"] / 1024), fmt(v)]
                for ours in OURS:
                    if name in PEERS and ours in idle:
                        cells.append(f"B/conn {fmt(ratio(idle[ours][phase], v))}x")
                    else:
                        cells.append("—")
                rows.append(cells)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * 7
                                                               + ["---"] * 2) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def cmd_output(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def machine_description():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return (f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, "
            f"{mem_kib / MIB:.1f} GiB RAM")


def busy_processes(window_s=1.0, threshold=0.2):
    """Processes using more than `threshold` of a CPU right now: they compete with the servers
    and h2load, and a reader of the results must know they were there."""
    def ticks():
        out = {}
        for e in os.listdir("/proc"):
            if e.isdigit():
                try:
                    f = _read_stat(e)
                    with open(f"/proc/{e}/comm") as c:
                        out[int(e)] = (c.read().strip(), int(f[11]) + int(f[12]))
                except (OSError, IndexError, ValueError):
                    pass
        return out
    a = ticks()
    time.sleep(window_s)
    b = ticks()
    busy = sorted(((b[p][1] - a[p][1]) / CLK_TCK / window_s, b[p][0], p)
                  for p in b if p in a and p != os.getpid())
    return ", ".join(f"{name} (pid {pid}) {share:.0%} of a CPU"
                     for share, name, pid in reversed(busy) if share > threshold)


def git_revision(root):
    sha = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "nogit"
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return sha, bool(dirty)


def write_chart(png, workloads, load, idle, names, work):
    """Grouped bars normalized to h2o: server CPU per request per workload, idle bytes per
    connection per phase. Lower is better in both panels."""
    base = "h2o" if "h2o" in names else names[0]

    def norm(v, b):
        return f"{v / b:.4f}" if v is not None and b and b > 0 else "NaN"

    cpu_dat = os.path.join(work, "cpu.dat")
    with open(cpu_dat, "w") as f:
        f.write("workload " + " ".join(f'"{n}"' for n in names) + "\n")
        for wl in workloads:
            if wl.key in load:
                b = load[wl.key][base][0].cpu_us
                f.write(f'"{wl.key}" ' + " ".join(norm(load[wl.key][n][0].cpu_us, b)
                                                  for n in names) + "\n")
    idle_dat = os.path.join(work, "idle.dat")
    with open(idle_dat, "w") as f:
        f.write("phase " + " ".join(f'"{n}"' for n in names) + "\n")
        if idle:
            for phase, title in (("handshake", "after handshake"), ("get", "after one GET")):
                b = idle[base][phase]
                f.write(f'"{title}" ' + " ".join(norm(idle[n][phase], b) for n in names) + "\n")
    cols = len(names)
    panels = [(cpu_dat, f"server CPU µs per request (÷ {base}; lower is better)")]
    if idle:
        panels.append((idle_dat, f"idle bytes per connection (÷ {base}; lower is better)"))
    script = [
        'set terminal pngcairo size 1500,600 font "sans,10" noenhanced',
        f"set output '{png}'",
        f'set multiplot layout 1,{len(panels)}',
        "set style data histogram", "set style histogram cluster gap 1",
        "set style fill solid 0.85 border -1", "set boxwidth 0.9",
        'set datafile missing "NaN"', "set yrange [0:*]", "set grid ytics",
        "set key outside top center horizontal", "set xtics rotate by -20",
    ]
    for dat, title in panels:
        script.append(f'set title "{title}"')
        script.append("plot " + ", ".join(
            f"'{dat}' using {i + 2}{':xtic(1)' if i == 0 else ''} title columnheader({i + 2})"
            for i in range(cols)))
    script.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0 or not os.path.exists(png):
        raise BenchError(f"gnuplot failed:\n{r.stderr}")


# --------------------------------------------------------------------------------------------


def make_workloads(quick, runs_1mib):
    k = 10 if quick else 1
    post = (16 if quick else 256) * MIB
    few = 1 if quick else 3  # medians of 3 where a run is cheap; the 1 MiB ones get runs_1mib
    return [
        Workload("small", "small GET (13 B)", "/small.txt", 200000 // k, 50, 32, runs=few,
                 warmup_n=20000 // k, body_bytes=len(SMALL_BODY)),
        Workload("1mib", "1 MiB GET", "/1mib.bin", 2000 // k, 10, 4, runs=runs_1mib,
                 warmup_n=200 // k, body_bytes=MIB),
        Workload("conns2000", "2,000 conns × 1 stream", "/small.txt", 20000 // k, 2000, 1,
                 runs=few, warmup_n=2000, body_bytes=len(SMALL_BODY)),
        Workload("post256", f"{human_bytes(post)} POST /echo", "/echo", 2, 1, 1, post_bytes=post),
        Workload("tls-small", "TLS small GET (13 B)", "/small.txt", 200000 // k, 50, 32,
                 runs=few, tls=True, warmup_n=20000 // k, body_bytes=len(SMALL_BODY)),
        Workload("tls-1mib", "TLS 1 MiB GET", "/1mib.bin", 2000 // k, 10, 4, runs=runs_1mib,
                 tls=True, warmup_n=200 // k, body_bytes=MIB),
        Workload("idle", "idle memory, 1,000 connections", "/small.txt", 1000, 1000, 1),
    ]


def prepare_files(work, build, post_bytes):
    www = os.path.join(work, "www")
    os.makedirs(www)
    os.chmod(work, 0o755)  # servers that drop root (nginx's worker: nobody) read the docroot
    with open(os.path.join(www, "small.txt"), "wb") as f:
        f.write(SMALL_BODY)
    with open(os.path.join(www, "1mib.bin"), "wb") as f:
        f.write(os.urandom(MIB))
    if post_bytes:
        with open(os.path.join(work, "post.bin"), "wb") as f:
            chunk = os.urandom(MIB)
            for _ in range(post_bytes // MIB):
                f.write(chunk)
    # A private copy of h2host and its modules: the build tree may be relinked by someone else
    # during the run, and every workload must measure the same binary.
    bindir = os.path.join(work, "h2host-bin")
    os.makedirs(os.path.join(bindir, "modules"))
    shutil.copy2(os.path.join(build, "host", "h2host"), bindir)
    for so in os.listdir(os.path.join(build, "modules")):
        if so.endswith(".so"):
            shutil.copy2(os.path.join(build, "modules", so), os.path.join(bindir, "modules"))
    with open(os.path.join(bindir, "h2host"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    for name in ("cert.pem", "key.pem"):
        if not os.path.exists(os.path.join(build, "tls", name)):
            raise BenchError(f"{build}/tls/{name} is missing (the build generates it)")
    return Paths(work=work, www=www, cert=os.path.join(build, "tls", "cert.pem"),
                 key=os.path.join(build, "tls", "key.pem"),
                 h2host=os.path.join(bindir, "h2host"),
                 modules=os.path.join(bindir, "modules")), digest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    started = time.monotonic()
    start_load = os.getloadavg()
    busy_before = busy_processes()
    if busy_before:
        log(f"note: busy before the run: {busy_before}")

    quick = os.environ.get("QUICK", "0") not in ("", "0")
    runs_1mib = int(os.environ.get("RUNS_1MIB", "3" if quick else "5"))
    names = os.environ.get("SERVERS", " ".join(ALL_SERVERS)).split()
    for n in names:
        if n not in ALL_SERVERS:
            raise BenchError(f"unknown server {n!r}; known: {' '.join(ALL_SERVERS)}")
    workloads = make_workloads(quick, runs_1mib)
    if os.environ.get("WORKLOADS"):
        wanted = os.environ["WORKLOADS"].split()
        workloads = [w for w in workloads if w.key in wanted]
    if quick and not os.environ.get("RESULTS_DIR"):
        results_dir = os.path.join(tempfile.gettempdir(), "h2-bench-quick")
    else:
        results_dir = os.environ.get("RESULTS_DIR",
                                     os.path.join(args.root, "tests", "bench", "results"))

    # 2,000 client connections plus the servers' own: h2load and the servers inherit this.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 16384:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, hard), hard))

    # The revision the binary was copied under (HEAD may move while the benchmark runs).
    sha, dirty = git_revision(args.root)
    work = tempfile.mkdtemp(prefix="h2-bench-")
    ok = False
    try:
        post_bytes = max((w.post_bytes for w in workloads), default=0)
        paths, digest = prepare_files(work, args.build, post_bytes)
        load, idle = {}, None
        for wl in workloads:
            if wl.key == "idle":
                idle = run_idle_workload(wl.n, names, paths)
            else:
                load[wl.key] = run_load_workload(wl, names, paths)
        table = build_table(workloads, load, idle, names)
        elapsed = time.monotonic() - started

        stamp = datetime.date.today().isoformat()
        os.makedirs(results_dir, exist_ok=True)
        base = os.path.join(results_dir, f"{stamp}-{sha}")
        png = base + ".png"
        write_chart(png, workloads, load, idle, names, work)
        notes = [f"- `{n}` POST: {make_server(n, paths, False, 0).post_note}" for n in names]
        header = f"""\
# Benchmark {stamp}, {sha}{' (working tree with uncommitted changes)' if dirty else ''}

Command: `tests/bench/compare_servers.sh`{' with QUICK=1' if quick else ''} \
({'quick' if quick else 'full'} run, {elapsed / 60:.1f} min). Chart: `{os.path.basename(png)}`.

- Machine: {machine_description()}; load average {start_load[0]:.2f} at the start, \
{os.getloadavg()[0]:.2f} at the end (other work on the machine shows in the numbers); busy \
before the run: {busy_before or 'nothing else'}.
- Versions: {cmd_output(['h2load', '--version'])}; {cmd_output(['h2o', '--version'])}; \
{cmd_output(['nginx', '-v'])}; {cmd_output(['nghttpd', '--version'])}; h2host {sha} \
(binary sha256 {digest}, {cmd_output(['grep', '-m1', 'CMAKE_BUILD_TYPE:', os.path.join(args.build, 'CMakeCache.txt')])}).
- Settings, every server: one worker, access logs off, idle/keepalive timeouts 600 s, up to 128
  concurrent streams, loopback only, the same docroot (13 B `small.txt`, 1 MiB `1mib.bin`), the
  same certificate (`build/tls/cert.pem`, ALPN h2). h2host routes `/echo` (POST) to the `echo`
  module and `/` to the `static` module through the SDK, as any deployment would.
- **TLS rows: h2host's TLS listeners are served by Asio in both h2host rows** (io_uring serves
  cleartext h2c only), so `h2host-io_uring` there is a second Asio measurement.
- Each workload starts fresh servers, warms each up, then runs round-robin over the servers;
  columns are per-column medians over the runs. Any failed, errored or non-2xx request stops
  the run.
- Columns: req/s and MiB/s from h2load (MiB/s = response body bytes, for the POST the uploaded
  body); p50/p99 = per-request latency from h2load's `--log-file`; CPU µs/req = utime+stime of
  the server's process tree (/proc, 1/{CLK_TCK} s ticks) over the measured run ÷ requests;
  peak RSS = VmHWM summed over the tree at the end of the workload (incl. warm-up); idle
  B/conn = growth of VmRSS (summed over the tree) while 1,000 connections are open ÷ 1,000,
  measured after one
  complete connection and a 1 s settle on a freshly started server, then after the HTTP/2
  handshake of each (SETTINGS both ways, ACKed) and again after one GET of `small.txt` each.
- Ratios: h2host ÷ peer. **req/s: higher is better for h2host; CPU µs/req and B/conn: lower is
  better for h2host.**

Workloads (h2load {cmd_output(['h2load', '--version']).split('/')[-1]}, `-N 30` inactivity timeout):
""" + "\n".join(f"- {w.title}: " + ("Python h2 client (non-blocking sockets), fresh servers"
                                     if w.key == "idle" else w.describe())
                for w in workloads) + "\n\nPOST handling:\n" + "\n".join(notes) + "\n"
        if WARNINGS:
            header += "\nWarnings:\n" + "\n".join(f"- {w}" for w in WARNINGS) + "\n"
        report = header + "\n" + table + "\n"
        with open(base + ".md", "w") as f:
            f.write(report)
        print(table)
        for w in WARNINGS:
            print(f"WARNING: {w}")
        print(f"\nresults: {base}.md\nchart:   {png}\ntook:    {elapsed / 60:.1f} min")
        ok = True
    finally:
        keep = os.environ.get("KEEP_WORK") or not ok
        if os.path.exists(os.path.join(work, "post.bin")):
            os.unlink(os.path.join(work, "post.bin"))
        if keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _terminate(signum, _frame):
    raise BenchError(f"stopped by signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        main()
    except BenchError as e:
        print(f"\nBENCHMARK FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\nBENCHMARK INTERRUPTED", file=sys.stderr)
        sys.exit(130)
