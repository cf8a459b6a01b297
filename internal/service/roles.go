package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// CreateRole creates a custom role (roles.edit). A system role may hold
// only permissions the caller holds (R22); a project role is bounded when
// it is used (SetGroupProjectRights, SetUserProjectRights) and when it is
// edited while in use.
func (s *Service) CreateRole(ctx context.Context, c Caller, r domain.Role) (domain.Role, int64, error) {
	const op, action = "service.CreateRole", "role.create"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.has(domain.PermRolesEdit) {
			return deny("role", "", "missing permission %s", domain.PermRolesEdit)
		}
		r.Builtin, r.Editable, r.Deletable = false, true, true
		if err := valid(&r, nil, identifier.Role); err != nil {
			return err
		}
		if r.ID == "" {
			r.ID = domain.NewID()
		}
		if err := tx.CreateRole(ctx, &r); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "role", r.ID, nil, r, "")
	})
	return r, rev, err
}

// RoleUpdate changes a role; nil leaves a field as it is.
type RoleUpdate struct {
	Name        *string
	Description *string
	Permissions *[]string
	Version     int64
}

// UpdateRole edits a role (roles.edit) unless it is not editable (System
// Administrator). Every holder gains or loses what the edit changes, so
// the caller must hold it (R22): system permissions at system level, project
// permissions on every project where the role is used. Editing an
// administrator role needs roles.assign_admin.
func (s *Service) UpdateRole(ctx context.Context, c Caller, id string, up RoleUpdate) (domain.Role, int64, error) {
	const op, action = "service.UpdateRole", "role.update"
	var r domain.Role
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.has(domain.PermRolesView) {
			return notFound(op, "role", id)
		}
		if r, err = tx.GetRole(ctx, id); err != nil {
			return err
		}
		if !p.has(domain.PermRolesEdit) {
			return deny("role", id, "missing permission %s", domain.PermRolesEdit)
		}
		if !r.Editable {
			return invalid(op, "id", "the built-in role %s cannot be edited", r.Name)
		}
		if domain.IsAdminRole(id) && !p.has(domain.PermRolesAssignAdmin) {
			return deny("role", id, "missing permission %s: %s is an administrator role (R22)", domain.PermRolesAssignAdmin, r.Name)
		}
		if up.Version != 0 && up.Version != r.Version {
			return conflict(op, "role %s changed meanwhile (version %d, not %d)", id, r.Version, up.Version)
		}
		before := r
		if up.Name != nil {
			r.Name = *up.Name
		}
		if up.Description != nil {
			r.Description = *up.Description
		}
		if up.Permissions != nil {
			r.Permissions = *up.Permissions
		}
		if err := valid(&r, &before, identifier.Role); err != nil {
			return err
		}
		if err := tx.UpdateRole(ctx, &r); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "role", id, before, r, "")
	})
	return r, rev, err
}

// DeleteRole deletes a role (roles.delete) unless it is built in and not
// deletable, or still assigned: then the answer lists its holders (R7).
func (s *Service) DeleteRole(ctx context.Context, c Caller, id string) (int64, error) {
	const op, action = "service.DeleteRole", "role.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.has(domain.PermRolesView) {
			return notFound(op, "role", id)
		}
		r, err := tx.GetRole(ctx, id)
		if err != nil {
			return err
		}
		if !p.has(domain.PermRolesDelete) {
			return deny("role", id, "missing permission %s", domain.PermRolesDelete)
		}
		if !r.Deletable {
			return invalid(op, "id", "the built-in role %s cannot be deleted", r.Name)
		}
		holders, err := tx.RoleHolders(ctx, id)
		if err != nil {
			return err
		}
		if len(holders) > 0 {
			return &HoldersError{Role: r.Name, Holders: roleHoldersOf(holders)}
		}
		if err := tx.DeleteRole(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "role", id, r, nil, "")
	})
}

// HoldersError is the KindConflict refusal of R7: the role is still
// assigned, to these holders.
type HoldersError struct {
	Role    string
	Holders []RoleHolder
}

func (e *HoldersError) Error() string {
	names := make([]string, len(e.Holders))
	for i, h := range e.Holders {
		names[i] = h.Kind + " " + h.Name
		if h.ProjectID != "" {
			names[i] += " in project " + h.ProjectID
		}
	}
	return fmt.Sprintf("role %s is still assigned (R7), to: %s; reassign them first", e.Role, strings.Join(names, ", "))
}

// Unwrap gives the error its kind.
func (e *HoldersError) Unwrap() error { return &domain.Error{Kind: domain.KindConflict} }
