#!/usr/bin/env bash
# The npm packages as users get them: packs them (scripts/package npm, the
# debug binary), installs the packed .tgz files into fresh projects with
# npm --offline (no workspace link, no Rust toolchain on PATH), and runs
# there: the Playwright suite (2 workers, Debian's chromium), `wxemu exec`
# with a Node script, and the bad-use errors.
# @playwright/test comes from tests/browser/node_modules (pinned there), which
# the fresh project sits under.
# Usage: tests/runner/npm/run.sh   (after cargo build --bin wxemu --example site)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
HERE="$ROOT/tests/runner/npm"

# It prints the two files it wrote: wxemu's, then the platform package's.
mapfile -t packed < <(scripts/package npm --binary "$TARGET/debug/wxemu")
[ "${#packed[@]}" -eq 2 ] || { echo "scripts/package npm did not pack both packages" >&2; exit 1; }
main_tgz="${packed[0]}"
cli_tgz="${packed[1]}"

# PATH without cargo/rustup: the install must not need a Rust toolchain.
no_rust_path="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '\.cargo' -e 'rustup' | paste -sd: -)"

fresh_project() {
  rm -rf "$1"
  mkdir -p "$1"
  printf '{ "name": "wxemu-runner-check", "private": true, "type": "module" }\n' >"$1/package.json"
}

project="$ROOT/tests/browser/.runner-npm/project"
lonely="$ROOT/tests/browser/.runner-npm/without-platform"
fresh_project "$project"
fresh_project "$lonely"
(cd "$project" && PATH="$no_rust_path" npm install --offline --no-audit --no-fund --loglevel=error "$cli_tgz" "$main_tgz")
# wxemu alone, its optional platform package left out: the launcher's error.
(cd "$lonely" && PATH="$no_rust_path" npm install --offline --omit=optional --no-audit --no-fund --loglevel=error "$main_tgz")
cp "$HERE"/*.js "$HERE"/*.mjs "$project/"

cd "$project"
export SITE_BIN="$TARGET/debug/examples/site" RUNNER_OUT="$project"
echo "==> Playwright (2 workers) against wxemu from the packed packages"
"$ROOT/tests/browser/node_modules/.bin/playwright" test -c playwright.config.js

echo "==> The README's Playwright snippets, as written"
mkdir -p readme
node "$ROOT/tests/runner/readme-snippet.mjs" playwright.config.js >readme/playwright.config.js
node "$ROOT/tests/runner/readme-snippet.mjs" login.spec.js >readme/login.spec.js
"$ROOT/tests/browser/node_modules/.bin/playwright" test -c readme/playwright.config.js

echo "==> The README's shell snippet (wxemu exec), as written"
PATH="$project/node_modules/.bin:$PATH" bash -euo pipefail -c "$(node "$ROOT/tests/runner/readme-snippet.mjs" exec.sh)"

echo "==> wxemu exec -- node exec-check.mjs: the command's status comes back"
npx --no-install wxemu exec -- node exec-check.mjs 0
set +e
npx --no-install wxemu exec -- node exec-check.mjs 3
status=$?
set -e
[ "$status" -eq 3 ] || { echo "wxemu exec passed on status $status, not 3" >&2; exit 1; }

echo "==> Bad use: clear errors"
MISSING_PLATFORM_PROJECT="$lonely" node --test errors.test.mjs
