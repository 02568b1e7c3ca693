#!/usr/bin/env bash
# Configures and builds h2 into ./build (Release with assertions off; tests included).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${H2_BUILD_DIR:-$root/build}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${H2_BUILD_TYPE:-RelWithDebInfo} \
  -DH2_WERROR=${H2_WERROR:-ON} "${launcher[@]}" "$@"
cmake --build "$build_dir" -j "$(nproc)"
