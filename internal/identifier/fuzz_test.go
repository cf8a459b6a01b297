package identifier

import (
	"testing"
	"unicode/utf8"
)

// FuzzIdentifiers: the identifier profiles never panic, what they accept
// is valid UTF-8 with no invisible or control character, cleaning is
// idempotent (a stored name cleans to itself, so an edit that keeps it is
// accepted), and a username and its cleaned form look alike (same
// skeleton), so cleaning cannot move it out of reach of the look-alike
// check (names may change more: runs of spaces become one).
func FuzzIdentifiers(f *testing.F) {
	for _, s := range []string{"admin", "\u0430dmin", "ａｄｍｉｎ", "Normal  Users", "a\u200bb", "\u202eabc", "e\u0301", "ﬁle", "Ⅻ",
		"abc\u05d0", "\u05d0\u05d1", "smile😀", "x\u200dy", "\xff", "", " ", "İstanbul", "ǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			name  string
			clean func(string) (string, error)
		}{{"username", CleanUsername}, {"name", CleanName}} {
			out, err := c.clean(s)
			if err != nil {
				continue
			}
			if !utf8.ValidString(out) || out == "" || checkVisible(out) != nil {
				t.Fatalf("%s %q: accepted as %q", c.name, s, out)
			}
			if again, err := c.clean(out); err != nil || again != out {
				t.Fatalf("%s %q: cleaned to %q, which cleans to %q, %v", c.name, s, out, again, err)
			}
			if Skeleton(out) != Skeleton(s) && c.name == "username" {
				t.Fatalf("%s %q: cleaned to %q, which does not look alike (%q, %q)", c.name, s, out, Skeleton(s), Skeleton(out))
			}
		}
	})
}
