package engine

import (
	"testing"
	"time"
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
	if n := e.NestingTree("rad", false, after, 10, 100).Links[0].Links; len(n) != 0 {
		t.Errorf("below XYZ after the end: %+v, want nothing", n)
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
