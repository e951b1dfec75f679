# The desktop app's system needs (Debian): what Tauri 2 links against, and
# what its end-to-end test drives X with. Sourced after lib.sh.

DESKTOP_BUILD_PACKAGES=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev file)
DESKTOP_TEST_PACKAGES=(xvfb xauth xdotool x11-utils imagemagick dbus-daemon dbus-bin python3 curl fonts-wqy-microhei)

need_desktop_build() { need_debian_packages "${DESKTOP_BUILD_PACKAGES[@]}"; }
need_desktop_test() { need_debian_packages "${DESKTOP_TEST_PACKAGES[@]}"; }
