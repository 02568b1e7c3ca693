#!/usr/bin/env bash
# Validates the suite itself against nghttpd (nghttp2-server), a real conformant-ish server:
# serves files named string, bigstring and streaming ("non-empty data.") over h2c and TLS on free
# ports, runs the suite for each path over each transport, prints a summary, stops nghttpd.
#
#   tests/conformance/run_against_nghttpd.sh [extra run.py arguments, e.g. --strict]
#
# nghttpd is NOT fully conformant: README.md lists the cases it fails and why. This script is a
# manual tool (not registered with ctest); it exits non-zero when any case fails.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python=/usr/bin/python3
command -v nghttpd > /dev/null || { echo "nghttpd not installed (nghttp2-server)" >&2; exit 2; }

work="$(mktemp -d /tmp/h2conf-nghttpd.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/docroot"
for f in string bigstring streaming; do printf 'non-empty data.' > "$work/docroot/$f"; done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 2 -subj /CN=localhost 2> /dev/null || { echo "openssl failed" >&2; exit 2; }

read -r h2c_port tls_port < <("$python" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
EOF
)

nghttpd --no-tls -a 127.0.0.1 -d "$work/docroot" "$h2c_port" > "$work/h2c.log" 2>&1 &
pids+=($!)
nghttpd -a 127.0.0.1 -d "$work/docroot" "$tls_port" "$work/key.pem" "$work/cert.pem" \
  > "$work/tls.log" 2>&1 &
pids+=($!)

for _ in $(seq 50); do
  "$python" -c "import socket,sys; [socket.create_connection(('127.0.0.1', p), 0.2).close() \
for p in (int(sys.argv[1]), int(sys.argv[2]))]" "$h2c_port" "$tls_port" 2>/dev/null && break
  sleep 0.1
done

status=0
summary=()
for transport in h2c tls; do
  for path in /string /bigstring /streaming; do
    args=(--port "$h2c_port")
    [[ $transport == tls ]] && args=(--port "$tls_port" --tls)
    echo "=== nghttpd $transport $path"
    "$python" "$here/run.py" --host 127.0.0.1 "${args[@]}" --path "$path" --body 'non-empty data.' \
      "$@" | tee "$work/out"
    rc=${PIPESTATUS[0]}
    summary+=("nghttpd $transport $path: $(tail -n 1 "$work/out")")
    [[ $rc -eq 0 ]] || status=1
  done
done
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $status
