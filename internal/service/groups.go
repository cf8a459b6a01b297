package service

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// mayAdministerGroup reports whether the caller holds the system
// permission key, or moderates the project of a project group (R21's
// delegation [S2]).
func (p *perms) mayAdministerGroup(g *domain.Group, key string) bool {
	return p.has(key) || (g.Scope == domain.ScopeProject && p.moderates(g.ProjectID))
}

// mayViewGroup is R21's groups.view, or moderation of the group's project.
func (p *perms) mayViewGroup(g *domain.Group) bool {
	return p.mayAdministerGroup(g, domain.PermGroupsView)
}

// needsAlongside is R9 applied to the caller [S5]: groups.edit works only
// together with roles.view (the role selection), groups.members only
// together with users.view (the user list). Grants saved through this
// service always meet R9, so this bites only on data written otherwise;
// moderators acting on their project's groups are not concerned.
func (p *perms) needsAlongside(g *domain.Group, key, kind, id string) error {
	if g.Scope == domain.ScopeProject && p.moderates(g.ProjectID) {
		return nil
	}
	perm, _ := domain.LookupPermission(key)
	for _, r := range perm.Requires {
		if !p.has(r) {
			return deny(kind, id, "missing permission %s: %s works only together with it (R9)", r, key)
		}
	}
	return nil
}

// loadGroup reads a group the caller may see; one they may not see is
// KindNotFound, as if it did not exist (R21).
func loadGroup(ctx context.Context, r store.Reader, p *perms, op, id string) (domain.Group, error) {
	g, err := r.GetGroup(ctx, id)
	if err != nil {
		return g, err
	}
	if !p.mayViewGroup(&g) {
		return g, notFound(op, "group", id)
	}
	return g, nil
}

// checkSystemGrant checks a group's or user's system grant: the role
// exists and is a system role, the whole set meets R9, and the caller
// holds every permission the change adds or takes away (R22),
// roles.assign_admin for an administrator role.
func checkSystemGrant(ctx context.Context, r store.Reader, p *perms, op, targetKind, targetID, roleID string, keys []string, oldRole string) ([]string, error) {
	rp, _, err := rolePerms(ctx, r, roleID, domain.ScopeSystem, "system_role_id")
	if err != nil {
		return nil, domain.E(op, err)
	}
	all := union(rp, keys)
	if err := domain.CheckRequirements(op, "system_permissions", all); err != nil {
		return nil, err
	}
	if roleID != oldRole && (domain.IsAdminRole(roleID) || domain.IsAdminRole(oldRole)) && !p.has(domain.PermRolesAssignAdmin) {
		return nil, deny(targetKind, targetID, "missing permission %s: assigning or removing an administrator role needs it (R22)", domain.PermRolesAssignAdmin)
	}
	return all, nil
}

// checkProjectGrant checks rights given on a project: the role is a
// project role, the set meets R9, and the caller holds on the project what
// the change adds or takes away (R22).
func checkProjectGrant(ctx context.Context, r store.Reader, op, projectID, roleID string, keys []string) error {
	rp, _, err := rolePerms(ctx, r, roleID, domain.ScopeProject, "role_id")
	if err != nil {
		return domain.E(op, err)
	}
	all := union(rp, keys)
	if err := domain.CheckRequirements(op, "permissions", all); err != nil {
		return err
	}
	return nil
}

