//go:build unix

package engine

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) this process has used. On
// a machine shared with others, CPU per check moves much less than wall
// time per check, which counts the time the benchmark was descheduled.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
