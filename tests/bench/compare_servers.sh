#!/usr/bin/env bash
# Side-by-side load benchmark on this machine: h2host against h2o, nghttpd and nginx from Debian,
# each serving the same small static file over h2c (prior knowledge) on loopback, loaded by h2load
# with identical parameters in one run. Prints requests/s per server and h2host's ratio to each.
# A benchmark, not a test: it asserts nothing about speed and is never run by ctest.
#
# Usage: tests/bench/compare_servers.sh [BUILD_DIR]   (env: REQUESTS, CLIENTS, STREAMS, THREADS, SIZE)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:-$root/build}" && pwd)
requests=${REQUESTS:-200000}
clients=${CLIENTS:-16}
streams=${STREAMS:-32}
threads=${THREADS:-1}
size=${SIZE:-1024}

work=$(mktemp -d)
# Servers started as root drop to an unprivileged user that must read the docroot.
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www"
head -c "$size" /dev/urandom | base64 -w 0 | head -c "$size" >"$work/www/index.html"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "server on port $1 did not start; logs:" >&2
  cat "$work"/*.log "$work"/*.err >&2 2>/dev/null || true
  return 1
}

declare -A port
start_nghttpd() {
  port[nghttpd]=$(free_port)
  nghttpd --no-tls --address=127.0.0.1 -d "$work/www" "${port[nghttpd]}" >"$work/nghttpd.log" 2>&1 &
  pids+=($!)
}
start_h2o() {
  port[h2o]=$(free_port)
  cat >"$work/h2o.conf" <<CONF
listen:
  host: 127.0.0.1
  port: ${port[h2o]}
num-threads: $threads
hosts:
  default:
    paths:
      /:
        file.dir: $work/www
access-log: /dev/null
error-log: $work/h2o.err
CONF
  h2o -c "$work/h2o.conf" >"$work/h2o.log" 2>&1 &
  pids+=($!)
}
start_nginx() {
  port[nginx]=$(free_port)
  mkdir -p "$work/nginx"
  cat >"$work/nginx.conf" <<CONF
worker_processes $threads;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  http2_max_concurrent_streams 128;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:${port[nginx]} http2;
    root $work/www;
  }
}
CONF
  nginx -c "$work/nginx.conf" -e "$work/nginx.err" >"$work/nginx.log" 2>&1 &
  pids+=($!)
}
start_h2host() {
  local bin=$build_dir/host/h2host
  if [[ ! -x $bin ]]; then
    echo "h2host not built at $bin" >&2
    return 1
  fi
  port[h2host]=$(free_port)
  cat >"$work/h2host.yaml" <<CONF
workers: $threads
modules:
  directory: $build_dir/modules
listeners:
  - listen: 127.0.0.1:${port[h2host]}
routes:
  - prefix: /
    module: static
    config:
      root: $work/www
logs:
  error_log: $work/h2host.err
  level: warn
  access_log: off
CONF
  "$bin" -c "$work/h2host.yaml" >"$work/h2host.log" 2>&1 &
  pids+=($!)
}

servers=(${SERVERS:-h2host h2o nghttpd nginx})
declare -A rps
for s in "${servers[@]}"; do
  if ! "start_$s"; then echo "$s: could not start"; continue; fi
  wait_port "${port[$s]}"
  url="http://127.0.0.1:${port[$s]}/index.html"
  # warm-up, then the measured run
  h2load -n 2000 -c 4 -m 8 "$url" >/dev/null 2>&1 || true
  out=$(h2load -n "$requests" -c "$clients" -m "$streams" -t 1 "$url" 2>&1)
  ok=$(sed -n 's/.*requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
  rps[$s]=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  echo "$s: ${rps[$s]} req/s (${ok:-0}/$requests succeeded; port ${port[$s]})"
  kill "${pids[-1]}" 2>/dev/null || true
done

if [[ -n ${rps[h2host]:-} ]]; then
  for s in "${servers[@]}"; do
    [[ $s == h2host || -z ${rps[$s]:-} ]] && continue
    awk -v a="${rps[h2host]}" -v b="${rps[$s]}" -v n="$s" 'BEGIN { printf "h2host/%s: %.2f\n", n, a / b }'
  done
fi