// CreateGroup creates a system or project group. The scope is fixed from
// now on (R1). System groups need groups.edit; project groups need
// groups.edit or project.moderate on their project (R21). Grants given at
// creation are checked as SetGroupSystemGrants would (R9, R22).
func (s *Service) CreateGroup(ctx context.Context, c Caller, g domain.Group) (domain.Group, int64, error) {
	const op, action = "service.CreateGroup", "group.create"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if g.Builtin != domain.BuiltinNone {
			return invalid(op, "builtin", "built-in groups are created at bootstrap only")
		}
		if !p.mayAdministerGroup(&g, domain.PermGroupsEdit) {
			return deny("group", "", "missing permission %s (R21)", domain.PermGroupsEdit)
		}
		if err := p.needsAlongside(&g, domain.PermGroupsEdit, "group", ""); err != nil {
			return err
		}
		if g.Scope == domain.ScopeProject && g.ProjectID != "" {
			if _, err := tx.GetProject(ctx, g.ProjectID); err != nil {
				if domain.Is(err, domain.KindNotFound) {
					return invalid(op, "project_id", "project %s does not exist", g.ProjectID)
				}
				return err
			}
		}
		if err := valid(&g, nil, identifier.Group); err != nil {
			return err
		}
		if g.Scope == domain.ScopeSystem {
			if _, err := checkSystemGrant(ctx, tx, p, op, "group", "", g.SystemRoleID, g.SystemPermissions, ""); err != nil {
				return err
			}
			if err := checkDefaultRights(ctx, tx, op, g.DefaultProjectRoleID, g.DefaultProjectPermissions); err != nil {
				return err
			}
		}
		if g.ID == "" {
			g.ID = domain.NewID()
		}
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "group", g.ID, nil, g, "")
	})
	return g, rev, err
}

func checkDefaultRights(ctx context.Context, r store.Reader, op, roleID string, keys []string) error {
	rp, _, err := rolePerms(ctx, r, roleID, domain.ScopeProject, "default_project_role_id")
	if err != nil {
		return domain.E(op, err)
	}
	return domain.CheckRequirements(op, "default_project_permissions", union(rp, keys))
}

// GroupUpdate changes a group's name and description; nil leaves a field
// as it is. Version, when not zero, must be the stored version
// (lost-update check).
type GroupUpdate struct {
	Name        *string
	Description *string
	Version     int64
}

// UpdateGroup renames or describes a group (groups.edit, or
// project.moderate for a project group of the caller's project). Built-in
// groups can be renamed and edited (R2).
func (s *Service) UpdateGroup(ctx context.Context, c Caller, id string, u GroupUpdate) (domain.Group, int64, error) {
	const op, action = "service.UpdateGroup", "group.update"
	var g domain.Group
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if g, err = loadGroup(ctx, tx, p, op, id); err != nil {
			return err
		}
		if !p.mayAdministerGroup(&g, domain.PermGroupsEdit) {
			return deny("group", id, "missing permission %s (R21)", domain.PermGroupsEdit)
		}
		if err := p.needsAlongside(&g, domain.PermGroupsEdit, "group", id); err != nil {
			return err
		}
		if u.Version != 0 && u.Version != g.Version {
			return conflict(op, "group %s changed meanwhile (version %d, not %d)", id, g.Version, u.Version)
		}
		before := g
		if u.Name != nil {
			g.Name = *u.Name
		}
		if u.Description != nil {
			g.Description = *u.Description
		}
		if err := valid(&g, &before, identifier.Group); err != nil {
			return err
		}
		if err := tx.UpdateGroup(ctx, &g); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "group", id, before, g, "")
	})
	return g, rev, err
}

// SetGroupSystemGrants sets a system group's role and permission
// checkboxes (groups.edit). R9 is checked on the union of the role and the
// checkboxes, R8 closes it, the kernel bounds it (R22); Public holds none
// (R5); Administrators keep server.manage (R3).
func (s *Service) SetGroupSystemGrants(ctx context.Context, c Caller, id, roleID string, keys []string) (domain.Group, int64, error) {
	const op, action = "service.SetGroupSystemGrants", "group.set_system_grants"
	var g domain.Group
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if g, err = s.loadGroupToEdit(ctx, tx, p, op, id); err != nil {
			return err
		}
		return s.setSystemGrants(ctx, tx, p, c, op, &g, roleID, keys)
	})
	return g, rev, err
}

// loadGroupToEdit loads a group the caller may edit (groups.edit, with
// roles.view, R9 [S5]).
func (s *Service) loadGroupToEdit(ctx context.Context, tx store.Tx, p *perms, op, id string) (domain.Group, error) {
	g, err := loadGroup(ctx, tx, p, op, id)
	if err != nil {
		return g, err
	}
	if !p.has(domain.PermGroupsEdit) {
		return g, deny("group", id, "missing permission %s (R21)", domain.PermGroupsEdit)
	}
	return g, p.needsAlongside(&g, domain.PermGroupsEdit, "group", id)
}

