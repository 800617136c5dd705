#!/usr/bin/env bash
# Makes sure what the failover test (internal/hatest, make failover) runs is
# on this machine: Patroni 3.0.3 or later (deploy/install-patroni.sh says why
# not Debian 12's 3.0.2), etcd (server and client), pgBackRest and PostgreSQL
# 15's server binaries, installing the Debian packages that are missing.
set -euo pipefail

here=$(dirname "$0")
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
command -v pgbackrest >/dev/null || missing+=(pgbackrest)
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql-15)
if [ ${#missing[@]} -gt 0 ]; then
	bash "$here/apt-install.sh" "${missing[@]}"
fi
bash "$here/install-patroni.sh"
