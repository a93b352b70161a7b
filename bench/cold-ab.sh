#!/usr/bin/env bash
# Cold-page-cache audit, two builds side by side (issue: online audit):
#   bench/cold-ab.sh BEFORE_BINARY AFTER_BINARY [REQUIREMENTS]
# Alternates the two builds run by run, with `curl --parallel` fetching the
# same pages (the network floor) between them, so that load from elsewhere
# on the machine falls on all three alike. Per build: sorted wall times of
# a cold run (pages removed, the local python3's answers and the metadata
# kept) and of a warm run, mean CPU (user + system) and peak RSS of the cold
# runs. The index comes from pip's configuration. Needs network access to
# the index; never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1 after=$2
input=${3:-../shared/bench-inputs/flat-100.txt}
runs=${RUNS:-9}
index=${PIP_INDEX_URL:-$(python3 -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')}
index="${index%/}/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

names=$(grep -vE '^\s*(#|$|-)' "$input" | sed -E 's/[][ ;=<>!~].*//' | tr 'A-Z_.' 'a-z--' | sort -u)
for name in $names; do
  printf 'url = "%s%s/"\noutput = "/dev/null"\n' "$index" "$name"
done >"$work/curl.cfg"

audit() { "$1" audit --format json --fail-on never "$input" >/dev/null 2>&1 || true; }
for build in before after; do
  REQLOCK_CACHE_DIR="$work/$build" audit "${!build}"
done
for _ in $(seq "$runs"); do
  for build in before after; do
    export REQLOCK_CACHE_DIR="$work/$build"
    rm -rf "$work/$build"/reqlock/pages-*
    /usr/bin/time -f "cold-$build %e %U %S %M" -o "$work/time" "${!build}" audit --format json --fail-on never "$input" >/dev/null 2>&1 || true
    cat "$work/time"
    start=$(date +%s%N)
    audit "${!build}"
    echo "warm-$build $(( ($(date +%s%N) - start) / 1000 ))e-6 0 0 0"
  done
  start=$(date +%s%N)
  curl -s --parallel --parallel-max 8 -H 'Accept: application/vnd.pypi.simple.v1+json' -K "$work/curl.cfg" >/dev/null 2>&1 || true
  echo "curl $(( ($(date +%s%N) - start) / 1000 ))e-6 0 0 0"
done | awk '{printf "%s %.1f %.3f %d\n", $1, $2 * 1000, $3 + $4, $5}' | sort -k1,1 -k2n |
  awk '{w[$1] = w[$1] " " $2; c[$1] += $3; m[$1] = ($4 > m[$1] ? $4 : m[$1]); n[$1]++}
       END {for (k in w) printf "%s: ms%s | mean CPU %.3f s | peak RSS %d KiB\n", k, w[k], c[k] / n[k], m[k]}' | sort
