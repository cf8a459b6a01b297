package engine_test

// Tests written for the fourth mutation session (scripts/overlaymutate on
// the whole engine package, docs/testing.md): each pins a behaviour that
// a surviving mutant changed without any earlier test noticing.

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// TestR22ARoleEditCountsOnEveryProjectAGroupUsesItOn: a project role held
// by groups on several projects hands its new permissions out on each of
// them, not only on the first project in the engine's order (admin.go
// projectsUsing: deltaWorld reaches its second project through a user's
// grant too, so the third, Mercury, is held through a group only).
func TestR22ARoleEditCountsOnEveryProjectAGroupUsesItOn(t *testing.T) {
	withMercury, err := adminWorld(t, deltaWorld).Stage([]domain.Mutation{
		put(domain.Project{ID: "p3", Name: "Mercury", MembershipMode: domain.ModeMultiple}),
		put(domain.Group{ID: "crew", Name: "Crew", Scope: domain.ScopeProject, ProjectID: "p3"}),
		put(domain.ProjectGrant{ProjectID: "p3", SubjectKind: domain.SubjectGroup, SubjectID: "crew", RoleID: "reviewer"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := withMercury.Stage([]domain.Mutation{put(domain.Role{ID: "reviewer", Name: "Reviewer", Scope: domain.ScopeProject,
		Permissions: []string{domain.PermProjectRead, domain.PermProjectWrite}})})
	if err != nil {
		t.Fatal(err)
	}
	got, err := withMercury.GrantsBeyond(after, engine.Holder{UserID: "helper"}, adminNow)
	want := []string{`project.write on project p1 ("Apollo") (role "Reviewer")`, `project.write on project p2 ("Gemini") (role "Reviewer")`,
		`project.write on project p3 ("Mercury") (role "Reviewer")`}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("GrantsBeyond = %q, %v; want %q", got, err, want)
	}
}
