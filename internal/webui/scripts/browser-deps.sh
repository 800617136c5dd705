#!/usr/bin/env bash
# browser-deps.sh: installs what the browser tests need besides npm's
# packages: Debian's Chromium (Playwright's own browser download cannot
# work here) and CJK fonts, so that screenshots show Chinese.
set -euo pipefail
cd "$(dirname "$0")/../../.."

missing=()
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
	bash deploy/apt-install.sh "${missing[@]}"
fi