// setSystemGrants is SetGroupSystemGrants inside a transaction.
func (s *Service) setSystemGrants(ctx context.Context, tx store.Tx, p *perms, c Caller, op string, g *domain.Group, roleID string, keys []string) error {
	if g.Scope != domain.ScopeSystem {
		return invalid(op, "system_permissions", "a project group cannot hold system permissions")
	}
	if g.Builtin == domain.BuiltinPublic && (roleID != "" || len(keys) > 0) {
		return invalid(op, "system_permissions", "the Public group can hold no system permission (R5); give it folder levels or project read rights instead")
	}
	before := *g
	g.SystemRoleID, g.SystemPermissions = roleID, keys
	if err := g.Validate(); err != nil {
		return err
	}
	all, err := checkSystemGrant(ctx, tx, p, op, "group", g.ID, roleID, keys, before.SystemRoleID)
	if err != nil {
		return err
	}
	if g.Builtin == domain.BuiltinAdministrators && !slices.Contains(domain.Close(all), domain.PermServerManage) {
		return invalid(op, "system_permissions", "%s must keep %s: it is what makes its members administrators (R3)", g.Name, domain.PermServerManage)
	}
	if err := tx.UpdateGroup(ctx, g); err != nil {
		return err
	}
	return audit(ctx, tx, c, "group.set_system_grants", "group", g.ID, before, *g, "")
}

// GroupPrivileges is a system group's privileges as one form sets them:
// its role and checkboxes (ignored for Public, which holds none) and its
// accessible domains.
type GroupPrivileges struct {
	RoleID      string
	Permissions []string
	Domains     []string
}

// SetGroupPrivileges sets a group's system grants and domains in one
// transaction (groups.edit): refused or saved as a whole. Only what
// changes is written.
func (s *Service) SetGroupPrivileges(ctx context.Context, c Caller, id string, in GroupPrivileges) (domain.Group, []string, int64, error) {
	const op, action = "service.SetGroupPrivileges", "group.set_privileges"
	var g domain.Group
	var doms []string
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if g, err = s.loadGroupToEdit(ctx, tx, p, op, id); err != nil {
			return err
		}
		if g.Builtin != domain.BuiltinPublic && (g.SystemRoleID != in.RoleID || !sameKeys(g.SystemPermissions, in.Permissions)) {
			if err := s.setSystemGrants(ctx, tx, p, c, op, &g, in.RoleID, in.Permissions); err != nil {
				return err
			}
		}
		doms, err = s.setDomains(ctx, tx, c, op, &g, in.Domains)
		return err
	})
	return g, doms, rev, err
}

func sameKeys(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// SetGroupDefaultProjectRights sets the rights a system group brings into
// a project it is imported into (groups.edit; R9). R22 is checked on each
// import, where the project is known.
func (s *Service) SetGroupDefaultProjectRights(ctx context.Context, c Caller, id, roleID string, keys []string) (domain.Group, int64, error) {
	const op, action = "service.SetGroupDefaultProjectRights", "group.set_default_project_rights"
	var g domain.Group
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if g, err = loadGroup(ctx, tx, p, op, id); err != nil {
			return err
		}
		if !p.has(domain.PermGroupsEdit) {
			return deny("group", id, "missing permission %s (R21)", domain.PermGroupsEdit)
		}
		before := g
		g.DefaultProjectRoleID, g.DefaultProjectPermissions = roleID, keys
		if err := g.Validate(); err != nil {
			return err
		}
		if err := checkDefaultRights(ctx, tx, op, roleID, keys); err != nil {
			return err
		}
		if err := tx.UpdateGroup(ctx, &g); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "group", id, before, g, "")
	})
	return g, rev, err
}

