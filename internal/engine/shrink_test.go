package engine_test

// Tests of the cross-check's own machinery: a cross-check that panics or
// reports a whole random world when the engine is wrong would hide the
// regression it exists to find.

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// ignoresExpiry builds a deliberately wrong evaluator: the reference on a
// copy of the data whose memberships never expire (an R6 fault).
func ignoresExpiry(s *domain.Snapshot) (engine.Querier, error) {
	c := reference.Clone(s)
	for i := range c.Memberships {
		c.Memberships[i].ExpiresAt = nil
	}
	return reference.New(c), nil
}

// TestShrinkWhileSurvivesCascadingDeletes: deleting a folder deletes its
// subtree and deleting a project its groups, so one deletion can shorten a
// list by several elements. Listed children first, a chain of folders made
// the shrinker index past the end of the list.
func TestShrinkWhileSurvivesCascadingDeletes(t *testing.T) {
	snap := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: domain.BuiltinGroups()}
	snap.FolderTypes = []domain.FolderType{domain.BuiltinFolderType()}
	snap.Projects = []domain.Project{{ID: "p1", MembershipMode: domain.ModeMultiple}, {ID: "p2", MembershipMode: domain.ModeMultiple}}
	snap.Groups = append(snap.Groups,
		domain.Group{ID: "g1", Scope: domain.ScopeProject, ProjectID: "p2"},
		domain.Group{ID: "g2", Scope: domain.ScopeProject, ProjectID: "p2"})
	for _, f := range []struct{ id, parent string }{{"f4", "f3"}, {"f3", "f2"}, {"f2", "f1"}, {"f1", ""}, {"f5", ""}} {
		snap.Folders = append(snap.Folders, domain.Folder{ID: f.id, ParentID: f.parent, TypeID: domain.FolderTypeFolderID})
	}
	q := query{kind: qCheck, perm: "root.read", res: engine.Resource{Kind: engine.KindFolder, ID: "f5"}, now: baseNow}

	min := shrinkWhile(snap, q, func(*domain.Snapshot) bool { return true })

	if len(min.Folders) != 1 || min.Folders[0].ID != "f5" {
		t.Errorf("folders left = %v, want only the queried f5", min.Folders)
	}
	if len(min.Projects) != 0 || len(min.Groups) != len(domain.BuiltinGroups()) {
		t.Errorf("projects %v and groups %v left, want none but the built-in groups", min.Projects, min.Groups)
	}
}

// TestShrinkReducesAWrongEngineToASmallCounterexample feeds the shrinker
// an evaluator that ignores expiry and asserts that what comes back is the
// smallest world showing it: one user, one expired membership, and no
// more than the two grants its group needs to make the membership matter.
func TestShrinkReducesAWrongEngineToASmallCounterexample(t *testing.T) {
	seed, snap, d := firstDisagreement(t, ignoresExpiry)

	min := shrink(snap, d.q, ignoresExpiry)

	bad, _ := ignoresExpiry(min)
	if answer(reference.New(min), d.q) == answer(bad, d.q) {
		t.Fatalf("seed %d: the shrunk world no longer shows the disagreement on %s:\n%s", seed, d.q, dump(min))
	}
	if len(min.Memberships) != 1 || min.Memberships[0].ExpiresAt == nil || min.Memberships[0].ExpiresAt.After(d.q.now) {
		t.Errorf("seed %d: memberships %v, want exactly one, expired at %s", seed, min.Memberships, d.q.now)
	}
	if len(min.Users) != 1 || min.Users[0].ID != d.q.subject.UserID {
		t.Errorf("seed %d: users %v, want only the subject %q", seed, min.Users, d.q.subject.UserID)
	}
	custom := len(min.Groups) - len(domain.BuiltinGroups())
	grants := len(min.ProjectGrants) + len(min.DomainGrants) + len(min.FolderLevels) + len(min.Rules)
	if custom > 1 || grants > 2 || len(min.Folders) > 2 || len(min.Projects) > 1 {
		t.Errorf("seed %d: %d custom groups, %d grants, %d folders, %d projects left; want a handful:\n%s",
			seed, custom, grants, len(min.Folders), len(min.Projects), dump(min))
	}

	t.Logf("seed %d, %s reduced to:\n%s", seed, d.q, dump(min))
	msg := failureReport(seed, snap, d, ignoresExpiry)
	for _, want := range []string{"seed ", "-seed ", "minimal data", dump(min)} {
		if !strings.Contains(msg, want) {
			t.Errorf("the failure report lacks %q:\n%s", want, msg)
		}
	}
}

// firstDisagreement generates the cross-check's datasets until one has a
// check on which build and the reference disagree.
func firstDisagreement(t *testing.T, build func(*domain.Snapshot) (engine.Querier, error)) (uint64, *domain.Snapshot, disagreement) {
	t.Helper()
	for seed := uint64(1); seed <= 200; seed++ {
		g := newGen(seed)
		g.now = baseNow.Add(-time.Duration(g.r.IntN(120)) * time.Minute)
		snap := g.snapshot()
		bad, _ := build(snap)
		var checks []query
		for _, q := range queries(g, snap, g.now, 0.12, true) {
			if q.kind == qCheck {
				checks = append(checks, q)
			}
		}
		if ds := compare(reference.New(reference.Clone(snap)), bad, "wrong engine", checks, 1); len(ds) > 0 {
			return seed, snap, ds[0]
		}
	}
	t.Fatal("no dataset of seeds 1–200 shows the injected fault")
	return 0, nil, disagreement{}
}
