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

// prefetchBytes prefetches every cache line of the n bytes at p: a line
// from p on each 64 bytes, and the last byte's, which is a line of its
// own when p is not at a line's start. One call for them all: an
// assembly function is not inlined, and each call costs about what a
// prefetch does.
//
//go:noescape
func prefetchBytes(p unsafe.Pointer, n uintptr)
