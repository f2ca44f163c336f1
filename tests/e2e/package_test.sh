#!/usr/bin/env bash
# Builds the .deb with CPack, unpacks it into a temporary root (dpkg-deb -x), and checks the
# layout, the Depends line, that the binary runs --version, and that the unit passes
# systemd-analyze verify. Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) \
  || { cat "$work/cpack.log"; fail "cpack"; }
deb="$(ls "$work"/out/hotdata-monitor_*.deb 2>/dev/null | head -1)"
[[ -n "$deb" ]] || fail "no .deb built"
depends="$(dpkg-deb -f "$deb" Depends)"
for lib in libyaml-cpp libspdlog libcpp-httplib libprometheus-cpp-core libsystemd0; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/hotdata-monitor etc/hotdata-monitor/config.yaml \
         lib/systemd/system/hotdata-monitor.service \
         usr/share/hotdata-monitor/deploy/prometheus/alerts.yml; do
  [[ -e "$work/root/$f" ]] || fail "missing $f in the package"
done
# Captured first: under pipefail a grep -q that quits early would fail the writer (SIGPIPE).
control="$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)"
[[ "$control" == *conffiles* ]] || fail "no conffiles"
version="$("$work/root/usr/bin/hotdata-monitor" --version)"
[[ "$version" == "hotdata-monitor "* ]] || fail "--version: $version"
# The packaged example config must be valid as shipped. Its base_url points at the real API: the
# copy checked here points at a closed loopback port, so the check sends nothing off this machine.
sed 's|^  base_url: .*|  base_url: http://127.0.0.1:1|' "$work/root/etc/hotdata-monitor/config.yaml" \
  >"$work/config.yaml"
env -u HOTDATA_API_TOKEN "$work/root/usr/bin/hotdata-monitor" --check-config \
  --config "$work/config.yaml" >/dev/null || fail "shipped config invalid"
if command -v systemd-analyze >/dev/null; then
  sed "s|^ExecStart=/usr/bin/hotdata-monitor|ExecStart=$work/root/usr/bin/hotdata-monitor|" \
    "$work/root/lib/systemd/system/hotdata-monitor.service" >"$work/hotdata-monitor.service"
  out="$(systemd-analyze verify "$work/hotdata-monitor.service" 2>&1 || true)"
  [[ -z "$out" ]] || fail "systemd-analyze verify: $out"
fi
echo "package_test: ok ($(basename "$deb"); Depends: $depends)"
