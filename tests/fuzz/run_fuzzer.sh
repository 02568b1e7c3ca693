#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time on a scratch copy of its committed corpus (libFuzzer
# writes new inputs into the first corpus directory), after replaying the corpus unchanged.
# Usage: run_fuzzer.sh FUZZER CORPUS_DIR SECONDS [extra libFuzzer flags]
# A crash leaves its input as crash-* in the scratch directory, which is printed.
set -euo pipefail
fuzzer=$(realpath "$1") corpus=$(realpath "$2") seconds=$3
shift 3
[ -d "$corpus" ] || { echo "corpus directory missing: $corpus" >&2; exit 2; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/h2-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -r "$corpus"/. "$scratch/corpus"
cd "$scratch"
"$fuzzer" -runs=0 "$corpus"                      # every committed input, unchanged
"$fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$@" "$scratch/corpus" || {
  status=$?
  echo "fuzzer failed (status $status); inputs kept in $scratch:" >&2
  ls -l "$scratch" >&2
  trap - EXIT
  exit "$status"
}
echo "corpus after the run: $(ls "$scratch/corpus" | wc -l) inputs (committed: $(ls "$corpus" | wc -l))"
