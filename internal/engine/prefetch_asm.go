//go:build amd64 || arm64

package engine

import "unsafe"

// prefetch asks the CPU to bring the cache line at p in, without waiting
// for it: a load would hold back every instruction after it until the
// line came (they retire in order), so a batch could not read ahead.
// It never faults, whatever p is; Go has no portable way to say it.
//
//go:noescape
func prefetch(p unsafe.Pointer)
