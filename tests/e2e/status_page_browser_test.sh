#!/usr/bin/env bash
# The status page at / in a real browser: Debian's chromium, headless, against the daemon (with
# the demo's policies, behind basic auth) and hotdata-simulator. What it asserts, and how, is in
# status_page_browser.py. Fails (never skips) when chromium is missing: scripts/install-deps.sh
# --test installs it.
# Usage: status_page_browser_test.sh BUILD_DIR SOURCE_DIR   (needs chromium, python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v python3 >/dev/null || { echo "FAIL: python3 is not installed" >&2; exit 1; }
command -v chromium >/dev/null || {
  echo "FAIL: chromium is not installed (Debian package chromium; scripts/install-deps.sh --test)" >&2
  exit 1
}
exec python3 "$here/status_page_browser.py" "$1" "$2"