// SetGroupDomains replaces a group's accessible domains (groups.edit).
// The kernel bounds them (R22): a caller adds or removes only domains
// they may access, unless they hold server.manage.
func (s *Service) SetGroupDomains(ctx context.Context, c Caller, id string, domains []string) ([]string, int64, error) {
	const op, action = "service.SetGroupDomains", "group.set_domains"
	var out []string
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := loadGroup(ctx, tx, p, op, id)
		if err != nil {
			return err
		}
		if !p.has(domain.PermGroupsEdit) {
			return deny("group", id, "missing permission %s (R21)", domain.PermGroupsEdit)
		}
		out, err = s.setDomains(ctx, tx, c, op, &g, domains)
		return err
	})
	return out, rev, err
}

// setDomains is SetGroupDomains inside a transaction; it writes nothing
// when the set is unchanged.
func (s *Service) setDomains(ctx context.Context, tx store.Tx, c Caller, op string, g *domain.Group, domains []string) ([]string, error) {
	if err := domain.CheckDomainList(domains); err != nil { // one rule for REST, console and apply
		return nil, domain.E(op, err)
	}
	old, err := tx.ListDomainGrants(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	var oldNames []string
	for _, d := range old {
		oldNames = append(oldNames, d.Domain)
	}
	want := map[string]bool{}
	var fields []domain.FieldError
	for i, name := range domains {
		d := domain.DomainGrant{GroupID: g.ID, Domain: name}
		if err := d.Validate(); err != nil {
			fields = append(fields, domain.FieldError{Field: fmt.Sprintf("domains[%d]", i), Message: err.Error()})
			continue
		}
		want[d.Domain] = true
	}
	if len(fields) > 0 {
		return nil, domain.E(op, domain.KindInvalid, fields)
	}
	out := slices.Sorted(maps.Keys(want))
	slices.Sort(oldNames)
	if slices.Equal(out, oldNames) {
		return out, nil
	}
	for _, name := range oldNames {
		if !want[name] {
			if err := tx.DeleteDomainGrant(ctx, g.ID, name); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range out {
		if !slices.Contains(oldNames, name) {
			if err := tx.PutDomainGrant(ctx, &domain.DomainGrant{GroupID: g.ID, Domain: name}); err != nil {
				return nil, err
			}
		}
	}
	return out, audit(ctx, tx, c, "group.set_domains", "group", g.ID, oldNames, out, "")
}

// SetGroupProjectRights sets a group's rights on a project where it is
// present: a project group on its own project, a system group on a project
// it was imported into. Needs groups.edit or project.moderate on the
// project (R21); the caller must hold there what the change adds (R22).
func (s *Service) SetGroupProjectRights(ctx context.Context, c Caller, groupID, projectID, roleID string, keys []string) (domain.ProjectGrant, int64, error) {
	const op, action = "service.SetGroupProjectRights", "group.set_project_rights"
	var pg domain.ProjectGrant
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, groupID)
		if err != nil {
			return err
		}
		if !p.has(domain.PermGroupsView) && !p.moderates(projectID) {
			return notFound(op, "group", groupID)
		}
		if !p.has(domain.PermGroupsEdit) && !p.moderates(projectID) {
			return deny("group", groupID, "missing permission %s, or %s on project %s (R21)", domain.PermGroupsEdit, domain.PermProjectModerate, projectID)
		}
		if g.Builtin == domain.BuiltinPublic {
			rp, _, err := rolePerms(ctx, tx, roleID, domain.ScopeProject, "role_id")
			if err != nil {
				return domain.E(op, err)
			}
			if bad := without(domain.Close(union(keys, rp)), []string{domain.PermProjectRead}); len(bad) > 0 {
				return invalid(op, "permissions", "the Public group carries project read rights only (R5), not %s", strings.Join(bad, ", "))
			}
		}
		old, err := tx.GetProjectGrant(ctx, projectID, domain.SubjectGroup, groupID)
		if domain.Is(err, domain.KindNotFound) {
			if g.Scope == domain.ScopeProject {
				if g.ProjectID != projectID {
					return invalid(op, "project_id", "a project group has rights only in its own project")
				}
			} else if g.Builtin == domain.BuiltinNone {
				return invalid(op, "project_id", "group %q is not present in project %s; import it first", g.Name, projectID)
			}
		} else if err != nil {
			return err
		}
		if _, err := tx.GetProject(ctx, projectID); err != nil {
			return err
		}
		pg = domain.ProjectGrant{ProjectID: projectID, SubjectKind: domain.SubjectGroup, SubjectID: groupID, RoleID: roleID, Permissions: keys}
		if err := pg.Validate(); err != nil {
			return err
		}
		if err := checkProjectGrant(ctx, tx, op, projectID, roleID, keys); err != nil {
			return err
		}
		if err := tx.PutProjectGrant(ctx, &pg); err != nil {
			return err
		}
		var before any
		if old.ProjectID != "" {
			before = old
		}
		return audit(ctx, tx, c, action, "group", groupID, before, pg, "project "+projectID)
	})
	return pg, rev, err
}

