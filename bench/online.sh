#!/usr/bin/env bash
# Online audit benchmark (issue: online audit), against the index pip is
# configured with on this machine, beside the peers in one run:
#   bench/online.sh [REQUIREMENTS]   (default: ../shared/bench-inputs/flat-100.txt)
# Prints median wall times: reqlock with nothing cached, with a cold page
# cache (the local python3's answers remembered) and warm (fresh cache),
# `uv pip compile --no-deps --generate-hashes --offline` (uv's only warm mode),
# and `curl --parallel` fetching the same pages (the network floor), plus
# reqlock's peak memory. Needs network access to the index; never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-../shared/bench-inputs/flat-100.txt}
runs=${RUNS:-7}
cargo build --release -q
reqlock=target/release/reqlock
peers=$(../shared/tools/peers-venv.sh 2>/dev/null || true)
index=${PIP_INDEX_URL:-$(python3 -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')}
index="${index%/}/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=bench/timing.sh
source bench/timing.sh

echo "input: $input ($(grep -cvE '^\s*(#|$)' "$input") requirements), index from pip's configuration, $runs runs each"
export REQLOCK_CACHE_DIR="$work/cache"
time_runs "reqlock audit, nothing cached (python3 asked too)" 'rm -rf "$work/cache"' "$reqlock" audit --format json --fail-on never "$input"
time_runs "reqlock audit, cold page cache" 'rm -rf "$work"/cache/reqlock/pages-*' "$reqlock" audit --format json --fail-on never "$input"
"$reqlock" audit --format json --fail-on never "$input" >/dev/null 2>&1 || true
time_runs "reqlock audit, warm cache " ':' "$reqlock" audit --format json --fail-on never "$input"
time_runs "reqlock audit --offline   " ':' "$reqlock" audit --offline --format json --fail-on never "$input"
/usr/bin/time -f %M -o "$work/rss" "$reqlock" audit --format json --fail-on never "$input" >/dev/null 2>&1 || true; peak=$(cat "$work/rss")
rm -rf "$work"/cache/reqlock/pages-*
/usr/bin/time -f %M -o "$work/rss" "$reqlock" audit --format json --fail-on never "$input" >/dev/null 2>&1 || true; peak_cold=$(cat "$work/rss")
echo "reqlock peak RSS: warm ${peak} KiB, cold ${peak_cold} KiB"

if [ -n "$peers" ] && [ -x "$peers/uv" ]; then
  export UV_PYTHON_DOWNLOADS=never UV_CACHE_DIR="$work/uv-cache"
  "$peers/uv" pip compile --no-deps --generate-hashes --index-url "$index" "$input" >/dev/null 2>&1 || true
  time_runs "uv pip compile --offline  " ':' "$peers/uv" pip compile --no-deps --generate-hashes --offline --index-url "$index" "$input"
  time_runs "uv pip compile, cold      " 'rm -rf "$work/uv-cache"' "$peers/uv" pip compile --no-deps --generate-hashes --index-url "$index" "$input"
fi

if command -v curl >/dev/null; then
  names=$(grep -vE '^\s*(#|$|-)' "$input" | sed -E 's/[][ ;=<>!~].*//' | tr 'A-Z_.' 'a-z--' | sort -u)
  config="$work/curl.cfg"
  : >"$config"
  for name in $names; do
    printf 'url = "%s%s/"\noutput = "/dev/null"\n' "$index" "$name" >>"$config"
  done
  time_runs "curl --parallel (floor)   " ':' curl -s --parallel --parallel-max 8 -H 'Accept: application/vnd.pypi.simple.v1+json' -K "$config"
fi
