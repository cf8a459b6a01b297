package service

import (
	"context"
	"sort"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Reads are authorized like writes but not audited: R29 asks for every
// change, and auditing reads would bury the changes.

func (s *Service) reader(op string, c Caller) (*perms, error) {
	if err := s.authenticated(op, c); err != nil {
		return nil, err
	}
	return s.perms(op, c)
}

func forbidden(op, format string, args ...any) error {
	return domain.Errorf(op, domain.KindForbidden, format, args...)
}

// GetUser returns a user (users.view, or the user themselves).
func (s *Service) GetUser(ctx context.Context, c Caller, id string) (domain.User, error) {
	const op = "service.GetUser"
	p, err := s.reader(op, c)
	if err != nil {
		return domain.User{}, err
	}
	u, err := s.loadUser(ctx, s.st, p, op, id)
	if err != nil {
		return u, domain.E(op, err)
	}
	p.maskUser(&u)
	return u, nil
}

// ListUsers lists users (users.view), searched and sorted as ListQuery says.
func (s *Service) ListUsers(ctx context.Context, c Caller, q ListQuery) (Page[domain.User], error) {
	const op = "service.ListUsers"
	p, err := s.reader(op, c)
	if err != nil {
		return Page[domain.User]{}, err
	}
	if !p.has(domain.PermUsersView) {
		return Page[domain.User]{}, forbidden(op, "missing permission %s", domain.PermUsersView)
	}
	sp, err := s.st.ListUsers(ctx, p.personalQuery(q.store()))
	page := pageOf(sp)
	for i := range page.Items {
		p.maskUser(&page.Items[i])
	}
	if err != nil {
		return page, domain.E(op, err)
	}
	return page, nil
}

// GetGroup returns a group the caller may see (R21: groups.view, or
// project.moderate for the project's own groups); KindNotFound otherwise.
func (s *Service) GetGroup(ctx context.Context, c Caller, id string) (domain.Group, error) {
	const op = "service.GetGroup"
	p, err := s.reader(op, c)
	if err != nil {
		return domain.Group{}, err
	}
	g, err := loadGroup(ctx, s.st, p, op, id)
	if err != nil {
		return domain.Group{}, domain.E(op, err)
	}
	return g, nil
}

// ListGroups lists groups (R21: groups.view). A moderator of a project
// without groups.view may list that project's groups (q.ProjectID).
func (s *Service) ListGroups(ctx context.Context, c Caller, q ListQuery) (Page[domain.Group], error) {
	const op = "service.ListGroups"
	p, err := s.reader(op, c)
	if err != nil {
		return Page[domain.Group]{}, err
	}
	if !p.has(domain.PermGroupsView) && !p.moderates(q.ProjectID) {
		return Page[domain.Group]{}, forbidden(op, "missing permission %s (R21)", domain.PermGroupsView)
	}
	sp, err := s.st.ListGroups(ctx, q.store())
	page := pageOf(sp)
	if err != nil {
		return page, domain.E(op, err)
	}
	return page, nil
}

// Member sort orders (R28).
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"
	OrderNone = "none"
)

// MemberQuery selects a page of a group's member list (R28).
type MemberQuery struct {
	Search string // username, display name or email, case-insensitively
	Sort   string // username (default), display_name, email, created_at or role
	Order  string // asc (default), desc, or none: the order users were created in
	Cursor string
	Limit  int
	// AllUsers lists every user with a Member flag, as the console's
	// checkbox list does [S3]; otherwise only members are listed.
	AllUsers bool
	// Effective lists every user who is a member now, directly or
	// through nested groups, with the path (Through), a page at a time
	// (ListEffectiveMembersPage): Sort is username or through, Order asc
	// or desc; AllUsers is refused.
	Effective bool
}

