package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// groupRow is one line of the groups list.
type groupRow struct {
	domain.Group
	ProjectName string
	CanDelete   bool
}

// onProject returns the caller's effective permissions on a project.
func (c *Console) onProject(s *session, projectID string) map[string]bool {
	out := map[string]bool{}
	if projectID == "" {
		return out
	}
	e, err := c.svc.EffectivePermissions(context.Background(), s.Caller(), service.EffectiveQuery{Resource: "project:" + projectID})
	if err == nil {
		for _, k := range e.Permissions {
			out[k] = true
		}
	}
	return out
}

// groupRights is what the caller may do to one group (R21), mirrored from
// the service's rules so that forbidden actions are drawn disabled. The
// service still checks every action.
type groupRights struct {
	Edit, Delete, Members bool
	Why                   string // why editing is disabled, if it is
}

func (c *Console) rightsOn(s *session, g *domain.Group) groupRights {
	mod := g.Scope == domain.ScopeProject && c.onProject(s, g.ProjectID)[domain.PermProjectModerate]
	r := groupRights{
		Edit:    s.Can(domain.PermGroupsEdit) || mod,
		Delete:  g.Builtin == domain.BuiltinNone && (s.Can(domain.PermGroupsDelete) || mod),
		Members: s.Can(domain.PermGroupsMembers) || mod,
	}
	switch g.Builtin {
	case domain.BuiltinEveryone, domain.BuiltinPublic:
		r.Members = false // R4, R5: no member list to edit
	case domain.BuiltinAdministrators:
		r.Members = r.Members && s.Can(domain.PermServerManage) // R3
	}
	if !r.Edit {
		r.Why = "You need the permission “Add/edit groups” (groups.edit) to change this group."
	}
	return r
}

// allProjects lists every project the caller may see, page after page
// (for pickers and name lookups: projects are counted in hundreds, not in
// the hundred thousands that users are).
func (c *Console) allProjects(s *session, r *http.Request) (map[string]string, []domain.Project) {
	names := map[string]string{}
	var all []domain.Project
	cur := ""
	for {
		page, err := c.svc.ListProjects(r.Context(), s.Caller(), service.ListQuery{Sort: "name", Cursor: cur, Limit: 1000})
		if err != nil {
			return names, all
		}
		for _, p := range page.Items {
			names[p.ID] = p.Name
		}
		all = append(all, page.Items...)
		if cur = page.Next; cur == "" {
			return names, all
		}
	}
}

func (c *Console) groupList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	page, err := c.svc.ListGroups(r.Context(), s.Caller(), service.ListQuery{Search: q.Get("q"), Sort: "name", Limit: c.pageSize, Cursor: q.Get("cursor")})
	if err != nil {
		if c.landModerator(w, r, s) {
			return
		}
		c.render(w, r, s, http.StatusForbidden, "denied", "Groups", "groups", message(err))
		return
	}
	rows := make([]groupRow, 0, len(page.Items))
	for _, g := range page.Items {
		rows = append(rows, groupRow{Group: g, ProjectName: c.projectName(r, s, g.ProjectID), CanDelete: c.rightsOn(s, &g).Delete})
	}
	c.render(w, r, s, http.StatusOK, "groups", "Groups", "groups", map[string]any{
		"Groups": rows, "Search": q.Get("q"), "CanCreate": s.Can(domain.PermGroupsEdit),
		"Everyone": c.groupName(r, s, domain.GroupEveryoneID), "Public": c.groupName(r, s, domain.GroupPublicID),
		"Pager": pagerOf("/admin/groups", q, []string{"q"}, page.Next),
	})
}

// groupName is a group's current name for a hint (the built-in groups can
// be renamed, R2: the demo calls Everyone "Normal Users"), or its built-in
// name when it cannot be read.
func (c *Console) groupName(r *http.Request, s *session, id string) string {
	if g, err := c.svc.GetGroup(r.Context(), s.Caller(), id); err == nil {
		return g.Name
	}
	for _, g := range domain.BuiltinGroups() {
		if g.ID == id {
			return g.Name
		}
	}
	return ""
}

