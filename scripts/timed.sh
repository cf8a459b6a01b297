#!/bin/sh
# Runs one stage of `make test` and records its wall time:
#
#   scripts/timed.sh NAME COMMAND [ARG...]
#
# runs COMMAND, then appends "NAME  <seconds>s" (with "FAILED" when it
# failed) to the file $GATEHOUSE_STAGES, which `make test` prints at the
# end, and exits with COMMAND's status. Without GATEHOUSE_STAGES it only
# runs COMMAND.
name=$1
shift
start=$(date +%s)
"$@"
rc=$?
if [ -n "${GATEHOUSE_STAGES:-}" ]; then
	status=""
	[ "$rc" -eq 0 ] || status="  FAILED (status $rc)"
	printf '%-8s %5ss%s\n' "$name" "$(($(date +%s) - start))" "$status" >>"$GATEHOUSE_STAGES"
fi
exit "$rc"
