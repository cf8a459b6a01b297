//go:build !amd64 && !arm64

package engine

import "unsafe"

// prefetch does nothing where the engine has no prefetch instruction
// (prefetch_asm.go): answers are the same, only slower in a batch.
func prefetch(unsafe.Pointer) {}

// prefetchBytes does nothing here either.
func prefetchBytes(unsafe.Pointer, uintptr) {}
