#!/usr/bin/python3
"""The project's benchmark: h2host (Asio and io_uring runtimes) against h2o, nghttpd and nginx.

Run through tests/bench/compare_servers.sh, which installs the peers and gnuplot, raises the
file-descriptor limit and bounds the whole run in time. Every server is started by this script
on a free loopback port with equivalent settings (one worker, access logs off, idle timeouts of
600 s, the same files, the same certificate), loaded by the same h2load command lines, and
stopped by the PID this script started. A run fails (non-zero exit, message on stderr) if a
server does not start or any request fails; it never reports numbers from a partial run.

Output: a markdown table on stdout, written with a header (machine, versions, parameters) to
tests/bench/results/<date>-<sha>-<cpu>.md together with a PNG chart (<date>-<sha>-<cpu>.png).

Environment knobs:
  QUICK=1         about a minute: a tenth of the requests, a 16 MiB POST, medians of 3;
                  results go to a temporary directory unless RESULTS_DIR is set
  SERVERS="..."   a subset of: h2host-asio h2host-io_uring h2o nghttpd nginx
  WORKLOADS="..." a subset of: small 1mib conns2000 post256 tls-small tls-1mib small-rate
                  tls-small-rate idle
  RATE=N          the offered rate of the *-rate workloads, requests per second (100000)
  PIN=0           no pinning (default: servers on SERVER_CPUS=0, h2load on CLIENT_CPUS=1)
  RUNS_1MIB=N     runs per 1 MiB workload (median reported; default 5, QUICK 3)
  RESULTS_DIR=DIR where the .md and .png go
  KEEP_WORK=1     keep the temporary directory (configs, server logs, h2load output)

Uses only /usr/bin/python3 and Debian's python3-h2 (for the idle-connection client).
"""

import argparse
import datetime
import hashlib
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time

from bench_servers import (ALL_SERVERS, BenchError, CLK_TCK, MIB, Paths, SMALL_BODY, WARNINGS,
                           human_bytes, log, make_server)
from bench_workloads import Workload, run_idle_workload, run_load_workload
from bench_report import (build_table, busy_processes, cmd_output, git_revision,
                          machine_description, write_chart)


def make_workloads(quick, runs_1mib, rate):
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
        # The same two at one offered rate for every server (RATE req/s in total): CPU per
        # request and p99 at equal load, where no server is saturated.
        Workload("small-rate", f"small GET at {rate:,} req/s", "/small.txt", rate * 2 // k, 50, 32,
                 runs=few, warmup_n=20000 // k, body_bytes=len(SMALL_BODY), rate=rate),
        Workload("tls-small-rate", f"TLS small GET at {rate:,} req/s", "/small.txt",
                 rate * 2 // k, 50, 32, runs=few, tls=True, warmup_n=20000 // k,
                 body_bytes=len(SMALL_BODY), rate=rate),
        Workload("tls-1mib", "TLS 1 MiB GET", "/1mib.bin", 2000 // k, 10, 4, runs=runs_1mib,
                 tls=True, warmup_n=200 // k, body_bytes=MIB),
        Workload("idle", "idle memory, 1,000 connections", "/small.txt", 1000, 1000, 1),
    ]


def cpu_tag():
    """The CPU model for result file names ("amd-epyc", "intel-xeon-gold-6248"): ratios move
    between machines, so each machine's results are kept apart."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].lower()
                model = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*", " ", model)
                return re.sub(r"[^a-z0-9]+", "-", model).strip("-")[:40] or "unknown-cpu"
    return "unknown-cpu"


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
    rate = int(os.environ.get("RATE", "100000"))
    workloads = make_workloads(quick, runs_1mib, rate)
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
        base = os.path.join(results_dir, f"{stamp}-{sha}-{cpu_tag()}")
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
- TLS rows: both h2host runtimes serve TLS through tls/tls_connection.h (OpenSSL over memory
  buffers, records encrypted straight into the buffers that are written); the listener offers h2
  only (ALPN), like the other servers here.
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
