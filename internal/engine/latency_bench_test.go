package engine

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// dependentLoads is one random cycle through 256 MiB of int32s, made
// once per test binary: next[i] is the index after i.
var dependentLoads = sync.OnceValue(func() []int32 {
	const n = 1 << 26
	next := make([]int32, n)
	for i := range next {
		next[i] = int32(i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := n - 1; i > 0; i-- { // Sattolo's shuffle: a single cycle
		j := r.IntN(i)
		next[i], next[j] = next[j], next[i]
	}
	return next
})

// BenchmarkDependentLoad measures the machine, not the engine: the time
// of one load whose address comes from the load before, over a random
// cycle through 256 MiB, so that almost every load misses the caches and
// the TLB as an engine check's reads of a large data set do. A check that
// makes k such reads one after the other costs at least k times this; it
// is how docs/benchmarks.md reads the engine's random-subject figures
// against issue 18's goal (p50 ≤ 0.5 µs).
func BenchmarkDependentLoad(b *testing.B) {
	next := dependentLoads()
	x := int32(0)
	b.ResetTimer()
	for range b.N {
		x = next[x]
	}
	b.StopTimer()
	if x < 0 {
		b.Fatal("unreachable: keeps the loads")
	}
}
