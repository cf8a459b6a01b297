package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
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
	keys, err := c.svc.Engine().EffectivePermissions(engine.Subject{UserID: s.ID.UserID}, engine.Resource{Kind: engine.KindProject, ID: projectID}, c.now())
	if err == nil {
		for _, k := range keys {
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

func (c *Console) projectNames(s *session, r *http.Request) (map[string]string, []domain.Project) {
	names := map[string]string{}
	page, err := c.svc.ListProjects(r.Context(), s.Caller(), store.ListQuery{Limit: 1000, Sort: "name"})
	if err != nil {
		return names, nil
	}
	for _, p := range page.Items {
		names[p.ID] = p.Name
	}
	return names, page.Items
}

func (c *Console) groupList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	page, err := c.svc.ListGroups(r.Context(), s.Caller(), store.ListQuery{Search: q.Get("q"), Sort: "name", Limit: 1000})
	if err != nil {
		c.render(w, r, s, http.StatusForbidden, "denied", "Groups", "groups", message(err))
		return
	}
	names, _ := c.projectNames(s, r)
	rows := make([]groupRow, 0, len(page.Items))
	for _, g := range page.Items {
		rows = append(rows, groupRow{Group: g, ProjectName: names[g.ProjectID], CanDelete: c.rightsOn(s, &g).Delete})
	}
	c.render(w, r, s, http.StatusOK, "groups", "Groups", "groups", map[string]any{
		"Groups": rows, "Search": q.Get("q"), "CanCreate": s.Can(domain.PermGroupsEdit),
		"Everyone": c.groupName(r, s, domain.GroupEveryoneID), "Public": c.groupName(r, s, domain.GroupPublicID),
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
	_, projects := c.projectNames(s, r)
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
	created, err := c.svc.CreateGroup(r.Context(), s.Caller(), g)
	if err != nil {
		failed(w, r, "/admin/groups/new", err)
		return
	}
	done(w, r, "/admin/groups/"+created.ID+"/privileges", "Group “"+created.Name+"” created. Now set its privileges.")
}

// tabs of the group editor, in order.
var groupTabs = []struct{ ID, Label string }{
	{"general", "General"}, {"privileges", "Privileges"}, {"projects", "Projects"},
	{"rules", "Rules"}, {"folders", "Folder permissions"}, {"members", "Members"},
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
	names, projects := c.projectNames(s, r)
	e := editor{Group: g, ProjectName: names[g.ProjectID], Rights: c.rightsOn(s, &g), Tab: tab, Tabs: groupTabs, Extra: map[string]any{}}
	var fill func() error
	switch tab {
	case "general":
	case "privileges":
		fill = func() error { return c.fillPrivileges(r, s, &e) }
	case "projects":
		fill = func() error { return c.fillProjects(r, s, &e, names, projects) }
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

func groupURL(id, tab string) string { return "/admin/groups/" + url.PathEscape(id) + "/" + tab }

func (c *Console) groupSaveGeneral(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	name, desc := strings.TrimSpace(r.PostForm.Get("name")), strings.TrimSpace(r.PostForm.Get("description"))
	g, err := c.svc.UpdateGroup(r.Context(), s.Caller(), id, service.GroupUpdate{Name: &name, Description: &desc})
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
	if page, err := c.svc.ListRoles(r.Context(), s.Caller(), store.ListQuery{Scope: domain.ScopeSystem, Limit: 1000}); err == nil {
		for _, ro := range page.Items {
			roles = append(roles, roleOption{Role: ro, PermList: strings.Join(ro.Permissions, " ")})
		}
	}
	e.Extra["Roles"] = roles
	// R9, explained inline: what the saved grant (role and checkboxes
	// together) still lacks.
	all := slices.Clone(e.Group.SystemPermissions)
	for _, ro := range roles {
		if ro.ID == e.Group.SystemRoleID {
			all = append(all, ro.Permissions...)
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
		names, _ := c.projectNames(s, r)
		e := editor{Group: g, ProjectName: names[g.ProjectID], Rights: c.rightsOn(s, &g), Tab: "privileges", Tabs: groupTabs, Extra: map[string]any{}}
		e.Group.SystemRoleID, e.Group.SystemPermissions = f.Get("role"), keys
		_ = c.fillPrivileges(r, s, &e)
		e.Extra["Domains"] = f.Get("domains")
		delete(e.Extra, "Unmet") // the refusal says it
		s.Error = "Not saved: " + message(err)
		c.render(w, r, s, http.StatusUnprocessableEntity, "group_privileges", g.Name, "groups", e)
	}
	if g.Builtin != domain.BuiltinPublic {
		if _, err := c.svc.SetGroupSystemGrants(r.Context(), s.Caller(), id, f.Get("role"), keys); err != nil {
			again(err)
			return
		}
	}
	var doms []string
	for _, line := range strings.FieldsFunc(f.Get("domains"), func(r rune) bool { return r == '\n' || r == ',' }) {
		if d := strings.TrimSpace(line); d != "" && !contains(doms, d) {
			doms = append(doms, d)
		}
	}
	old, _ := c.svc.GroupDomains(r.Context(), s.Caller(), id)
	if !sameSet(old, doms) {
		if _, err := c.svc.SetGroupDomains(r.Context(), s.Caller(), id, doms); err != nil {
			again(err)
			return
		}
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

type projectRow struct {
	ID, Name string
	Mode     domain.MembershipMode
	Keys     map[string]bool
	RoleID   string
	Editable bool
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

func (c *Console) fillProjects(r *http.Request, s *session, e *editor, names map[string]string, projects []domain.Project) error {
	grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), e.Group.ID)
	if err != nil {
		return err
	}
	modes := map[string]domain.MembershipMode{}
	for _, p := range projects {
		modes[p.ID] = p.MembershipMode
	}
	var rows []projectRow
	present := map[string]bool{}
	for _, pg := range grants {
		present[pg.ProjectID] = true
		keys := map[string]bool{}
		for _, k := range pg.Permissions {
			keys[k] = true
		}
		rows = append(rows, projectRow{ID: pg.ProjectID, Name: names[pg.ProjectID], Mode: modes[pg.ProjectID], Keys: keys, RoleID: pg.RoleID,
			Editable: e.Rights.Edit || c.onProject(s, pg.ProjectID)[domain.PermProjectModerate]})
	}
	slices.SortFunc(rows, func(a, b projectRow) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	var absent []domain.Project
	for _, p := range projects {
		if !present[p.ID] {
			absent = append(absent, p)
		}
	}
	e.Extra["Rows"] = rows
	e.Extra["Cols"] = projectCols()
	e.Extra["Absent"] = absent
	e.Extra["Default"] = setOf(e.Group.DefaultProjectPermissions)
	return nil
}

func (c *Console) groupSaveProjects(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := groupURL(id, "projects")
	f := r.PostForm
	if f.Get("do") == "default" {
		if _, err := c.svc.SetGroupDefaultProjectRights(r.Context(), s.Caller(), id, "", f["default"]); err != nil {
			failed(w, r, back, err)
			return
		}
		done(w, r, back, "Default project rights saved; they apply to projects the group is imported into from now on.")
		return
	}
	grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), id)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	changed := 0
	for _, pg := range grants {
		keys := projectKeys(f["p."+pg.ProjectID])
		if sameSet(keys, pg.Permissions) {
			continue
		}
		if _, err := c.svc.SetGroupProjectRights(r.Context(), s.Caller(), id, pg.ProjectID, pg.RoleID, keys); err != nil {
			failed(w, r, back, err)
			return
		}
		changed++
	}
	done(w, r, back, "Project rights saved.")
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
	refs, err := c.svc.ImportGroup(r.Context(), s.Caller(), id, ids)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	done(w, r, back, "Group added to "+refNames(refs)+". All its members now have access there.")
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
		names, _ := c.projectNames(s, r)
		var chosen []service.ProjectRef
		for _, p := range ids {
			chosen = append(chosen, service.ProjectRef{ID: p, Name: names[p]})
		}
		members, _ := c.svc.ListMembers(r.Context(), s.Caller(), id, service.MemberQuery{Limit: 1000})
		c.render(w, r, s, http.StatusOK, "group_remove", "Remove "+g.Name, "groups", map[string]any{
			"Group": g, "Projects": chosen, "Members": members.Items})
		return
	}
	res, err := c.svc.RemoveGroupFromProjects(r.Context(), s.Caller(), id, ids, true)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	done(w, r, back, "Group removed from "+refNames(res.Projects)+"; its members left those projects.")
}

// delete dialog

func (c *Console) fillDelete(r *http.Request, s *session, e *editor) error {
	grants, err := c.svc.GroupProjectGrants(r.Context(), s.Caller(), e.Group.ID)
	names, _ := c.projectNames(s, r)
	var present []string
	for _, g := range grants {
		present = append(present, names[g.ProjectID])
	}
	e.Extra["Present"] = present
	members, _ := c.svc.ListMembers(r.Context(), s.Caller(), e.Group.ID, service.MemberQuery{Limit: 1000})
	e.Extra["MemberCount"] = len(members.Items)
	return err
}

func (c *Console) groupDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := r.PostForm
	res, err := c.svc.DeleteGroup(r.Context(), s.Caller(), id, service.DeleteGroupOptions{Members: f.Get("members"), Confirm: f.Get("confirm") == "yes"})
	if err != nil {
		failed(w, r, groupURL(id, "delete"), err)
		return
	}
	msg := "Group deleted."
	switch f.Get("members") {
	case service.RemoveUsers:
		msg += " Its members were removed from " + refNames(res.Projects) + "."
	default:
		if len(res.Projects) > 0 {
			msg += " Its members stay in " + refNames(res.Projects) + " without access."
		}
	}
	done(w, r, "/admin/groups", msg)
}

// members tab

type memberRow struct {
	service.MemberRow
	Other    string // the user's group in an exclusive project, when not this one
	Disabled bool
}

type sortCol struct {
	Key, Label, Href, Aria string
}

func (c *Console) fillMembers(r *http.Request, s *session, e *editor) error {
	q := r.URL.Query()
	search, sortBy, order := q.Get("q"), q.Get("sort"), q.Get("order")
	if sortBy == "" && order == "" {
		sortBy, order = "username", "asc"
	}
	if order == "none" {
		sortBy = ""
	}
	mq := service.MemberQuery{Search: search, Sort: sortBy, Order: order, AllUsers: true, Limit: c.pageSize, Cursor: q.Get("cursor")}
	if sortBy == "email" || sortBy == "display_name" {
		// R18: sorting by a masked column would leak its order.
		if !s.ShowPI() {
			mq.Sort = "username"
		}
	}
	page, err := c.svc.ListMembers(r.Context(), s.Caller(), e.Group.ID, mq)
	if err != nil {
		return err
	}
	var rows []memberRow
	for _, m := range page.Items {
		if !s.ShowPI() && !matchesUsername(m.User.Username, search) {
			continue // R18: a hidden name or email must not be found by searching it
		}
		row := memberRow{MemberRow: m}
		for _, cg := range m.CurrentGroups {
			if cg.GroupID != e.Group.ID {
				row.Other = cg.GroupName
				row.Disabled = !m.Member
			}
		}
		rows = append(rows, row)
	}
	var cols []sortCol
	for _, col := range []struct{ k, l string }{{"username", "Username"}, {"display_name", "Name"}, {"role", "Role"}, {"email", "Email"}} {
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
			sc.Href = groupURL(e.Group.ID, "members") + queryOf("q", search, "order", "none")
		} else {
			sc.Href = groupURL(e.Group.ID, "members") + queryOf("q", search, "sort", col.k, "order", next)
		}
		cols = append(cols, sc)
	}
	grants, _ := c.svc.GroupProjectGrants(r.Context(), s.Caller(), e.Group.ID)
	names, _ := c.projectNames(s, r)
	var present []string
	if e.Group.Scope == domain.ScopeProject {
		present = append(present, names[e.Group.ProjectID])
	}
	for _, g := range grants {
		if e.Group.Scope == domain.ScopeSystem {
			present = append(present, names[g.ProjectID])
		}
	}
	e.Extra["Rows"] = rows
	e.Extra["Cols"] = cols
	e.Extra["Search"] = search
	e.Extra["Sort"] = sortBy
	e.Extra["Order"] = order
	e.Extra["Present"] = present
	e.Extra["Pager"] = pagerOf(groupURL(e.Group.ID, "members"), q, []string{"q", "sort", "order"}, page.Next)
	e.Extra["Pager"] = pagerOf(groupURL(e.Group.ID, "members"), q, []string{"q", "sort", "order"}, page.Next)
	return nil
}

func (c *Console) groupSaveMembers(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := r.PostForm
	back := groupURL(id, "members") + queryOf("q", f.Get("q"), "sort", f.Get("sort"), "order", f.Get("order"))
	if cur := f.Get("cursor"); cur != "" {
		// Back to the page the form was on.
		v := url.Values{"cursor": {cur}, "before": f["before"]}
		for _, k := range []string{"q", "sort", "order"} {
			if x := f.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		back = groupURL(id, "members") + "?" + v.Encode()
	}
	was, now := setOf(f["was"]), setOf(f["member"])
	var exp *time.Time
	if d := strings.TrimSpace(f.Get("expires")); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			failed(w, r, back, domain.E(domain.KindInvalid, domain.FieldError{Field: "Expiry date", Message: "use the form YYYY-MM-DD"}))
			return
		}
		exp = &t
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
	if len(add) > 0 {
		res, err := c.svc.AddMembers(r.Context(), s.Caller(), id, add)
		if err != nil {
			failed(w, r, back, err)
			return
		}
		m := plural(len(res.Users), "user") + " added."
		if len(res.Projects) > 0 {
			m += " They are now members of these projects: " + refNames(res.Projects) + " (R24)."
		}
		msgs = append(msgs, m)
	}
	if len(remove) > 0 {
		res, err := c.svc.RemoveMembers(r.Context(), s.Caller(), id, remove)
		if err != nil {
			failed(w, r, back, err)
			return
		}
		m := plural(len(res.Users), "user") + " removed."
		if len(res.Projects) > 0 {
			m += " They stay in these projects without this group's rights: " + refNames(res.Projects) + " (R25)."
		}
		msgs = append(msgs, m)
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
