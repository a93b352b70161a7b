#!/usr/bin/env bash
# Instruction counts (valgrind's callgrind: repeatable on this machine,
# whatever else it is doing) of reqlock's own warm paths:
#   bench/callgrind.sh [BINARY...]   (default: a release build of this tree)
# For each binary: a warm `audit --offline` of flat-100 (100 exact pins),
# a warm `lock --offline` of ml-medium (122 packages), and `list` of a
# real 42-line requirements file. The cache is filled once, online, with
# the first binary (needs the index pip is configured with; never run in
# CI); every measured run is offline, with the target given by flags so
# that no python3 is asked. Prints one line per binary and command.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  cargo build --release -q
  set -- "$PWD/target/release/reqlock"
fi
inputs=../shared/bench-inputs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export REQLOCK_CACHE_DIR=${REQLOCK_CACHE_DIR:-$work/cache}
target=(--python-version 3.11 --platform manylinux_2_36_x86_64)
"$1" audit "${target[@]}" --format json --fail-on never "$inputs/flat-100.txt" >/dev/null 2>&1 || true
"$1" lock "${target[@]}" "$inputs/ml-medium.txt" -o "$work/warm.lock" >/dev/null 2>&1 || true

count() { # label, command...
  local label=$1; shift
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >/dev/null 2>"$work/vg" || true
  local total
  total=$(sed -nE 's/.*Collected : ([0-9]+).*/\1/p' "$work/vg")
  printf '%-34s %14s instructions\n' "$label" "$(printf "%'d" "$total")"
}

for binary in "$@"; do
  echo "$binary"
  count "audit --offline flat-100" "$binary" audit --offline "${target[@]}" --format json --fail-on never "$inputs/flat-100.txt"
  rm -f "$work/out.lock" # no earlier lockfile to read preferences from
  count "lock --offline ml-medium" "$binary" lock --offline "${target[@]}" "$inputs/ml-medium.txt" -o "$work/out.lock"
  count "list (42-line corpus file)" "$binary" list --format json ../shared/corpus/FunAudioLLM__CosyVoice__requirements.txt
done
