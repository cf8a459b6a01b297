#!/bin/sh
# Mutation testing with scripts/overlaymutate: it changes one expression
# at a time (a flipped comparison, + for -, ++ for --: gremlins' default
# mutants) in the covered code of a package and runs the tests; a mutant
# the tests still pass on "lived". All of a package's mutants are compiled
# into one test binary (a mutant schema), so a mutant costs its tests, not
# a compilation. docs/testing.md explains the figures. `make mutate` and
# `make mutate-diff` call it.
#
#   scripts/mutate.sh                       # every target, whole (one to two hours on two quiet cores)
#   scripts/mutate.sh engine authn          # some targets
#   scripts/mutate.sh --diff HEAD~1         # only the files changed since HEAD~1
#   MUTATE_SECONDS=150 scripts/mutate.sh --diff HEAD~1   # ...stopped after 150 s in all
#
# --diff picks the changed files of each target, and mutates them whole.
# No changed file in a target: it is skipped without running anything.
#
# Each target writes $MUTATE_OUT/<target>.log (every mutant's status, as it
# goes: `tail -f` it). The summary line per target (killed, lived,
# efficacy) is printed at the end and, like the fuzz figures, appended to
# $GATEHOUSE_FIGURES when set. Survivors do not fail the run: each is
# either killed by a new test or listed in docs/testing.md as equivalent.
# A failure of the tool (the tests failing with no mutant active) does.
set -eu
GO=${GO:-go}
WORKERS=${MUTATE_WORKERS:-2}
TIMEOUT=${MUTATE_TIMEOUT:-120s}
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
# to the directory; !ERE: all but those), environment for its tests
# (comma-separated), extra packages whose tests also run against each
# mutant, `-short` or not. The engine's reference evaluator and benchmark
# generator are test oracles, not the engine; the SQL store's suites live
# with the backends and run here only with GATEHOUSE_STORE_SUITE=1 (see
# internal/store/sqlstore/suite_test.go). The service's tests run with
# -short (the kernel property test's eight worlds instead of 200), and
# the SCIM package's too: they are what exercise provisioning.go. The
# authorization kernel (kernel.go) is a target of its own, to be measured
# first and alone. authn is a target per package: a mutant schema is one
# package's.
TARGETS='engine internal/engine ^[^/]+\.go$ - - -
kernel internal/service ^kernel\.go$ - - -short
service internal/service !^kernel\.go$ - ./internal/api/scim -short
authn internal/authn ^[^/]+\.go$ - - -
authn-password internal/authn/password ^[^/]+\.go$ - ./internal/authn -
authn-httpauth internal/authn/httpauth ^[^/]+\.go$ - - -
authn-oidc internal/authn/oidcauth ^[^/]+\.go$ - ./internal/authn,./internal/api/console -
sqlstore internal/store/sqlstore ^[^/]+\.go$ GATEHOUSE_STORE_SUITE=1 - -
scimfilter internal/api/scim ^filter\.go$ - - -'

want=" $* "
mkdir -p "$OUT"
start=$(date +%s)
summary=""
built=""
echo "$TARGETS" | {
	while read -r name dir scope env also short; do
		if [ "$want" != "  " ] && [ "${want#* "$name" }" = "$want" ]; then
			continue
		fi
		all=$(cd "$dir" && find . -maxdepth 1 -name '*.go' ! -name '*_test.go' | sed 's|^\./||' | sort)
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
			$GO build -o "$OUT/overlaymutate" ./scripts/overlaymutate
			built=1
		fi
		set --
		[ "$env" != "-" ] && set -- "$@" -env "$env"
		[ "$also" != "-" ] && set -- "$@" -also "$also"
		[ "$short" != "-" ] && set -- "$@" -short
		echo "mutate: $name: $(echo "$files" | wc -l) files of $dir (progress in $OUT/$name.log)"
		rc=0
		# timeout signals its whole process group: the tests in flight
		# stop with the tool, which prints nothing for them.
		# shellcheck disable=SC2086 # $limit and $files are words on purpose
		$limit "$OUT/overlaymutate" -workers "$WORKERS" -timeout "$TIMEOUT" "$@" "./$dir" $files \
			</dev/null >"$OUT/$name.log" 2>&1 || rc=$?
		killed=$(grep -c '^KILLED' "$OUT/$name.log" || true)
		lived=$(grep -c '^LIVED' "$OUT/$name.log" || true)
		timedout=$(grep -c '^TIMED OUT' "$OUT/$name.log" || true)
		note=""
		case $rc in
		0) ;;
		124) note=", stopped at the time budget (partial)" ;;
		*)
			cat "$OUT/$name.log"
			echo "mutate: $name: overlaymutate failed (exit $rc)" >&2
			exit 1
			;;
		esac
		eff="n/a"
		if [ $((killed + lived)) -gt 0 ]; then
			eff="$(awk "BEGIN { printf \"%.1f%%\", 100 * $killed / ($killed + $lived) }")"
		fi
		line="mutate: $name: $killed killed, $lived lived, $timedout timed out, efficacy $eff$note"
		echo "$line"
		grep '^LIVED' "$OUT/$name.log" | sed "s|^|  $dir: |" || true
		summary="$summary$line
"
	done
	printf '== mutation testing%s\n%s' "${base:+ of the files changed since $base}" "$summary"
	if [ -n "${GATEHOUSE_FIGURES:-}" ]; then printf '%s' "$summary" >>"$GATEHOUSE_FIGURES"; fi
}
