package service

import (
	"slices"
	"sort"
	"strings"

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
	if err := p.actOnUser(userID, key); err != nil {
		return domain.E(op, err)
	}
	return nil
}

// RolesOfScope lists every role of a scope, for the console's role
// pickers (all pages: roles are few, and a picker must not drop any).
// Holders of roles.view may list them; a moderator of projectID may list
// the project roles, to give one to a group or user there (R21).
func (s *Service) RolesOfScope(ctx context.Context, c Caller, scope domain.Scope, projectID string) ([]domain.Role, error) {
	const op = "service.RolesOfScope"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if !p.has(domain.PermRolesView) && !(scope == domain.ScopeProject && p.moderates(projectID)) {
		return nil, forbidden(op, "missing permission %s", domain.PermRolesView)
	}
	roles, err := collect(ctx, func(cur string) (store.Page[domain.Role], error) {
		return s.st.ListRoles(ctx, store.ListQuery{Scope: scope, Sort: "name", Cursor: cur, Limit: 1000})
	})
	if err != nil {
		return nil, domain.E(op, err)
	}
	return roles, nil
}

// MemberCounts counts a group's memberships: those that count now and
// those that have ended (R6) and are kept for the record.
type MemberCounts struct {
	Active, Expired int
}

// GroupMemberCounts counts a group's members, for the console's tab
// headers and dialogs, which say how many users an action touches without
// listing them (the group must be visible to the caller, R21).
func (s *Service) GroupMemberCounts(ctx context.Context, c Caller, groupID string) (MemberCounts, error) {
	const op = "service.GroupMemberCounts"
	var n MemberCounts
	p, err := s.reader(op, c)
	if err != nil {
		return n, err
	}
	if _, err := loadGroup(ctx, s.st, p, op, groupID); err != nil {
		return n, domain.E(op, err)
	}
	now := s.now()
	cur := ""
	for {
		page, err := s.st.ListMembers(ctx, groupID, store.ListQuery{Sort: "created_at", Cursor: cur, Limit: 1000})
		if err != nil {
			return n, domain.E(op, err)
		}
		for _, m := range page.Items {
			if m.Membership.ActiveAt(now) {
				n.Active++
			} else {
				n.Expired++
			}
		}
		if cur = page.Next; cur == "" {
			return n, nil
		}
	}
}

// ProjectGroup is one group present in a project, with its grant row
// there (nil for a project group that has no rights yet).
type ProjectGroup struct {
	Group domain.Group         `json:"group"`
	Grant *domain.ProjectGrant `json:"grant,omitempty"`
}

// ProjectGroups lists the groups present in a project: its own project
// groups and the system groups imported into it, each with its grant
// row, sorted by name, for the console's project page. It needs
// groups.view, or project.moderate on the project (R21: a moderator
// administers the groups present in their project).
func (s *Service) ProjectGroups(ctx context.Context, c Caller, projectID string) ([]ProjectGroup, error) {
	const op = "service.ProjectGroups"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadProject(ctx, s.st, p, op, projectID); err != nil {
		return nil, domain.E(op, err)
	}
	if !p.has(domain.PermGroupsView) && !p.moderates(projectID) {
		return nil, forbidden(op, "missing permission %s, or %s on the project", domain.PermGroupsView, domain.PermProjectModerate)
	}
	grants, err := s.st.ListProjectGrants(ctx, store.GrantFilter{ProjectID: projectID, SubjectKind: domain.SubjectGroup})
	if err != nil {
		return nil, domain.E(op, err)
	}
	own, err := collect(ctx, func(cur string) (store.Page[domain.Group], error) {
		return s.st.ListGroups(ctx, store.ListQuery{Scope: domain.ScopeProject, ProjectID: projectID, Sort: "name", Cursor: cur, Limit: 1000})
	})
	if err != nil {
		return nil, domain.E(op, err)
	}
	byID := map[string]int{}
	out := make([]ProjectGroup, 0, len(own)+len(grants))
	for _, g := range own {
		byID[g.ID] = len(out)
		out = append(out, ProjectGroup{Group: g})
	}
	for i := range grants {
		pg := grants[i]
		if j, ok := byID[pg.SubjectID]; ok {
			out[j].Grant = &pg
			continue
		}
		g, err := s.st.GetGroup(ctx, pg.SubjectID)
		if err != nil {
			return nil, domain.E(op, err)
		}
		out = append(out, ProjectGroup{Group: g, Grant: &pg})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return domain.NameKey(out[i].Group.Name) < domain.NameKey(out[j].Group.Name)
	})
	return out, nil
}