func (c *Console) groupNew(w http.ResponseWriter, r *http.Request, s *session) {
	_, projects := c.allProjects(s, r)
	c.render(w, r, s, http.StatusOK, "group_new", "New group", "groups", map[string]any{
		"Projects": projects, "Project": r.URL.Query().Get("project"), "CanCreate": s.Can(domain.PermGroupsEdit),
	})
}

func (c *Console) groupCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	g := domain.Group{Name: strings.TrimSpace(f.Get("name")), Description: strings.TrimSpace(f.Get("description")),
		Scope: domain.Scope(f.Get("scope"))}
	if g.Scope == domain.ScopeProject {
		g.ProjectID = f.Get("project")
	}
	created, _, err := c.svc.CreateGroup(r.Context(), s.Caller(), g)
	if err != nil {
		failed(w, r, "/admin/groups/new", err)
		return
	}
	done(w, r, "/admin/groups/"+created.ID+"/privileges", "Group “"+created.Name+"” created. Now set its privileges.")
}

// tabs of the group editor, in order.
var groupTabs = []struct{ ID, Label string }{
	{"general", "General"}, {"privileges", "Privileges"}, {"projects", "Projects"},
	{"rules", "Rules"}, {"folders", "Folder permissions"}, {"members", "Members"}, {"nesting", "Nested groups"},
}

// editor is the data every tab of the group editor gets.
type editor struct {
	Group       domain.Group
	ProjectName string
	Rights      groupRights
	Tab         string
	Tabs        any
	Extra       map[string]any
}

func (c *Console) groupTab(w http.ResponseWriter, r *http.Request, s *session) {
	id, tab := r.PathValue("id"), r.PathValue("tab")
	g, err := c.svc.GetGroup(r.Context(), s.Caller(), id)
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "Group", "groups", message(err))
		return
	}
	e := c.editorOf(r, s, g, tab)
	var fill func() error
	switch tab {
	case "general":
	case "privileges":
		fill = func() error { return c.fillPrivileges(r, s, &e) }
	case "projects":
		fill = func() error { return c.fillProjects(r, s, &e) }
	case "rules":
		fill = func() error {
			rules, err := c.svc.ListRules(r.Context(), s.Caller(), g.ID)
			e.Extra["Rules"] = rules
			types, _ := c.svc.ListFolderTypes(r.Context(), s.Caller())
			tn := map[string]string{}
			for _, t := range types {
				tn[t.ID] = t.Name
			}
			e.Extra["TypeNames"] = tn
			return err
		}
	case "folders":
		fill = func() error { return c.fillFolders(r, s, &e) }
	case "members":
		fill = func() error { return c.fillMembers(r, s, &e) }
	case "nesting":
		fill = func() error { return c.fillNesting(r, s, &e) }
	case "delete":
		fill = func() error { return c.fillDelete(r, s, &e) }
	default:
		c.fail(w, r, http.StatusNotFound, "There is no such tab.")
		return
	}
	if fill != nil {
		if err := fill(); err != nil {
			e.Extra["Error"] = message(err)
		}
	}
	c.render(w, r, s, http.StatusOK, "group_"+tab, g.Name, "groups", e)
}

// editorOf starts the data of a group editor tab.
func (c *Console) editorOf(r *http.Request, s *session, g domain.Group, tab string) editor {
	return editor{Group: g, ProjectName: c.projectName(r, s, g.ProjectID), Rights: c.rightsOn(s, &g), Tab: tab, Tabs: groupTabs, Extra: map[string]any{}}
}

// projectName names a project by id ("" for none, the id when the
// caller may not see it).
func (c *Console) projectName(r *http.Request, s *session, id string) string {
	if id == "" {
		return ""
	}
	if p, err := c.svc.GetProject(r.Context(), s.Caller(), id); err == nil {
		return p.Name
	}
	return "a project you cannot see"
}

