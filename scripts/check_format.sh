#!/usr/bin/env bash
# Checks that the C++ files of the tree (include/ src/ tests/ bench/ examples/ fuzz/: *.hpp *.h
# *.cpp *.cc) are formatted as .clang-format says, with clang-format 14 (Debian 12's; another
# version formats differently). Lists the files that are not and exits 1; 0 when all are.
#
#   scripts/check_format.sh           check (CI runs this)
#   scripts/check_format.sh --diff    also show what clang-format would change
#   scripts/check_format.sh --fix     reformat those files in place
#
# $CLANG_FORMAT names another binary. tests/compile_fail/ is checked too: run.py matches the
# compiler's messages, not line numbers, so its snippets' layout does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=check
case "${1:-}" in
  "") ;;
  --diff) mode=diff ;;
  --fix) mode=fix ;;
  *) echo "usage: $0 [--diff|--fix]" >&2; exit 2 ;;
esac

clang_format=${CLANG_FORMAT:-}
if [ -z "$clang_format" ]; then
  for candidate in clang-format-14 clang-format; do
    if command -v "$candidate" > /dev/null; then clang_format=$candidate; break; fi
  done
fi
if [ -z "$clang_format" ] || ! command -v "$clang_format" > /dev/null; then
  echo "check_format: clang-format 14 not found (Debian 12: apt-get install clang-format)" >&2
  exit 2
fi
version=$("$clang_format" --version | head -n 1)
if ! grep -q 'version 14\.' <<< "$version"; then
  echo "check_format: $clang_format is not clang-format 14 ($version)" >&2
  exit 2
fi

# The tracked and new (not ignored) files, so build folders never count; find outside git.
dirs=(include src tests bench examples fuzz)
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- "${dirs[@]}" |
                       grep -E '\.(hpp|h|cpp|cc)$' | sort -u)
else
  mapfile -t files < <(find "${dirs[@]}" -name 'build*' -prune -o -type f \
                         \( -name '*.hpp' -o -name '*.h' -o -name '*.cpp' -o -name '*.cc' \) \
                         -print | sort)
fi
# A deleted but still tracked file is not there to check.
existing=()
for file in "${files[@]}"; do [ -f "$file" ] && existing+=("$file"); done
files=("${existing[@]}")
[ "${#files[@]}" -gt 0 ] || { echo "check_format: no C++ files found" >&2; exit 2; }

unformatted=()
for file in "${files[@]}"; do
  if ! "$clang_format" --style=file --dry-run --Werror "$file" > /dev/null 2>&1; then
    unformatted+=("$file")
  fi
done

if [ "${#unformatted[@]}" -eq 0 ]; then
  echo "check_format: all ${#files[@]} C++ files are formatted ($version)"
  exit 0
fi

if [ "$mode" = fix ]; then
  "$clang_format" --style=file -i "${unformatted[@]}"
  printf 'check_format: reformatted %s\n' "${unformatted[@]}"
  exit 0
fi

echo "check_format: ${#unformatted[@]} of ${#files[@]} C++ files are not formatted as" \
     ".clang-format says (scripts/check_format.sh --diff shows how, --fix formats them):"
printf '  %s\n' "${unformatted[@]}"
if [ "$mode" = diff ]; then
  for file in "${unformatted[@]}"; do
    "$clang_format" --style=file "$file" | diff -u --label "$file" --label "$file (formatted)" \
      "$file" - || true
  done
fi
exit 1
