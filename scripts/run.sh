#!/usr/bin/env bash
# Installs dependencies, builds, and runs h2host with the repository's config.yaml
# (127.0.0.1:8080, shipped modules). Extra arguments go to h2host.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build_dir=${H2_BUILD_DIR:-$root/build}
cd "$root"
exec "$build_dir/host/h2host" -c "$root/config.yaml" "$@"
