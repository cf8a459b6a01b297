//go:build unix

package benchtest

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user and system, all threads: the garbage
// collector's too) this process has used. On a machine shared with
// others it moves much less than wall time, which counts the time the
// work was descheduled.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