// ImportableGroups lists a page of the system groups that are not yet
// present in a project (searched by name), for the console's "add an
// existing system group" picker: groups.view, or project.moderate on the
// project. A page may hold fewer than q.Limit rows, since present groups
// are left out; its Next goes on from there.
func (s *Service) ImportableGroups(ctx context.Context, c Caller, projectID string, q ListQuery) (Page[domain.Group], error) {
	const op = "service.ImportableGroups"
	var out Page[domain.Group]
	p, err := s.reader(op, c)
	if err != nil {
		return out, err
	}
	if _, err := s.loadProject(ctx, s.st, p, op, projectID); err != nil {
		return out, domain.E(op, err)
	}
	if !p.has(domain.PermGroupsView) && !p.moderates(projectID) {
		return out, forbidden(op, "missing permission %s, or %s on the project", domain.PermGroupsView, domain.PermProjectModerate)
	}
	q.Scope, q.ProjectID = domain.ScopeSystem, ""
	page, err := s.st.ListGroups(ctx, q.store())
	if err != nil {
		return out, domain.E(op, err)
	}
	out.Next = page.Next
	for _, g := range page.Items {
		if g.Builtin != domain.BuiltinNone {
			continue // the built-in groups are not imported (R4, R5)
		}
		if _, err := s.st.GetProjectGrant(ctx, projectID, domain.SubjectGroup, g.ID); err == nil {
			continue
		} else if !domain.Is(err, domain.KindNotFound) {
			return out, domain.E(op, err)
		}
		out.Items = append(out.Items, g)
	}
	return out, nil
}

// ProjectMember is one member of a project: a user with a grant row of
// their own there, or in a group present in it (R24), with the groups
// through which they are; in an exclusive project that is one group at
// most, whose rights replace their own (R23).
type ProjectMember struct {
	User   domain.User         `json:"user"`
	Grant  domain.ProjectGrant `json:"grant"` // empty when they have no row of their own
	Groups []string            `json:"groups,omitempty"`
}

// ProjectMemberQuery selects a page of a project's members: searched by
// username, name or email, sorted by username (Desc for descending),
// from Offset, at most Limit rows.
type ProjectMemberQuery struct {
	Search string
	// UsernameOnly searches the username alone: for a caller to whom
	// names and emails are masked (R18), who must not find users by them.
	UsernameOnly  bool
	Desc          bool
	Offset, Limit int
}

// ProjectMembers lists a page of a project's members and how many match,
// for the console's project page: users.view, or project.moderate on the
// project (R21). Ended memberships (R6) do not make a member.
func (s *Service) ProjectMembers(ctx context.Context, c Caller, projectID string, q ProjectMemberQuery) ([]ProjectMember, int, error) {
	const op = "service.ProjectMembers"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, 0, err
	}
	if _, err := s.loadProject(ctx, s.st, p, op, projectID); err != nil {
		return nil, 0, domain.E(op, err)
	}
	if !p.has(domain.PermUsersView) && !p.moderates(projectID) {
		return nil, 0, forbidden(op, "missing permission %s, or %s on the project", domain.PermUsersView, domain.PermProjectModerate)
	}
	byUser, err := s.projectMemberSet(ctx, projectID)
	if err != nil {
		return nil, 0, domain.E(op, err)
	}
	rows := make([]ProjectMember, 0, len(byUser))
	for _, m := range byUser {
		if q.Search == "" || matchesUser(&m.User, q.Search, q.UsernameOnly) {
			m.User.PasswordHash = ""
			rows = append(rows, *m)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := domain.NameKey(rows[i].User.Username), domain.NameKey(rows[j].User.Username)
		if q.Desc {
			return a > b
		}
		return a < b
	})
	total := len(rows)
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	off := min(max(q.Offset, 0), total)
	return rows[off:min(off+q.Limit, total)], total, nil
}

