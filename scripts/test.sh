#!/usr/bin/env bash
# The one command that installs, builds and runs every h2 test (README "Test"): the release
# build (g++) and then the sanitizer leg (clang, ASan + UBSan, fuzzers; scripts/test-sanitizers.sh).
# H2_SKIP_SANITIZERS=1 stops after the release build (a quicker local loop; CI runs both).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
start=$SECONDS
"$root/scripts/build.sh"
build_dir=${H2_BUILD_DIR:-$root/build}
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 900
echo "test.sh: release leg (build + tests) took $((SECONDS - start)) s"
if [[ ${H2_SKIP_SANITIZERS:-0} != 1 ]]; then
  start=$SECONDS
  "$root/scripts/test-sanitizers.sh"
  echo "test.sh: sanitizer leg (build + tests + fuzzing) took $((SECONDS - start)) s"
fi
