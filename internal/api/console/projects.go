package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The project page: where the administrators of a project start (the
// reference documents 001 and 004 begin at the project, not at a group).
// Its tabs show the groups present in the project with their rights or
// role, the project's members with their individual rights, and its
// settings. A project moderator lands here and does what they may (R21):
// the service decides, the page draws the rest disabled.

func (c *Console) projectRoutes() {
	m := c.mux
	m.HandleFunc("GET /admin/projects/{id}", c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, projectURL(r.PathValue("id"), "groups"), http.StatusSeeOther)
	}))
	m.HandleFunc("GET /admin/projects/{id}/{tab}", c.signedIn(c.projectTab))
	m.HandleFunc("POST /admin/projects/{id}/groups", c.signedIn(c.projectSaveGroups))
	m.HandleFunc("POST /admin/projects/{id}/import", c.signedIn(c.projectImport))
	m.HandleFunc("POST /admin/projects/{id}/remove", c.signedIn(c.projectRemoveGroups))
	m.HandleFunc("POST /admin/projects/{id}/members", c.signedIn(c.projectSaveMembers))
	m.HandleFunc("POST /admin/projects/{id}/settings", c.signedIn(c.projectSaveSettings))
}

func projectURL(id, tab string) string { return "/admin/projects/" + url.PathEscape(id) + "/" + tab }

var projectTabs = []struct{ ID, Label string }{{"groups", "Groups"}, {"members", "Members"}, {"settings", "Settings"}}

// projectPage is the data of every tab of the project page.
type projectPage struct {
	Project   domain.Project
	Tab       string
	Tabs      any
	Moderates bool // project.moderate here (or server.manage)
	CanEdit   bool // may change groups' rights here: groups.edit or moderator
	Extra     map[string]any
}

func (c *Console) projectTab(w http.ResponseWriter, r *http.Request, s *session) {
	id, tab := r.PathValue("id"), r.PathValue("tab")
	if tab == "delete" {
		c.projectDeletePage(w, r, s)
		return
	}
	p, err := c.svc.GetProject(r.Context(), s.Caller(), id)
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "Project", "projects", message(err))
		return
	}
	mod := c.onProject(s, id)[domain.PermProjectModerate]
	pp := projectPage{Project: p, Tab: tab, Tabs: projectTabs, Moderates: mod || s.Can(domain.PermServerManage),
		CanEdit: mod || s.Can(domain.PermGroupsEdit), Extra: map[string]any{}}
	switch tab {
	case "groups":
		err = c.fillProjectGroups(r, s, &pp)
	case "members":
		err = c.fillProjectMembers(r, s, &pp)
	case "settings":
		pp.Extra["CanDelete"] = s.Can(domain.PermProjectDelete)
	default:
		c.fail(w, r, http.StatusNotFound, "There is no such tab.")
		return
	}
	if err != nil {
		pp.Extra["Error"] = message(err)
	}
	c.render(w, r, s, http.StatusOK, "project_"+tab, p.Name, "projects", pp)
}

// groupKind says what a group present in a project is.
func groupKind(g *domain.Group) string {
	switch {
	case g.Builtin != domain.BuiltinNone:
		return "built-in group"
	case g.Scope == domain.ScopeProject:
		return "project group"
	}
	return "system group (added)"
}

