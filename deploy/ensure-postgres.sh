#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) are on
# this machine, installing Debian's postgresql package when they are missing
# and this user may install packages. mediationd runs its private cluster
# from them when DATABASE_URL is not set, and the test suite runs its
# throwaway server from them.
set -euo pipefail

have_binaries() {
	if [ -n "${MEDIATION_PG_BIN:-}" ]; then
		[ -x "$MEDIATION_PG_BIN/initdb" ] && [ -x "$MEDIATION_PG_BIN/pg_ctl" ] && [ -x "$MEDIATION_PG_BIN/postgres" ]
		return
	fi
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && return 0
	done
	command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v postgres >/dev/null
}

if have_binaries && command -v psql >/dev/null; then
	exit 0
fi

if ! bash "$(dirname "$0")/apt-install.sh" postgresql; then
	echo "Or point MEDIATION_PG_BIN at PostgreSQL's server binaries, or set DATABASE_URL to an existing server." >&2
	exit 1
fi
have_binaries
