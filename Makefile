# The README's two commands are `go run ./cmd/gatehouse serve` and `make test`.
# .ci/run calls `make test` with CI=true, which makes the PostgreSQL tests
# mandatory instead of skipped.

GO ?= go

.PHONY: test lint build bench fuzz

# test: static checks, every package with the race detector, then the
# large-data tests without it (the race detector slows the pure-Go SQLite
# driver about tenfold, and those tests exercise the data path, not
# concurrency).
test: lint
	$(GO) test -race -short -count=1 ./...
	$(GO) test -count=1 -run 'Large' ./internal/store/...

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

# fuzz: each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseFolderPermission -fuzztime $(FUZZTIME) ./internal/domain/
