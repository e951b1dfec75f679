#!/usr/bin/env bash
# The package test: builds the Debian package (scripts/package --debug),
# installs it with dpkg -i, starts the installed app under Xvfb, checks it
# answers check-login over real TLS (validated against its CA), checks the
# bundled headless `wxemu` runs, then purges the package and checks nothing
# of it is left behind. Needs root (dpkg); CI runs it from scripts/test.
#
# The machine is left as it was whatever happens: dpkg runs in a private
# mount namespace where /usr, /etc and /var are overlays on a tmpfs, so
# every write (the package, dpkg's database, packages apt adds for its
# dependencies) vanishes with the namespace, a crash half way included.
# It is also a private PID namespace whose first process is this script:
# when it ends, however it ends, the kernel kills every process still in
# there (the app, Xvfb, dbus-daemon, WebKit's helpers), so none outlives
# the test and none keeps a pipe such as `| tee` open.
#
# Usage: tests/desktop/package.sh [path/to/wxemu_*.deb]   (without: builds it)
# WXEMU_PACKAGE_TEST_TIMEOUT (seconds, default 600): the most the part after
# the build may take; past it the namespace is killed and the test fails.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/../../scripts/lib-desktop.sh"
cd "$ROOT"

is_debian || die "the package test needs Debian (dpkg)"
[ "$(id -u)" -eq 0 ] || die "the package test installs a package: run it as root"

DEB="${1:-}"
if [ -z "$DEB" ]; then
  # Built outside the namespace: the build's tools and caches stay.
  DEB="$(scripts/package --debug | grep '\.deb$' | tail -1)"
fi
[ -f "$DEB" ] || die "no package: $DEB"
DEB="$(realpath "$DEB")"

if [ -z "${WXEMU_PACKAGE_NAMESPACE:-}" ]; then
  command -v unshare >/dev/null || die "the package test needs unshare (util-linux)"
  # --kill-child: if unshare is killed (the timeout), so is the namespace's
  # first process, and with it every process in the namespace.
  rc=0
  trace=""
  case "$-" in *x*) trace=1 ;; esac
  timeout --kill-after=10 "${WXEMU_PACKAGE_TEST_TIMEOUT:-600}" \
    unshare --mount --propagation private --pid --fork --kill-child --mount-proc \
    env WXEMU_PACKAGE_NAMESPACE=1 bash ${trace:+-x} "$0" "$DEB" || rc=$?
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || die "the package test took longer than ${WXEMU_PACKAGE_TEST_TIMEOUT:-600}s: killed"
  exit "$rc"
fi
# From here on: inside the namespaces, as PID 1. A private /tmp (a tmpfs)
# holds the overlays' upper layers, the test's files and Xvfb's lock and
# socket: a test killed half way leaves not even a stale X lock behind.
mount -t tmpfs wxemu-package-test /tmp
overlay_system_dirs /tmp/overlays usr etc var
export DEBIAN_FRONTEND=noninteractive
note "in private mount and PID namespaces: /usr, /etc and /var are throwaway overlays"
need_desktop_test

PKG="$(dpkg-deb -f "$DEB" Package)"
step "Package test: $DEB (package $PKG)"
dpkg-deb -f "$DEB" Package Version Architecture Depends Recommends Section Description | sed 's/^/    /' >&2

if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q "installed"; then
  die "$PKG is already installed here; the test would remove it: dpkg --purge $PKG first"
fi

# dpkg -i does not fetch dependencies: install them from Debian first.
deps="$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | grep -v '^$')"
# shellcheck disable=SC2086
need_debian_packages $deps

