"""compare_servers.py, part 2: the workloads: h2load runs measured for CPU, RSS and latency
percentiles, and the idle-connection client for memory per connection."""

import dataclasses
import os
import re
import selectors
import socket
import statistics
import subprocess
import time

import h2.config
import h2.connection
import h2.events

from bench_servers import (BenchError, CLIENT_CPUS, MIB, RunningServers, WARNINGS, human_bytes,
                           log, pinned, tree_cpu_seconds, tree_status_kib)


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
    rate: int = 0  # > 0: offered at this many requests per second in total (h2load --rps)

    def h2load_args(self, n=None):
        args = ["-n", str(n or self.n), "-c", str(self.c), "-m", str(self.m), "-t", "1"]
        if self.rate:
            args += ["--rps", str(max(1, self.rate // self.c))]  # per client
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
    cmd = pinned(CLIENT_CPUS, ["h2load", *wl.h2load_args(n), "-N", "30", "--log-file",
                               log_file])
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
