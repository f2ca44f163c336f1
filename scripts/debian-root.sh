#!/usr/bin/env bash
# Debian roots (debootstrap --variant=minbase from Debian's archive) for building and testing
# hotdata-monitor on the Debian release that is not the host's, and for installing each release's
# .deb into a pristine root. Kept in a cache outside the clone, so a later run only updates their
# packages (HDM_DEBIAN_MIRROR names another Debian mirror):
#   $HDM_ROOT_CACHE/<codename>-root    pristine minbase root (plus apt sources for -updates and
#                                      -security); packages are upgraded, nothing is added
#   $HDM_ROOT_CACHE/<codename>-build   a copy of it with the build and test dependencies
#                                      (scripts/install-deps.sh --test run inside)
#   $HDM_ROOT_CACHE/<codename>.lock    flock: one run at a time per release
# HDM_ROOT_CACHE defaults to /var/cache/hotdata-monitor, HDM_DEBIAN_MIRROR to
# http://deb.debian.org/debian. RELEASE is 12, 13, bookworm or trixie. Needs root.
#
#   scripts/debian-root.sh ensure-base RELEASE     make the pristine root, or update it
#   scripts/debian-root.sh ensure RELEASE          make the build root, or update it and install
#                                                  what install-deps.sh --test now lists
#   scripts/debian-root.sh run RELEASE CMD...      run CMD (through bash -c) in the build root,
#                                                  in this clone bind-mounted at /src
#   scripts/debian-root.sh install-test RELEASE DEB   apt-get install DEB into a fresh copy of
#                                                  the pristine root, check the installed package
#                                                  (tests/e2e/package_test.sh --installed), then
#                                                  delete the copy
#   scripts/debian-root.sh test RELEASE            ensure, then in the build root: an -O2 build
#                                                  (the package's code; it is stripped, so no -g)
#                                                  with HDM_WERROR=ON in build-debianNN/,
#                                                  the whole ctest suite, cpack -G DEB; then
#                                                  install-test of that .deb (what CI runs for 13)
# Inside a root: /proc, /dev, /dev/pts, a tmpfs on /dev/shm and /tmp, the host's
# /etc/resolv.conf, and the clone at /src, all in a private mount namespace and unmounted
# (umount -l) on every exit. A missing network or a failed debootstrap fails with one message.
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
self="$src/scripts/debian-root.sh"
cache="${HDM_ROOT_CACHE:-/var/cache/hotdata-monitor}"
mirror="${HDM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${mirror%/debian}/debian-security"
jobs="${JOBS:-2}"

die() { echo "debian-root: $*" >&2; exit 1; }
say() { echo "debian-root: $*" >&2; }

codename_of() {
  case "$1" in
    12|bookworm) echo bookworm ;;
    13|trixie) echo trixie ;;
    *) die "unknown release '$1' (12, 13, bookworm or trixie)" ;;
  esac
}
version_of() { case "$1" in bookworm) echo 12 ;; trixie) echo 13 ;; esac; }

# ---- mounts and chroot ----------------------------------------------------------------------

# _chroot ROOT SRC_DIR SRC_MODE CMD: runs in a private mount namespace (see chroot_run). Mounts
# what a build needs, runs CMD with bash -c in ROOT at /src, then unmounts and ends whatever CMD
# left running in ROOT.
mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  mounted=()
}
bind() {  # bind SOURCE TARGET [ro]
  mount --bind "$1" "$2"
  mounted+=("$2")
  mount --make-private "$2"  # nothing mounted under it reaches the host's tree
  [[ "${3:-}" == ro ]] && mount -o remount,bind,ro "$2"
  return 0
}
tmpfs_at() {
  mount -t tmpfs -o "mode=1777,nosuid,nodev,size=$2" tmpfs "$1"
  mounted+=("$1")
}
procs_in() {  # PIDs whose root directory is $1
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/root" 2>/dev/null)" == "$1" ]] && echo "${p#/proc/}"
  done
  return 0
}
end_procs_in() {
  local root="$1" pids i
  pids="$(procs_in "$root")"
  [[ -z "$pids" ]] && return 0
  say "ending what is still running in $root: ${pids//$'\n'/ }"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [[ -z "$(procs_in "$root")" ]] && return 0
    sleep 0.1
  done
  pids="$(procs_in "$root")"
  # shellcheck disable=SC2086
  if [[ -n "$pids" ]]; then kill -KILL $pids 2>/dev/null || true; fi
}
in_namespace() {
  local root="$1" srcdir="$2" srcmode="$3" cmd="$4"
  trap 'end_procs_in "$root"; unmount_all' EXIT
  trap 'exit 130' INT TERM HUP
  bind /proc "$root/proc"
  bind /dev "$root/dev"
  mkdir -p "$root/dev/pts" "$root/dev/shm"
  bind /dev/pts "$root/dev/pts"
  tmpfs_at "$root/dev/shm" 1g
  tmpfs_at "$root/tmp" 4g
  [[ -e "$root/etc/resolv.conf" || -L "$root/etc/resolv.conf" ]] && rm -f "$root/etc/resolv.conf"
  touch "$root/etc/resolv.conf"
  bind /etc/resolv.conf "$root/etc/resolv.conf" ro
  mkdir -p "$root/src"
  bind "$srcdir" "$root/src" "$srcmode"
  local rc=0
  # A clean environment (the host's PATH and tool variables mean nothing there), no stdin, and
  # not the lock's descriptor (a daemon left running must not hold the lock).
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive \
    CI="${CI:-}" JOBS="$jobs" \
    /bin/bash -c "cd /src && $cmd" </dev/null 9>&- || rc=$?
  exit "$rc"
}

