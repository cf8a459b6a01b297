# The README's two commands are `go run ./cmd/gatehouse serve` and `make test`.
# .ci/run calls `make test` with CI=true, which makes the PostgreSQL tests
# mandatory instead of skipped.

GO ?= go

.PHONY: test lint build bench fuzz fuzz-ci

# test: static checks, every package with the race detector, then the
# large-data tests without it (the race detector slows the pure-Go SQLite
# driver about tenfold, and those tests exercise the data path, not
# concurrency).
# The long-running tests (crash harness, hostile input, replicas) append
# their headline figures to $(FIGURES) (internal/testfigures), printed at
# the end: a passing `go test` shows nothing of its own.
FIGURES := $(CURDIR)/.test-figures
test: lint
	@rm -f $(FIGURES)
	GATEHOUSE_FIGURES=$(FIGURES) $(GO) test -race -short -count=1 ./...
	$(GO) test -count=1 -run 'Large' ./internal/store/...
	GATEHOUSE_FIGURES=$(FIGURES) $(MAKE) fuzz-ci
	@echo "== figures of this run"; cat $(FIGURES) 2>/dev/null || echo "(none recorded)"

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

build:
	$(GO) build -o bin/gatehouse ./cmd/gatehouse

# bench: the engine benchmarks at full size (see docs/benchmarks.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/engine/

# fuzz: every fuzz target of the repository (scripts/fuzz.sh finds them
# by grepping for `func Fuzz`) for FUZZTIME each (default 30s); fuzz-ci is
# the short bounded run `make test` ends with.
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

fuzz-ci:
	GO=$(GO) FUZZTIME=5s scripts/fuzz.sh
