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
#
# Usage: tests/desktop/package.sh [path/to/wxemu_*.deb]   (without: builds it)
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
  exec unshare --mount --propagation private env WXEMU_PACKAGE_NAMESPACE=1 "$0" "$DEB"
fi
OVERLAYS="$(mktemp -d)"
mount -t tmpfs wxemu-package-test "$OVERLAYS"
for dir in usr etc var; do
  mkdir -p "$OVERLAYS/$dir/upper" "$OVERLAYS/$dir/work"
  mount -t overlay overlay \
    -o "lowerdir=/$dir,upperdir=$OVERLAYS/$dir/upper,workdir=$OVERLAYS/$dir/work" "/$dir" ||
    die "cannot put an overlay on /$dir (the test writes nowhere else)"
done
note "in a private mount namespace: /usr, /etc and /var are throwaway overlays"
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

WORK="$(mktemp -d)"
APP=""
cleanup() {
  [ -n "$APP" ] && kill "$APP" 2>/dev/null && wait "$APP" 2>/dev/null
  # A failed run must not leave the package installed either.
  dpkg-query -W "$PKG" >/dev/null 2>&1 && dpkg --purge "$PKG" >/dev/null 2>&1
  rm -rf "$WORK"
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
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  /usr/bin/wxemu-desktop --port "$PORT" --data-dir "$WORK/data" --no-welcome 2>"$WORK/app.log" &
APP=$!
for _ in $(seq 300); do grep -q "wxemu server started" "$WORK/app.log" && break; sleep 0.1; done
grep -q "wxemu server started" "$WORK/app.log" || die "the installed app did not start: $(cat "$WORK/app.log")"
REPLY="$(curl -sS --cacert "$WORK/data/ca.pem" --resolve "localhost.weixin.qq.com:$PORT:127.0.0.1" \
  -H 'Origin: https://open.weixin.qq.com' -H 'Content-Type: text/plain' \
  "https://localhost.weixin.qq.com:$PORT/api/check-login" \
  -d '{"apiname":"qrconnectchecklogin","jsdata":{"appid":"wxpackage","scope":"snsapi_login","redirect_uri":"https://example.com/cb","state":"s"}}')"
note "check-login: $REPLY"
echo "$REPLY" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["errcode"]==0 and r["jsdata"]["authorize_uuid"], r'
kill "$APP"; wait "$APP" 2>/dev/null || true
APP=""

step "dpkg --purge leaves nothing behind"
dpkg --purge "$PKG"
dpkg-query -W "$PKG" >/dev/null 2>&1 && die "$PKG is still known to dpkg"
left=0
while read -r f; do
  if [ -e "$f" ]; then echo "left behind: $f" >&2; left=1; fi
done < "$WORK/files"
[ "$left" -eq 0 ] || die "files of the package are left after purge"
# Outside its data directory the app wrote nothing into the home directory.
extra="$(cd "$HOME" && find . -mindepth 1 -not -path './.cache*' -not -path './.local/share/webkitgtk*' | head)"
[ -z "$extra" ] || die "the app left files in the home directory: $extra"
step "Package test passed"