// projectRefs names the projects of grant rows.
func (c *Console) projectRefs(r *http.Request, s *session, grants []domain.ProjectGrant) []string {
	out := make([]string, 0, len(grants))
	for _, g := range grants {
		out = append(out, c.projectName(r, s, g.ProjectID))
	}
	slices.Sort(out)
	return out
}

func groupURL(id, tab string) string { return "/admin/groups/" + url.PathEscape(id) + "/" + tab }

func (c *Console) groupSaveGeneral(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	name, desc := strings.TrimSpace(r.PostForm.Get("name")), strings.TrimSpace(r.PostForm.Get("description"))
	g, _, err := c.svc.UpdateGroup(r.Context(), s.Caller(), id, service.GroupUpdate{Name: &name, Description: &desc})
	if err != nil {
		failed(w, r, groupURL(id, "general"), err)
		return
	}
	done(w, r, groupURL(id, "general"), "Saved “"+g.Name+"”.")
}

// privileges tab

type roleOption struct {
	domain.Role
	PermList string // its permissions, for console.js's R9 hints
}

func (c *Console) fillPrivileges(r *http.Request, s *session, e *editor) error {
	e.Extra["Areas"] = areasOf(domain.ScopeSystem)
	held := map[string]bool{}
	for _, k := range e.Group.SystemPermissions {
		held[k] = true
	}
	e.Extra["Held"] = held
	e.Extra["Closed"] = setOf(domain.Close(e.Group.SystemPermissions))
	var roles []roleOption
	sysRoles, _ := c.svc.RolesOfScope(r.Context(), s.Caller(), domain.ScopeSystem, "")
	for _, ro := range sysRoles {
		roles = append(roles, roleOption{Role: ro, PermList: strings.Join(domain.Close(ro.Permissions), " ")})
	}
	e.Extra["Roles"] = roles
	// What the role brings is shown on its boxes, so that the page says
	// everything the group holds; R9 is checked on the role and the
	// boxes together.
	all := slices.Clone(e.Group.SystemPermissions)
	e.Extra["FromRole"] = map[string]bool{}
	for _, ro := range roles {
		if ro.ID == e.Group.SystemRoleID {
			all = append(all, ro.Permissions...)
			e.Extra["FromRole"] = setOf(domain.Close(ro.Permissions))
			e.Extra["RoleName"] = ro.Name
		}
	}
	e.Extra["Unmet"] = domain.Unmet(all)
	doms, err := c.svc.GroupDomains(r.Context(), s.Caller(), e.Group.ID)
	e.Extra["Domains"] = strings.Join(doms, "\n")
	return err
}

