# azvcr: two commands do everything on a fresh machine: `make demo` and `make test`.
GO      ?= go
BIN     := bin/azvcr
NPM_DIR := fixtures/upstream
NPM_OK  := $(NPM_DIR)/node_modules/.package-lock.json
JS_ARM  := fixtures/jsarm
JS_ARM_OK := $(JS_ARM)/node_modules/.package-lock.json
# gitleaks, the leak oracle the tests run over every recording they write and every shipped
# fixture: pinned, from the Go module proxy (checked against the checksum database).
GITLEAKS_VERSION := v8.30.1
GITLEAKS := bin/gitleaks

# Debian's Azure SDK for Python and Azure CLI: real clients the tests drive with /usr/bin/python3
# and /usr/bin/az (about 2 and 0.5 minutes to install on a machine without them).
DEBIAN_CLIENTS := python3-azure-cosmos python3-azure azure-cli
DEBIAN_CLIENTS_CHECK := /usr/bin/python3 -c 'import azure.cosmos.cosmos_client, azure.identity, azure.mgmt.cosmosdb' 2>/dev/null && test -x /usr/bin/az

.PHONY: all build demo test deps debian-clients tools vet bench bench-profile fuzz conformance clean

all: build

# A static binary: Go's own DNS resolver and user lookup instead of the C library's. Loading the
# C library and its relocations is about 3 ms of every start (azvcr starts once per test-proxy
# run, and per test in some harnesses); azvcr needs nothing from it.
BUILD_TAGS := netgo osusergo

build:
	$(GO) build -tags '$(BUILD_TAGS)' -o $(BIN) ./cmd/azvcr

# The real Cosmos-compatible upstream and the JS Cosmos SDK; Microsoft's JS test harness
# (@azure-tools/test-recorder, vitest) with @azure/arm-cosmosdb: installed from committed lockfiles.
deps: $(NPM_OK) $(JS_ARM_OK) debian-clients
$(NPM_OK): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@
$(JS_ARM_OK): $(JS_ARM)/package.json $(JS_ARM)/package-lock.json
	cd $(JS_ARM) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

debian-clients:
	@$(DEBIAN_CLIENTS_CHECK) || { \
	  command -v apt-get >/dev/null || { echo "make deps: the tests need Debian's $(DEBIAN_CLIENTS) (Python's Azure SDK and the Azure CLI, run as /usr/bin/python3 and /usr/bin/az), and there is no apt-get here to install them: install those packages, or run on Debian 12" >&2; exit 1; }; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "make deps: installing Debian's $(DEBIAN_CLIENTS)"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $(DEBIAN_CLIENTS) >/dev/null; }
	@$(DEBIAN_CLIENTS_CHECK) || { echo "make deps: $(DEBIAN_CLIENTS) did not install: /usr/bin/python3 cannot import the Azure SDK, or /usr/bin/az is missing" >&2; exit 1; }

tools: $(GITLEAKS)
$(GITLEAKS):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/zricethezav/gitleaks/v8@$(GITLEAKS_VERSION)

# Replays the shipped cassette to the real azcosmos client: no network, no credentials.
demo: build
	$(GO) run ./examples/demo -azvcr $(BIN) -cassette fixtures/cassettes/cosmos-e2e.yaml

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test: deps tools vet build
	$(GO) test -race -count=1 ./...
	$(BIN) lint $$(git ls-files -co --exclude-standard '*.yaml' '*.yml' | grep -v '^secrets/testdata/' | xargs -r grep -l '^interactions:')
	$(MAKE) --no-print-directory demo > /dev/null

# Issue 13's performance targets, measured in one run by internal/benchrun and printed as one table
# (measure, floor, azvcr, ratio, target, PASS/SHORT; also in bin/bench/table.txt). It starts the
# floor itself (a bare Go HTTPS server answering with the recorded bytes) and azvcr as separate
# processes pinned to core 0 (taskset), drives them from core 1 with keep-alive clients through
# HTTPS_PROXY, reads peak RSS from /proc, and runs the in-process Go benchmarks (the recorder
# against go-vcr v4, kept at 10x or more; matching at 100k interactions over 100; redaction of a
# 1 MiB answer over json.Valid; keying and redacting JSON ten times deeper, kept under 30x where
# linear is about 10x; a cassette failing on its last line over loading it, kept under 5x) into
# the same table. The replay-over-direct-TLS ratio of the e2e
# benchmarks is superseded by the floor measures. Exits 1 when any target falls short.
# `make bench-profile` runs the same with a profiling build and writes CPU and allocation
# profiles of each measure to bin/bench/profiles (read them with `go tool pprof`).
BENCH := bin/benchrun
bench: build
	$(GO) build -o $(BENCH) ./internal/benchrun
	$(BENCH) -azvcr $(BIN) -go $(GO) -out bin/bench

bench-profile: build
	$(GO) build -o $(BENCH) ./internal/benchrun
	$(BENCH) -azvcr $(BIN) -go $(GO) -out bin/bench -profile bin/bench/profiles -patience 10m

