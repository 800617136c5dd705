#!/usr/bin/env bash
# apt-install.sh PACKAGE...: installs the Debian packages named, as root or
# with password-less sudo. Where it cannot (no apt-get, no rights), it says
# how to install them and exits 1.
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo="sudo"
	else
		echo "Missing: $*. Install with:  sudo apt-get install $*" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null; then
	echo "Missing: $*, and this is not a Debian-like system: install them with its package manager." >&2
	exit 1
fi
echo "Installing $* (Debian packages)..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "$@" >/dev/null
