//go:build !unix

package benchtest

import "time"

// ProcessCPU is not measured here: 0, and callers then report no CPU
// time.
func ProcessCPU() time.Duration { return 0 }