func setOf(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func (c *Console) groupSavePrivileges(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := groupURL(id, "privileges")
	g, err := c.svc.GetGroup(r.Context(), s.Caller(), id)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	f := r.PostForm
	keys := f["perm"]
	// R8 also on the server: a browser without JavaScript gets "view"
	// checked with "edit" the same way.
	keys = closeViews(keys)
	// A refusal (R9, R22) shows the form again as it was sent, with the
	// reason, so that the administrator fixes it rather than starting over.
	again := func(err error) {
		e := c.editorOf(r, s, g, "privileges")
		e.Group.SystemRoleID, e.Group.SystemPermissions = f.Get("role"), keys
		_ = c.fillPrivileges(r, s, &e)
		e.Extra["Domains"] = f.Get("domains")
		delete(e.Extra, "Unmet") // the refusal says it
		s.Error = "Not saved: " + message(err)
		c.render(w, r, s, http.StatusUnprocessableEntity, "group_privileges", g.Name, "groups", e)
	}
	var doms []string
	seen := map[string]bool{} // a map: a hostile form may hold 100,000 lines
	for _, line := range strings.FieldsFunc(f.Get("domains"), func(r rune) bool { return r == '\n' || r == ',' }) {
		if d := strings.TrimSpace(line); d != "" && !seen[d] {
			seen[d] = true
			doms = append(doms, d)
		}
	}
	// One service call: the checkboxes and the domains are saved, or
	// refused, together.
	in := service.GroupPrivileges{RoleID: f.Get("role"), Permissions: keys, Domains: doms}
	if _, _, _, err := c.svc.SetGroupPrivileges(r.Context(), s.Caller(), id, in); err != nil {
		again(err)
		return
	}
	done(w, r, back, "Privileges of “"+g.Name+"” saved.")
}

// closeViews adds to keys the "view" each checked edit/delete/members box
// implies (R8), as the checkboxes do in the browser.
func closeViews(keys []string) []string {
	out := slices.Clone(keys)
	for _, k := range keys {
		if p, ok := domain.LookupPermission(k); ok {
			for _, i := range p.Implies {
				if strings.HasSuffix(i, ".view") && !contains(out, i) && k != domain.PermServerManage {
					out = append(out, i)
				}
			}
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

// projects tab

// projectRow is one project of a rights matrix (a group's or a user's):
// the boxes held directly, the role, and what the role brings.
type projectRow struct {
	ID, Name string
	Mode     domain.MembershipMode
	Keys     map[string]bool // the permissions granted directly
	RoleID   string
	RoleName string
	FromRole map[string]bool // the permissions the role brings (closed, R8)
	Roles    []domain.Role   // the project roles that may be chosen here
	Editable bool
	// New marks a project group's own project before it has any right
	// there: the group is present, with nothing granted yet.
	New bool
	// Href links the row's name (a project, group or user page); System
	// marks a system group on a project page (it can be removed there);
	// Note is the row's note column (a member's current group).
	Href   string
	System bool
	Note   string
}

var projectPerms = []string{domain.PermProjectRead, domain.PermProjectWrite, domain.PermProjectAddSeries, domain.PermProjectViewPI, domain.PermProjectModerate}

type permCol struct{ Key, Label string }

func projectCols() []permCol {
	out := make([]permCol, 0, len(projectPerms))
	for _, k := range projectPerms {
		p, _ := domain.LookupPermission(k)
		out = append(out, permCol{k, p.Label})
	}
	return out
}

// matrix is a rights matrix of projects × project permissions, with a
// role per row: a group's or a user's.
type matrix struct {
	Head    string // the first column's heading: Project, Group or Member
	Action  string // where the form posts
	Rows    []projectRow
	Cols    []permCol
	Select  bool // a selection column, for "remove from projects"
	CanSave bool
	Empty   string // what to say when there is no row
	// Kinds and Counts describe group rows (what the group is, how many
	// members); NoteHead heads the note column when rows have one.
	Kinds    map[string]string
	Counts   map[string]int
	NoteHead string
}

// rowOf builds a matrix row from a grant row and the project roles.
func rowOf(p domain.Project, g domain.ProjectGrant, roles []domain.Role, editable bool) projectRow {
	row := projectRow{ID: p.ID, Name: p.Name, Mode: p.MembershipMode, Keys: setOf(g.Permissions), RoleID: g.RoleID,
		FromRole: map[string]bool{}, Roles: roles, Editable: editable}
	for _, ro := range roles {
		if ro.ID == g.RoleID {
			row.RoleName = ro.Name
			row.FromRole = setOf(domain.Close(ro.Permissions))
		}
	}
	return row
}

// projectRoles lists the project roles the caller may choose from in
// projectID ("" for any project: roles.view).
func (c *Console) projectRoles(r *http.Request, s *session, projectID string) []domain.Role {
	roles, err := c.svc.RolesOfScope(r.Context(), s.Caller(), domain.ScopeProject, projectID)
	if err != nil {
		return nil
	}
	return roles
}

func (c *Console) fillProjects(r *http.Request, s *session, e *editor) error {
	grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), e.Group.ID)
	if err != nil {
		return err
	}
	var rows []projectRow
	present := map[string]bool{}
	for _, pg := range grants {
		p, err := c.svc.GetProject(r.Context(), s.Caller(), pg.ProjectID)
		if err != nil {
			continue // a project the caller may not see
		}
		present[p.ID] = true
		mod := c.onProject(s, p.ID)[domain.PermProjectModerate]
		rows = append(rows, rowOf(p, pg, c.projectRoles(r, s, p.ID), e.Rights.Edit || mod))
	}
	// A project group is present in its project from the start (R1), with
	// no rights until they are set here.
	if e.Group.Scope == domain.ScopeProject && !present[e.Group.ProjectID] {
		if p, err := c.svc.GetProject(r.Context(), s.Caller(), e.Group.ProjectID); err == nil {
			row := rowOf(p, domain.ProjectGrant{}, c.projectRoles(r, s, p.ID), e.Rights.Edit)
			row.New = true
			rows = append(rows, row)
		}
	}
	slices.SortFunc(rows, func(a, b projectRow) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	e.Extra["Rows"] = rows
	for i := range rows {
		rows[i].Href = projectURL(rows[i].ID, "groups")
	}
	e.Extra["Matrix"] = matrix{Head: "Project", Action: groupURL(e.Group.ID, "projects"), Rows: rows, Cols: projectCols(),
		Select: e.Group.Scope == domain.ScopeSystem, CanSave: slices.ContainsFunc(rows, func(r projectRow) bool { return r.Editable }),
		Empty: "This group is not present in any project yet: add it to projects below."}
	e.Extra["Cols"] = projectCols()
	e.Extra["Default"] = setOf(e.Group.DefaultProjectPermissions)
	e.Extra["DefaultRoles"] = c.projectRoles(r, s, "")
	if e.Group.Scope == domain.ScopeSystem {
		return c.fillImportable(r, s, e, present)
	}
	return nil
}

// fillImportable pages the projects the group is not present in, for the
// "add to projects" form, searched by name on the server.
func (c *Console) fillImportable(r *http.Request, s *session, e *editor, present map[string]bool) error {
	q := r.URL.Query()
	page, err := c.svc.ListProjects(r.Context(), s.Caller(), service.ListQuery{Search: q.Get("pq"), Sort: "name", Cursor: q.Get("cursor"), Limit: c.pageSize})
	if err != nil {
		return err
	}
	var absent []domain.Project
	for _, p := range page.Items {
		if !present[p.ID] {
			absent = append(absent, p)
		}
	}
	e.Extra["Absent"] = absent
	e.Extra["ProjectSearch"] = q.Get("pq")
	e.Extra["Pager"] = pagerOf(groupURL(e.Group.ID, "projects"), q, []string{"pq"}, page.Next)
	return nil
}

func (c *Console) groupSaveProjects(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := groupURL(id, "projects")
	f := r.PostForm
	if f.Get("do") == "default" {
		if _, _, err := c.svc.SetGroupDefaultProjectRights(r.Context(), s.Caller(), id, f.Get("default_role"), projectKeys(f["default"])); err != nil {
			failed(w, r, back, err)
			return
		}
		done(w, r, back, "Default project rights saved; they apply to projects the group is added to from now on.")
		return
	}
	grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), id)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	old := map[string]domain.ProjectGrant{}
	for _, pg := range grants {
		old[pg.ProjectID] = pg
	}
	changed := 0
	// Only the rows drawn editable are posted in "row", so a row the
	// caller could not change is never read as unticked.
	for _, pid := range f["row"] {
		keys, role := projectKeys(f["p."+pid]), f.Get("role."+pid)
		var was *domain.ProjectGrant
		if pg, ok := old[pid]; ok {
			was = &pg
		}
		if !grantChanged(was, keys, role) {
			continue
		}
		if _, _, err := c.svc.SetGroupProjectRights(r.Context(), s.Caller(), id, pid, role, keys); err != nil {
			failed(w, r, back, err)
			return
		}
		changed++
	}
	if changed == 0 {
		done(w, r, back, "Nothing changed in the project rights.")
		return
	}
	done(w, r, back, "Project rights saved ("+plural(changed, "project")+" changed).")
}

// grantChanged reports whether a matrix row's boxes and role differ from
// the grant row it was drawn from (nil: none; then an empty row is no
// change).
func grantChanged(was *domain.ProjectGrant, keys []string, role string) bool {
	if was == nil {
		return len(keys) > 0 || role != ""
	}
	return !sameSet(keys, was.Permissions) || role != was.RoleID
}

// projectKeys applies R9's requirement in the browser's favour: a right
// that needs read brings read along, as the matrix's script does.
func projectKeys(keys []string) []string {
	out := slices.Clone(keys)
	for _, k := range keys {
		if p, ok := domain.LookupPermission(k); ok && contains(p.Requires, domain.PermProjectRead) && !contains(out, domain.PermProjectRead) {
			out = append(out, domain.PermProjectRead)
		}
	}
	return out
}

func (c *Console) groupImport(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := groupURL(id, "projects")
	ids := r.PostForm["project"]
	if len(ids) == 0 {
		failed(w, r, back, domain.Errorf("", domain.KindInvalid, "choose at least one project to add the group to"))
		return
	}
	refs, _, err := c.svc.ImportGroup(r.Context(), s.Caller(), id, ids)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	g, _ := c.svc.GetGroup(r.Context(), s.Caller(), id)
	done(w, r, back, "Group added to "+refNames(refs)+". "+importOutcome(g))
}

// importOutcome says what the members of an imported group got: the
// group's default rights, or nothing yet.
func importOutcome(g domain.Group) string {
	if len(g.DefaultProjectPermissions) == 0 && g.DefaultProjectRoleID == "" {
		return "Its default rights are empty: its members are now members there, without access, until you give the group rights in the matrix."
	}
	if len(g.DefaultProjectPermissions) == 0 {
		return "Its members now have there what its default role gives."
	}
	return "Its members now have there: " + permLabels(g.DefaultProjectPermissions) + "."
}

func refNames(refs []service.ProjectRef) string {
	n := make([]string, 0, len(refs))
	for _, p := range refs {
		n = append(n, p.Name)
	}
	if len(n) == 0 {
		return "no project"
	}
	return strings.Join(n, ", ")
}

// groupRemove removes a system group from projects. Without the
// confirmation field it shows the R27 confirmation instead.
func (c *Console) groupRemove(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := groupURL(id, "projects")
	ids := r.PostForm["project"]
	if len(ids) == 0 {
		failed(w, r, back, domain.Errorf("", domain.KindInvalid, "select the projects to remove the group from"))
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		g, err := c.svc.GetGroup(r.Context(), s.Caller(), id)
		if err != nil {
			failed(w, r, back, err)
			return
		}
		names, _ := c.allProjects(s, r)
		var chosen []service.ProjectRef
		for _, p := range ids {
			chosen = append(chosen, service.ProjectRef{ID: p, Name: names[p]})
		}
		n, _ := c.svc.GroupMemberCounts(r.Context(), s.Caller(), id)
		c.render(w, r, s, http.StatusOK, "group_remove", "Remove "+g.Name, "groups", map[string]any{
			"Group": g, "Projects": chosen, "Members": n.Active + n.Expired})
		return
	}
	res, _, err := c.svc.RemoveGroupFromProjects(r.Context(), s.Caller(), id, ids, true)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	done(w, r, back, "Group removed from "+refNames(res.Projects)+"; its members left those projects.")
}

// delete dialog

func (c *Console) fillDelete(r *http.Request, s *session, e *editor) error {
	if e.Group.Scope == domain.ScopeProject {
		e.Extra["Present"] = []string{e.ProjectName}
	} else {
		grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), e.Group.ID)
		if err != nil {
			return err
		}
		e.Extra["Present"] = c.projectRefs(r, s, grants)
	}
	n, err := c.svc.GroupMemberCounts(r.Context(), s.Caller(), e.Group.ID)
	e.Extra["MemberCount"] = n.Active + n.Expired
	return err
}

