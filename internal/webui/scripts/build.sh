#!/usr/bin/env bash
# build.sh [--optional]: builds the workbench into internal/webui/dist for
# mediationd to embed: `npm ci` when node_modules does not match
# package-lock.json (a checksum of the lockfile is kept in node_modules),
# then `npm run build` (generated API types, type check, Vite build, the
# Chromium 87 check). With --optional, a machine without Node.js 20 gets a
# warning instead of a failure, and mediationd serves a page saying how to
# build the UI.
set -euo pipefail
cd "$(dirname "$0")/.."

optional=false
[ "${1:-}" = "--optional" ] && optional=true

need() {
	if $optional; then
		echo "warning: $1; the workbench is not built, and mediationd serves a page saying how to build it" >&2
		exit 0
	fi
	echo "error: $1" >&2
	exit 1
}

command -v node >/dev/null && command -v npm >/dev/null ||
	need "the workbench needs Node.js 20.19 or newer with npm (e.g. from nodejs.org or NodeSource)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
	need "the workbench needs Node.js 20.19 or newer, this is $(node --version)"

sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.package-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
	npm ci --no-audit --no-fund --loglevel=error
	echo "$sum" >"$stamp"
fi
npm run --silent build