// projectMemberSet gathers a project's members: the users with a row of
// their own, and the active members of every group present.
func (s *Service) projectMemberSet(ctx context.Context, projectID string) (map[string]*ProjectMember, error) {
	grants, err := s.st.ListProjectGrants(ctx, store.GrantFilter{ProjectID: projectID})
	if err != nil {
		return nil, err
	}
	byUser := map[string]*ProjectMember{}
	var groups []string
	for _, g := range grants {
		if g.SubjectKind == domain.SubjectGroup {
			groups = append(groups, g.SubjectID)
			continue
		}
		u, err := s.st.GetUser(ctx, g.SubjectID)
		if err != nil {
			return nil, err
		}
		byUser[u.ID] = &ProjectMember{User: u, Grant: g}
	}
	own, err := collect(ctx, func(cur string) (store.Page[domain.Group], error) {
		return s.st.ListGroups(ctx, store.ListQuery{Scope: domain.ScopeProject, ProjectID: projectID, Cursor: cur, Limit: 1000})
	})
	if err != nil {
		return nil, err
	}
	for _, g := range own {
		if !slices.Contains(groups, g.ID) {
			groups = append(groups, g.ID)
		}
	}
	now := s.now()
	for _, gid := range groups {
		g, err := s.st.GetGroup(ctx, gid)
		if err != nil {
			return nil, err
		}
		members, err := collect(ctx, func(cur string) (store.Page[store.Member], error) {
			return s.st.ListMembers(ctx, gid, store.ListQuery{Sort: "created_at", Cursor: cur, Limit: 1000})
		})
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if !m.Membership.ActiveAt(now) {
				continue
			}
			pm, ok := byUser[m.User.ID]
			if !ok {
				pm = &ProjectMember{User: m.User}
				byUser[m.User.ID] = pm
			}
			pm.Groups = append(pm.Groups, g.Name)
		}
	}
	return byUser, nil
}

// matchesUser reports whether a search matches a user's username, name
// or email, case-insensitively, as the store's user search does.
func matchesUser(u *domain.User, search string, usernameOnly bool) bool {
	k := domain.NameKey(search)
	fields := []string{u.Username, u.DisplayName, u.Email}
	if usernameOnly {
		fields = fields[:1]
	}
	for _, f := range fields {
		if strings.Contains(domain.NameKey(f), k) {
			return true
		}
	}
	return false
}

// UserGroup is one group of a user, with the membership (its expiry).
type UserGroup struct {
	Group      domain.Group      `json:"group"`
	Membership domain.Membership `json:"membership"`
}

// UserGroups lists the groups a user is in, ended memberships too (R6),
// sorted by group name, for the user's page: the user must be visible to
// the caller, and only the groups the caller may see are listed (R21).
func (s *Service) UserGroups(ctx context.Context, c Caller, userID string) ([]UserGroup, error) {
	const op = "service.UserGroups"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadUser(ctx, s.st, p, op, userID); err != nil {
		return nil, domain.E(op, err)
	}
	ms, err := s.st.ListUserMemberships(ctx, userID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	out := make([]UserGroup, 0, len(ms))
	for _, m := range ms {
		g, err := s.st.GetGroup(ctx, m.GroupID)
		if err != nil {
			return nil, domain.E(op, err)
		}
		if p.mayViewGroup(&g) {
			out = append(out, UserGroup{Group: g, Membership: m})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return domain.NameKey(out[i].Group.Name) < domain.NameKey(out[j].Group.Name)
	})
	return out, nil
}

// FolderRules lists the rules that grant on a folder because they match
// it or an ancestor (R16), as the engine finds them, for the folder page.
// It is authorized like the page's levels: the folder must be visible,
// and the caller needs groups.view or files.admin; either shows every
// group's rules (ListRules), so none is left out.
func (s *Service) FolderRules(_ context.Context, c Caller, folderID string) ([]FolderRule, error) {
	const op = "service.FolderRules"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if !p.mayViewFolder(folderID) {
		return nil, domain.E(op, notFound(op, "folder", folderID))
	}
	if !p.has(domain.PermGroupsView) && !p.has(domain.PermFilesAdmin) {
		return nil, forbidden(op, "missing permission %s or %s", domain.PermGroupsView, domain.PermFilesAdmin)
	}
	rs, err := s.f.Engine().FolderRules(folderID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	return folderRulesOf(rs), nil
}
