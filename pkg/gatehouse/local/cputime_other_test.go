//go:build !unix

package local

import "time"

// processCPU is not measured here; the load test then reports 0 s of CPU.
func processCPU() time.Duration { return 0 }
