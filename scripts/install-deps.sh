#!/usr/bin/env bash
# Installs the Debian 12 packages that hotdata-monitor builds, runs and tests with: only the
# missing ones, and nothing from anywhere but Debian. `--test` adds what the tests need
# (prometheus and promtool). Runs apt as root, or through sudo.
set -euo pipefail

packages=(cmake make g++ pkg-config
          prometheus-cpp-dev libcpp-httplib-dev libyaml-cpp-dev nlohmann-json3-dev
          libspdlog-dev libgtest-dev libgmock-dev libsystemd-dev libssl-dev libcrypt-dev zlib1g-dev
          libbrotli-dev curl)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(prometheus systemd python3 python3-yaml libclang-rt-14-dev)  # + libFuzzer
fi

missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == *"ok installed"* ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
# The prometheus package's postinst may fail to start its own service where no systemd runs;
# the tests start their own prometheus, so that is harmless.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