func (c *Console) fillProjectGroups(r *http.Request, s *session, pp *projectPage) error {
	groups, err := c.svc.ProjectGroups(r.Context(), s.Caller(), pp.Project.ID)
	if err != nil {
		return err
	}
	roles := c.projectRoles(r, s, pp.Project.ID)
	rows := make([]projectRow, 0, len(groups))
	kinds := map[string]string{}
	counts := map[string]int{}
	for _, pg := range groups {
		grant := domain.ProjectGrant{}
		if pg.Grant != nil {
			grant = *pg.Grant
		}
		row := rowOf(pp.Project, grant, roles, pp.CanEdit)
		row.ID, row.Name, row.Href = pg.Group.ID, pg.Group.Name, groupURL(pg.Group.ID, "members")
		row.New = pg.Grant == nil
		row.System = pg.Group.Scope == domain.ScopeSystem && pg.Group.Builtin == domain.BuiltinNone
		rows = append(rows, row)
		kinds[pg.Group.ID] = groupKind(&pg.Group)
		if n, err := c.svc.GroupMemberCounts(r.Context(), s.Caller(), pg.Group.ID); err == nil {
			counts[pg.Group.ID] = n.Active
		}
	}
	pp.Extra["Kinds"] = kinds
	pp.Extra["Counts"] = counts
	pp.Extra["Matrix"] = matrix{Action: projectURL(pp.Project.ID, "groups"), Rows: rows, Cols: projectCols(), Head: "Group",
		Select: slices.ContainsFunc(rows, func(r projectRow) bool { return r.System }), CanSave: pp.CanEdit, Kinds: kinds, Counts: counts,
		Empty: "No group is present in this project yet: create a project group or add an existing system group."}
	q := r.URL.Query()
	page, err := c.svc.ImportableGroups(r.Context(), s.Caller(), pp.Project.ID, service.ListQuery{Search: q.Get("gq"), Sort: "name", Cursor: q.Get("cursor"), Limit: c.pageSize})
	if err != nil {
		return err
	}
	pp.Extra["Importable"] = page.Items
	pp.Extra["GroupSearch"] = q.Get("gq")
	pp.Extra["Pager"] = pagerOf(projectURL(pp.Project.ID, "groups"), q, []string{"gq"}, page.Next)
	return nil
}

func (c *Console) projectSaveGroups(w http.ResponseWriter, r *http.Request, s *session) {
	pid, f := r.PathValue("id"), r.PostForm
	back := projectURL(pid, "groups")
	groups, err := c.svc.ProjectGroups(r.Context(), s.Caller(), pid)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	changed := 0
	for _, pg := range groups {
		gid := pg.Group.ID
		if !slices.Contains(f["row"], gid) {
			continue
		}
		keys, role := projectKeys(f["p."+gid]), f.Get("role."+gid)
		if !grantChanged(pg.Grant, keys, role) {
			continue
		}
		if _, _, err := c.svc.SetGroupProjectRights(r.Context(), s.Caller(), gid, pid, role, keys); err != nil {
			failed(w, r, back, err)
			return
		}
		changed++
	}
	done(w, r, back, "Rights saved ("+plural(changed, "group")+" changed).")
}

// projectImport adds existing system groups to the project, each with
// its default rights.
func (c *Console) projectImport(w http.ResponseWriter, r *http.Request, s *session) {
	pid := r.PathValue("id")
	back := projectURL(pid, "groups")
	ids := r.PostForm["group"]
	if len(ids) == 0 {
		failed(w, r, back, domain.Errorf("", domain.KindInvalid, "choose at least one group to add"))
		return
	}
	var msgs []string
	for _, gid := range ids {
		g, err := c.svc.GetGroup(r.Context(), s.Caller(), gid)
		if err == nil {
			_, _, err = c.svc.ImportGroup(r.Context(), s.Caller(), gid, []string{pid})
		}
		if err != nil {
			failed(w, r, back, err)
			return
		}
		msgs = append(msgs, "“"+g.Name+"” added. "+importOutcome(g))
	}
	done(w, r, back, strings.Join(msgs, " "))
}

