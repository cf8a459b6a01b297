package service

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Reads the web console needs to draw the group editor, which the REST
// API answers through other shapes. They are authorized like the other
// reads: whoever may see the group may see these.

// GroupDomains lists a group's accessible domains, by name (the group
// must be visible to the caller, R21).
func (s *Service) GroupDomains(ctx context.Context, c Caller, groupID string) ([]string, error) {
	const op = "service.GroupDomains"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := loadGroup(ctx, s.st, p, op, groupID); err != nil {
		return nil, domain.E(op, err)
	}
	ds, err := s.st.ListDomainGrants(ctx, groupID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Domain)
	}
	return out, nil
}

// GroupProjectGrants lists a group's grant rows, one per project it is
// present in (docs/model.md §3), so the console can draw the projects matrix.
func (s *Service) GroupProjectGrants(ctx context.Context, c Caller, groupID string) ([]domain.ProjectGrant, error) {
	const op = "service.GroupProjectGrants"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := loadGroup(ctx, s.st, p, op, groupID); err != nil {
		return nil, domain.E(op, err)
	}
	gs, err := s.st.ListProjectGrants(ctx, store.GrantFilter{SubjectKind: domain.SubjectGroup, SubjectID: groupID})
	if err != nil {
		return nil, domain.E(op, err)
	}
	return gs, nil
}

// UserProjectGrants lists a user's individual grant rows, one per project
// where they hold rights of their own, so the console can draw the user's
// projects matrix (the user must be visible to the caller: users.view, or
// themselves).
func (s *Service) UserProjectGrants(ctx context.Context, c Caller, userID string) ([]domain.ProjectGrant, error) {
	const op = "service.UserProjectGrants"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadUser(ctx, s.st, p, op, userID); err != nil {
		return nil, domain.E(op, err)
	}
	gs, err := s.st.ListProjectGrants(ctx, store.GrantFilter{SubjectKind: domain.SubjectUser, SubjectID: userID})
	if err != nil {
		return nil, domain.E(op, err)
	}
	return gs, nil
}

// CheckActOnUser tells, without acting, whether the caller may act on a
// user with permission key (R21), bounded by R22 (the user must hold no
// more than the caller): nil, or the refusal the write would give. The
// console uses it to draw the user's forms disabled, with the reason,
// rather than failing after a click; the writes still check.
func (s *Service) CheckActOnUser(ctx context.Context, c Caller, userID, key string) error {
	const op = "service.CheckActOnUser"
	p, err := s.reader(op, c)
	if err != nil {
		return err
	}
	if _, err := s.loadUser(ctx, s.st, p, op, userID); err != nil {
		return domain.E(op, err)
	}
	if err := p.mayActOnUser(ctx, s.st, userID, key); err != nil {
		return domain.E(op, err)
	}
	return nil
}
