#!/usr/bin/env bash
# What the browser test of `nova-conformance site` needs besides Node: Debian's Chromium (the
# test drives /usr/bin/chromium with playwright-core; Playwright's own browser download is not
# used) and a font, so pages render text in screenshots. Idempotent: installs only what is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../backends/lib/apt.sh"
apt_install_missing site-prereqs chromium fonts-dejavu-core
# Fails when the browser cannot start (the Debian wrapper's own shell warnings are dropped).
version=$(/usr/bin/chromium --version 2>/dev/null)
printf '[site-prereqs] %s\n' "$version" >&2