// projectRemoveGroups removes system groups from the project; without
// the confirmation it shows what that does (R27) first.
func (c *Console) projectRemoveGroups(w http.ResponseWriter, r *http.Request, s *session) {
	pid, f := r.PathValue("id"), r.PostForm
	back := projectURL(pid, "groups")
	ids := f["group"]
	if len(ids) == 0 {
		failed(w, r, back, domain.Errorf("", domain.KindInvalid, "select the groups to remove from the project"))
		return
	}
	p, err := c.svc.GetProject(r.Context(), s.Caller(), pid)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	if f.Get("confirm") != "yes" {
		var groups []domain.Group
		members := 0
		for _, gid := range ids {
			if g, err := c.svc.GetGroup(r.Context(), s.Caller(), gid); err == nil {
				groups = append(groups, g)
			}
			if n, err := c.svc.GroupMemberCounts(r.Context(), s.Caller(), gid); err == nil {
				members += n.Active + n.Expired
			}
		}
		c.render(w, r, s, http.StatusOK, "project_remove", "Remove groups from "+p.Name, "projects", map[string]any{
			"Project": p, "Groups": groups, "Members": members})
		return
	}
	left := 0
	for _, gid := range ids {
		res, _, err := c.svc.RemoveGroupFromProjects(r.Context(), s.Caller(), gid, []string{pid}, true)
		if err != nil {
			failed(w, r, back, err)
			return
		}
		left += len(res.Users)
	}
	done(w, r, back, plural(len(ids), "group")+" removed from “"+p.Name+"”; "+plural(left, "member")+" left the project with them.")
}

func (c *Console) fillProjectMembers(r *http.Request, s *session, pp *projectPage) error {
	q := r.URL.Query()
	off, _ := strconv.Atoi(q.Get("offset"))
	off = max(off, 0)
	desc := q.Get("order") == "desc"
	rows, total, err := c.svc.ProjectMembers(r.Context(), s.Caller(), pp.Project.ID, service.ProjectMemberQuery{
		Search: q.Get("q"), UsernameOnly: !s.ShowPI(), Desc: desc, Offset: off, Limit: c.pageSize})
	if err != nil {
		return err
	}
	roles := c.projectRoles(r, s, pp.Project.ID)
	editable := pp.Moderates || s.Can(domain.PermUsersEdit)
	var mrows []projectRow
	for _, m := range rows {
		// In an exclusive project a member of one of its groups holds that
		// group's rights instead of their own, which are refused (R23).
		exclusiveMember := pp.Project.MembershipMode == domain.ModeExclusive && len(m.Groups) > 0
		row := rowOf(pp.Project, m.Grant, roles, editable && !exclusiveMember)
		row.ID, row.Name, row.Href = m.User.ID, m.User.Username, userURL(m.User.ID)
		row.Note = strings.Join(m.Groups, ", ")
		mrows = append(mrows, row)
	}
	base := projectURL(pp.Project.ID, "members")
	order := "desc"
	if desc {
		order = ""
	}
	pp.Extra["Roles"] = roles
	pp.Extra["SortHref"] = base + queryOf("q", q.Get("q"), "order", order)
	pp.Extra["Desc"] = desc
	pp.Extra["Total"] = total
	pp.Extra["Search"] = q.Get("q")
	pp.Extra["Matrix"] = matrix{Action: base + queryOf("q", q.Get("q"), "order", q.Get("order"), "offset", q.Get("offset")), Rows: mrows, Cols: projectCols(), Head: "Member",
		CanSave: editable, NoteHead: noteHead(pp.Project), Empty: "No member matches."}
	pp.Extra["Pages"] = offsetPager(base, q, []string{"q", "order"}, off, c.pageSize, total)
	return nil
}

// noteHead names the matrix's note column: the groups through which
// each member is in the project; in an exclusive project, the one group
// each member is in there (R23).
func noteHead(p domain.Project) string {
	if p.MembershipMode == domain.ModeExclusive {
		return "Current group"
	}
	return "Through groups"
}

