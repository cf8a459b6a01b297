package service

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
	"weak"

	"github.com/gatehouse/gatehouse/internal/engine"
)

// Tests of the effective-member cache alone (effcache.go). Through the
// use cases a list found in the cache and one made again give the same
// page, so only here can a test tell which list a lookup finds, which
// lists a new one replaces, and where the bounds drop the oldest.

// keptLists names the cache's lists, least recently used first:
// "group/username@rev" or "group/path@rev".
func keptLists(c *effCache) []string {
	out := []string{}
	for _, l := range c.lists {
		kind := "username"
		if l.byPath {
			kind = "path"
		}
		out = append(out, fmt.Sprintf("%s/%s@%d", l.group, kind, l.rev))
	}
	return out
}

// A lookup finds a list only for the engine, revision, group and kind
// that made it, from the instant it was made until the first membership
// among its paths ends (R6: a list never shows an expired membership).
func TestEffCacheFindsOnlyTheListMadeForTheQuestion(t *testing.T) {
	e1, e2 := &engine.Engine{}, &engine.Engine{}
	w1, w2 := weak.Make(e1), weak.Make(e2)
	made := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	ends := made.Add(time.Hour)
	var c effCache
	c.put(&effList{eng: w1, rev: 7, group: "g", from: made, until: ends, ms: []engine.EffectiveMember{{UserID: "u1"}}})
	c.put(&effList{eng: w1, rev: 7, group: "forever", ms: []engine.EffectiveMember{{UserID: "u2"}}})
	for _, tc := range []struct {
		name   string
		eng    weak.Pointer[engine.Engine]
		rev    int64
		group  string
		byPath bool
		at     time.Time
		want   string // the user of the list found, "" for none
	}{
		{"the same question", w1, 7, "g", false, made, "u1"},
		{"the last instant before a membership ends", w1, 7, "g", false, ends.Add(-time.Nanosecond), "u1"},
		{"when a membership ends", w1, 7, "g", false, ends, ""},
		{"before it was made", w1, 7, "g", false, made.Add(-time.Nanosecond), ""},
		{"another engine (the follower reloaded)", w2, 7, "g", false, made, ""},
		{"another revision", w1, 8, "g", false, made, ""},
		{"another group", w1, 7, "h", false, made, ""},
		{"the list with paths", w1, 7, "g", true, made, ""},
		{"a list with no expiry, long after", w1, 7, "forever", false, made.AddDate(10, 0, 0), "u2"},
	} {
		got := ""
		if ms := c.get(tc.eng, tc.rev, tc.group, tc.byPath, tc.at); ms != nil {
			got = ms[0].UserID
		}
		if got != tc.want {
			t.Errorf("%s: found the list of %q, want %q", tc.name, got, tc.want)
		}
	}
	runtime.KeepAlive(e1)
	runtime.KeepAlive(e2)
}

// A new list replaces the lists of the same group and kind at its
// revision or an older one, and every list of another engine; the lists
// of other groups, and of the group in the other kind, stay.
func TestEffCacheNewListReplacesOnlyItsOwnOlderLists(t *testing.T) {
	e1, e2 := &engine.Engine{}, &engine.Engine{}
	w1, w2 := weak.Make(e1), weak.Make(e2)
	var c effCache
	for _, step := range []struct {
		l    effList
		want []string
	}{
		{effList{eng: w1, rev: 7, group: "g"}, []string{"g/username@7"}},
		{effList{eng: w1, rev: 7, group: "h"}, []string{"g/username@7", "h/username@7"}},
		{effList{eng: w1, rev: 7, group: "g", byPath: true}, []string{"g/username@7", "h/username@7", "g/path@7"}},
		{effList{eng: w1, rev: 8, group: "g"}, []string{"h/username@7", "g/path@7", "g/username@8"}},
		// Made again at the same revision (the one kept had expired).
		{effList{eng: w1, rev: 8, group: "g"}, []string{"h/username@7", "g/path@7", "g/username@8"}},
		{effList{eng: w2, rev: 8, group: "h"}, []string{"h/username@8"}},
	} {
		c.put(&step.l)
		if got := keptLists(&c); !slices.Equal(got, step.want) {
			t.Errorf("after putting %s/%t@%d: kept %v, want %v", step.l.group, step.l.byPath, step.l.rev, got, step.want)
		}
	}
	runtime.KeepAlive(e1)
	runtime.KeepAlive(e2)
}

// The cache keeps at most effCacheLists lists and effCacheRows rows in
// all, dropping the least recently used first, but always the list just
// made, however long.
func TestEffCacheBoundsDropTheLeastRecentlyUsed(t *testing.T) {
	e := &engine.Engine{}
	w := weak.Make(e)
	var c effCache
	var want []string
	for i := range effCacheLists {
		g := fmt.Sprintf("g%d", i)
		c.put(&effList{eng: w, rev: 1, group: g, ms: []engine.EffectiveMember{{UserID: g}}})
		want = append(want, g+"/username@1")
	}
	if got := keptLists(&c); !slices.Equal(got, want) {
		t.Fatalf("%d lists: kept %v, want all", effCacheLists, got)
	}
	// Finding g0 makes it the most recently used: g1 goes next.
	if c.get(w, 1, "g0", false, time.Now()) == nil {
		t.Fatal("g0 not found")
	}
	c.put(&effList{eng: w, rev: 1, group: "new"})
	want = append(append(slices.Clone(want[2:]), "g0/username@1"), "new/username@1")
	if got := keptLists(&c); !slices.Equal(got, want) {
		t.Errorf("one list past the bound: kept %v, want %v", got, want)
	}

	// Rows: the lists share one array of zeroes, never written, so the
	// test costs no memory to speak of.
	rows := make([]engine.EffectiveMember, effCacheRows+1)
	for _, tc := range []struct {
		name string
		lens []int // the lists put, in order
		want []string
	}{
		{"exactly at the bound", []int{effCacheRows - 400_000, 400_000}, []string{"l0", "l1"}},
		{"one row past it drops the oldest only", []int{effCacheRows - 400_000, 400_000, 1}, []string{"l1", "l2"}},
		{"a list alone past it is kept", []int{effCacheRows + 1}, []string{"l0"}},
		{"and replaces all before it", []int{2, 3, effCacheRows + 1}, []string{"l2"}},
	} {
		var c effCache
		var want []string
		for i, n := range tc.lens {
			c.put(&effList{eng: w, rev: 1, group: fmt.Sprintf("l%d", i), ms: rows[:n]})
		}
		for _, g := range tc.want {
			want = append(want, g+"/username@1")
		}
		if got := keptLists(&c); !slices.Equal(got, want) {
			t.Errorf("%s: kept %v, want %v", tc.name, got, want)
		}
	}
	runtime.KeepAlive(e)
}