# chroot_run ROOT SRC_MODE(rw|ro) CMD: CMD in ROOT with the clone at /src. In a private mount
# namespace when the kernel allows one (then nothing stays mounted on the host even if this
# script is killed); the EXIT trap unmounts in any case.
chroot_run() {
  local root="$1" srcmode="$2" cmd="$3"
  if unshare --mount --propagation private true 2>/dev/null; then
    unshare --mount --propagation private "$self" _chroot "$root" "$src" "$srcmode" "$cmd"
  else
    "$self" _chroot "$root" "$src" "$srcmode" "$cmd"
  fi
}

# rm -rf of a root, refusing while anything is still mounted under it.
remove_root() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  if awk -v d="$dir/" '{ if (index($5 "/", d) == 1) found = 1 } END { exit !found }' /proc/self/mountinfo; then
    die "not removing $dir: something is still mounted under it (see /proc/self/mountinfo)"
  fi
  rm -rf --one-file-system "$dir"
}

# ---- roots ------------------------------------------------------------------------------------

lock() {  # the release's lock on fd 9, held until this script exits
  mkdir -p "$cache"
  exec 9>"$cache/$1.lock"
  if ! flock -n 9; then
    say "waiting for another run that holds $cache/$1.lock"
    flock -w 7200 9 || die "timed out waiting for $cache/$1.lock"
  fi
}

is_root_of() {  # is_root_of DIR CODENAME: a complete root of that release
  [[ -x "$1/usr/bin/apt-get" ]] && grep -qx "VERSION_CODENAME=$2" "$1/etc/os-release" 2>/dev/null
}

# Apt sources as a Debian installation has them (the release, its updates, its security fixes),
# no service starts from package scripts (policy-rc.d), and the localhost names.
configure_root() {
  local root="$1" codename="$2"
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $codename main
deb $mirror $codename-updates main
deb $security_mirror $codename-security main
EOF
  [[ -s "$root/etc/hosts" ]] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
}

apt_in() {  # apt_in ROOT WHAT: apt-get update and upgrade in ROOT
  chroot_run "$1" ro "apt-get update -qq --error-on=any && apt-get -y -qq -o Dpkg::Options::=--force-confold upgrade >/dev/null && apt-get clean" \
    || die "apt-get update/upgrade in $1 failed: is $mirror reachable from this machine? (this run needs Debian's archive)"
}

base_ready=""
ensure_base() {
  local codename="$1" base="$cache/$1-root"
  [[ "$base_ready" == "$codename" ]] && return 0
  if ! is_root_of "$base" "$codename"; then
    command -v debootstrap >/dev/null || {
      say "installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 || true
             DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } \
        || die "cannot install debootstrap (apt-get install debootstrap failed: is Debian's archive reachable?)"
    }
    remove_root "$base"
    local tmp="$cache/.$codename-root.new" log="$cache/debootstrap-$codename.log"
    remove_root "$tmp"
    say "creating the Debian $(version_of "$codename") root $base (debootstrap --variant=minbase $codename from $mirror; about a minute)"
    local t0=$SECONDS
    if ! debootstrap --variant=minbase "$codename" "$tmp" "$mirror" >"$log" 2>&1; then
      tail -n 5 "$log" >&2
      # debootstrap may leave its own /proc and /sys mounts behind when it fails.
      awk -v d="$tmp/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo | sort -r \
        | while read -r m; do umount -l "$m" || true; done
      remove_root "$tmp"
      die "debootstrap of Debian $codename from $mirror failed (full log: $log); is the archive reachable from this machine?"
    fi
    mv "$tmp" "$base"
    say "debootstrap took $((SECONDS - t0)) s"
  fi
  configure_root "$base" "$codename"
  apt_in "$base"
  base_ready="$codename"
}