func (c *Console) groupDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := r.PostForm
	g, err := c.svc.GetGroup(r.Context(), s.Caller(), id)
	if err != nil {
		failed(w, r, groupURL(id, "delete"), err)
		return
	}
	res, _, err := c.svc.DeleteGroup(r.Context(), s.Caller(), id, service.DeleteGroupOptions{Members: f.Get("members"), Confirm: f.Get("confirm") == "yes"})
	if err != nil {
		failed(w, r, groupURL(id, "delete"), err)
		return
	}
	done(w, r, "/admin/groups", "Group “"+g.Name+"” deleted. "+deleteOutcome(g, f.Get("members"), res))
}

// deleteOutcome says what happened to the deleted group's members: a
// system group's members leave the projects it was in (R27); a project
// group's stay in its project without access, or leave it, as chosen
// (R26).
func deleteOutcome(g domain.Group, members string, res service.DeleteGroupResult) string {
	switch {
	case len(res.Projects) == 0 || len(res.Users) == 0:
		return ""
	case g.Scope == domain.ScopeSystem:
		return "Its members left " + refNames(res.Projects) + " (unless they have rights of their own there)."
	case members == service.RemoveUsers:
		return "Its members were removed from " + refNames(res.Projects) + "."
	default:
		return "Its members stay in " + refNames(res.Projects) + " without access."
	}
}

