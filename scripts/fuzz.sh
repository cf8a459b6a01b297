#!/bin/sh
# Runs every `go test -fuzz` target of the repository for FUZZTIME each
# (default 30s). The targets are found by grepping for `func Fuzz` in the
# test files, so a new target is run without editing this script or the
# Makefile. `make fuzz` and `make fuzz-ci` (FUZZTIME=5s) call it.
#
#   scripts/fuzz.sh              # every target, 30s each
#   FUZZTIME=5s scripts/fuzz.sh  # the short run of `make test`
#   scripts/fuzz.sh FuzzParseFilter   # only targets matching a pattern
#
# At the end it prints the number of targets run and the executions
# counted by the fuzzer; a target that finds a failure stops the run with
# the failing input written to the package's testdata/fuzz/<target>/.
set -eu
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
pattern=${1:-.}
cd "$(dirname "$0")/.."

targets=$(grep -rl --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . | sort | while read -r f; do
	dir=$(dirname "$f")
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func ||; s|^|$dir |"
done | grep -E " .*$pattern" || true)
if [ -z "$targets" ]; then
	echo "fuzz: no fuzz targets match $pattern" >&2
	exit 1
fi

n=0
execs=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_target fuzzes one target into $log; -run '^$' skips the unit tests,
# the seed corpus runs first.
run_target() {
	$GO test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" "$1" >"$log" 2>&1
}

# coordinator_deadline_only: the failure in $log is the fuzzer's bare
# "context deadline exceeded" and nothing else: no failing input written,
# no panic, no error reported by the target.
coordinator_deadline_only() {
	grep -q '^    context deadline exceeded$' "$log" &&
		! grep -q -e 'Failing input written' -e 'panic:' -e '_test.go:[0-9]' -e 'fuzz: minimizing' "$log"
}
echo "$targets" | {
	while read -r dir name; do
		echo "fuzz: $name in $dir for $FUZZTIME"
		tries=0
		until run_target "$dir" "$name"; do
			tries=$((tries + 1))
			if ! coordinator_deadline_only || [ "$tries" -ge 3 ]; then
				cat "$log"
				echo "fuzz: $name in $dir FAILED" >&2
				exit 1
			fi
			# Go 1.26's fuzz coordinator can report its own -fuzztime
			# deadline as a failure when a busy worker stops late
			# (golang/go#75804, fixed in Go 1.27). It writes no input and
			# names no panic or error; run the target again.
			echo "fuzz: $name: the fuzzer's own deadline was reported as a failure, no input found (golang/go#75804); running again"
		done
		# The last progress line holds the total: "execs: N (…/sec)".
		e=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | sed 's/execs: //')
		tail -1 "$log"
		n=$((n + 1))
		execs=$((execs + ${e:-0}))
	done
	line="fuzz: $n targets run for $FUZZTIME each, $execs execs in total, no failure"
	echo "$line"
	# make test prints the figures file at the end of its run.
	if [ -n "${GATEHOUSE_FIGURES:-}" ]; then echo "$line" >>"$GATEHOUSE_FIGURES"; fi
}
