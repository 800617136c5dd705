#!/usr/bin/env bash
# Makes sure what the failover test (internal/hatest, make failover) runs is
# on this machine: Patroni, etcd (server and client), pgBackRest and PostgreSQL 15's
# server binaries, installing the Debian packages that are missing.
set -euo pipefail

missing=()
command -v patroni >/dev/null || missing+=(patroni)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
command -v pgbackrest >/dev/null || missing+=(pgbackrest)
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql-15)
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
bash "$(dirname "$0")/apt-install.sh" "${missing[@]}"
