#!/usr/bin/env bash
# The lwIP runtime beside the Asio runtime, each reached from the kernel side of its own wire
# (issue 24): lwIP on a TAP device in namespace A (h2load on the TAP's kernel side), Asio on a
# veth pair between namespaces B (h2host) and C (h2load). Same h2host binary, same modules, one
# worker each; server pinned to SERVER_CPU, h2load to CLIENT_CPU. Prints one row per workload:
# requests/s or MiB/s, and the server's CPU time per request (utime+stime from /proc).
#
#   tests/bench/lwip_bench.sh BUILD_DIR        (root; creates and removes its namespaces)
# Knobs: SMALL_N (200000), BIG_N (2000), SERVER_CPU (1), CLIENT_CPU (0).
set -euo pipefail
build=$(cd "${1:?usage: lwip_bench.sh BUILD_DIR}" && pwd)
small_n=${SMALL_N:-200000}
big_n=${BIG_N:-2000}
server_cpu=${SERVER_CPU:-1}
client_cpu=${CLIENT_CPU:-0}
tag=$$
a=h2bench-tap-$tag b=h2bench-srv-$tag c=h2bench-cli-$tag
work=$(mktemp -d /tmp/h2-lwip-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "$a" "$b" "$c"; do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$a"; ip netns add "$b"; ip netns add "$c"
for ns in "$a" "$b" "$c"; do ip -n "$ns" link set lo up; done
ip -n "$a" tuntap add dev h2tap0 mode tap
ip -n "$a" addr add 10.77.0.1/24 dev h2tap0
ip -n "$a" link set h2tap0 up
ip link add "vb$tag" netns "$b" type veth peer name "vc$tag" netns "$c"
ip -n "$b" addr add 10.78.0.2/24 dev "vb$tag"; ip -n "$b" link set "vb$tag" up
ip -n "$c" addr add 10.78.0.1/24 dev "vc$tag"; ip -n "$c" link set "vc$tag" up

mkdir -p "$work/www"
head -c 1048576 /dev/urandom > "$work/www/1m.bin"
write_config() {  # file, listener lines
  cat > "$1" <<EOF
workers: 1
master_process: false
listeners:
$2
modules: {directory: $build/modules}
routes:
  - prefix: /files/
    module: static
    config: {root: $work/www, prefix: /files}
  - prefix: /
    module: hello
logs: {error_log: $work/$(basename "$1").log, level: notice}
EOF
}
write_config "$work/tap.yaml" "  - listen: 10.77.0.2:8080
    tap: {device: h2tap0}"
write_config "$work/veth.yaml" "  - listen: 10.78.0.2:8080"

start() {  # namespace, config -> pid
  ip netns exec "$1" taskset -c "$server_cpu" "$build/host/h2host" -c "$2" >/dev/null 2>&1 &
  pids+=($!)
  echo $!
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_up() {  # namespace, url
  for _ in $(seq 100); do
    ip netns exec "$1" curl -s --http2-prior-knowledge -o /dev/null "$2" && return 0
    sleep 0.1
  done
  echo "server at $2 did not come up" >&2; exit 1
}
run() {  # label, namespace, pid, n, conns, streams, url, unit
  local before after out secs
  before=$(cpu_ticks "$3")
  out=$(ip netns exec "$2" taskset -c "$client_cpu" h2load -n "$4" -c "$5" -m "$6" "$7")
  after=$(cpu_ticks "$3")
  grep -q "$4 succeeded, 0 failed" <<<"$out" || { echo "$1: failures: $out" >&2; exit 1; }
  secs=$(grep -oP 'finished in \K[0-9.]+(?=s)' <<<"$out" || echo 0)
  local ms; ms=$(grep -oP 'finished in \K[0-9.]+(?=ms)' <<<"$out" || true)
  [[ -n $ms ]] && secs=$(awk -v m="$ms" 'BEGIN{print m/1000}')
  local tick; tick=$(getconf CLK_TCK)
  awk -v l="$1" -v n="$4" -v s="$secs" -v t=$((after - before)) -v hz="$tick" -v u="$8" 'BEGIN{
    rate = (u == "MiB/s") ? n / s : n / s;
    printf "%-28s %12.0f %-6s %8.2f us CPU/request\n", l, rate, (u == "MiB/s" ? "MiB/s" : "req/s"),
           t / hz * 1e6 / n }'
}

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
echo "server on CPU $server_cpu, h2load on CPU $client_cpu; one worker"
tap_pid=$(start "$a" "$work/tap.yaml"); wait_up "$a" http://10.77.0.2:8080/
veth_pid=$(start "$b" "$work/veth.yaml"); wait_up "$c" http://10.78.0.2:8080/
for round in 1 2; do
  run "lwip small GET (c10 m10)" "$a" "$tap_pid" "$small_n" 10 10 http://10.77.0.2:8080/ req
  run "asio small GET (c10 m10)" "$c" "$veth_pid" "$small_n" 10 10 http://10.78.0.2:8080/ req
  run "lwip 1 MiB GET (c4 m1)" "$a" "$tap_pid" "$big_n" 4 1 http://10.77.0.2:8080/files/1m.bin MiB/s
  run "asio 1 MiB GET (c4 m1)" "$c" "$veth_pid" "$big_n" 4 1 http://10.78.0.2:8080/files/1m.bin MiB/s
done
