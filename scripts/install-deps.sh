#!/usr/bin/env bash
# Installs every Debian 12 package h2 needs to build, test and benchmark.
# Idempotent: packages already present are left alone, so reruns are cheap.
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build g++ ccache pkg-config clang-format
  # the sanitizer leg: clang with its sanitizer and libFuzzer runtimes
  clang libclang-rt-14-dev
  # libraries (host/ only uses Boost, OpenSSL and yaml-cpp)
  libboost1.81-dev libboost-filesystem1.81-dev libboost-system1.81-dev
  libyaml-cpp-dev libssl-dev openssl liburing-dev liblwip-dev iproute2
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libnghttp2-dev nlohmann-json3-dev
  # real peers used by integration tests and benchmarks
  curl nghttp2-client nghttp2-server python3 python3-h2 python3-hyperframe python3-hpack python3-grpcio
  h2o nginx-light procps iproute2
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  # Debian's default libboost-dev is 1.74; h2 is built against 1.81 and the two cannot coexist.
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Packaged servers (nginx, h2o) may start on install: they are left alone (an operator's own
  # servers must never be stopped by us); our tests and benchmarks use free loopback ports.
else
  echo "install-deps: all packages present"
fi
