package service

import (
	"context"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// CreateProject creates a project (project.create). Its creator gets an
// individual Moderator grant on it, so that whoever may create a project
// can also administer it (R21's delegation) without holding server.manage.
func (s *Service) CreateProject(ctx context.Context, c Caller, pr domain.Project) (domain.Project, int64, error) {
	const op, action = "service.CreateProject", "project.create"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.has(domain.PermProjectCreate) {
			return deny("project", "", "missing permission %s", domain.PermProjectCreate)
		}
		if err := valid(&pr, nil, identifier.Project); err != nil {
			return err
		}
		if pr.ID == "" {
			pr.ID = domain.NewID()
		}
		if err := tx.CreateProject(ctx, &pr); err != nil {
			return err
		}
		mod := domain.ProjectGrant{ProjectID: pr.ID, SubjectKind: domain.SubjectUser, SubjectID: c.UserID, RoleID: domain.RoleModeratorID}
		if err := tx.PutProjectGrant(ctx, &mod); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "project", pr.ID, nil, pr, "creator "+c.Name()+" is its moderator")
	})
	return pr, rev, err
}

// ProjectUpdate changes a project; nil leaves a field as it is.
type ProjectUpdate struct {
	Name           *string
	Description    *string
	MembershipMode *domain.MembershipMode
	Version        int64
}

// UpdateProject edits a project (project.moderate on it, or
// server.manage). Switching to exclusive is refused while users are in
// several non-built-in groups present in the project; the error lists
// them (R23).
func (s *Service) UpdateProject(ctx context.Context, c Caller, id string, up ProjectUpdate) (domain.Project, int64, error) {
	const op, action = "service.UpdateProject", "project.update"
	var pr domain.Project
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if pr, err = s.loadProject(ctx, tx, p, op, id); err != nil {
			return err
		}
		if !p.has(domain.PermServerManage) && !p.moderates(id) {
			return deny("project", id, "missing permission %s on project %s", domain.PermProjectModerate, pr.Name)
		}
		if up.Version != 0 && up.Version != pr.Version {
			return conflict(op, "project %s changed meanwhile (version %d, not %d)", id, pr.Version, up.Version)
		}
		before := pr
		if up.Name != nil {
			pr.Name = *up.Name
		}
		if up.Description != nil {
			pr.Description = *up.Description
		}
		if up.MembershipMode != nil {
			pr.MembershipMode = *up.MembershipMode
		}
		if err := valid(&pr, &before, identifier.Project); err != nil {
			return err
		}
		if pr.MembershipMode == domain.ModeExclusive && before.MembershipMode != domain.ModeExclusive {
			if err := s.checkCanBeExclusive(ctx, tx, &pr); err != nil {
				return err
			}
		}
		if err := tx.UpdateProject(ctx, &pr); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "project", id, before, pr, "")
	})
	return pr, rev, err
}

func (s *Service) checkCanBeExclusive(ctx context.Context, r store.Reader, pr *domain.Project) error {
	shared, err := s.f.Engine().SharedInProject(pr.ID, s.now())
	if err != nil {
		return err
	}
	in := map[string][]string{} // username -> group names
	for userID, groupIDs := range shared {
		u, err := r.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		for _, id := range groupIDs {
			g, err := r.GetGroup(ctx, id)
			if err != nil {
				return err
			}
			in[u.Username] = append(in[u.Username], g.Name)
		}
	}
	var lines []string
	for u, gs := range in {
		if len(gs) > 1 {
			sort.Strings(gs)
			lines = append(lines, u+" ("+strings.Join(gs, ", ")+")")
		}
	}
	if len(lines) == 0 {
		return nil
	}
	sort.Strings(lines)
	return domain.E("service.UpdateProject", domain.KindConflict, domain.FieldError{Field: "membership_mode",
		Message: "cannot switch to exclusive while users are in several of its groups (R23): " + strings.Join(lines, "; ") + "; remove them from all but one group first"})
}

// loadProject reads a project the caller may see: holders of
// server.manage, groups.view or users.view see every project, others those
// they may read.
func (s *Service) loadProject(ctx context.Context, r store.Reader, p *perms, op, id string) (domain.Project, error) {
	pr, err := r.GetProject(ctx, id)
	if err != nil {
		return pr, err
	}
	if !p.seesAllProjects() && !p.onProject(id)[domain.PermProjectRead] {
		return domain.Project{}, notFound(op, "project", id)
	}
	return pr, nil
}

func (p *perms) seesAllProjects() bool {
	return p.has(domain.PermServerManage) || p.has(domain.PermGroupsView) || p.has(domain.PermUsersView) || p.has(domain.PermProjectDelete)
}

// DeleteProject deletes a project with its project groups and grants
// (project.delete).
func (s *Service) DeleteProject(ctx context.Context, c Caller, id string) (int64, error) {
	const op, action = "service.DeleteProject", "project.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		pr, err := s.loadProject(ctx, tx, p, op, id)
		if err != nil {
			return err
		}
		if !p.has(domain.PermProjectDelete) {
			return deny("project", id, "missing permission %s", domain.PermProjectDelete)
		}
		if err := tx.DeleteProject(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "project", id, pr, nil, "")
	})
}
