#!/usr/bin/env bash
# Runs the conformance suite against h2host serving the spec handlers, over h2c and TLS (ALPN h2),
# for /string, /bigstring and /streaming (issue 5). Usage:
#
#   tests/conformance/run_against_h2host.sh BUILD_DIR [extra run.py arguments, e.g. --strict]
#
# H2_RUNTIME=io_uring serves the cleartext listener with the io_uring runtime (host/uring/) and
# runs the h2c suites only; the run fails unless h2host says that listener is on io_uring.
#
# BUILD_DIR must hold host/h2host, modules/ (the spec handlers module) and tls/{cert,key}.pem as
# the build produces them. The script writes a copy of spec-handlers/config.yaml with two free
# ports and absolute paths, checks it with `h2host -t`, starts h2host, runs the six suites, stops
# the server (by its pid) and exits non-zero if any case failed or the server did not come up.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [run.py args...]" >&2; exit 2; }
build="$(cd "$1" && pwd)" || exit 2
shift
h2host="$build/host/h2host"
python=/usr/bin/python3
for f in "$h2host" "$build/tls/cert.pem" "$build/tls/key.pem" "$repo/spec-handlers/config.yaml"; do
  [[ -e "$f" ]] || { echo "missing $f" >&2; exit 2; }
done

work="$(mktemp -d /tmp/h2conf-h2host.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Two ports the kernel says are free right now ("ephemeral-ish": a tiny race is possible).
read -r h2c_port tls_port < <("$python" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
EOF
)

sed -e "s|127\.0\.0\.1:8080|127.0.0.1:$h2c_port|" \
    -e "s|127\.0\.0\.1:8443|127.0.0.1:$tls_port|" \
    -e "s|\.\./build/tls/|$build/tls/|g" \
    -e "s|\.\./build/|$build/|g" \
    "$repo/spec-handlers/config.yaml" > "$work/config.yaml"
runtime=${H2_RUNTIME:-asio}
transports=(h2c tls)
if [[ $runtime != asio ]]; then
  printf 'runtime: %s\n' "$runtime" | cat - "$work/config.yaml" > "$work/config.tmp"
  mv "$work/config.tmp" "$work/config.yaml"
  transports=(h2c)
fi

if ! "$h2host" -t -c "$work/config.yaml"; then
  echo "h2host -t rejected $work/config.yaml:" >&2
  cat "$work/config.yaml" >&2
  exit 1
fi

"$h2host" -c "$work/config.yaml" > "$work/h2host.log" 2>&1 &
server_pid=$!

up=0
for _ in $(seq 100); do
  if "$python" -c "import socket,sys; [socket.create_connection(('127.0.0.1', p), 0.2).close() \
for p in (int(sys.argv[1]), int(sys.argv[2]))]" "$h2c_port" "$tls_port" 2>/dev/null; then
    up=1; break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ $up -ne 1 ]]; then
  echo "h2host did not start listening on $h2c_port/$tls_port; its log:" >&2
  cat "$work/h2host.log" >&2
  exit 1
fi

if ! grep -q "listening on http://127.0.0.1:$h2c_port ($runtime)" "$work/h2host.log"; then
  echo "the h2c listener is not served by the $runtime runtime; h2host's log:" >&2
  cat "$work/h2host.log" >&2
  exit 1
fi

status=0
summary=()
for transport in "${transports[@]}"; do
  for path in /string /bigstring /streaming; do
    args=(--port "$h2c_port")
    [[ $transport == tls ]] && args=(--port "$tls_port" --tls)
    echo "=== $transport $path"
    "$python" "$here/run.py" --host 127.0.0.1 "${args[@]}" --path "$path" "$@" | tee "$work/out"
    rc=${PIPESTATUS[0]}
    summary+=("$transport $path: $(tail -n 1 "$work/out")")
    [[ $rc -eq 0 ]] || status=1
  done
done

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "h2host exited during the run; its log:" >&2
  tail -n 50 "$work/h2host.log" >&2
  status=1
fi
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $status
