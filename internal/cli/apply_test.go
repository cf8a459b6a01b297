package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/declarative"
)

func TestProgressBar(t *testing.T) {
	cases := []struct {
		done, total, width int
		want               string
	}{
		{0, 4, 60, "[........................] 0/4 create user alice"},
		{2, 4, 60, "[############............] 2/4 create user alice"},
		{4, 4, 60, "[########################] 4/4 create user alice"},
		{1, 4, 20, "[######............"},
	}
	for _, tc := range cases {
		got := bar(tc.done, tc.total, "create user alice", tc.width)
		if !strings.HasPrefix(got, tc.want) || len([]rune(got)) != tc.width-1 {
			t.Errorf("bar(%d, %d, width %d) = %q, want %q padded to %d columns", tc.done, tc.total, tc.width, got, tc.want, tc.width-1)
		}
	}
}

func TestProgressPlainLinesWhenNotATerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b)
	p.step(1, 2, declarative.Op{Action: declarative.Create, Kind: declarative.KindUser, Name: "alice"})
	p.step(2, 2, declarative.Op{Action: declarative.Delete, Kind: declarative.KindFolder, Name: "Old"})
	p.finish()
	if want := "[1/2] create user alice\n[2/2] delete folder Old\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
