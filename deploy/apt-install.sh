#!/usr/bin/env bash
# apt-install.sh [--suite SUITE] PACKAGE...: installs the Debian packages
# named, as root or with password-less sudo. Where it cannot (no apt-get, no
# rights), it says how to install them and exits 1.
#
# --suite SUITE takes the packages from that Debian release (trixie, say)
# instead of the configured sources, their dependencies still from those:
# apt fetches them with a sources list and package lists of its own in a
# temporary directory, checking the release's signature with
# debian-archive-keyring and every digest as usual, and the machine's apt
# configuration is not changed. MEDIATION_DEBIAN_MIRROR picks the mirror
# (default http://deb.debian.org/debian).
set -euo pipefail

suite=""
if [ "${1:-}" = "--suite" ]; then
	suite=${2:?apt-install.sh: --suite needs a Debian release name, e.g. --suite trixie}
	shift 2
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo="sudo"
	else
		if [ -n "$suite" ]; then
			echo "Missing: $* from Debian $suite. Install with:  sudo bash $0 --suite $suite $*" >&2
		else
			echo "Missing: $*. Install with:  sudo apt-get install $*" >&2
		fi
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null; then
	echo "Missing: $*, and this is not a Debian-like system: install them with its package manager." >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ -z "$suite" ]; then
	echo "Installing $* (Debian packages)..." >&2
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq "$@" >/dev/null
	exit 0
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { echo "apt-install.sh --suite needs the Debian archive keys ($keyring, package debian-archive-keyring)" >&2; exit 1; }
mirror=${MEDIATION_DEBIAN_MIRROR:-http://deb.debian.org/debian}
echo "Installing $* from Debian $suite ($mirror)..." >&2
tmp=$(mktemp -d)
chmod 755 "$tmp" # apt fetches as its _apt user
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
if id _apt >/dev/null 2>&1; then
	$sudo chown _apt "$tmp/debs"
fi
echo "deb [signed-by=$keyring] $mirror $suite main" >"$tmp/sources.list"
from_suite=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache")
$sudo apt-get "${from_suite[@]}" -qq update
(cd "$tmp/debs" && $sudo apt-get "${from_suite[@]}" -qq download "$@")
$sudo apt-get update -qq
$sudo apt-get install -y -qq "$tmp"/debs/*.deb >/dev/null
