#!/usr/bin/env bash
# Installs the Debian packages that hotdata-monitor builds, runs and tests with, on Debian 12
# (bookworm) or Debian 13 (trixie): only the missing ones, and nothing from anywhere but Debian.
# `--test` adds what the tests and the .deb need: prometheus (promtool), prometheus-alertmanager
# (amtool and alertmanager), systemd (systemd-analyze), python3 with PyYAML, dpkg-dev and file
# (CPack's shlibdeps), chromium (the status page's browser test), and the libFuzzer runtime of the
# release's newest packaged LLVM (libclang-rt-14-dev on 12, libclang-rt-19-dev on 13). Runs apt as
# root, or through sudo. Never asks anything.
set -euo pipefail

packages=(cmake make g++ pkg-config git
          prometheus-cpp-dev libcpp-httplib-dev libyaml-cpp-dev nlohmann-json3-dev
          libspdlog-dev libgtest-dev libgmock-dev libsystemd-dev libssl-dev libcrypt-dev zlib1g-dev
          libbrotli-dev curl)
# shellcheck disable=SC1091
codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
# systemd.pc, where `pkg-config systemd` tells the unit directory the package installs into: in
# the systemd package on Debian 12, in systemd-dev from Debian 13 on.
case "$codename" in
  bookworm) packages+=(systemd) ;;
  *) packages+=(systemd-dev) ;;
esac
test=0
[[ "${1:-}" == "--test" ]] && test=1
if ((test)); then
  packages+=(prometheus prometheus-alertmanager systemd python3 python3-yaml procps dpkg-dev file
             chromium)
fi

sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
apt_get() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
updated=0
apt_update() {
  ((updated)) && return 0
  apt_get update -qq || { echo "install-deps: apt-get update failed (is the Debian archive reachable?)" >&2; exit 1; }
  updated=1
}
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == *"ok installed"* ]]; }

# The libFuzzer runtime (tests/fuzz links its libclang_rt.fuzzer-x86_64.a): the newest LLVM the
# release packages. Candidates by release, newest first; any one of them already installed will
# do. An unknown release tries every recent version and takes the newest apt offers.
if ((test)); then
  case "$codename" in
    bookworm) llvm_versions=(14) ;;
    trixie) llvm_versions=(19 18 17) ;;
    *) llvm_versions=(21 20 19 18 17 16 15 14) ;;
  esac
  fuzzer_pkg=""
  for v in "${llvm_versions[@]}"; do
    installed "libclang-rt-$v-dev" && { fuzzer_pkg="libclang-rt-$v-dev"; break; }
  done
  if [[ -z "$fuzzer_pkg" ]]; then
    apt_update
    for v in "${llvm_versions[@]}"; do
      candidate="$(apt-cache policy "libclang-rt-$v-dev" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
      if [[ -n "$candidate" && "$candidate" != "(none)" ]]; then fuzzer_pkg="libclang-rt-$v-dev"; break; fi
    done
    [[ -n "$fuzzer_pkg" ]] || {
      echo "install-deps: no libFuzzer runtime (libclang-rt-{${llvm_versions[*]// /,}}-dev) in this release's archive (${codename:-unknown})" >&2
      exit 1
    }
  fi
  packages+=("$fuzzer_pkg")
fi

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}" >&2
apt_update
# The prometheus and prometheus-alertmanager packages' postinsts may fail to start their own
# services where no systemd runs; the tests start their own, so that is harmless.
apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
