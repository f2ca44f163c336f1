#!/usr/bin/env bash
# The .deb. Two modes:
#   package_test.sh BUILD_DIR SOURCE_DIR   (ctest) builds the .deb with CPack, unpacks it into a
#       temporary root (dpkg-deb -x), and checks the layout, the conffiles, that Depends names the
#       package of every shared library the binary loads, that the binary runs --version and
#       --check-config on the shipped config, and that the unit passes systemd-analyze verify.
#   package_test.sh --installed   where apt-get installed the .deb (scripts/debian-root.sh
#       install-test runs it in a fresh minbase root of the release the .deb was built on):
#       the package is installed with its conffile, every library resolves, and
#       /usr/bin/hotdata-monitor runs --version and --check-config on
#       /etc/hotdata-monitor/config.yaml as shipped.
# --check-config runs without HOTDATA_API_TOKEN: the shipped config takes its token from there,
# so the check validates the file and every policy and reports "API not asked" (exit 0); it never
# contacts the API named in the file.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

# check_runs ROOT: ROOT/usr/bin/hotdata-monitor runs --version, and --check-config accepts
# ROOT/etc/hotdata-monitor/config.yaml exactly as shipped.
check_runs() {
  local bin="$1/usr/bin/hotdata-monitor" config="$1/etc/hotdata-monitor/config.yaml"
  local missing
  missing="$(ldd "$bin" | grep 'not found' || true)"
  [[ -z "$missing" ]] || fail "libraries not found: $missing"
  version="$("$bin" --version)" || fail "--version exited $?"
  [[ "$version" == "hotdata-monitor "* ]] || fail "--version: $version"
  local rc=0
  check="$(env -u HOTDATA_API_TOKEN "$bin" --check-config --config "$config" 2>&1)" || rc=$?
  ((rc == 0)) || fail "--check-config of the shipped config exited $rc: $check"
  [[ "$check" == *"$config: valid ("* ]] || fail "--check-config did not say the config is valid: $check"
  [[ "$check" == *"API not asked"* ]] || fail "--check-config asked the API (or said nothing about it): $check"
}

# unit_path ROOT: where the package put its unit (systemd's unit directory of that release).
unit_path() {
  local p
  for p in "$1/usr/lib/systemd/system/hotdata-monitor.service" \
           "$1/lib/systemd/system/hotdata-monitor.service"; do
    [[ -e "$p" && ! -L "$p" ]] && { echo "$p"; return 0; }
  done
  echo "$1/lib/systemd/system/hotdata-monitor.service"  # missing: the caller reports it
}

# The package (dpkg -S) that owns a library path; merged /usr means dpkg may know it under the
# other of /lib and /usr/lib.
owner_of() {
  local path="$1" p
  for p in "$path" "$(realpath "$path")" "${path#/usr}" "/usr$path"; do
    dpkg-query -S "$p" 2>/dev/null | head -1 | cut -d: -f1 && return 0
  done
  return 1
}

if [[ "${1:-}" == --installed ]]; then
  status="$(dpkg-query -W -f='${Status}' hotdata-monitor 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || fail "hotdata-monitor is not installed ($status)"
  for f in /usr/bin/hotdata-monitor /etc/hotdata-monitor/config.yaml \
           "$(unit_path "")" "$(dirname "$(unit_path "")")/hotdata-monitor@.service" \
           /usr/share/doc/hotdata-monitor/copyright \
           /usr/share/doc/hotdata-monitor/LICENSE \
           /usr/share/hotdata-monitor/deploy/prometheus/alerts.yml; do
    [[ -e "$f" ]] || fail "missing $f"
  done
  conffiles="$(dpkg-query -W -f='${Conffiles}' hotdata-monitor)"
  [[ "$conffiles" == *" /etc/hotdata-monitor/config.yaml "* ]] || fail "config.yaml is not a conffile: $conffiles"
  check_runs ""
  pkg_version="$(dpkg-query -W -f='${Version}' hotdata-monitor)"
  # postinst enabled the service (no systemd runs here: nothing was started).
  [[ -L /etc/systemd/system/multi-user.target.wants/hotdata-monitor.service ]] \
    || fail "postinst did not enable the service"
  # A purge deletes the state and the enablement; a token the administrator wrote stays.
  mkdir -p /var/lib/private/hotdata-monitor
  echo '{}' >/var/lib/private/hotdata-monitor/state.json
  (umask 077; echo tok >/etc/hotdata-monitor/api-token)
  dpkg --purge hotdata-monitor >/dev/null 2>&1 || fail "dpkg --purge failed"
  [[ ! -e /var/lib/private/hotdata-monitor ]] || fail "purge left the state directory"
  [[ ! -e /etc/systemd/system/multi-user.target.wants/hotdata-monitor.service ]] \
    || fail "purge left the service enabled"
  [[ -e /etc/hotdata-monitor/api-token ]] || fail "purge deleted the administrator's token file"
  # shellcheck disable=SC1091
  . /etc/os-release
  echo "package_test --installed: ok on $PRETTY_NAME ($version; $pkg_version; enabled, purged; --check-config: ${check//$'\n'/ | })"
  exit 0
