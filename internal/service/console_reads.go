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
// present in (MODEL.md §3), so the console can draw the projects matrix.
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
