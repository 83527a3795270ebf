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

.PHONY: all build demo test deps tools vet bench conformance clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/azvcr

# The real Cosmos-compatible upstream and the JS Cosmos SDK; Microsoft's JS test harness
# (@azure-tools/test-recorder, vitest) with @azure/arm-cosmosdb: installed from committed lockfiles.
deps: $(NPM_OK) $(JS_ARM_OK)
$(NPM_OK): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@
$(JS_ARM_OK): $(JS_ARM)/package.json $(JS_ARM)/package-lock.json
	cd $(JS_ARM) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

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

# Benchmarks with their baselines from the same run: replay cost over direct TLS, and matching
# cost at 100k recorded interactions over 100 (flat means no scan of the cassette).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -benchtime 2s ./... | tee bin/bench.txt
	@awk '/^BenchmarkDirectTLS/ {d=$$3} /^BenchmarkReplay-/ {r=$$3} \
	  /^BenchmarkNext\/interactions=100-/ {s=$$3} /^BenchmarkNext\/interactions=100000-/ {l=$$3} \
	  /^BenchmarkRedactLargeResponse-/ {x=$$3} /^BenchmarkJSONValidLargeBody-/ {j=$$3} \
	  END { if (!(d && r && s && l && x && j)) { print "bench: a result or its baseline is missing"; exit 1 } \
	        printf "replay through azvcr: %.0f ns/op, direct TLS baseline: %.0f ns/op, ratio %.2fx\n", r, d, r/d; \
	        printf "matching: %.0f ns/op at 100 interactions, %.0f ns/op at 100k, ratio %.2fx\n", s, l, l/s; \
	        printf "redaction of a 1 MiB query answer: %.0f ns/op, json.Valid baseline: %.0f ns/op, ratio %.2fx\n", x, j, x/j }' bin/bench.txt

# Microsoft's own recorded armcosmos suites, run unmodified against azvcr as the test-proxy.
# The recordings are read from $AZVCR_CONFORMANCE_DIR (default ../shared/conformance/armcosmos);
# every suite with a recording there runs. A missing directory fails loudly.
AZVCR_CONFORMANCE_DIR ?= $(abspath ../shared/conformance/armcosmos)
CONFORMANCE_KIT := $(firstword $(wildcard $(AZVCR_CONFORMANCE_DIR)/run.sh) $(abspath ../shared/conformance/armcosmos/run.sh))

# The recordings are from 2023, before test-proxy's central sanitizers, and the v2.7.0 harness
# removes none of them: on Microsoft's own test-proxy $..name (AZSDK3493) renames the resource group
# the harness reads back from a recorded answer, and Location/Operation-Location (AZSDK2003/2030)
# become https://example.com, so its playback fails. Current harnesses remove exactly these (the Go
# ARM harness 2003 and 2030, ARM suites 3493 and 3430); the server-wide switch does it for this one.
# The other 149 central sanitizers stay on.
conformance: export AZVCR_TEST_PROXY_REMOVE_SANITIZERS = AZSDK3493,AZSDK3430,AZSDK2003,AZSDK2030
conformance: build
	@test -d "$(AZVCR_CONFORMANCE_DIR)/recordings" || { echo "conformance: no recordings at $(AZVCR_CONFORMANCE_DIR)/recordings (set AZVCR_CONFORMANCE_DIR)" >&2; exit 1; }
	@test -f "$(CONFORMANCE_KIT)" || { echo "conformance: no run.sh kit at $(CONFORMANCE_KIT)" >&2; exit 1; }
	PROXY_BIN=$(CURDIR)/$(BIN) DATA=$(AZVCR_CONFORMANCE_DIR) bash $(CONFORMANCE_KIT)

clean:
	rm -rf bin $(NPM_DIR)/node_modules $(JS_ARM)/node_modules
