#!/usr/bin/env bash
# Runs the compatibility suite (node --test tests/browser/compat/) the way a QA
# machine uses wxemu's hosts mode, but privately: in a new mount + network
# namespace, /etc is an overlay on a tmpfs (so `wxemu hosts add`'s atomic rename
# works and nothing outlives the run), `wxemu hosts add` and `wxemu hosts add
# --intercept` map the WeChat names to 127.0.0.1, `site.test` (the sites under
# test) is mapped too, and only loopback exists: no request can leave the machine,
# and port 443 and 14013 are free whatever runs outside.
#
# Needs root (unshare, mount). Without it the suite's files skip with a note
# (CI runs as root with WXEMU_REQUIRE_SYSTEM_TESTS=1, where they must run).
# Usage: tests/browser/compat/run.sh [node --test arguments, default: the suite]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
source "$ROOT/scripts/lib.sh"
WXEMU="${CARGO_TARGET_DIR:-$ROOT/target}/debug/wxemu"
[ -x "$WXEMU" ] || die "$WXEMU is missing: cargo build --bin wxemu"
[ "$#" -gt 0 ] || set -- "$ROOT"/tests/browser/compat/*.test.js

if [ "$(id -u)" -ne 0 ] || ! unshare --mount --net true 2>/dev/null; then
  note "not root (or no namespaces): the compatibility suite skips; run it as root (CI does)"
  exec node --test --test-reporter=spec --test-concurrency=1 "$@"
fi

layers="$(mktemp -d)"
trap 'rmdir "$layers"' EXIT
status=0
unshare --mount --net --propagation private bash -c '
  set -euo pipefail
  source "$1/scripts/lib.sh"
  layers="$2" wxemu="$3"
  shift 3
  mount -t tmpfs wxemu-compat-layers "$layers"
  overlay_system_dirs "$layers" etc
  ip link set lo up
  # wxemu hosts needs a data dir only for the interception host list (the default).
  export WXEMU_DATA_DIR="$layers/hosts-data"
  mkdir -p "$WXEMU_DATA_DIR"
  "$wxemu" hosts add >/dev/null
  "$wxemu" hosts add --intercept >/dev/null
  echo "127.0.0.1 site.test # the compatibility suite'\''s sites" >>/etc/hosts
  unset WXEMU_DATA_DIR
  export WXEMU_COMPAT_NAMESPACE=1
  exec node --test --test-reporter=spec --test-concurrency=1 "$@"
' compat-namespace "$ROOT" "$layers" "$WXEMU" "$@" || status=$?
exit "$status"
