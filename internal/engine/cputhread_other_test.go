//go:build !linux

package engine

import "time"

// threadCPU is not measured here: the benchmark reports wall time only.
func threadCPU() time.Duration { return 0 }