// DeleteGroupOptions choose what a group deletion does to its members.
type DeleteGroupOptions struct {
	// Members, for a project group, is "keep_users" (default: the members
	// stay in the project with no access) or "remove_users" (they leave
	// it) (R26).
	Members string
	// Confirm must be true to delete a system group, which removes it from
	// every project it is present in (R27).
	Confirm bool
}

// DeleteGroupResult says what a deletion did. Its JSON tags (and
// ProjectRef's) are the encoding of the deletion's audit record (its
// "after"), not the API's, which is pkg/gatehouse/api.GroupRemoval.
type DeleteGroupResult struct {
	Projects []ProjectRef `json:"projects"` // where the group was present
	Users    []string     `json:"users"`    // ids of the members, kept or removed as asked
}

// Member options of R26.
const (
	KeepUsers   = "keep_users"
	RemoveUsers = "remove_users"
)

// DeleteGroup deletes a group (groups.delete, or project.moderate for a
// project group of the caller's project). Built-in groups are refused
// (R2); project groups take KeepUsers or RemoveUsers (R26); system groups
// need Confirm and their members leave every project they were in through
// it (R27).
func (s *Service) DeleteGroup(ctx context.Context, c Caller, id string, o DeleteGroupOptions) (DeleteGroupResult, int64, error) {
	return s.deleteGroup(ctx, c, "service.DeleteGroup", id, o, nil)
}

// deleteGroup is DeleteGroup; precondition, if not nil, is asked about
// the group as the transaction read it (SCIM's kind of group and
// If-Match), so nothing can change in between.
func (s *Service) deleteGroup(ctx context.Context, c Caller, op, id string, o DeleteGroupOptions, precondition func(*domain.Group) error) (DeleteGroupResult, int64, error) {
	const action = "group.delete"
	var res DeleteGroupResult
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := loadGroup(ctx, tx, p, op, id)
		if err != nil {
			return err
		}
		if precondition != nil {
			if err := precondition(&g); err != nil {
				return err
			}
		}
		if !p.mayAdministerGroup(&g, domain.PermGroupsDelete) {
			return deny("group", id, "missing permission %s (R21)", domain.PermGroupsDelete)
		}
		if g.Builtin != domain.BuiltinNone {
			return invalid(op, "id", "%s is a built-in group; it can be renamed and edited but not deleted (R2)", g.Name)
		}
		if o.Members == "" {
			o.Members = KeepUsers
		}
		if o.Members != KeepUsers && o.Members != RemoveUsers {
			return invalid(op, "members", "must be keep_users or remove_users, not %q", o.Members)
		}
		if g.Scope == domain.ScopeSystem && !o.Confirm {
			return invalid(op, "confirm", "deleting a system group removes it and its members from every project it is in (R27); confirm to proceed")
		}
		if g.Scope == domain.ScopeSystem && o.Members == RemoveUsers {
			return invalid(op, "members", "applies to project groups only; a system group's members always leave its projects (R27)")
		}
		if res.Projects, err = presentIn(ctx, tx, &g); err != nil {
			return err
		}
		members, err := s.memberUserIDs(ctx, tx, id)
		if err != nil {
			return err
		}
		res.Users = []string{}
		for _, uid := range members {
			res.Users = append(res.Users, uid)
			for _, pr := range res.Projects {
				switch {
				case g.Scope == domain.ScopeSystem:
					_, err = dropEmptyIndividualRow(ctx, tx, uid, pr.ID)
				case o.Members == KeepUsers:
					_, err = ensureIndividualRow(ctx, tx, uid, pr.ID)
				default:
					err = tx.DeleteProjectGrant(ctx, pr.ID, domain.SubjectUser, uid)
					if domain.Is(err, domain.KindNotFound) {
						err = nil
					}
				}
				if err != nil {
					return err
				}
			}
		}
		if err := tx.DeleteGroup(ctx, id); err != nil {
			return err
		}
		detail := fmt.Sprintf("members: %s; projects: %d", o.Members, len(res.Projects))
		if g.Scope == domain.ScopeSystem {
			detail = fmt.Sprintf("confirmed; members left %d projects", len(res.Projects))
		}
		return audit(ctx, tx, c, action, "group", id, g, res, detail)
	})
	return res, rev, err
}