# Fuzzing, each target for FUZZTIME (CI runs a few seconds of each; the seeds, hostile inputs
# included, run in `make test` as ordinary tests). A failing input is saved under the package's
# testdata/fuzz and then runs in `make test` too. scripts/fuzz.sh tries a target again (three runs at most)
# when Go's fuzz coordinator stops it at the deadline without any failing input (a known Go race).
FUZZTIME ?= 30s
FUZZ_TARGETS := ./cassette:FuzzParse ./testproxyjson:FuzzParse ./matcher:FuzzSQL ./matcher:FuzzKey ./redact:FuzzRedact \
  ./cassette:FuzzFastReader ./cassette:FuzzLoadForReplay ./cassette:FuzzFastWriter ./cassette:FuzzBodyRoundTrip ./testproxyjson:FuzzFastTree \
  ./redact:FuzzRequiredLiteral ./redact:FuzzOmittable ./redact:FuzzListTokens ./redact:FuzzEditedTokens \
  ./wire:FuzzFields ./wire:FuzzCompareCanonical ./redact:FuzzNameChecks ./secrets:FuzzLinePrefilters ./forwardproxy:FuzzAbsoluteURL \
  ./redact:FuzzReplaceAfterLeads ./testproxy:FuzzCentralSanitizers ./internal/litset:FuzzHeld ./redact:FuzzWalkKeyed ./redact:FuzzKeyRun \
  ./testproxyjson:FuzzWriter ./testproxyjson:FuzzHeaderNames ./secrets:FuzzScanner ./secrets:FuzzDecodeBase64Text ./testproxyjson:FuzzIndentedJSON ./testproxyjson:FuzzDotNetString \
  ./secrets:FuzzDetectorPrefilters ./internal/jsonlex:FuzzNumber ./internal/jsonlex:FuzzString ./matcher:FuzzReadURL \
  ./wire:FuzzReadRequestFast ./redact:FuzzQuickRedact ./redact:FuzzQuickTests ./redact:FuzzGUIDShape ./redact:FuzzLearnable
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh $(FUZZ_TARGETS)

# Microsoft's own recorded armcosmos suites, run unmodified against azvcr as the test-proxy, then
# the Go tests that read those recordings (build tag `conformance`; `make test` never needs them).
# The recordings are read from $AZVCR_CONFORMANCE_DIR (default ../shared/conformance/armcosmos);
# every suite with a recording there runs. When the directory holds no recordings and
# CONFORMANCE_RESTORE is set, that command runs first to put them there (the restore hook). No
# recordings after that fails loudly: conformance is never skipped.
AZVCR_CONFORMANCE_DIR ?= $(abspath ../shared/conformance/armcosmos)
CONFORMANCE_RESTORE   ?=
CONFORMANCE_KIT := $(firstword $(wildcard $(AZVCR_CONFORMANCE_DIR)/run.sh) $(abspath ../shared/conformance/armcosmos/run.sh))
CONFORMANCE_GO_TESTS  := 4

# The recordings are from 2023, before test-proxy's central sanitizers, and the v2.7.0 harness
# removes none of them: on Microsoft's own test-proxy $..name (AZSDK3493) renames the resource group
# the harness reads back from a recorded answer, and Location/Operation-Location (AZSDK2003/2030)
# become https://example.com, so its playback fails. Current harnesses remove exactly these (the Go
# ARM harness 2003 and 2030, ARM suites 3493 and 3430); the server-wide switch does it for this one.
# The other 149 central sanitizers stay on.
conformance: export AZVCR_TEST_PROXY_REMOVE_SANITIZERS = AZSDK3493,AZSDK3430,AZSDK2003,AZSDK2030
conformance: build
ifneq ($(strip $(CONFORMANCE_RESTORE)),)
	@ls "$(AZVCR_CONFORMANCE_DIR)"/recordings/*.json >/dev/null 2>&1 || { \
	  echo "conformance: no recordings in $(AZVCR_CONFORMANCE_DIR)/recordings; restoring: $(CONFORMANCE_RESTORE)"; \
	  $(CONFORMANCE_RESTORE); }
endif
	@ls "$(AZVCR_CONFORMANCE_DIR)"/recordings/*.json >/dev/null 2>&1 || { echo "conformance: no recordings at $(AZVCR_CONFORMANCE_DIR)/recordings (set AZVCR_CONFORMANCE_DIR, or CONFORMANCE_RESTORE to a command that fetches them)" >&2; exit 1; }
	@test -f "$(CONFORMANCE_KIT)" || { echo "conformance: no run.sh kit at $(CONFORMANCE_KIT)" >&2; exit 1; }
	PROXY_BIN=$(CURDIR)/$(BIN) DATA=$(AZVCR_CONFORMANCE_DIR) bash $(CONFORMANCE_KIT)
	@mkdir -p bin
	AZVCR_CONFORMANCE_DIR=$(AZVCR_CONFORMANCE_DIR) $(GO) test -tags conformance -count=1 -run Conformance -v ./... > bin/conformance-go.txt 2>&1 \
	  || { cat bin/conformance-go.txt; exit 1; }
	@grep -E '^(--- |ok|FAIL)' bin/conformance-go.txt | grep -v -e 'no test files' -e 'no tests to run'
	@n=$$(grep -c '^--- PASS: Test[A-Za-z]*Conformance' bin/conformance-go.txt); test "$$n" -ge $(CONFORMANCE_GO_TESTS) \
	  || { echo "conformance: $$n Go conformance tests passed, want $(CONFORMANCE_GO_TESTS)" >&2; exit 1; }

clean:
	rm -rf bin $(NPM_DIR)/node_modules $(JS_ARM)/node_modules
