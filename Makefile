# The README's two commands are `go run ./cmd/gatehouse serve` and `make test`.
# .ci/run calls `make test` with CI=true, which makes the PostgreSQL, browser
# and SCIM-collection tests mandatory instead of skipped.

GO ?= go

.PHONY: test test-lint test-race test-binary test-tests test-large test-kernel test-fuzz lint build bench fuzz fuzz-ci

# test: every check, in stages run side by side (make -j: on two cores the
# whole-binary tests, which mostly wait on their servers, overlap the
# CPU-bound ones). Each stage's output is shown when it ends
# (--output-sync), and its wall and CPU time are recorded (scripts/timed.sh) and
# printed at the end, after the figures:
#
#   lint     gofmt, go vet, staticcheck
#   race     the race detector over RACE_PKGS, the packages with concurrency
#   binary   the gatehouse binary the whole-binary tests (test/e2e,
#            test/crash, test/hostile, examples/docserver) share, built once
#            instead of once per package (GATEHOUSE_TEST_BINARY)
#   tests    every other package once, without the race detector
#   large    the large-data store tests (no -short)
#   kernel   the authorization kernel's property test at full size
#   fuzz     short fuzzing of every parser (fuzz-ci)
#
# The long-running tests (crash harness, hostile input, replicas) append
# their headline figures to $(FIGURES) (internal/testfigures), printed at
# the end: a passing `go test` shows nothing of its own.
FIGURES := $(CURDIR)/.test-figures
STAGES := $(CURDIR)/.test-stages
TESTBIN := $(CURDIR)/.test-bin/gatehouse
TEST_JOBS ?= 6
MODULE := github.com/gatehouse/gatehouse

# RACE_PKGS are the packages whose code runs concurrently, where the race
# detector can find something; the rest run once without it (it slows the
# pure-Go SQLite driver about tenfold). A new package runs without it
# until it is added here, with its reason:
#   internal/engine         the state is swapped atomically while checks read it
#   internal/service        the change-log follower goroutine, serialized writers,
#                           concurrent bootstrap of replicas
#   internal/authn          the sign-in throttle and token cache, shared by requests
#   internal/store/sqlstore the shared database handle (once, mutex, sync.Map)
#   internal/store/sqlite   runs the store suite's concurrent writers and readers
#   internal/store/postgres the same, and the LISTEN/NOTIFY listener goroutine
#   internal/api/health     readiness and drain state, read by probes while it changes
#   internal/metrics        counters updated from many requests at once
#   pkg/gatehouse           the client shared by an application's goroutines
#   pkg/gatehouse/local     the replica's follower applies changes while checks read
#   examples/docserver      the example application's stores and cache, under
#                           concurrent handlers
RACE_PKGS := $(addprefix $(MODULE)/,internal/engine internal/service internal/authn \
	internal/store/sqlstore internal/store/sqlite internal/store/postgres \
	internal/api/health internal/metrics pkg/gatehouse pkg/gatehouse/local examples/docserver)
TIMED := GATEHOUSE_STAGES=$(STAGES) scripts/timed.sh
# go test's default 10-minute limit per package is a guard against hangs;
# with the stages side by side on two cores (and neighbours on a shared
# machine) a CPU-heavy package such as the large-data tests needs longer.
TEST_TIMEOUT ?= 30m

test:
	@rm -f $(FIGURES) $(STAGES)
	@start=$$(date +%s); \
	  $(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target test-lint test-race test-tests test-large test-kernel test-fuzz; \
	  rc=$$?; \
	  echo "== figures of this run, and what was skipped"; awk '!seen[$$0]++' $(FIGURES) 2>/dev/null || echo "(none recorded)"; \
	  echo "== time of each stage (they run side by side: wall times overlap)"; cat $(STAGES) 2>/dev/null; \
	  printf '%-8s %5ss wall\n' total $$(($$(date +%s) - start)); \
	  exit $$rc

test-lint:
	@$(TIMED) lint $(MAKE) --no-print-directory lint

test-race: test-binary
	@$(TIMED) race env GATEHOUSE_FIGURES=$(FIGURES) GATEHOUSE_TEST_BINARY=$(TESTBIN) \
	  $(GO) test -race -short -count=1 -timeout $(TEST_TIMEOUT) $(RACE_PKGS)

test-binary:
	@mkdir -p $(dir $(TESTBIN))
	@$(TIMED) binary $(GO) build -trimpath -o $(TESTBIN) ./cmd/gatehouse

# -trimpath, as testserver.Build and the quickstart's clone build, so the
# three share their compiled packages.
test-tests: test-binary
	@$(TIMED) tests env GATEHOUSE_FIGURES=$(FIGURES) GATEHOUSE_TEST_BINARY=$(TESTBIN) \
	  $(GO) test -trimpath -short -count=1 -timeout $(TEST_TIMEOUT) $(filter-out $(RACE_PKGS),$(shell $(GO) list ./...))

test-large:
	@$(TIMED) large $(GO) test -trimpath -count=1 -timeout $(TEST_TIMEOUT) -run 'Large' ./internal/store/...

# test-kernel: the authorization kernel's property test at its full size
# (200 random worlds of 100 writes each, no escalation and no lock-out
# checked against the reference evaluator after every write), without the
# race detector; the race stage runs a few worlds of it with -short.
test-kernel:
	@$(TIMED) kernel env GATEHOUSE_FIGURES=$(FIGURES) $(GO) test -trimpath -count=1 -timeout $(TEST_TIMEOUT) \
	  -run 'TestR22R3KernelProperty' ./internal/service/

test-fuzz:
	@$(TIMED) fuzz env GATEHOUSE_FIGURES=$(FIGURES) $(MAKE) --no-print-directory fuzz-ci

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
# Mutation testing (docs/testing.md, scripts/mutate.sh): scripts/overlaymutate
# mutates the engine, the service's authorization kernel and the rest of
# the service, authn, the SQL store and the SCIM filter one expression at
# a time (gremlins' mutants, all of a package's in one test binary) and
# runs the package's tests on each mutant. `make mutate` runs it whole:
# one to two hours on two quiet cores, so never in CI. `make mutate-diff`
# mutates only the files changed since MUTATE_BASE (default HEAD~1: on a
# fresh clone of main, the change that landed last), stops after
# MUTATE_SECONDS in all, and skips at once when no such file changed.
# Survivors are listed, not failed on.
MUTATE_BASE ?= HEAD~1
MUTATE_SECONDS ?= 150
MUTATE_WORKERS ?= 2
MUTATE_TIMEOUT ?= 120s
.PHONY: mutate mutate-diff
mutate:
	GO=$(GO) MUTATE_WORKERS=$(MUTATE_WORKERS) MUTATE_TIMEOUT=$(MUTATE_TIMEOUT) scripts/mutate.sh $(MUTATE_TARGETS)

mutate-diff:
	GO=$(GO) MUTATE_WORKERS=$(MUTATE_WORKERS) MUTATE_TIMEOUT=$(MUTATE_TIMEOUT) \
	  MUTATE_SECONDS=$(MUTATE_SECONDS) scripts/mutate.sh --diff $(MUTATE_BASE) $(MUTATE_TARGETS)

# `make test` (and so CI) runs the bounded diff run first: at most
# MUTATE_SECONDS, nothing at all when the last change touched none of the
# mutated files.
test: mutate-diff