// projectSaveMembers saves the members' individual rights, and adds a
// user by username.
func (c *Console) projectSaveMembers(w http.ResponseWriter, r *http.Request, s *session) {
	pid, f := r.PathValue("id"), r.PostForm
	back := projectURL(pid, "members") + queryOf("q", r.URL.Query().Get("q"), "order", r.URL.Query().Get("order"), "offset", r.URL.Query().Get("offset"))
	if name := strings.TrimSpace(f.Get("username")); name != "" {
		uid, err := c.svc.UserIDByUsername(r.Context(), s.Caller(), name)
		if err == nil {
			_, _, err = c.svc.SetUserProjectRights(r.Context(), s.Caller(), uid, pid, f.Get("new_role"), projectKeys(f["new"]))
		}
		if err != nil {
			failed(w, r, back, err)
			return
		}
		done(w, r, back, "“"+name+"” is now a member of the project.")
		return
	}
	changed := 0
	for _, uid := range f["row"] {
		keys, role := projectKeys(f["p."+uid]), f.Get("role."+uid)
		old, err := c.userGrant(r, s, uid, pid)
		if err != nil {
			failed(w, r, back, err)
			return
		}
		if sameSet(keys, old.Permissions) && role == old.RoleID {
			continue
		}
		if _, _, err := c.svc.SetUserProjectRights(r.Context(), s.Caller(), uid, pid, role, keys); err != nil {
			failed(w, r, back, err)
			return
		}
		changed++
	}
	done(w, r, back, "Rights saved ("+plural(changed, "member")+" changed).")
}

// userGrant returns a user's own grant row in a project (empty if none).
func (c *Console) userGrant(r *http.Request, s *session, userID, projectID string) (domain.ProjectGrant, error) {
	grants, err := c.svc.UserProjectGrants(r.Context(), s.Caller(), userID)
	for _, g := range grants {
		if g.ProjectID == projectID {
			return g, nil
		}
	}
	return domain.ProjectGrant{}, err
}

func (c *Console) projectSaveSettings(w http.ResponseWriter, r *http.Request, s *session) {
	pid, f := r.PathValue("id"), r.PostForm
	name, desc := strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("description"))
	mode := domain.MembershipMode(f.Get("mode"))
	p, _, err := c.svc.UpdateProject(r.Context(), s.Caller(), pid, service.ProjectUpdate{Name: &name, Description: &desc, MembershipMode: &mode})
	if err != nil {
		failed(w, r, projectURL(pid, "settings"), err)
		return
	}
	done(w, r, projectURL(pid, "settings"), "Project “"+p.Name+"” saved ("+string(p.MembershipMode)+" membership).")
}

// landModerator sends a user who may not list groups but moderates
// projects to their project page (or the project list), rather than to
// a page that says a permission is missing.
func (c *Console) landModerator(w http.ResponseWriter, r *http.Request, s *session) bool {
	_, projects := c.allProjects(s, r)
	var mine []string
	for _, p := range projects {
		if c.onProject(s, p.ID)[domain.PermProjectModerate] {
			mine = append(mine, p.ID)
		}
	}
	switch {
	case len(mine) == 1:
		http.Redirect(w, r, projectURL(mine[0], "groups"), http.StatusSeeOther)
	case len(mine) > 1:
		http.Redirect(w, r, "/admin/projects", http.StatusSeeOther)
	default:
		return false
	}
	return true
}

// offsets is a pager over a list counted in full (offset paging).
type offsets struct {
	Prev, Next, Label string
}

func offsetPager(base string, q url.Values, keep []string, off, size, total int) offsets {
	link := func(o int) string {
		v := url.Values{}
		for _, k := range keep {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		if o > 0 {
			v.Set("offset", strconv.Itoa(o))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	var p offsets
	if off > 0 {
		p.Prev = link(max(off-size, 0))
	}
	if off+size < total {
		p.Next = link(off + size)
	}
	if total > 0 {
		p.Label = strconv.Itoa(off+1) + "–" + strconv.Itoa(min(off+size, total)) + " of " + strconv.Itoa(total)
	}
	return p
}
