#!/usr/bin/env bash
# End to end check of examples/: each server is started on an ephemeral port, exercised with real
# clients (curl --http2-prior-knowledge, nghttp), then stopped with SIGTERM, after which it must
# exit with status 0. Every wait is bounded. Usage: test_examples.sh BLOCKING_SERVER POLL_SERVER
#
# Each curl makes ONE request: curl 7.88 (Debian 12) fails with "Error in the HTTP2 framing layer"
# when it reuses a prior-knowledge connection (curl/curl#10634, fixed in 8.0), so --parallel and
# several URLs per curl are not usable here. Concurrency comes from curls run in the background
# (one connection each) and from nghttp, which multiplexes its URLs on one connection.
set -uo pipefail
if (($# != 2)); then
  echo "usage: $0 BLOCKING_SERVER POLL_SERVER" >&2
  exit 2
fi
work=$(mktemp -d)
server_pid=
name=
cleanup() {
  if [[ -n $server_pid ]]; then  # only the PID we started
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "examples: FAIL ($name): $*" >&2
  if [[ -s $work/server.err ]]; then sed 's/^/  server stderr: /' "$work/server.err" >&2; fi
  exit 1
}
for tool in curl nghttp sha256sum cmp; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
h2curl() { curl --http2-prior-knowledge --silent --show-error --max-time 10 "$@"; }
printf 'hello from h2\n' >"$work/hello.expected"
printf 'slow hello\n' >"$work/slow.expected"
head -c $((1 << 20)) /dev/urandom >"$work/body.bin"
body_sha=$(sha256sum <"$work/body.bin" | cut -d' ' -f1)

start_server() {  # BINARY: starts it on port 0 and reads the port it prints
  name=$(basename "$1")
  [[ -x $1 ]] || fail "$1 is not an executable"
  "$1" 0 >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/server.out")
    if [[ -n $port ]]; then base=http://127.0.0.1:$port; return; fi
    kill -0 "$server_pid" 2>/dev/null || fail "exited before printing its port"
    sleep 0.05
  done
  fail "no 'listening on 127.0.0.1:PORT' line on stdout within 5 s"
}

stop_server() {  # SIGTERM to the PID we started; it must exit with 0 within 10 s
  kill -TERM "$server_pid"
  local state
  for _ in $(seq 200); do
    state=$(ps -o stat= -p "$server_pid" 2>/dev/null)
    [[ -z $state || $state == Z* ]] && break  # exited (a zombie until we wait for it)
    sleep 0.05
  done
  [[ -z $state || $state == Z* ]] || fail "still running 10 s after SIGTERM"
  wait "$server_pid"
  local status=$?
  server_pid=
  ((status == 0)) || fail "exit status $status after SIGTERM (expected 0)"
  echo "examples: $name exited with 0 after SIGTERM"
}

check_get() {  # PATH EXPECTED_BODY_FILE
  h2curl -o "$work/got" "$base$1" || fail "GET $1: curl failed"
  cmp -s "$work/got" "$2" || fail "GET $1: body '$(head -c 100 "$work/got")' differs from $2"
}

check_common() {  # what both servers serve
  check_get / "$work/hello.expected"
  [[ $(h2curl -o /dev/null -w '%{content_type}' "$base/") == text/plain ]] ||
    fail "GET /: content-type is not text/plain"
  h2curl --data-binary @"$work/body.bin" -o "$work/echo" "$base/echo" || fail "POST /echo: curl failed"
  [[ $(sha256sum <"$work/echo" | cut -d' ' -f1) == "$body_sha" ]] ||
    fail "POST /echo: 1 MiB echo differs (got $(stat -c %s "$work/echo") bytes)"
  local status
  status=$(h2curl -o /dev/null -w '%{http_code}' "$base/no/such/path") || fail "GET 404: curl failed"
  [[ $status == 404 ]] || fail "GET /no/such/path: status $status, expected 404"
  timeout 15 nghttp -v -t 10 "$base/" >"$work/nghttp" 2>&1 || fail "nghttp -v GET / failed"
  { grep -q ':status: 200' "$work/nghttp" && grep -q '^hello from h2$' "$work/nghttp"; } ||
    fail "nghttp -v GET /: no 200 with the hello body: $(tail -5 "$work/nghttp")"
  echo "examples: $name: GET /, POST /echo (1 MiB), 404 and nghttp -v GET / passed"
}

start_server "$1"
check_common
stop_server

start_server "$2"
check_common
elapsed=$(h2curl -o "$work/got" -w '%{time_total}' "$base/slow") || fail "GET /slow: curl failed"
cmp -s "$work/got" "$work/slow.expected" || fail "GET /slow: unexpected body"
awk -v t="$elapsed" 'BEGIN { exit !(t >= 0.045) }' || fail "GET /slow answered in ${elapsed}s (< 50 ms)"
pids=()
for i in $(seq 20); do  # 20 connections at once, half of them waiting for the 50 ms timer
  path=/; ((i % 2)) && path=/slow
  h2curl -o "$work/concurrent.$i" "$base$path" &
  pids+=($!)
done
for i in $(seq 20); do
  wait "${pids[i - 1]}" || fail "concurrent request $i: curl failed"
  expected=$work/hello.expected; ((i % 2)) && expected=$work/slow.expected
  cmp -s "$work/concurrent.$i" "$expected" || fail "concurrent request $i: unexpected body"
done
timeout 15 nghttp -t 10 "$base/" "$base/slow" >"$work/nghttp" 2>&1 || fail "nghttp (2 streams) failed"
{ grep -q '^hello from h2$' "$work/nghttp" && grep -q '^slow hello$' "$work/nghttp"; } ||
  fail "nghttp /, /slow multiplexed: missing a body: $(cat "$work/nghttp")"
echo "examples: $name: GET /slow, 20 concurrent connections and 2 multiplexed streams passed"
stop_server
echo "examples: both examples passed"
