#!/usr/bin/env bash
# build-static.sh OUT: builds mediationd as one static binary at OUT, the
# way the container image does (and the deploy package's test checks):
# no cgo (no libc needed at run time), the time zone database embedded
# (-tags timetzdata: Asia/Shanghai resolves without /usr/share/zoneinfo),
# paths trimmed. VERSION, if set, is what `mediationd version` prints.
# Run from anywhere; the workbench is embedded as internal/webui/dist holds
# it (build it first with `make webui`).
set -euo pipefail
out=${1:?usage: build-static.sh OUT}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
cd "$(dirname "$0")/.."
CGO_ENABLED=0 exec go build -trimpath -tags timetzdata \
	-ldflags "-s -w -X main.version=${VERSION:-dev}" \
	-o "$out" ./cmd/mediationd
