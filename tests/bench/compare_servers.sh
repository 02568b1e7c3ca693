#!/usr/bin/env bash
# The project's benchmark command: h2host (runtime asio, and runtime io_uring) against h2o,
# nghttpd and nginx from Debian, all started by this script on loopback with equivalent
# settings, loaded by the same h2load workloads in one run and stopped by their PIDs. Prints a
# markdown table and writes it (with machine, versions, parameters) and a PNG chart to
# tests/bench/results/<date>-<sha>.{md,png}. Fails (non-zero exit) if a server does not start
# or any request fails. A benchmark, not a test: it asserts nothing about speed and is never
# run by ctest. The work itself is in compare_servers.py (its docstring lists the workloads).
#
# Usage: tests/bench/compare_servers.sh [BUILD_DIR]        (full run, about 5 minutes on 2 cores)
#        QUICK=1 tests/bench/compare_servers.sh            (about a minute, results to /tmp)
# Env:   QUICK, SERVERS, WORKLOADS, RUNS_1MIB, RESULTS_DIR, KEEP_WORK (see compare_servers.py),
#        BENCH_TIMEOUT (seconds for the whole run, default 1800)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:-$root/build}" && pwd)

if [[ ! -x $build_dir/host/h2host ]]; then
  echo "compare_servers: h2host is not built at $build_dir/host/h2host (run scripts/build.sh)" >&2
  exit 1
fi

# The peers, the load generator, the chart and the idle client's HTTP/2 library. Same
# idempotent pattern as scripts/install-deps.sh, but nothing is killed afterwards: Debian's
# packaged nginx/h2o services may start on install and are left alone (we use free ports).
install_missing_packages() {
  local packages=(h2o nghttp2-client nghttp2-server nginx-light gnuplot-nox python3-h2)
  local missing=() p
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]})) || return 0
  local sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  echo "compare_servers: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
install_missing_packages

# 2,000 concurrent connections need more descriptors than the usual 1024 (h2load and every
# server inherit this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

# /usr/bin/python3 is Debian's, with python3-h2; the python3 first on PATH may be another one.
# `timeout` bounds the whole run; its SIGTERM makes the helper stop every server it started.
exec timeout --kill-after=30 "${BENCH_TIMEOUT:-1800}" \
  /usr/bin/python3 "$root/tests/bench/compare_servers.py" --build "$build_dir" --root "$root"
