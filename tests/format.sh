#!/usr/bin/env bash
# Every tracked C file (git ls-files '*.c' '*.h') is as clang-format leaves it with the
# checked-in .clang-format: exit 0, or 1 with the differences shown as diffs; 77 (skipped)
# without clang-format or outside a git checkout. The style is defined with clang-format 14
# (Debian 12); another version may disagree on some lines, and says so.
#   tests/format.sh [ROOT]      fix: clang-format -i $(git ls-files '*.c' '*.h')
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"
if ! command -v clang-format >/dev/null 2>&1; then
	echo "format: clang-format not found (apt-get install clang-format): skipped"
	exit 77
fi
if ! files=$(git ls-files -- '*.c' '*.h' 2>/dev/null); then
	echo "format: not a git checkout, no list of tracked files: skipped"
	exit 77
fi
[ -f .clang-format ] || { echo "format: no .clang-format in $(pwd)"; exit 1; }
version=$(clang-format --version)
echo "format: $version"
case $version in
*" version 14."*) ;;
*) echo "format: the style is defined with clang-format 14: differences below may be this version's" ;;
esac

total=0
bad=()
while IFS= read -r f; do
	[ -n "$f" ] || continue
	total=$((total + 1))
	clang-format --style=file --dry-run -Werror "$f" 2>/dev/null || bad+=("$f")
done <<<"$files"

for f in "${bad[@]}"; do
	clang-format --style=file "$f" | diff -u --label "a/$f" --label "b/$f" "$f" - || true
done
if [ ${#bad[@]} -gt 0 ]; then
	echo "format: ${#bad[@]} of $total files differ from clang-format's output: ${bad[*]}"
	echo "format: to apply it: clang-format -i \$(git ls-files '*.c' '*.h')"
	exit 1
fi
echo "format: all $total C files as clang-format leaves them"
