#!/usr/bin/env bash
# install-patroni.sh: makes sure Patroni 3.0.3 or later is installed.
#
# Why not Debian 12's Patroni: 3.0.2, the version bookworm ships, can take
# the leader key from another node. When the leader's Patroni stalls past the
# ttl (a long GC pause, a frozen VM, SIGSTOP), a standby takes the key and is
# promoted. On waking, 3.0.2 gets a new lease and writes the leader key
# without comparing it, so the old primary is leader again while the new one
# has already switched timelines. Synchronous mode then stays stuck: the /sync
# key names the other node as leader, and 3.0.2 never rewrites it. The
# failover test hit this in 3 of 13 SIGSTOP runs. Patroni 3.0.3 fixed it
# (patroni/patroni#2689, #2693: the leader key is only written when it is
# still this node's or absent).
#
# Where the configured apt sources offer no such version, this installs the
# package from Debian 13 (trixie), through apt-install.sh --suite (signature
# and digests checked; the machine's apt configuration unchanged). It is
# architecture-independent and installs on Debian 12 with its dependencies
# from there, plus python3-ydiff, which bookworm lacks.
set -euo pipefail

min=3.0.3
here=$(cd "$(dirname "$0")" && pwd)

installed_version() {
	{ dpkg-query -W -f='${Status} ${Version}\n' patroni 2>/dev/null || true; } | awk '$3 == "installed" {print $4}'
}

if ! command -v dpkg-query >/dev/null; then
	if command -v patroni >/dev/null; then
		echo "patroni is installed, not as a Debian package: make sure it is $min or later ($(patroni --version))." >&2
		exit 0
	fi
	echo "Missing: Patroni $min or later, and this is not a Debian-like system: install it with its package manager." >&2
	exit 1
fi

have=$(installed_version)
if [ -n "$have" ] && dpkg --compare-versions "$have" ge "$min"; then
	exit 0
fi

# A source already configured (Debian 13 or later, PGDG) is the operator's
# own choice: use it when it has a version that will do.
candidate=$(apt-cache policy patroni 2>/dev/null | awk '/Candidate:/ {print $2}')
if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && dpkg --compare-versions "$candidate" ge "$min"; then
	bash "$here/apt-install.sh" patroni
else
	if [ -n "$have" ]; then
		echo "Patroni $have is installed; it is older than $min (see deploy/install-patroni.sh)." >&2
	else
		echo "Patroni is not installed, and the configured sources offer ${candidate:-none}, older than $min (see deploy/install-patroni.sh)." >&2
	fi
	bash "$here/apt-install.sh" --suite trixie patroni python3-ydiff
fi
have=$(installed_version)
if [ -z "$have" ] || ! dpkg --compare-versions "$have" ge "$min"; then
	echo "install-patroni.sh: Patroni ${have:-(none)} is installed after all, not $min or later" >&2
	exit 1
fi
echo "Installed Patroni $have." >&2
