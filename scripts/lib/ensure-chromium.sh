#!/usr/bin/env bash
# Make sure headless Chromium and its WebDriver are installed (Debian's `chromium` and `chromium-driver`) for
# the browser tests in tests/web/browser.rs. scripts/test.sh runs every scripts/lib/ensure-*.sh. Idempotent and
# quiet: does nothing when both are present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "Installing chromium and chromium-driver for the browser tests..." >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
command -v chromedriver >/dev/null 2>&1 || { echo "chromedriver still missing after the install" >&2; exit 1; }
