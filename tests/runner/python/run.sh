#!/usr/bin/env bash
# The Python packages as users get them: assembles the wheels (scripts/package
# python, the debug binary), installs the wheel files offline into a fresh
# directory (pip --target, no source link, no Rust toolchain on PATH) beside
# the test venv's pytest/pytest-xdist/requests (tests/sdk/.venv), and runs the
# pytest-wxemu suite with -n 2: each xdist worker gets its own wxemu; then
# pytest-playwright's page routed by the plugin (tests/runner/pytest-playwright).
# Usage: tests/runner/python/run.sh   (after cargo build --bin wxemu)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$ROOT/tests/sdk/.venv"

wheels="$(scripts/package python --binary "$TARGET/debug/wxemu")"
no_rust_path="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '\.cargo' -e 'rustup' | paste -sd: -)"
site="$TARGET/runner-python/site"
out="$TARGET/runner-python/out"
rm -rf "$site" "$out"
mkdir -p "$site" "$out"
# shellcheck disable=SC2086 # one wheel path per line
PATH="$no_rust_path" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-index --no-deps --target "$site" $wheels

mkdir -p "$out/readme"
node "$ROOT/tests/runner/readme-snippet.mjs" test_readme.py >"$out/readme/test_readme.py"

cd "$ROOT/tests/runner/python"
echo "==> pytest -n 2 with pytest-wxemu from the wheels (and the README's snippet, as written)"
PYTHONPATH="$site" RUNNER_OUT="$out" "$VENV/bin/python" -m pytest -n 2 -p no:cacheprovider -q . "$out/readme/test_readme.py"

# Two workers, each with one wxemu of its own.
workers="$(cut -d' ' -f1 "$out/workers.txt" | sort -u | wc -l)"
pairs="$(sort -u "$out/workers.txt" | wc -l)"
ports="$(cut -d' ' -f2 "$out/workers.txt" | sort -u | wc -l)"
if [ "$workers" -ne 2 ] || [ "$pairs" -ne 2 ] || [ "$ports" -ne 2 ]; then
  echo "expected 2 xdist workers with a wxemu each; saw:" >&2
  sort -u "$out/workers.txt" >&2
  exit 1
fi
echo "2 xdist workers, 2 wxemu instances"

echo "==> pytest-playwright -n 2 with pytest-wxemu: Debian's chromium routed to each worker's wxemu"
cd "$ROOT/tests/runner/pytest-playwright"
PYTHONPATH="$site" "$VENV/bin/python" -m pytest -n 2 -p no:cacheprovider -q .
