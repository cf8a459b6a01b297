package rest

import (
	"crypto/rand"
	"testing"
)

// BenchmarkDecodeBatch: a batch of 1,000 checks decoded by the general
// strict decoder (the only one before the fast path) and by decodeBatch,
// in one process.
func BenchmarkDecodeBatch(b *testing.B) {
	benchDecoders(b, batchBody(MaxBatch), decodeBatch)
}

// BenchmarkDecodeCheck: the same for one check.
func BenchmarkDecodeCheck(b *testing.B) {
	body := []byte(`{"subject":"user:` + rand.Text() + `","permission":"root.read","resource":"folder:` + rand.Text() + `"}`)
	benchDecoders(b, body, decodeCheck)
}

// benchDecoders times decodeStrict and decode (the fast path with its
// validation) on body, each into a new T.
func benchDecoders[T any](b *testing.B, body []byte, decode func([]byte, *T) error) {
	for _, d := range []struct {
		name   string
		decode func([]byte, *T) error
	}{{"strict", func(raw []byte, r *T) error { return decodeStrict(raw, r) }}, {"fast", decode}} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var r T
				if err := d.decode(body, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