fi

build="$(cd "$1" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) \
  || { cat "$work/cpack.log"; fail "cpack"; }
deb="$(ls "$work"/out/hotdata-monitor_*.deb 2>/dev/null | head -1)"
[[ -n "$deb" ]] || fail "no .deb built"
depends="$(dpkg-deb -f "$deb" Depends)"
for lib in libyaml-cpp libspdlog libprometheus-cpp-core libsystemd0 libc6 libstdc++6; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/hotdata-monitor etc/hotdata-monitor/config.yaml \
         usr/share/doc/hotdata-monitor/copyright usr/share/doc/hotdata-monitor/LICENSE \
         usr/share/hotdata-monitor/deploy/prometheus/alerts.yml; do
  [[ -e "$work/root/$f" ]] || fail "missing $f in the package"
done
unit="$(unit_path "$work/root")"
[[ -e "$unit" ]] || fail "no unit in the package (lib/systemd/system or usr/lib/systemd/system)"
[[ -e "$(dirname "$unit")/hotdata-monitor@.service" ]] || fail "no template unit next to the unit"
if pkg-config --exists systemd; then
  want="$(pkg-config --variable=systemdsystemunitdir systemd)"
  [[ "$unit" == "$work/root$want/hotdata-monitor.service" ]] \
    || fail "the unit is at ${unit#"$work/root"}, systemd's unit directory is $want"
fi
file_out="$(file -L "$work/root/usr/bin/hotdata-monitor")"
[[ "$file_out" == *", stripped"* ]] || fail "the binary is not stripped: $file_out"
# Every shared library the binary needs (NEEDED; what those need is their packages' business)
# must come from a package that Depends names, itself or through a name it provides
# (libspdlog1.10 provides libspdlog1.10-fmt9, which its shlibs file asks for).
bin="$work/root/usr/bin/hotdata-monitor"
needed="$(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }')"
[[ -n "$needed" ]] || fail "objdump -p found no NEEDED entry in $bin"
depends_names="$(tr ',|' '\n' <<<"$depends" | awk '{ print $1 }')"
while read -r lib path; do
  grep -qxF "$lib" <<<"$needed" || continue
  pkg="$(owner_of "$path")" || fail "$lib ($path) belongs to no Debian package"
  names="$pkg"$'\n'"$(dpkg-query -W -f='${Provides}' "$pkg" | tr ',' '\n' | awk '{ print $1 }')"
  grep -qxFf <(grep -v '^$' <<<"$names") <<<"$depends_names" \
    || fail "Depends names neither $pkg nor what it provides (for $lib): $depends"
done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
# Captured first: under pipefail a grep -q that quits early would fail the writer (SIGPIPE).
control="$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)"
[[ "$control" == *conffiles* ]] || fail "no conffiles"
for script in postinst prerm postrm; do
  [[ "$control" == *"$script"* ]] || fail "no $script in the package"
done
check_runs "$work/root"
# The package's version is the binary's (--version, hotdata_monitor_build_info), plus the Debian
# revision: 0.1.0~git742-1~deb12 for "hotdata-monitor 0.1.0~git742 (revision ...)".
deb_version="$(dpkg-deb -f "$deb" Version)"
[[ "$version" == "hotdata-monitor ${deb_version%-*} (revision "* ]] \
  || fail "--version says '$version', the package's version is $deb_version"
if command -v systemd-analyze >/dev/null; then
  sed "s|^\(Exec[A-Za-z]*=\)/usr/bin/hotdata-monitor|\1$work/root/usr/bin/hotdata-monitor|" \
    "$unit" >"$work/hotdata-monitor.service"
  out="$(systemd-analyze verify "$work/hotdata-monitor.service" 2>&1 || true)"
  [[ -z "$out" ]] || fail "systemd-analyze verify: $out"
fi
echo "package_test: ok ($(basename "$deb"); Depends: $depends)"
