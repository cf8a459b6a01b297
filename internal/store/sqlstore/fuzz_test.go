package sqlstore

import (
	"testing"
)

// FuzzDecodeCursor: a client sends back any string as a page cursor; it
// decodes without a panic, and a cursor the store accepts re-encodes to
// one that decodes the same. Seed corpus: testdata/fuzz/FuzzDecodeCursor.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{encodeCursor(cursor{S: "alice", I: "01a2"}), encodeCursor(cursor{N: -5, I: "x"}), "garbage", "e30", "eyJpIjoxfQ", "", "!!!!", "eyJpIjoiJyBPUiAxPTEgLS0ifQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			return
		}
		if c.I == "" {
			t.Fatalf("%q: accepted a cursor without an id", s)
		}
		again, err := decodeCursor(encodeCursor(c))
		if err != nil || again != c {
			t.Fatalf("%q: %+v re-encodes to a cursor that decodes to %+v, %v", s, c, again, err)
		}
	})
}