// MemberRow is one row of a member list: the user, their role and email,
// their membership, and in exclusive projects the group they are in there
// (so the console can disable the checkbox, R28).
type MemberRow struct {
	User      domain.User
	Member    bool
	ExpiresAt *time.Time
	RoleID    string
	RoleName  string
	Email     string
	// CurrentGroups lists, for each exclusive project where the group is
	// present, the group the user is in there, if any.
	CurrentGroups []CurrentGroup
	// Through names, in an effective list, the groups between the user
	// and the group (nested groups), from the user's direct group up.
	Through []string
}

// CurrentGroup is the user's single group in an exclusive project.
type CurrentGroup struct {
	ProjectID string
	GroupID   string
	GroupName string
}

// ListMembers lists a group's members (R28): groups.view and users.view,
// or project.moderate for a project group of that project.
func (s *Service) ListMembers(ctx context.Context, c Caller, groupID string, q MemberQuery) (Page[MemberRow], error) {
	const op = "service.ListMembers"
	var out Page[MemberRow]
	if q.Effective {
		return s.effectivePage(ctx, c, groupID, q)
	}
	if q.Sort == EffectiveSortThrough {
		return out, invalid(op, "sort", "%s orders the effective members only (effective)", EffectiveSortThrough)
	}
	p, err := s.reader(op, c)
	if err != nil {
		return out, err
	}
	g, err := loadGroup(ctx, s.st, p, op, groupID)
	if err != nil {
		return out, domain.E(op, err)
	}
	if !p.has(domain.PermUsersView) && !(g.Scope == domain.ScopeProject && p.moderates(g.ProjectID)) {
		return out, forbidden(op, "missing permission %s: listing members shows users", domain.PermUsersView)
	}
	lq := p.personalQuery(store.ListQuery{Search: q.Search, Sort: q.Sort, Cursor: q.Cursor, Limit: q.Limit})
	// The store sorts by user columns; the role is sorted here, over the
	// whole list (one page, no cursor).
	byRole := q.Sort == "role"
	if byRole {
		lq.Sort, lq.Cursor, lq.Limit = "", "", 1000
	}
	switch q.Order {
	case "", OrderAsc:
	case OrderDesc:
		lq.Desc = true
	case OrderNone:
		lq.Sort = "created_at"
	default:
		return out, invalid(op, "order", "must be asc, desc or none, not %q", q.Order)
	}
	type row struct {
		u domain.User
		m *domain.Membership
	}
	var rows []row
	if q.AllUsers {
		page, err := s.st.ListUsers(ctx, lq)
		if byRole && err == nil {
			page.Items, err = collect(ctx, func(cur string) (store.Page[domain.User], error) {
				lq.Cursor = cur
				return s.st.ListUsers(ctx, lq)
			})
			page.Next = ""
		}
		if err != nil {
			return out, domain.E(op, err)
		}
		for _, u := range page.Items {
			r := row{u: u}
			if m, err := s.st.GetMembership(ctx, groupID, u.ID); err == nil {
				r.m = &m
			} else if !domain.Is(err, domain.KindNotFound) {
				return out, domain.E(op, err)
			}
			rows = append(rows, r)
		}
		out.Next = page.Next
	} else {
		page, err := s.st.ListMembers(ctx, groupID, lq)
		if byRole && err == nil {
			page.Items, err = collect(ctx, func(cur string) (store.Page[store.Member], error) {
				lq.Cursor = cur
				return s.st.ListMembers(ctx, groupID, lq)
			})
			page.Next = ""
		}
		if err != nil {
			return out, domain.E(op, err)
		}
		for _, m := range page.Items {
			rows = append(rows, row{u: m.User, m: &m.Membership})
		}
		out.Next = page.Next
	}
	projects, err := presentIn(ctx, s.st, &g)
	if err != nil {
		return out, domain.E(op, err)
	}
	var exclusive []string
	for _, pr := range projects {
		proj, err := s.st.GetProject(ctx, pr.ID)
		if err != nil {
			return out, domain.E(op, err)
		}
		if proj.MembershipMode == domain.ModeExclusive {
			exclusive = append(exclusive, proj.ID)
		}
	}
	roles := map[string]string{}
	out.Items = make([]MemberRow, 0, len(rows))
	for _, r := range rows {
		p.maskUser(&r.u)
		mr := MemberRow{User: r.u, Member: r.m != nil, RoleID: r.u.SystemRoleID, Email: r.u.Email}
		if r.m != nil {
			mr.ExpiresAt = r.m.ExpiresAt
		}
		if mr.RoleID != "" {
			if _, ok := roles[mr.RoleID]; !ok {
				if role, err := s.st.GetRole(ctx, mr.RoleID); err == nil {
					roles[mr.RoleID] = role.Name
				}
			}
			mr.RoleName = roles[mr.RoleID]
		}
		for _, pid := range exclusive {
			gs, err := s.exclusiveGroups(ctx, s.st, r.u.ID, pid, "")
			if err != nil {
				return out, domain.E(op, err)
			}
			for _, eg := range gs {
				mr.CurrentGroups = append(mr.CurrentGroups, CurrentGroup{ProjectID: pid, GroupID: eg.ID, GroupName: eg.Name})
			}
		}
		out.Items = append(out.Items, mr)
	}
	if byRole {
		// Stable: rows arrive by username, which breaks ties.
		sort.SliceStable(out.Items, func(i, j int) bool {
			a, b := out.Items[i].RoleName, out.Items[j].RoleName
			if lq.Desc {
				return a > b
			}
			return a < b
		})
	}
	return out, nil
}

