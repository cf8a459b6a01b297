package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The nesting tree draws the memberships that count at the instant asked
// (R6): Night shift in XYZ until an end date is drawn, with the date,
// before it and not after; the depth and the budget count what they cut.
func TestR6_NestingTreeDrawsTheEdgesThatCountNow(t *testing.T) {
	e := newNested(t)
	end := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	apply(t, e, nest("xyz", "night", &end))
	before, after := end.Add(-time.Hour), end.Add(time.Hour)
	down := e.NestingTree("rad", false, before, 10, 100)
	if len(down.Links) != 2 || down.Links[0].GroupID != "xyz" || down.Links[1].GroupID != "abc" {
		t.Fatalf("below Radiologists: %+v, want XYZ and ABC (by group)", down.Links)
	}
	if n := down.Links[0].Links; len(n) != 1 || n[0].GroupID != "night" || !n[0].Until.Equal(end) {
		t.Errorf("below XYZ before the end: %+v, want Night shift until %v", n, end)
	}
	for _, at := range []time.Time{end, after} {
		if n := e.NestingTree("rad", false, at, 10, 100).Links[0].Links; len(n) != 0 {
			t.Errorf("below XYZ at %v, the end or after: %+v, want nothing", at, n)
		}
	}
	up := e.NestingTree("night", true, before, 10, 100)
	if len(up.Links) != 1 || up.Links[0].Name != "XYZ radiologists" || len(up.Links[0].Links) != 1 || up.Links[0].Links[0].Name != "Radiologists" {
		t.Errorf("above Night shift: %+v, want XYZ radiologists then Radiologists", up.Links)
	}
	if shallow := e.NestingTree("rad", false, before, 1, 100); shallow.Links[0].More != 1 || len(shallow.Links[0].Links) != 0 {
		t.Errorf("depth 1: XYZ = %+v, want Night shift counted as 1 more", shallow.Links[0])
	}
	if small := e.NestingTree("rad", false, before, 10, 1); len(small.Links) != 1 || small.More != 1 || small.Links[0].More != 1 {
		t.Errorf("budget 1: %+v, want one group drawn and two counted", small)
	}
	if e.NestingTree("nope", true, before, 10, 100) != nil {
		t.Error("an unknown group has a tree")
	}
}

// R6: an effective member counts until the latest of their paths, each
// path until its earliest end; with paths or without, the list agrees.
func TestR6_EffectiveMembersUntilTheLatestPath(t *testing.T) {
	e := newNested(t)
	end1 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	end2 := end1.AddDate(1, 0, 0)
	// carol is in Night shift, in XYZ until end1, and in XYZ herself until end2.
	apply(t, e, nest("xyz", "night", &end1), domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership,
		Membership: &domain.Membership{GroupID: "xyz", UserID: "carol", ExpiresAt: &end2}})
	for _, c := range []struct {
		at    time.Time
		until time.Time // zero: carol is no member then
	}{{end1.Add(-time.Hour), end2}, {end1.Add(time.Hour), end2}, {end2.Add(time.Hour), time.Time{}}} {
		with, err := e.EffectiveMembers("rad", c.at)
		if err != nil {
			t.Fatal(err)
		}
		without, err := e.EffectiveMembersNoPaths("rad", c.at)
		if err != nil {
			t.Fatal(err)
		}
		if len(with) != len(without) {
			t.Fatalf("at %v: %d members with paths, %d without", c.at, len(with), len(without))
		}
		var carol *EffectiveMember
		for i := range with {
			if with[i].UserID != without[i].UserID || !with[i].Until.Equal(without[i].Until) || without[i].Through != nil {
				t.Errorf("at %v: %+v with paths, %+v without", c.at, with[i], without[i])
			}
			if with[i].UserID == "carol" {
				carol = &with[i]
			}
		}
		switch {
		case c.until.IsZero() && carol != nil:
			t.Errorf("at %v: carol is still a member: %+v", c.at, carol)
		case !c.until.IsZero() && (carol == nil || !carol.Until.Equal(c.until) || !slices.Equal(carol.Through, []string{"XYZ radiologists"})):
			t.Errorf("at %v: carol = %+v, want a member until %v through XYZ radiologists", c.at, carol, c.until)
		}
	}
}
