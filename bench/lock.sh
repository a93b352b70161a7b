#!/usr/bin/env bash
# Lock benchmark (issue: lock), against the index pip is configured with on
# this machine, beside the peers in one run:
#   bench/lock.sh [REQUIREMENTS]   (default: ../shared/bench-inputs/ml-medium.txt)
# Prints median wall times of reqlock cold (nothing cached but the local
# python3's answers) and warm (fresh cache), `uv pip compile` cold and
# `--offline` (warm), reqlock's peak memory, and whether both tools locked
# the same versions. PIP_COMPILE=1 also times pip-compile once (about 45 s).
# Needs network access to the index; never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-../shared/bench-inputs/ml-medium.txt}
runs=${RUNS:-5}
cargo build --release -q
reqlock=$PWD/target/release/reqlock
peers=$(../shared/tools/peers-venv.sh 2>/dev/null | tail -1 || true)
index=${PIP_INDEX_URL:-$(python3 -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')}
python=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=bench/timing.sh
source bench/timing.sh
versions() { grep -E '^[A-Za-z0-9]' "$1" | sed -E 's/ .*//' | tr 'A-Z_.' 'a-z--' | sort; }

echo "input: $input, Python $python, index from pip's configuration, $runs runs each"
export REQLOCK_CACHE_DIR="$work/cache"
lock=("$reqlock" lock --python-version "$python" "$input" -o "$work/reqlock.lock")
"${lock[@]}" >/dev/null 2>&1 # remembers the local python3's answers
time_runs "reqlock lock, cold (pages and metadata not cached)" \
  'rm -rf "$work"/cache/reqlock/pages-* "$work"/cache/reqlock/metadata' "${lock[@]}"
time_runs "reqlock lock, warm" ':' "${lock[@]}"
/usr/bin/time -f %M -o "$work/rss" "${lock[@]}" >/dev/null 2>&1; warm_rss=$(cat "$work/rss")
rm -rf "$work"/cache/reqlock/pages-* "$work"/cache/reqlock/metadata
/usr/bin/time -f %M -o "$work/rss" "${lock[@]}" >/dev/null 2>&1; cold_rss=$(cat "$work/rss")
echo "reqlock peak RSS: warm $((warm_rss / 1024)) MiB, cold $((cold_rss / 1024)) MiB"

if [ -n "$peers" ] && [ -x "$peers/uv" ]; then
  export UV_PYTHON_DOWNLOADS=never UV_CACHE_DIR="$work/uv-cache"
  uv=("$peers/uv" pip compile --python-version "$python" --generate-hashes --index-url "$index" "$input" -o "$work/uv.lock")
  time_runs "uv pip compile, cold      " 'rm -rf "$work/uv-cache"' "${uv[@]}"
  "${uv[@]}" >/dev/null 2>&1
  time_runs "uv pip compile --offline  " ':' "${uv[@]}" --offline
  if diff <(versions "$work/uv.lock") <(versions "$work/reqlock.lock") >"$work/diff"; then
    echo "same versions as uv: $(versions "$work/uv.lock" | wc -l) packages"
  else
    echo "versions differ from uv (< uv, > reqlock):"
    cat "$work/diff"
  fi
  if [ "${PIP_COMPILE:-0}" = 1 ] && [ -x "$peers/pip-compile" ]; then
    start=$(now)
    "$peers/pip-compile" --quiet --generate-hashes --index-url "$index" --cache-dir "$work/pip-cache" \
      -o "$work/pip-tools.lock" "$input" >/dev/null 2>&1 || true
    echo "pip-compile, cold: $(( ($(now) - start) / 1000000 )) ms"
  fi
fi