// GetRole returns a role (roles.view).
func (s *Service) GetRole(ctx context.Context, c Caller, id string) (domain.Role, error) {
	const op = "service.GetRole"
	p, err := s.reader(op, c)
	if err != nil {
		return domain.Role{}, err
	}
	if !p.has(domain.PermRolesView) {
		return domain.Role{}, domain.E(op, notFound(op, "role", id))
	}
	r, err := s.st.GetRole(ctx, id)
	if err != nil {
		return r, domain.E(op, err)
	}
	return r, nil
}

// ListRoles lists roles (roles.view).
func (s *Service) ListRoles(ctx context.Context, c Caller, q ListQuery) (Page[domain.Role], error) {
	const op = "service.ListRoles"
	p, err := s.reader(op, c)
	if err != nil {
		return Page[domain.Role]{}, err
	}
	if !p.has(domain.PermRolesView) {
		return Page[domain.Role]{}, forbidden(op, "missing permission %s", domain.PermRolesView)
	}
	sp, err := s.st.ListRoles(ctx, q.store())
	page := pageOf(sp)
	if err != nil {
		return page, domain.E(op, err)
	}
	return page, nil
}

// GetProject returns a project the caller may see (see loadProject).
func (s *Service) GetProject(ctx context.Context, c Caller, id string) (domain.Project, error) {
	const op = "service.GetProject"
	p, err := s.reader(op, c)
	if err != nil {
		return domain.Project{}, err
	}
	pr, err := s.loadProject(ctx, s.st, p, op, id)
	if err != nil {
		return pr, domain.E(op, err)
	}
	return pr, nil
}

// ListProjects lists the projects the caller may see: all of them for
// holders of server.manage, groups.view, users.view or project.delete,
// else those they may read (a page may then hold fewer than Limit).
func (s *Service) ListProjects(ctx context.Context, c Caller, q ListQuery) (Page[domain.Project], error) {
	const op = "service.ListProjects"
	p, err := s.reader(op, c)
	if err != nil {
		return Page[domain.Project]{}, err
	}
	sp, err := s.st.ListProjects(ctx, q.store())
	page := pageOf(sp)
	if err != nil {
		return page, domain.E(op, err)
	}
	if !p.seesAllProjects() {
		kept := page.Items[:0]
		for _, pr := range page.Items {
			if p.onProject(pr.ID)[domain.PermProjectRead] {
				kept = append(kept, pr)
			}
		}
		page.Items = kept
	}
	return page, nil
}

