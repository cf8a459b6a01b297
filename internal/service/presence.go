package service

import (
	"context"
	"slices"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// presentIn lists the projects where group g is present: its own project
// for a project group, the projects where it has a grant row for a system
// group (docs/model.md §3).
func presentIn(ctx context.Context, r store.Reader, g *domain.Group) ([]ProjectRef, error) {
	if g.Scope == domain.ScopeProject {
		p, err := r.GetProject(ctx, g.ProjectID)
		if err != nil {
			return nil, err
		}
		return []ProjectRef{{ID: p.ID, Name: p.Name}}, nil
	}
	grants, err := r.ListProjectGrants(ctx, store.GrantFilter{SubjectKind: domain.SubjectGroup, SubjectID: g.ID})
	if err != nil {
		return nil, err
	}
	out := make([]ProjectRef, 0, len(grants))
	for _, pg := range grants {
		p, err := r.GetProject(ctx, pg.ProjectID)
		if err != nil {
			return nil, err
		}
		out = append(out, ProjectRef{ID: p.ID, Name: p.Name})
	}
	return out, nil
}

// isPresent reports whether group g is present in project projectID.
func isPresent(ctx context.Context, r store.Reader, g *domain.Group, projectID string) (bool, error) {
	if g.Scope == domain.ScopeProject {
		return g.ProjectID == projectID, nil
	}
	_, err := r.GetProjectGrant(ctx, projectID, domain.SubjectGroup, g.ID)
	switch {
	case err == nil:
		return true, nil
	case domain.Is(err, domain.KindNotFound):
		return false, nil
	default:
		return false, err
	}
}

// exclusiveGroups lists the non-built-in groups present in the project
// that the user is an active member of, except the group named: the
// "single group" of R14/R23, as the engine (at the revision the caller
// builds on) knows it. A project the engine does not know yet has none.
func (s *Service) exclusiveGroups(ctx context.Context, r store.Reader, userID, projectID, except string) ([]domain.Group, error) {
	ids, err := s.f.Engine().GroupsInProject(userID, projectID, except, s.now())
	if domain.Is(err, domain.KindNotFound) {
		return nil, nil // a user or project created by this very write
	}
	if err != nil {
		return nil, err
	}
	out := make([]domain.Group, 0, len(ids))
	for _, id := range ids {
		g, err := r.GetGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// ensureIndividualRow gives the user an empty individual grant row on the
// project unless they have one: they stay a project member with no access
// (R25, R26 keep_users).
func ensureIndividualRow(ctx context.Context, tx store.Tx, userID, projectID string) (bool, error) {
	_, err := tx.GetProjectGrant(ctx, projectID, domain.SubjectUser, userID)
	if err == nil {
		return false, nil
	}
	if !domain.Is(err, domain.KindNotFound) {
		return false, err
	}
	return true, tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: projectID, SubjectKind: domain.SubjectUser, SubjectID: userID})
}

// dropEmptyIndividualRow removes the user's individual grant row on the
// project when it carries no rights, so the user leaves the project (R27).
// A row with rights was given to the user personally and stays.
func dropEmptyIndividualRow(ctx context.Context, tx store.Tx, userID, projectID string) (bool, error) {
	pg, err := tx.GetProjectGrant(ctx, projectID, domain.SubjectUser, userID)
	if domain.Is(err, domain.KindNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if pg.RoleID != "" || len(pg.Permissions) > 0 {
		return false, nil
	}
	return true, tx.DeleteProjectGrant(ctx, projectID, domain.SubjectUser, userID)
}

func allMembers(ctx context.Context, r store.Reader, groupID string) ([]store.Member, error) {
	return collect(ctx, func(cur string) (store.Page[store.Member], error) {
		return r.ListMembers(ctx, groupID, store.ListQuery{Cursor: cur, Limit: 1000})
	})
}

// emptyIndividualRights empties the user's individual rights on an
// exclusive project they join a group of: the group's rights replace them
// (R23). The row stays, so they remain a member should they leave the
// group. It reports whether there were rights to drop.
func emptyIndividualRights(ctx context.Context, tx store.Tx, userID, projectID string) (bool, error) {
	pg, err := tx.GetProjectGrant(ctx, projectID, domain.SubjectUser, userID)
	if domain.Is(err, domain.KindNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if pg.RoleID == "" && len(pg.Permissions) == 0 {
		return false, nil
	}
	empty := domain.ProjectGrant{ProjectID: projectID, SubjectKind: domain.SubjectUser, SubjectID: userID}
	return true, tx.PutProjectGrant(ctx, &empty)
}

// memberUserIDs lists the users who are members of a group: its direct
// members as stored (expired ones included), and every user who is a
// member now through nested groups (the engine at the revision the
// caller builds on), sorted, once each.
func (s *Service) memberUserIDs(ctx context.Context, r store.Reader, groupID string) ([]string, error) {
	direct, err := allMembers(ctx, r, groupID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(direct))
	for _, m := range direct {
		out = append(out, m.User.ID)
	}
	nested, err := s.f.Engine().EffectiveMembers(groupID, s.now())
	if err != nil && !domain.Is(err, domain.KindNotFound) { // a group this write created
		return nil, failClosed("the group's members cannot be evaluated", err)
	}
	for _, m := range nested {
		out = append(out, m.UserID)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
