"""compare_servers.py, part 3: the report: the markdown table, the machine description and
the gnuplot chart."""

import os
import platform
import subprocess
import time

from bench_servers import BenchError, CLK_TCK, MIB, OURS, PEERS, _read_stat



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
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") as f:
            governor = f.read().strip()
    except OSError:
        governor = "none exposed (a VM?)"
    from bench_servers import CLIENT_CPUS, PINNING, SERVER_CPUS
    pinning = (f"servers pinned to CPU {SERVER_CPUS}, h2load to CPU {CLIENT_CPUS}" if PINNING
               else "not pinned")
    return (f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, governor "
            f"{governor}, {mem_kib / MIB:.1f} GiB RAM; {pinning}")


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
    panels = []
    if any(wl.key in load for wl in workloads):  # WORKLOADS=idle alone has no CPU panel
        panels.append((cpu_dat, f"server CPU µs per request (÷ {base}; lower is better)"))
    if idle:
        panels.append((idle_dat, f"idle bytes per connection (÷ {base}; lower is better)"))
    if not panels:
        return
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
