#!/bin/sh
# Runs one stage of `make test` and records how long it took:
#
#   scripts/timed.sh NAME COMMAND [ARG...]
#
# runs COMMAND, then appends "NAME  <wall>s wall  <cpu>s cpu" (with
# "FAILED" when it failed) to the file $GATEHOUSE_STAGES, which `make test`
# prints at the end, and exits with COMMAND's status. The CPU time (user
# and system, of COMMAND and everything it ran) is what to compare between
# runs on a shared machine, where the wall time depends on the neighbours.
# Without GATEHOUSE_STAGES it only runs COMMAND.
name=$1
shift
start=$(date +%s)
"$@"
rc=$?
if [ -n "${GATEHOUSE_STAGES:-}" ]; then
	wall=$(($(date +%s) - start))
	# `times` prints the shell's own times, then its children's ("0m1.5s
	# 0m0.2s"); it must run in this shell, not in a $(…) subshell.
	acct=$(mktemp)
	times >"$acct"
	cpu=$(tail -n 1 "$acct" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.0f", s }')
	rm -f "$acct"
	status=""
	[ "$rc" -eq 0 ] || status="  FAILED (status $rc)"
	printf '%-8s %5ss wall %6ss cpu%s\n' "$name" "$wall" "$cpu" "$status" >>"$GATEHOUSE_STAGES"
fi
exit "$rc"
