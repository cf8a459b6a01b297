package engine

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/benchtest"
)

// clones copies ids as a server's are copies (parsed from a request):
// looking up the index's own strings would skip reading its keys.
func clones(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.Clone(id)
	}
	return out
}

// BenchmarkIndexGetUniform looks up uniform user and folder ids of the
// large data set in the id index alone: the first load of every check
// about a random subject or resource, and a cache miss on most.
func BenchmarkIndexGetUniform(b *testing.B) {
	largeEngine(b)
	st := large.e.cur.Load()
	for _, tc := range []struct {
		name string
		get  func(string) (int32, bool)
		ids  []string
	}{
		{"users", st.userIx.get, clones(large.data.UniformUsers(21, uniformN))},
		{"folders", st.folderIx.get, clones(large.data.AllFolders())},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ids := tc.ids
			b.ReportAllocs()
			b.ResetTimer()
			cpu := benchtest.ProcessCPU()
			for i := 0; i < b.N; i++ {
				// A multiplicative stride visits the ids in an order
				// unrelated to insertion.
				if _, ok := tc.get(ids[(i*7919)%len(ids)]); !ok {
					b.Fatal("an id of the data set is not in the index")
				}
			}
			reportCPU(b, cpu)
		})
	}
}