// ListProjectGrants lists the grant rows on a project: who is a member
// and with which rights (users.view or groups.view, or project.moderate on
// it).
func (s *Service) ListProjectGrants(ctx context.Context, c Caller, projectID string) ([]domain.ProjectGrant, error) {
	const op = "service.ListProjectGrants"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadProject(ctx, s.st, p, op, projectID); err != nil {
		return nil, domain.E(op, err)
	}
	if !p.has(domain.PermUsersView) && !p.has(domain.PermGroupsView) && !p.moderates(projectID) {
		return nil, forbidden(op, "missing permission %s or %s on project %s", domain.PermGroupsView, domain.PermProjectModerate, projectID)
	}
	gs, err := s.st.ListProjectGrants(ctx, store.GrantFilter{ProjectID: projectID})
	if err != nil {
		return nil, domain.E(op, err)
	}
	return gs, nil
}

// mayViewFolders: holders of files.admin, groups.view (who set levels)
// see the whole tree; others see the folders they may read.
func (p *perms) mayViewFolder(id string) bool {
	return p.has(domain.PermFilesAdmin) || p.has(domain.PermGroupsView) || p.onFolder(id)[domain.ContextRoot+".read"]
}

// GetFolder returns a folder the caller may see.
func (s *Service) GetFolder(ctx context.Context, c Caller, id string) (domain.Folder, error) {
	const op = "service.GetFolder"
	p, err := s.reader(op, c)
	if err != nil {
		return domain.Folder{}, err
	}
	if !p.mayViewFolder(id) {
		return domain.Folder{}, domain.E(op, notFound(op, "folder", id))
	}
	f, err := s.st.GetFolder(ctx, id)
	if err != nil {
		return f, domain.E(op, err)
	}
	return f, nil
}

// ListFolders lists the children of parentID ("" for the roots) that the
// caller may see.
func (s *Service) ListFolders(ctx context.Context, c Caller, parentID string, q ListQuery) (Page[domain.Folder], error) {
	const op = "service.ListFolders"
	p, err := s.reader(op, c)
	if err != nil {
		return Page[domain.Folder]{}, err
	}
	sp, err := s.st.ListFolders(ctx, parentID, q.store())
	page := pageOf(sp)
	if err != nil {
		return page, domain.E(op, err)
	}
	kept := page.Items[:0]
	for _, f := range page.Items {
		if p.mayViewFolder(f.ID) {
			kept = append(kept, f)
		}
	}
	page.Items = kept
	return page, nil
}

// ListFolderTypes lists the folder types (any signed-in user: types are
// the schema of the tree, not data).
func (s *Service) ListFolderTypes(ctx context.Context, c Caller) ([]domain.FolderType, error) {
	const op = "service.ListFolderTypes"
	if _, err := s.reader(op, c); err != nil {
		return nil, err
	}
	ts, err := s.st.ListFolderTypes(ctx)
	if err != nil {
		return nil, domain.E(op, err)
	}
	return ts, nil
}

// GetFolderType returns a folder type (any signed-in user, as
// ListFolderTypes).
func (s *Service) GetFolderType(ctx context.Context, c Caller, id string) (domain.FolderType, error) {
	const op = "service.GetFolderType"
	if _, err := s.reader(op, c); err != nil {
		return domain.FolderType{}, err
	}
	t, err := s.st.GetFolderType(ctx, id)
	if err != nil {
		return t, domain.E(op, err)
	}
	return t, nil
}