// members tab

type memberRow struct {
	service.MemberRow
	Other    string // the user's group in an exclusive project, when not this one
	Disabled bool
	Expired  bool // the membership has ended (R6): kept, but it grants nothing
}

type sortCol struct {
	Key, Label, Href, Aria string
}

// memberSorts are the sortable columns of the members list: the store
// sorts by these user columns.
var memberSorts = []struct{ k, l string }{{"username", "Username"}, {"display_name", "Name"}, {"email", "Email"}}

// fillMembers draws the Members tab: the group's members by default, or
// every user of the directory with a checkbox ("view=all", as [S3] does),
// which is also how users are found to add. Both are searched, sorted
// and paged by the store.
func (c *Console) fillMembers(r *http.Request, s *session, e *editor) error {
	q := r.URL.Query()
	search, sortBy, order, view := q.Get("q"), q.Get("sort"), q.Get("order"), q.Get("view")
	if view != "all" {
		view = ""
	}
	if sortBy == "" && order == "" {
		sortBy, order = "username", "asc"
	}
	if order == "none" {
		sortBy = ""
	}
	mq := service.MemberQuery{Search: search, Sort: sortBy, Order: order, AllUsers: view == "all", Limit: c.pageSize, Cursor: q.Get("cursor")}
	if (sortBy == "email" || sortBy == "display_name") && !s.ShowPI() {
		mq.Sort = "username" // R18: sorting by a masked column would leak its order
	}
	page, err := c.svc.ListMembers(r.Context(), s.Caller(), e.Group.ID, mq)
	if err != nil {
		return err
	}
	now := c.now()
	var rows []memberRow
	for _, m := range page.Items {
		if !s.ShowPI() && !matchesUsername(m.User.Username, search) {
			continue // R18: a hidden name or email must not be found by searching it
		}
		row := memberRow{MemberRow: m, Expired: m.Member && m.ExpiresAt != nil && !now.Before(*m.ExpiresAt)}
		for _, cg := range m.CurrentGroups {
			if cg.GroupID != e.Group.ID {
				row.Other = cg.GroupName
				row.Disabled = !m.Member
			}
		}
		rows = append(rows, row)
	}
	base := groupURL(e.Group.ID, "members")
	var cols []sortCol
	for _, col := range memberSorts {
		sc := sortCol{Key: col.k, Label: col.l, Aria: "none"}
		next := "asc"
		if sortBy == col.k {
			switch order {
			case "asc", "":
				sc.Aria, next = "ascending", "desc"
			case "desc":
				sc.Aria, next = "descending", "none"
			}
		}
		if next == "none" {
			sc.Href = base + queryOf("view", view, "q", search, "order", "none")
		} else {
			sc.Href = base + queryOf("view", view, "q", search, "sort", col.k, "order", next)
		}
		cols = append(cols, sc)
	}
	if e.Group.Scope == domain.ScopeProject {
		e.Extra["Present"] = []string{e.ProjectName}
	} else if grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), e.Group.ID); err == nil {
		e.Extra["Present"] = c.projectRefs(r, s, grants)
	}
	counts, _ := c.svc.GroupMemberCounts(r.Context(), s.Caller(), e.Group.ID)
	e.Extra["Counts"] = counts
	e.Extra["GroupRole"] = c.groupRoleName(r, s, &e.Group)
	e.Extra["Rows"] = rows
	e.Extra["Cols"] = cols
	e.Extra["Search"] = search
	e.Extra["View"] = view
	e.Extra["Sort"] = sortBy
	e.Extra["Order"] = order
	e.Extra["Pager"] = pagerOf(base, q, []string{"view", "q", "sort", "order"}, page.Next)
	return nil
}

