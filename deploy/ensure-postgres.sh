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

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo="sudo"
	else
		echo "PostgreSQL server binaries are missing. Install them with:" >&2
		echo "  sudo apt-get install postgresql        (Debian, Ubuntu)" >&2
		echo "  sudo dnf install postgresql-server     (Fedora, RHEL)" >&2
		echo "or point MEDIATION_PG_BIN at their directory, or set DATABASE_URL to an existing server." >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null; then
	echo "PostgreSQL server binaries are missing and this is not a Debian-like system:" >&2
	echo "install PostgreSQL's server package, or set DATABASE_URL to an existing server." >&2
	exit 1
fi
echo "Installing PostgreSQL (Debian package postgresql)..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq postgresql >/dev/null
have_binaries