ensure_build() {
  local codename="$1" base="$cache/$1-root" build="$cache/$1-build"
  ensure_base "$codename"
  if ! is_root_of "$build" "$codename"; then
    remove_root "$build"
    say "creating the build root $build from $base"
    remove_root "$build.new"
    cp -a "$base" "$build.new"
    mv "$build.new" "$build"
  fi
  configure_root "$build" "$codename"
  apt_in "$build"
  chroot_run "$build" ro "scripts/install-deps.sh --test && apt-get clean" \
    || die "scripts/install-deps.sh --test failed in $build"
}

# install_test CODENAME DEB: a fresh copy of the pristine root, apt-get install ./DEB there
# (apt resolves its Depends from the release's archive), then the installed-package checks.
install_test() {
  local codename="$1" deb="$2" base="$cache/$1-root"
  [[ -f "$deb" ]] || die "no such .deb: $deb"
  ensure_base "$codename"
  local tmp old
  # Copies left by a run that was killed (this run holds the release's lock, so no other uses them).
  for old in "$cache/$codename-install."*; do [[ -d "$old" ]] && remove_root "$old"; done
  tmp="$(mktemp -d "$cache/$codename-install.XXXXXX")"
  # shellcheck disable=SC2064
  trap "remove_root '$tmp'" EXIT
  cp -a "$base/." "$tmp/"
  mkdir -p "$tmp/var/tmp/hdm-deb"
  cp "$deb" "$tmp/var/tmp/hdm-deb/"
  local name
  name="$(basename "$deb")"
  say "installing $name into a fresh copy of the Debian $(version_of "$codename") root"
  chroot_run "$tmp" ro "apt-get install -y -qq /var/tmp/hdm-deb/$name >/var/tmp/hdm-deb/apt.log 2>&1 \
      || { cat /var/tmp/hdm-deb/apt.log >&2; echo 'apt-get install of $name failed' >&2; exit 1; }
    bash tests/e2e/package_test.sh --installed" \
    || die "$name does not install and run on a fresh Debian $(version_of "$codename")"
  remove_root "$tmp"
  trap - EXIT
}

test_release() {
  local codename="$1" n
  n="$(version_of "$codename")"
  local t0=$SECONDS
  ensure_build "$codename"
  say "Debian $n build root ready in $((SECONDS - t0)) s"
  local dir="build-debian$n" build="$cache/$codename-build"
  t0=$SECONDS
  chroot_run "$build" rw "set -e
    echo '== Debian $n: '\"\$(g++ --version | head -1)\"', cmake '\"\$(cmake --version | sed -n '1s/.* //p')\"
    cmake -S . -B $dir -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE='-O2 -DNDEBUG' \
      -DHDM_WERROR=ON >/dev/null
    cmake --build $dir -j$jobs
    echo '== Debian $n: built in '\$SECONDS' s'
    (cd $dir && ctest --output-on-failure -j$jobs)
    rm -rf $dir/package
    (cd $dir && cpack -G DEB -B package >package.log 2>&1) || { cat $dir/package.log; exit 1; }
    dpkg-deb -f $dir/package/hotdata-monitor_*.deb Package Version Architecture Depends"
  say "Debian $n build, ctest and .deb took $((SECONDS - t0)) s"
  local deb
  deb="$(ls "$src/$dir"/package/hotdata-monitor_*.deb)"
  install_test "$codename" "$deb"
}

# ---- command line -----------------------------------------------------------------------------

cmd="${1:-}"
[[ -n "$cmd" ]] || { sed -n '2,30p' "$0"; exit 2; }
shift
if [[ "$cmd" == _chroot ]]; then
  in_namespace "$@"
fi
[[ "$cmd" == -h || "$cmd" == --help ]] && { sed -n '2,30p' "$0"; exit 0; }
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, mount, chroot)"
[[ $# -ge 1 ]] || die "usage: $0 $cmd RELEASE ..."
codename="$(codename_of "$1")"
shift
lock "$codename"
case "$cmd" in
  ensure-base) ensure_base "$codename" ;;
  ensure) ensure_build "$codename" ;;
  run)
    [[ $# -ge 1 ]] || die "usage: $0 run RELEASE CMD..."
    is_root_of "$cache/$codename-build" "$codename" || ensure_build "$codename"
    chroot_run "$cache/$codename-build" rw "$*"
    ;;
  install-test)
    [[ $# -eq 1 ]] || die "usage: $0 install-test RELEASE DEB"
    install_test "$codename" "$(realpath "$1")"
    ;;
  test) test_release "$codename" ;;
  *) die "unknown command $cmd (ensure-base, ensure, run, install-test, test)" ;;
esac
