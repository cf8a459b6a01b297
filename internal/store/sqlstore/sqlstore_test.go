package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	r := rebinder{numbered: true}
	cases := []struct{ in, want string }{
		{`SELECT a FROM t WHERE x = ? AND y = ?`, `SELECT a FROM t WHERE x = $1 AND y = $2`},
		{`SELECT '?' , ? FROM t WHERE z LIKE ? ESCAPE '\'`, `SELECT '?' , $1 FROM t WHERE z LIKE $2 ESCAPE '\'`},
		{`SELECT 1`, `SELECT 1`},
	}
	for _, c := range cases {
		if got := r.bind(c.in); got != c.want {
			t.Errorf("bind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := r.bind(c.in); got != c.want {
			t.Errorf("cached bind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := (&rebinder{}).bind(cases[0].in); got != cases[0].in {
		t.Errorf("unnumbered bind changed the query: %q", got)
	}
}

func TestLikePattern(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Ann", "%ann%"},
		{"  x%_\\ ", `%x\%\_\\%`},
		{"ÉCOLE", "%école%"},
	}
	for _, c := range cases {
		if got := likePattern(c.in); got != c.want {
			t.Errorf("likePattern(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []cursor{{S: "alice", I: "id1"}, {N: 1763812345123456, I: "id2"}, {S: "", I: "id3"}} {
		got, err := decodeCursor(encodeCursor(c))
		if err != nil || got != c {
			t.Errorf("cursor %+v round-trips to %+v, %v", c, got, err)
		}
	}
	for _, bad := range []string{"!!", "e30", "bm90IGpzb24"} {
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) accepted garbage", bad)
		}
	}
}
