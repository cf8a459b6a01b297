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

# ---------------------------------------------------------------------------
# Mutation testing (docs/testing.md, scripts/mutate.sh): gremlins mutates
# the engine, authn, the SQL store and the SCIM filter one expression at a
# time and runs the package's tests on each mutant. `make mutate` runs it
# whole: hours on two shared cores, so never in CI. `make mutate-diff`
# mutates only the files changed since MUTATE_BASE (default HEAD~1: on a
# fresh clone of main, the change that landed last), stops after
# MUTATE_SECONDS in all, and skips at once when no such file changed.
# Survivors are listed, not failed on.
MUTATE_BASE ?= HEAD~1
MUTATE_SECONDS ?= 150
MUTATE_WORKERS ?= 2
MUTATE_TIMEOUT_COEFF ?= 10
.PHONY: mutate mutate-diff
mutate:
	GO=$(GO) MUTATE_WORKERS=$(MUTATE_WORKERS) MUTATE_TIMEOUT_COEFF=$(MUTATE_TIMEOUT_COEFF) scripts/mutate.sh $(MUTATE_TARGETS)

mutate-diff:
	GO=$(GO) MUTATE_WORKERS=$(MUTATE_WORKERS) MUTATE_TIMEOUT_COEFF=$(MUTATE_TIMEOUT_COEFF) \
	  MUTATE_SECONDS=$(MUTATE_SECONDS) scripts/mutate.sh --diff $(MUTATE_BASE) $(MUTATE_TARGETS)

# `make test` (and so CI) runs the bounded diff run first: at most
# MUTATE_SECONDS, nothing at all when the last change touched none of the
# mutated files.
test: mutate-diff