// ImportGroup makes a system group present in one or several projects
// [S2][S5], each with the group's default project rights. Needs
// groups.edit, or project.moderate on each project; R22 bounds the default
// rights on each project. Projects where it is already present are left
// as they are. The answer lists the projects it was imported into.
func (s *Service) ImportGroup(ctx context.Context, c Caller, groupID string, projectIDs []string) ([]ProjectRef, int64, error) {
	const op, action = "service.ImportGroup", "group.import"
	var out []ProjectRef
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		out = nil
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, groupID)
		if err != nil {
			return err
		}
		if g.Scope != domain.ScopeSystem || g.Builtin != domain.BuiltinNone {
			return invalid(op, "group_id", "only non-built-in system groups are imported into projects")
		}
		if len(projectIDs) == 0 {
			return invalid(op, "project_ids", "name at least one project")
		}
		for i, pid := range projectIDs {
			if !p.has(domain.PermGroupsView) && !p.moderates(pid) {
				return notFound(op, "group", groupID)
			}
			if !p.has(domain.PermGroupsEdit) && !p.moderates(pid) {
				return deny("group", groupID, "missing permission %s, or %s on project %s (R21)", domain.PermGroupsEdit, domain.PermProjectModerate, pid)
			}
			pr, err := tx.GetProject(ctx, pid)
			if domain.Is(err, domain.KindNotFound) {
				return invalid(op, fmt.Sprintf("project_ids[%d]", i), "project %s does not exist", pid)
			} else if err != nil {
				return err
			}
			if ok, err := isPresent(ctx, tx, &g, pid); err != nil || ok {
				if err != nil {
					return err
				}
				continue
			}
			if err := checkProjectGrant(ctx, tx, op, pid, g.DefaultProjectRoleID, g.DefaultProjectPermissions); err != nil {
				return err
			}
			if pr.MembershipMode == domain.ModeExclusive {
				if err := s.exclusiveJoin(ctx, tx, &g, pr); err != nil {
					return err
				}
			}
			pg := domain.ProjectGrant{ProjectID: pid, SubjectKind: domain.SubjectGroup, SubjectID: groupID,
				RoleID: g.DefaultProjectRoleID, Permissions: g.DefaultProjectPermissions}
			if err := tx.PutProjectGrant(ctx, &pg); err != nil {
				return err
			}
			if err := audit(ctx, tx, c, action, "group", groupID, nil, pg, "imported into project "+pr.Name); err != nil {
				return err
			}
			out = append(out, ProjectRef{ID: pr.ID, Name: pr.Name})
		}
		return nil
	})
	return out, rev, err
}

