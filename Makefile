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

.PHONY: all build demo test deps debian-clients tools vet bench fuzz conformance clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/azvcr

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

# Benchmarks with their baselines from the same run: replay cost over direct TLS, matching cost
# at 100k recorded interactions over 100 (flat means no scan of the cassette), the in-process
# recorder against go-vcr v4 on the same 1,000-interaction cassette (kept at 10x or more), and
# keying and redacting JSON nested ten times deeper (linear is about 10x; kept under 30x, where
# quadratic would be about 100x), and a malformed cassette against the same one
# whole (kept under 5x).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -benchtime 2s ./... | tee bin/bench.txt
	@awk '/^BenchmarkDirectTLS/ {d=$$3} /^BenchmarkReplay-/ {r=$$3} \
	  /^BenchmarkNext\/interactions=100-/ {s=$$3} /^BenchmarkNext\/interactions=100000-/ {l=$$3} \
	  /^BenchmarkRedactLargeResponse-/ {x=$$3} /^BenchmarkJSONValidLargeBody-/ {j=$$3} \
	  /^BenchmarkInProcessReplay\/GET\/azvcr-/ {ag=$$3} /^BenchmarkInProcessReplay\/GET\/go-vcr-/ {vg=$$3} \
	  /^BenchmarkInProcessReplay\/query\/azvcr-/ {aq=$$3} /^BenchmarkInProcessReplay\/query\/go-vcr-/ {vq=$$3} \
	  /^BenchmarkKeyDeepJSON\/depth=20k-/ {k2=$$3} /^BenchmarkKeyDeepJSON\/depth=200k-/ {k20=$$3} \
	  /^BenchmarkRedactDeepJSON\/depth=2k-/ {r2=$$3} /^BenchmarkRedactDeepJSON\/depth=20k-/ {r20=$$3} \
	  /^BenchmarkParseMalformed\/valid-/ {pv=$$3} /^BenchmarkParseMalformed\/error-at-end-/ {pe=$$3} \
	  END { if (!(d && r && s && l && x && j && ag && vg && aq && vq && k2 && k20 && r2 && r20 && pv && pe)) { print "bench: a result or its baseline is missing"; exit 1 } \
	        printf "replay through azvcr: %.0f ns/op, direct TLS baseline: %.0f ns/op, ratio %.2fx\n", r, d, r/d; \
	        printf "matching: %.0f ns/op at 100 interactions, %.0f ns/op at 100k, ratio %.2fx\n", s, l, l/s; \
	        printf "redaction of a 1 MiB query answer: %.0f ns/op, json.Valid baseline: %.0f ns/op, ratio %.2fx\n", x, j, x/j; \
	        printf "in-process replay, 1,000 interactions, GET: azvcr %.0f ns/op, go-vcr v4 %.0f ns/op: azvcr %.1fx faster\n", ag, vg, vg/ag; \
	        printf "in-process replay, 1,000 interactions, query: azvcr %.0f ns/op, go-vcr v4 %.0f ns/op: azvcr %.1fx faster\n", aq, vq, vq/aq; \
	        printf "JSON 10x deeper: keying %.1fx the time (20,000 to 200,000 levels), redacting %.1fx (2,000 to 20,000)\n", k20/k2, r20/r2; \
	        printf "a 1 MB cassette with a syntax error on its last line: %.1fx the time of loading it whole\n", pe/pv; \
	        if (vg/ag < 10 || vq/aq < 10) { print "bench: the in-process recorder is less than 10x faster than go-vcr v4"; exit 1 } \
	        if (k20/k2 > 30 || r20/r2 > 30) { print "bench: deep JSON costs more than linear"; exit 1 } \
	        if (pe/pv > 5) { print "bench: locating a syntax error costs more than a few parses"; exit 1 } }' bin/bench.txt

# Fuzzing, each target for FUZZTIME (CI runs a few seconds of each; the seeds, hostile inputs
# included, run in `make test` as ordinary tests). A failing input is saved under the package's
# testdata/fuzz and then runs in `make test` too.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./cassette:FuzzParse ./testproxyjson:FuzzParse ./matcher:FuzzSQL ./matcher:FuzzKey ./redact:FuzzRedact
fuzz:
	@mkdir -p bin
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg > bin/fuzz.txt 2>&1 \
	    || { cat bin/fuzz.txt; exit 1; }; tail -n 1 bin/fuzz.txt; done

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
