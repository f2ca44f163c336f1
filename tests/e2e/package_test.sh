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
#       Then the operator's path: a token file and one edit of the workspace, and both units'
#       ExecStart= run by hand with the credential directory that LoadCredential= would make.
# --check-config runs without CREDENTIALS_DIRECTORY: the shipped config reads its token from
# ${CREDENTIALS_DIRECTORY}/api-token, so the check validates the file and every policy and reports
# "API not asked" (exit 0); it never contacts the API named in the file.
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

# http_get PORT PATH: the raw response (status line, headers, body) of GET PATH on 127.0.0.1,
# over bash's /dev/tcp (a minbase root has no curl).
http_get() {
  local fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&"$fd"
  cat <&"$fd"
  exec {fd}<&-
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, failing after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# exec_line KEY UNIT INSTANCE: the unit's first KEY= line (ExecStart, ExecReload) as systemd
# runs it: %i replaced by INSTANCE, $ARGS by ARGS= of the unit's EnvironmentFile= (nothing when
# the file is absent, as its "-" allows).
exec_line() {
  local line env args=""
  line="$(sed -n "s/^$1=//p" "$2" | head -1)"
  [[ -n "$line" ]] || fail "no $1= in $2"
  env="$(sed -n 's/^EnvironmentFile=-//p' "$2")"
  [[ -n "$env" ]] || fail "no optional EnvironmentFile= in $2"
  env="${env//%i/$3}"
  # shellcheck disable=SC1090  # the operator's file: ARGS="..."
  if [[ -f "$env" ]]; then args="$(. "$env" && echo "${ARGS:-}")"; fi
  line="${line//%i/$3}"
  echo "${line//\$ARGS/$args}"
}

# run_units_by_hand UNIT TEMPLATE: the operator's whole path after apt install, as far as a root
# without systemd as PID 1 allows. One token file and one edit (the workspace) per instance; then
# each unit's ExecStart= runs as systemd would run it: CREDENTIALS_DIRECTORY holding the copy that
# LoadCredential= makes, the StateDirectory= created. The main unit and an instance "two" of the
# template run side by side. The listen address is moved to 127.0.0.1:0 with
# --web.listen-address (the override a drop-in would add) so that no port of the host is assumed
# free (in ARGS= of each unit's /etc/default file, which both ExecStart= and the ExecReload= check
# take), and api.base_url to a closed local port so that no test talks to the real API.
run_units_by_hand() {
  local unit="$1" template="$2" creds_root
  creds_root="$(mktemp -d)"
  local secret="hdm-package-test-secret-$$"
  (umask 077; echo "$secret" >/etc/hotdata-monitor/api-token; echo "$secret" >/etc/hotdata-monitor/two.api-token)
  sed -i -e 's|^  # workspace_id: ws_123|  workspace_id: ws_package_test|' \
    -e 's|^  base_url: https://app.hotdata.dev|  base_url: http://127.0.0.1:9|' /etc/hotdata-monitor/config.yaml
  grep -q '^  workspace_id: ws_package_test' /etc/hotdata-monitor/config.yaml \
    || fail "the shipped config has no '# workspace_id: ws_123' line to edit"
  sed 's|^state_file: /var/lib/hotdata-monitor/state.json|state_file: /var/lib/hotdata-monitor-two/state.json|' \
    /etc/hotdata-monitor/config.yaml >/etc/hotdata-monitor/two.yaml
  local name cmd port pids=() logs=() ports=() dirs=()
  for name in main two; do
    local u="$unit" token=/etc/hotdata-monitor/api-token state=/var/lib/hotdata-monitor
    if [[ "$name" == two ]]; then
      u="$template" token=/etc/hotdata-monitor/two.api-token state=/var/lib/hotdata-monitor-two
    fi
    grep -qx "LoadCredential=api-token:${token//two/%i}" "$u" || fail "$u does not load $token as api-token"
    local creds="$creds_root/$name"
    mkdir -p "$creds" "$state"
    chmod 0700 "$state"
    install -m 0400 "$token" "$creds/api-token"
    local defaults=/etc/default/hotdata-monitor
    [[ "$name" == two ]] && defaults+="-two"
    echo 'ARGS="--web.listen-address=127.0.0.1:0 --log-format text"' >"$defaults"
    cmd="$(exec_line ExecStart "$u" two)"
    [[ "$cmd" == *" --web.listen-address=127.0.0.1:0 --log-format text" ]] \
      || fail "$u: ExecStart= does not take ARGS= of $defaults: $cmd"
    # The reload's check takes the same flags: a web config that does not exist fails it.
    local check reload_rc=0
    check="$(exec_line ExecReload "$u" two)"
    # shellcheck disable=SC2086 # the unit's command line, split as systemd splits it
    $check >/dev/null || fail "$u: the ExecReload= check fails: $check"
    echo 'ARGS="--web.config.file=/nonexistent/web.yml"' >"$defaults"
    check="$(exec_line ExecReload "$u" two)"
    # shellcheck disable=SC2086
    $check >/dev/null 2>&1 || reload_rc=$?
    ((reload_rc == 2)) || fail "$u: the ExecReload= check ignored ARGS= of $defaults (exit $reload_rc)"
    echo 'ARGS="--web.listen-address=127.0.0.1:0 --log-format text"' >"$defaults"
    local log="$creds_root/$name.log"
    # shellcheck disable=SC2086 # the unit's command line, split as systemd splits it (no quotes in it)
    CREDENTIALS_DIRECTORY="$creds" $cmd 2>"$log" &
    pids+=($!) logs+=("$log") dirs+=("$state")
  done
  for i in 0 1; do
    wait_for 20 grep -q 'listening on .*(port [0-9]' "${logs[$i]}" \
      || fail "instance $i did not start listening: $(cat "${logs[$i]}")"
    port="$(sed -n 's/.*listening on .*(port \([0-9]*\).*/\1/p' "${logs[$i]}" | head -1)"
    ports+=("$port")
  done
  [[ "${ports[0]}" != "${ports[1]}" ]] || fail "both instances report port ${ports[0]}"
  for i in 0 1; do
    port="${ports[$i]}"
    wait_for 20 bash -c "$(declare -f http_get); http_get $port /healthz | head -1 | grep -q ' 200 '" \
      || fail "instance $i: /healthz is not 200: $(http_get "$port" /healthz | head -1)"
    # Discovery fails (nothing listens at the API's address): counted, and /readyz says so.
    wait_for 20 bash -c "$(declare -f http_get); http_get $port /metrics | grep -q '^hotdata_monitor_discovery_failures_total [1-9]'" \
      || fail "instance $i: no failed discovery counted"
    local metrics
    metrics="$(http_get "$port" /metrics)"
    grep -q '^hotdata_monitor_build_info{.*version="' <<<"$metrics" || fail "instance $i: no build_info"
    [[ "$(http_get "$port" /readyz | head -1)" == *" 503 "* ]] || fail "instance $i: /readyz is not 503 before a discovery"
    [[ "$metrics" != *"$secret"* ]] || fail "instance $i: the token is in /metrics"
  done
  for i in 0 1; do
    kill -TERM "${pids[$i]}"
    local rc=0
    wait "${pids[$i]}" || rc=$?
    ((rc == 0)) || fail "instance $i exited $rc on SIGTERM: $(cat "${logs[$i]}")"
    [[ -s "${dirs[$i]}/state.json" ]] || fail "instance $i saved no state in ${dirs[$i]}"
    ! grep -qF "$secret" "${logs[$i]}" || fail "instance $i logged the token"
  done
  rm -rf "$creds_root" /var/lib/hotdata-monitor-two /etc/hotdata-monitor/two.yaml /etc/hotdata-monitor/two.api-token \
    /etc/default/hotdata-monitor /etc/default/hotdata-monitor-two
  echo "package_test --installed: both units' ExecStart ran by hand with their credentials and ARGS= (ports ${ports[*]}), their ExecReload= checks took ARGS=, stopped cleanly"
}

if [[ "${1:-}" == --installed ]]; then
  status="$(dpkg-query -W -f='${Status}' hotdata-monitor 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || fail "hotdata-monitor is not installed ($status)"
  for f in /usr/bin/hotdata-monitor /etc/hotdata-monitor/config.yaml \
           "$(unit_path "")" "$(dirname "$(unit_path "")")/hotdata-monitor@.service" \
           /usr/share/doc/hotdata-monitor/copyright \
           /usr/share/doc/hotdata-monitor/LICENSE /usr/share/doc/hotdata-monitor/docs/runbooks.md \
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
  run_units_by_hand "$(unit_path "")" "$(dirname "$(unit_path "")")/hotdata-monitor@.service"
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
         usr/share/doc/hotdata-monitor/copyright usr/share/doc/hotdata-monitor/LICENSE usr/share/doc/hotdata-monitor/docs/runbooks.md \
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
