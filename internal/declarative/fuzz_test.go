package declarative

import (
	"os"
	"testing"
)

// FuzzParseConfig feeds arbitrary bytes to the parser and validator: they
// must never panic, must fail with Problems that carry the file name, and
// whatever they accept must encode to a canonical text that parses again
// to the same text.
//
//	go test -run '^$' -fuzz FuzzParseConfig -fuzztime 10s ./internal/declarative/
func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("version: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, testNow)
		if err != nil {
			ps := ProblemsOf(err)
			if len(ps) == 0 {
				t.Fatalf("error without Problems: %v", err)
			}
			for _, p := range ps {
				if p.File != "fuzz.yaml" || p.Message == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
			}
			return
		}
		b1, err := Encode(c)
		if err != nil {
			t.Fatalf("Encode of an accepted file: %v", err)
		}
		c2, err := Parse("fuzz.yaml", b1, testNow)
		if err != nil {
			t.Fatalf("the canonical form of an accepted file does not parse: %v\n%s", err, b1)
		}
		b2, err := Encode(c2)
		if err != nil {
			t.Fatal(err)
		}
		if string(b1) != string(b2) {
			t.Fatalf("canonical form is not a fixed point:\n%s\n---\n%s", b1, b2)
		}
	})
}