// groupRoleName names the role a group's members hold through it: its
// system role, or for a project group its role in its project.
func (c *Console) groupRoleName(r *http.Request, s *session, g *domain.Group) string {
	id, scope := g.SystemRoleID, domain.ScopeSystem
	if g.Scope == domain.ScopeProject {
		scope = domain.ScopeProject
		id = ""
		if grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), g.ID); err == nil {
			for _, pg := range grants {
				if pg.ProjectID == g.ProjectID {
					id = pg.RoleID
				}
			}
		}
	}
	if id == "" {
		return ""
	}
	roles, _ := c.svc.RolesOfScope(r.Context(), s.Caller(), scope, g.ProjectID)
	for _, ro := range roles {
		if ro.ID == id {
			return ro.Name
		}
	}
	return ""
}

func (c *Console) groupSaveMembers(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := r.PostForm
	back := groupURL(id, "members") + queryOf("view", f.Get("view"), "q", f.Get("q"), "sort", f.Get("sort"), "order", f.Get("order"))
	if cur := f.Get("cursor"); cur != "" {
		// Back to the page the form was on.
		v := url.Values{"cursor": {cur}, "before": f["before"]}
		for _, k := range []string{"view", "q", "sort", "order"} {
			if x := f.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		back = groupURL(id, "members") + "?" + v.Encode()
	}
	was, now := setOf(f["was"]), setOf(f["member"])
	exp, err := formExpiry(f)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	var add []service.MemberInput
	var remove []string
	for _, u := range f["shown"] {
		switch {
		case now[u] && !was[u]:
			add = append(add, service.MemberInput{UserID: u, ExpiresAt: exp})
		case !now[u] && was[u]:
			remove = append(remove, u)
		}
	}
	var msgs []string
	if len(add) > 0 || len(remove) > 0 {
		// One service call: the ticked and unticked users are added and
		// removed together, or not at all.
		added, removed, _, err := c.svc.ChangeMembers(r.Context(), s.Caller(), id, add, remove)
		if err != nil {
			failed(w, r, back, err)
			return
		}
		if len(added.Users) > 0 {
			m := plural(len(added.Users), "user") + " added."
			if len(added.Projects) > 0 {
				m += " They are now members of these projects: " + refNames(added.Projects) + "."
			}
			msgs = append(msgs, m)
		}
		if len(removed.Users) > 0 {
			m := plural(len(removed.Users), "user") + " removed."
			if len(removed.Projects) > 0 {
				m += " They stay in these projects without this group's rights: " + refNames(removed.Projects) + "."
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		msgs = append(msgs, "Nothing changed.")
	}
	done(w, r, back, strings.Join(msgs, " "))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// matchesUsername reports whether a search matches the username alone, for
// callers who may not see names and emails (R18).
func matchesUsername(username, search string) bool {
	return search == "" || strings.Contains(strings.ToLower(username), strings.ToLower(search))
}