// exclusiveJoin refuses importing a group into an exclusive project when
// one of its members is already in another group present there: the
// import would put them in two (R23). Otherwise each member joins a group
// of the project, so their individual rights there are emptied, as
// AddMembers does.
func (s *Service) exclusiveJoin(ctx context.Context, tx store.Tx, g *domain.Group, pr domain.Project) error {
	members, err := s.memberUserIDs(ctx, tx, g.ID)
	if err != nil {
		return err
	}
	now := s.now()
	for _, uid := range members {
		if !s.f.Engine().MemberAt(uid, g.ID, now) {
			continue // an ended membership brings nobody into the project (R6)
		}
		others, err := s.exclusiveGroups(ctx, tx, uid, pr.ID, g.ID)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			username := uid
			if u, err := tx.GetUser(ctx, uid); err == nil {
				username = u.Username
			}
			return conflict("service.ImportGroup", "project %q is exclusive and %s is already in group %q there (R23); remove them from one group first",
				pr.Name, strings.Join(append([]string{username}, s.f.Engine().MembershipPath(uid, g.ID, now)...), " → "), others[0].Name)
		}
		if _, err := emptyIndividualRights(ctx, tx, uid, pr.ID); err != nil {
			return err
		}
	}
	return nil
}

// RemoveGroupResult lists what removing a system group from projects did.
type RemoveGroupResult struct {
	Projects []ProjectRef
	// Users are the members who left at least one of those projects: no
	// rights of their own and no other group present keeps them there.
	Users []string
}

// RemoveGroupFromProjects removes a system group from one or several
// projects: its grant rows there go, and its members leave those projects
// (R27): their empty individual rows there are removed; a member's
// individual row with rights stays, as it was given personally. Needs
// Confirm, and groups.edit or project.moderate on each project.
func (s *Service) RemoveGroupFromProjects(ctx context.Context, c Caller, groupID string, projectIDs []string, confirm bool) (RemoveGroupResult, int64, error) {
	const op, action = "service.RemoveGroupFromProjects", "group.remove_from_projects"
	var res RemoveGroupResult
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		res = RemoveGroupResult{Projects: []ProjectRef{}, Users: []string{}}
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, groupID)
		if err != nil {
			return err
		}
		if g.Scope != domain.ScopeSystem || g.Builtin != domain.BuiltinNone {
			return invalid(op, "group_id", "only non-built-in system groups are removed from projects; delete a project group instead")
		}
		for _, pid := range projectIDs {
			if !p.has(domain.PermGroupsView) && !p.moderates(pid) {
				return notFound(op, "group", groupID)
			}
			if !p.has(domain.PermGroupsEdit) && !p.moderates(pid) {
				return deny("group", groupID, "missing permission %s, or %s on project %s (R21)", domain.PermGroupsEdit, domain.PermProjectModerate, pid)
			}
		}
		if !confirm {
			return invalid(op, "confirm", "removing a system group from a project removes its members from that project (R27); confirm to proceed")
		}
		members, err := s.memberUserIDs(ctx, tx, groupID)
		if err != nil {
			return err
		}
		left := map[string]bool{}
		for i, pid := range projectIDs {
			pg, err := tx.GetProjectGrant(ctx, pid, domain.SubjectGroup, groupID)
			if domain.Is(err, domain.KindNotFound) {
				return invalid(op, fmt.Sprintf("project_ids[%d]", i), "group %q is not present in project %s", g.Name, pid)
			} else if err != nil {
				return err
			}
			pr, err := tx.GetProject(ctx, pid)
			if err != nil {
				return err
			}
			if err := tx.DeleteProjectGrant(ctx, pid, domain.SubjectGroup, groupID); err != nil {
				return err
			}
			for _, uid := range members {
				if _, err := dropEmptyIndividualRow(ctx, tx, uid, pid); err != nil {
					return err
				}
				// The member left the project unless something else keeps
				// them in it: rights of their own, or another group present.
				if _, err := tx.GetProjectGrant(ctx, pid, domain.SubjectUser, uid); err == nil {
					continue
				} else if !domain.Is(err, domain.KindNotFound) {
					return err
				}
				others, err := s.exclusiveGroups(ctx, tx, uid, pid, groupID)
				if err != nil {
					return err
				}
				if len(others) == 0 && !left[uid] {
					left[uid] = true
					res.Users = append(res.Users, uid)
				}
			}
			res.Projects = append(res.Projects, ProjectRef{ID: pr.ID, Name: pr.Name})
			if err := audit(ctx, tx, c, action, "group", groupID, pg, nil, "confirmed; removed from project "+pr.Name+" with its members"); err != nil {
				return err
			}
		}
		return nil
	})
	return res, rev, err
}