# On the namespace's tmpfs: gone with it, whatever happens.
WORK=/tmp/test
mkdir -p "$WORK"
APP=""
# stop_app: SIGTERM to the app itself (not to xvfb-run, which would die
# without stopping Xvfb); then dbus-run-session and xvfb-run end on their
# own, xvfb-run stopping its Xvfb. Bounded: a hung app is killed, and the
# test fails.
stop_app() {
  [ -n "$APP" ] || return 0
  local pid status=0
  pid="$(cat "$WORK/app.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$APP" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$APP" 2>/dev/null; then
    note "the app did not stop on SIGTERM within 30 s: killing it"
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    # xvfb-run too, in case the app never got as far as writing its pid; what
    # is left when this script ends, the end of the namespace kills.
    kill -KILL "$APP" 2>/dev/null
    status=1
  fi
  wait "$APP" 2>/dev/null || true
  APP=""
  return "$status"
}
cleanup() {
  stop_app || true
  # A failed run must not leave the package installed either (and the
  # overlays make sure of it anyway).
  if dpkg-query -W "$PKG" >/dev/null 2>&1; then dpkg --purge "$PKG" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' > "$WORK/files"
note "$(wc -l < "$WORK/files") files in the package"

step "dpkg -i"
dpkg -i "$DEB"
for f in /usr/bin/wxemu-desktop /usr/bin/wxemu; do
  [ -x "$f" ] || die "$f is not installed"
done
ls /usr/share/applications/*.desktop | grep -q . || die "no desktop entry installed"
grep -l 'Exec=wxemu-desktop' /usr/share/applications/*.desktop >/dev/null || die "no desktop entry runs wxemu-desktop"
[ -s "/usr/share/doc/$PKG/copyright" ] || die "no licence in /usr/share/doc/$PKG/copyright"
/usr/bin/wxemu --version

step "The installed app under Xvfb answers check-login"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export HOME="$WORK/home"   # the app writes nothing outside it (checked below)
mkdir -p "$HOME"
# The shell records its pid, then becomes the app: stop_app signals the app
# itself. stdout goes to the log too: nothing of the app holds this
# script's stdout.
# -nolisten local: no abstract socket (those are shared with the machine's
# other X servers, whatever the mount namespace); X listens only in the
# private /tmp/.X11-unix, so :99 here cannot clash with a :99 outside.
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten local" dbus-run-session -- \
  sh -c 'echo $$ > "$0"; exec "$@"' "$WORK/app.pid" \
  /usr/bin/wxemu-desktop --port "$PORT" --data-dir "$WORK/data" --no-welcome \
  >"$WORK/app.log" 2>&1 </dev/null &
APP=$!
for _ in $(seq 300); do
  grep -q "wxemu server started" "$WORK/app.log" && break
  kill -0 "$APP" 2>/dev/null || break
  sleep 0.1
done
grep -q "wxemu server started" "$WORK/app.log" || die "the installed app did not start: $(cat "$WORK/app.log")"
REPLY="$(curl -sS --max-time 30 --cacert "$WORK/data/ca.pem" --resolve "localhost.weixin.qq.com:$PORT:127.0.0.1" \
  -H 'Origin: https://open.weixin.qq.com' -H 'Content-Type: text/plain' \
  "https://localhost.weixin.qq.com:$PORT/api/check-login" \
  -d '{"apiname":"qrconnectchecklogin","jsdata":{"appid":"wxpackage","scope":"snsapi_login","redirect_uri":"https://example.com/cb","state":"s"}}')"
note "check-login: $REPLY"
echo "$REPLY" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["errcode"]==0 and r["jsdata"]["authorize_uuid"], r'
stop_app || die "the installed app did not stop on SIGTERM: $(tail -20 "$WORK/app.log")"
# Nothing the app started outlives it (this namespace's processes are all
# ours). Xvfb and WebKit's helpers end on their own once the app is gone,
# a moment later: wait for that, but not forever.
others() {
  local proc stat comm
  OTHERS=""
  for proc in /proc/[0-9]*; do
    [ "${proc#/proc/}" = "$BASHPID" ] && continue
    read -r stat <"$proc/stat" 2>/dev/null || continue
    stat="${stat##*) }"
    # A zombie has ended, it only waits to be reaped.
    [ "${stat%% *}" = Z ] && continue
    read -r comm <"$proc/comm" 2>/dev/null || continue
    OTHERS+=" ${proc#/proc/}:$comm"
  done
}
for _ in $(seq 100); do
  others
  [ -z "$OTHERS" ] && break
  sleep 0.1
done
[ -z "$OTHERS" ] || die "processes still running 10 s after the app stopped:$OTHERS"

step "dpkg --purge leaves nothing behind"
dpkg --purge "$PKG"
dpkg-query -W "$PKG" >/dev/null 2>&1 && die "$PKG is still known to dpkg"
left=0
while read -r f; do
  if [ -e "$f" ]; then echo "left behind: $f" >&2; left=1; fi
done < "$WORK/files"
[ "$left" -eq 0 ] || die "files of the package are left after purge"
# Outside its data directory the app wrote nothing into the home directory
# but the webview's own per-user storage: ~/.local/share/<identifier> (WebKit
# keeps HSTS and cache there), and caches (at-spi).
identifier="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["identifier"])' src-tauri/tauri.conf.json)"
extra="$(cd "$HOME" && find . -mindepth 1 -not -path './.cache*' -not -path './.local' -not -path './.local/share' \
  -not -path "./.local/share/$identifier" -not -path "./.local/share/$identifier/*" | head)"
[ -z "$extra" ] || die "the app left files in the home directory: $extra"
step "Package test passed"
