"""compare_servers.py, part 1: shared constants and errors, /proc accounting of a server's
process tree, and the servers (h2host on both runtimes, h2o, nghttpd, nginx): configs, start,
stop by PID."""

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time


CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20
SMALL_BODY = b"hello, world\n"  # 13 bytes, the reference small file
ALL_SERVERS = ["h2host-asio", "h2host-io_uring", "h2o", "nghttpd", "nginx"]
PEERS = ["h2o", "nghttpd", "nginx"]
OURS = ["h2host-asio", "h2host-io_uring"]


WARNINGS = []  # things a reader of the results must know; printed and written to the report


def human_bytes(n):
    return f"{n // MIB} MiB" if n >= MIB and n % MIB == 0 else f"{n} B"


# Pinning (PIN=0 turns it off): every server on SERVER_CPUS, h2load on CLIENT_CPUS, so the
# client never steals the server's core and each server's CPU per request is measured on the
# same core. A server's cost depends on the load offered to it, and ratios between servers move
# between machines; pinned runs at saturation and at one fixed rate make them comparable.
PINNING = os.environ.get("PIN", "1") != "0" and (os.cpu_count() or 1) >= 2
SERVER_CPUS = os.environ.get("SERVER_CPUS", "0")
CLIENT_CPUS = os.environ.get("CLIENT_CPUS", "1")


def pinned(cpus, command):
    return ["taskset", "-c", cpus, *command] if PINNING else list(command)


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
        # stops the servers by PID in order. Pinned (and its children with it) when PINNING.
        self.proc = subprocess.Popen(
            pinned(SERVER_CPUS, self.command()), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.paths.work)
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
        # h2 only over TLS (h2load speaks nothing else): so the io_uring runtime serves TLS
        # itself; a listener that also offers HTTP/1.1 over TLS stays on Asio.
        tls = (f"\n    tls: {{certificate: {self.paths.cert}, key: {self.paths.key}}}"
               "\n    protocols: [h2]" if self.tls else "")
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
        if self.runtime == "io_uring" and ("io_uring is unavailable" in err or
                                           "this listener uses asio" in err):
            raise BenchError(f"{self.tag}: this listener is not on io_uring:\n{err}")


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
