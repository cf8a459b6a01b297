package rest

import (
	"crypto/rand"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// BenchmarkDecodeBatch: a batch of 1,000 checks decoded by the general
// strict decoder (the only one before the fast path) and by decodeBatch,
// in one process.
func BenchmarkDecodeBatch(b *testing.B) {
	body := batchBody(MaxBatch)
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r api.BatchCheckRequest
			if err := decodeStrict(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r api.BatchCheckRequest
			if err := decodeBatch(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeCheck: the same for one check.
func BenchmarkDecodeCheck(b *testing.B) {
	body := []byte(`{"subject":"user:` + rand.Text() + `","permission":"root.read","resource":"folder:` + rand.Text() + `"}`)
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r api.CheckRequest
			if err := decodeStrict(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r api.CheckRequest
			if err := decodeCheck(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
