#!/usr/bin/env bash
# Installs the SDK (component h2sdk) into a temporary prefix, builds tests/out-of-tree-module
# against it with find_package(h2sdk) + h2_add_module, then loads the result with the real
# loader (h2_module_check) and checks its answer.
# Usage: out_of_tree_test.sh BUILD_DIR SOURCE_DIR MODULE_CHECK_BINARY CXX_COMPILER
# The module is built with the host's compiler, as an operator would: the build signature
# (sdk/include/h2/abi.h) names the compiler and its major version.
set -euo pipefail
build=$1 src=$2 check=$3 cxx=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --component h2sdk --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/h2/module.hpp"
cmake -S "$src/tests/out-of-tree-module" -B "$tmp/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$tmp/build" >/dev/null
out=$("$check" "$tmp/build/greet.so" /hi)
echo "$out"
if [[ $out != "greet 200 greetings, world" ]]; then
  echo "out-of-tree module: unexpected answer: $out" >&2
  exit 1
fi
echo "out-of-tree module: built against the installed SDK and served by the loader"
