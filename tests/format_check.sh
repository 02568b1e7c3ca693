#!/usr/bin/env bash
# clang-format (.clang-format, Debian's clang-format 14) holds the tree as a ratchet: every
# tracked C++ file is formatted, except those still listed in tests/format_pending.txt (the files
# not yet formatted once). A new or changed file outside the list that is not formatted fails,
# and so does a listed file that has become formatted (take it off the list), so the list only
# shrinks. Usage: format_check.sh REPO_ROOT
set -uo pipefail
root=$1
cd "$root" || exit 2
command -v clang-format >/dev/null || { echo "format: clang-format is not installed"; exit 1; }
pending=tests/format_pending.txt
fail=0
checked=0
while IFS= read -r file; do
  checked=$((checked + 1))
  listed=0
  grep -qxF "$file" "$pending" && listed=1
  if clang-format --dry-run -Werror "$file" >/dev/null 2>&1; then
    if [[ $listed == 1 ]]; then
      echo "format: $file is formatted now: remove it from $pending"; fail=1
    fi
  elif [[ $listed == 0 ]]; then
    echo "format: $file is not clang-format clean (clang-format -i $file):"
    clang-format --dry-run "$file" 2>&1 | head -6
    fail=1
  fi
done < <(git ls-files '*.h' '*.cc' '*.hpp' '*.c' | grep -v '^tests/fuzz/corpus/')
while IFS= read -r file; do
  [[ -z $file || $file == \#* ]] && continue
  [[ -e $file ]] || { echo "format: $pending lists $file, which does not exist"; fail=1; }
done < "$pending"
echo "format: $checked files checked, $(grep -vc '^#' "$pending") still pending"
exit $fail
