#!/usr/bin/env bash
# The sanitizer leg (run by scripts/test.sh after the release build's tests): clang with
# AddressSanitizer + UndefinedBehaviorSanitizer, assertions on (Debug at -O1), every target also
# instrumented for libFuzzer. Runs every unit, integration, conformance and attack test, replays
# each fuzz corpus, and runs each libFuzzer target for H2_FUZZ_SECONDS (default 30) seconds.
# Build directory: $H2_ASAN_BUILD_DIR (default ./build-asan).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${H2_ASAN_BUILD_DIR:-$root/build-asan}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
CC=clang CXX=clang++ cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-O1" -DH2_SANITIZE=address,undefined -DH2_FUZZERS=ON \
  -DH2_FUZZ_SECONDS="${H2_FUZZ_SECONDS:-30}" -DH2_BUILD_BENCHMARKS=OFF \
  -DH2_WERROR="${H2_WERROR:-ON}" "${launcher[@]}"
cmake --build "$build_dir" -j "$(nproc)"
# Any report ends the process with a failure; leaks are reported at exit.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 900
