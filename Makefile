# mediationd: the two commands a new user needs are `make run` and `make test`.
# Everything else here is for people working on the code.

GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 15s
# Arguments passed to the service by `make run`, e.g. ARGS=--log-level=debug.
ARGS     ?=
# Runs of each fault in `make failover`, and which faults (empty = all).
RUNS     ?= 1
FAULTS   ?=

WEBUI    := internal/webui

.PHONY: run test deps check breaking unit fuzz lint generate build clean webui webtest failover failover-ci

## run: run the service with the workbench (http://localhost:8080/); without
## DATABASE_URL it starts its own PostgreSQL and, on the first start, loads
## the demo data (MEDIATION_DEMO=42), whose logins have a published
## password: it then listens on localhost only, unless MEDIATION_HTTP_ADDR /
## MEDIATION_GRPC_ADDR say otherwise. Without Node.js 20 the workbench is
## left out and / says how to build it.
run:
	@bash $(WEBUI)/scripts/build.sh --optional
	@if [ -z "$$DATABASE_URL" ]; then \
		bash deploy/ensure-postgres.sh && \
		MEDIATION_DEMO=$${MEDIATION_DEMO-42} \
		MEDIATION_HTTP_ADDR=$${MEDIATION_HTTP_ADDR-localhost:8080} \
		MEDIATION_GRPC_ADDR=$${MEDIATION_GRPC_ADDR-localhost:9090} \
		$(GO) run ./cmd/mediationd $(ARGS); \
	else \
		$(GO) run ./cmd/mediationd $(ARGS); \
	fi

## test: the whole suite: format and vet checks, buf lint and generation
## check, every test with the race detector against a throwaway PostgreSQL,
## short fuzz runs (REST bodies, request validation, request text,
## validators, filters), the API compared with the commit before (buf breaking),
## the workbench's unit and browser tests, and one failover run of each
## fault, then the Patroni backup test (about 4 minutes)
test: check breaking webui unit fuzz webtest failover-ci

## deps: what the tests need besides Go: PostgreSQL's server binaries and a
## C compiler for the race detector, installed if missing and possible
deps:
	@bash deploy/ensure-postgres.sh
	@command -v gcc >/dev/null || bash deploy/apt-install.sh gcc

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) mod verify

## breaking: the API stays compatible with the commit before (buf breaking,
## FILE rules): courts code against it
breaking:
	@if git rev-parse -q --verify HEAD~1 >/dev/null 2>&1; then \
		$(GO) tool buf breaking --against '.git#ref=HEAD~1'; \
	else \
		echo "buf breaking: skipped, this clone has no previous commit to compare with"; \
	fi

unit: deps
	$(GO) run ./cmd/mediationd pg-exec -- $(GO) test -race -shuffle=on -count=1 -timeout=20m $(PKGS)

fuzz: deps
	$(GO) test -run='^$$' -fuzz=FuzzCompile -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/aipfilter/
	$(GO) test -run='^$$' -fuzz=FuzzValidators -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/casework/
	$(GO) run ./cmd/mediationd pg-exec -- sh -c '\
		$(GO) test -run="^$$" -fuzz=FuzzRESTBodies -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s -parallel=2 ./internal/server/ && \
		$(GO) test -run="^$$" -fuzz=FuzzProtoValidation -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/server/ && \
		$(GO) test -run="^$$" -fuzz=FuzzRequestText -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s -parallel=2 ./internal/server/'

## failover: the failover test (internal/hatest): three etcd members and
## three Patroni-managed PostgreSQL 15 nodes on 127.0.0.2-4 (synchronous
## mode, strict), two mediationd replicas, the checker's workload through
## both, and each fault in turn on a fresh cluster: kill -9 of the primary's
## postmaster, SIGSTOP of the leader's Patroni, a switchover, etcd's quorum
## lost. RUNS runs of each (default 1), FAULTS picks some (comma-separated);
## `make failover RUNS=5` is the series in the README; `make test`, and so
## CI, runs failover-ci: one run of each fault. Then the pgBackRest
## settings of deploy/pgbackrest/patroni/ on the same cluster: a backup, the
## archive after a switchover, a standby rebuilt from the repository. Needs
## root (the cluster runs as the postgres account); installs Patroni 3.0.3
## or later (deploy/install-patroni.sh), etcd-server, etcd-client and
## pgbackrest if missing
failover:
	@bash deploy/ensure-ha.sh
	MEDIATION_FAILOVER=1 MEDIATION_FAILOVER_RUNS=$(RUNS) MEDIATION_FAILOVER_FAULTS=$(FAULTS) $(GO) test -count=1 -v -timeout=90m -run '^(TestFailover|TestPatroniBackup)$$' ./internal/hatest/

failover-ci:
	@$(MAKE) --no-print-directory failover RUNS=1

## webui: build the workbench (internal/webui) that mediationd embeds:
## npm ci when node_modules does not match the lockfile, the API types
## generated from the OpenAPI document, type check, Vite build, and the
## check that the output runs on Chromium 87
webui:
	@bash $(WEBUI)/scripts/build.sh

## webtest: the workbench's Vitest unit tests, then its browser tests
## (Playwright in Debian's Chromium, installed if missing) against mediationd
## with the demo data on a throwaway PostgreSQL; screenshots go to
## internal/webui/test-output/screenshots
webtest: webui deps
	cd $(WEBUI) && npm test --silent
	@bash $(WEBUI)/scripts/browser-deps.sh
	MEDIATION_WEBUI_E2E=1 $(GO) run ./cmd/mediationd pg-exec -- $(GO) test -count=1 -timeout=20m -v ./internal/webui/e2e/

## lint: buf lint (STANDARD) and vet
lint:
	$(GO) tool buf lint
	$(GO) vet $(PKGS)

## generate: regenerate the Go code and OpenAPI document from the protos
generate:
	$(GO) tool buf generate

## build: build the binary into bin/
build:
	$(GO) build -o bin/mediationd ./cmd/mediationd

clean:
	rm -rf bin
