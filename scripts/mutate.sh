#!/bin/sh
# Mutation testing with gremlins (a tool dependency in go.mod): it changes
# one expression at a time (a flipped comparison, + for -, ++ for --) in
# the covered code of a package and runs that package's tests; a mutant
# the tests still pass on "lived". docs/testing.md explains the figures.
# `make mutate` and `make mutate-diff` call it.
#
#   scripts/mutate.sh                       # every target, whole (hours on two shared cores)
#   scripts/mutate.sh engine authn          # some targets
#   scripts/mutate.sh --diff HEAD~1         # only the files changed since HEAD~1
#   MUTATE_SECONDS=150 scripts/mutate.sh --diff HEAD~1   # ...stopped after 150 s in all
#
# gremlins' own --diff does not work on a package path (v0.6.0 compares the
# diff's repository paths with paths relative to the package, so nothing
# ever matches, and an empty diff means "everything"): --diff here picks
# the changed files itself and hands gremlins the others to exclude, so a
# changed file is mutated whole. No changed file in a target: it is
# skipped without running anything.
#
# Each target writes $MUTATE_OUT/<target>.log (every mutant's status, as it
# goes: `tail -f` it) and, when it finishes, <target>.json. The summary
# line per target (killed, lived, efficacy) is printed at the end and, like
# the fuzz figures, appended to $GATEHOUSE_FIGURES when set. Survivors do
# not fail the run: each is either killed by a new test or listed in
# docs/testing.md as equivalent. A gremlins error does.
set -eu
GO=${GO:-go}
WORKERS=${MUTATE_WORKERS:-2}
COEFF=${MUTATE_TIMEOUT_COEFF:-10}
OUT=${MUTATE_OUT:-.mutate}
SECONDS_BUDGET=${MUTATE_SECONDS:-0}
cd "$(dirname "$0")/.."

base=""
if [ "${1:-}" = "--diff" ]; then
	base=${2:?--diff needs a base commit}
	shift 2
	if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
		echo "mutate: no commit $base here (a shallow clone?): nothing to compare, skipped"
		exit 0
	fi
fi

# name, package directory, the files mutated (an ERE on the path relative
# to the directory; !ERE: all but those), environment for its tests, extra
# `go test` flags. The engine's reference evaluator and benchmark
# generator are test oracles, not the engine; the SQL store's suites live
# with the backends and run here only with GATEHOUSE_STORE_SUITE=1 (see
# internal/store/sqlstore/suite_test.go). The service's tests run with
# -short (the kernel property test's eight worlds instead of 200): a
# mutant already costs a link of the SQLite driver, and the full property
# test takes minutes. The authorization kernel (kernel.go) is a target of
# its own, to be measured first and alone.
TARGETS='engine internal/engine ^[^/]+\.go$ - -
kernel internal/service ^kernel\.go$ - -short
service internal/service !^kernel\.go$ - -short
authn internal/authn . - -
sqlstore internal/store/sqlstore ^[^/]+\.go$ GATEHOUSE_STORE_SUITE=1 -
scimfilter internal/api/scim ^filter\.go$ - -'

want=" $* "
mkdir -p "$OUT"
start=$(date +%s)
summary=""
built=""
echo "$TARGETS" | {
	while read -r name dir scope env flags; do
		if [ "$want" != "  " ] && [ "${want#* "$name" }" = "$want" ]; then
			continue
		fi
		all=$(cd "$dir" && find . -name '*.go' ! -name '*_test.go' | sed 's|^\./||' | sort)
		case $scope in
		!*) files=$(echo "$all" | grep -Ev "${scope#!}" || true) ;;
		*) files=$(echo "$all" | grep -E "$scope" || true) ;;
		esac
		if [ -n "$base" ]; then
			changed=$(git diff --name-only "$base" -- "$dir" | sed "s|^$dir/||")
			files=$(echo "$files" | grep -Fx "$changed" || true)
		fi
		if [ -z "$files" ]; then
			line="mutate: $name: no file to mutate${base:+ (none changed since $base)}, skipped"
			echo "$line"
			summary="$summary$line
"
			continue
		fi
		limit=""
		if [ "$SECONDS_BUDGET" -gt 0 ]; then
			left=$((SECONDS_BUDGET - ($(date +%s) - start)))
			if [ "$left" -le 10 ]; then
				line="mutate: $name: time budget of ${SECONDS_BUDGET}s spent, skipped"
				echo "$line"
				summary="$summary$line
"
				continue
			fi
			limit="timeout $left"
		fi
		if [ -z "$built" ]; then
			$GO build -o "$OUT/gremlins" github.com/go-gremlins/gremlins/cmd/gremlins
			built=1
		fi
		set --
		for f in $(echo "$all" | grep -Fxv "$files" || true); do
			set -- "$@" -E "^$(echo "$f" | sed 's/\./\\./g')\$"
		done
		[ "$env" = "-" ] && env=""
		[ "$flags" = "-" ] && flags=""
		echo "mutate: $name: $(echo "$files" | wc -l) files of $dir (progress in $OUT/$name.log)"
		rc=0
		# -count=1: gremlins sets each mutant's time limit from its coverage
		# run, which a cached test result would make last a second.
		# shellcheck disable=SC2086 # $limit and $env are words on purpose
		env GOFLAGS="${GOFLAGS:-} -count=1${flags:+ $flags}" $env $limit "$OUT/gremlins" unleash --workers "$WORKERS" --timeout-coefficient "$COEFF" \
			"$@" -o "$OUT/$name.json" "./$dir" </dev/null >"$OUT/$name.log" 2>&1 || rc=$?
		# Stopped at the time budget, gremlins kills the tests in flight and
		# reports those mutants LIVED (exit status -1): only the statuses
		# before its "Shutting down" line count; later kills are real.
		sed '/Shutting down/q' "$OUT/$name.log" >"$OUT/$name.counted"
		sed -n '/Shutting down/,$p' "$OUT/$name.log" | grep ' KILLED ' >>"$OUT/$name.counted" || true
		interrupted=$(sed -n '/Shutting down/,$p' "$OUT/$name.log" | grep -c ' LIVED \| TIMED OUT ' || true)
		killed=$(grep -c ' KILLED ' "$OUT/$name.counted" || true)
		lived=$(grep -c ' LIVED ' "$OUT/$name.counted" || true)
		timedout=$(grep -c ' TIMED OUT ' "$OUT/$name.counted" || true)
		note=""
		case $rc in
		0) ;;
		124) note=", stopped at the time budget (partial; $interrupted interrupted, not counted)" ;;
		*)
			cat "$OUT/$name.log"
			echo "mutate: $name: gremlins failed (exit $rc)" >&2
			exit 1
			;;
		esac
		eff="n/a"
		if [ $((killed + lived)) -gt 0 ]; then
			eff="$(awk "BEGIN { printf \"%.1f%%\", 100 * $killed / ($killed + $lived) }")"
		fi
		line="mutate: $name: $killed killed, $lived lived, $timedout timed out, efficacy $eff$note"
		echo "$line"
		grep ' LIVED ' "$OUT/$name.counted" | sed "s|^ *|  |; s| at | at $dir/|" || true
		summary="$summary$line
"
	done
	printf '== mutation testing%s\n%s' "${base:+ of the files changed since $base}" "$summary"
	if [ -n "${GATEHOUSE_FIGURES:-}" ]; then printf '%s' "$summary" >>"$GATEHOUSE_FIGURES"; fi
}