// ListFolderLevels lists the levels on a folder (folderID) or held by a
// group (groupID): groups.view or files.admin.
func (s *Service) ListFolderLevels(ctx context.Context, c Caller, folderID, groupID string) ([]domain.FolderLevel, error) {
	const op = "service.ListFolderLevels"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if !p.has(domain.PermGroupsView) && !p.has(domain.PermFilesAdmin) {
		return nil, forbidden(op, "missing permission %s or %s", domain.PermGroupsView, domain.PermFilesAdmin)
	}
	ls, err := s.st.ListFolderLevels(ctx, folderID, groupID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	return ls, nil
}

// ListRules lists a group's rules (as GetGroup, or files.admin).
func (s *Service) ListRules(ctx context.Context, c Caller, groupID string) ([]domain.Rule, error) {
	const op = "service.ListRules"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	g, err := s.st.GetGroup(ctx, groupID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	if !p.mayViewGroup(&g) && !p.has(domain.PermFilesAdmin) {
		return nil, domain.E(op, notFound(op, "group", groupID))
	}
	rs, err := s.st.ListRules(ctx, groupID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	return rs, nil
}

// GetRule returns a rule (as ListRules for its group: a caller who may not
// see the group gets not found).
func (s *Service) GetRule(ctx context.Context, c Caller, id string) (domain.Rule, error) {
	const op = "service.GetRule"
	p, err := s.reader(op, c)
	if err != nil {
		return domain.Rule{}, err
	}
	r, err := s.st.GetRule(ctx, id)
	if err != nil {
		return domain.Rule{}, domain.E(op, err)
	}
	g, err := s.st.GetGroup(ctx, r.GroupID)
	if err != nil {
		return domain.Rule{}, domain.E(op, err)
	}
	if !p.mayViewGroup(&g) && !p.has(domain.PermFilesAdmin) {
		return domain.Rule{}, domain.E(op, notFound(op, "rule", id))
	}
	return r, nil
}

// ListAudit lists audit events, newest first (audit.view).
func (s *Service) ListAudit(ctx context.Context, c Caller, q AuditQuery) (Page[domain.AuditEvent], error) {
	const op = "service.ListAudit"
	p, err := s.reader(op, c)
	if err != nil {
		return Page[domain.AuditEvent]{}, err
	}
	if !p.has(domain.PermAuditView) {
		return Page[domain.AuditEvent]{}, forbidden(op, "missing permission %s", domain.PermAuditView)
	}
	sp, err := s.st.ListAudit(ctx, q.store())
	page := pageOf(sp)
	if err != nil {
		return page, domain.E(op, err)
	}
	return page, nil
}

// UserIDByUsername finds the id of the user named username (any case), for
// a question about that user. Naming yourself is always allowed; naming
// anyone else, or no one, needs what authorizeQuery asks for questions
// about others, so whether a name exists is told only to callers who
// could list users anyway. An unknown name is KindNotFound.
func (s *Service) UserIDByUsername(ctx context.Context, c Caller, username string) (string, error) {
	const op = "service.UserIDByUsername"
	u, err := s.st.GetUserByUsername(ctx, username)
	if err != nil && !domain.Is(err, domain.KindNotFound) {
		return "", domain.E(op, err)
	}
	if err == nil && u.ID == c.UserID && c.UserID != "" {
		return u.ID, nil
	}
	if aerr := s.authorizeQuery(c, "", true); aerr != nil {
		return "", aerr
	}
	if err != nil {
		return "", domain.E(op, err)
	}
	return u.ID, nil
}

// authorizeQuery says whether the caller may ask the engine about subject
// (a check, an explanation, a list of resources or permissions): anyone
// may ask about themselves, anonymous callers about anonymous access, and
// asking about another user, or who may act (ListSubjects, everyone is
// the subject), needs users.view, since the answers tell what others may
// do. A limited API token needs users.view in its limit too.
func (s *Service) authorizeQuery(c Caller, subjectUserID string, others bool) error {
	const op = "service.AuthorizeQuery"
	if !others && subjectUserID == c.UserID {
		return nil
	}
	if c.Anonymous() {
		return domain.Errorf(op, domain.KindUnauthenticated, "sign in to ask about other subjects")
	}
	ok, err := s.MayAskAboutOthers(c)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden(op, "asking about another subject needs %s", domain.PermUsersView)
	}
	return nil
}
