package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The user page, project deletion, and the folder and folder type
// editors. As elsewhere, what the caller may not do is drawn disabled and
// the service decides: its refusals (R22's "the user holds more than
// you", a move that makes a cycle, a context that cannot be removed) come
// back as the page's error message.

func (c *Console) moreRoutes() {
	m := c.mux
	m.HandleFunc("GET /admin/users/{id}", c.signedIn(c.userPage))
	m.HandleFunc("POST /admin/users/{id}/profile", c.signedIn(c.userProfile))
	m.HandleFunc("POST /admin/users/{id}/role", c.signedIn(c.userRole))
	m.HandleFunc("POST /admin/users/{id}/password", c.signedIn(c.userPassword))
	m.HandleFunc("POST /admin/users/{id}/projects", c.signedIn(c.userProjects))
	m.HandleFunc("POST /admin/users/{id}/groups", c.signedIn(c.userGroups))
	m.HandleFunc("GET /admin/users/{id}/delete", c.signedIn(c.userDeletePage))
	m.HandleFunc("POST /admin/users/{id}/delete", c.signedIn(c.userDelete))
	m.HandleFunc("POST /admin/projects/{id}/delete", c.signedIn(c.projectDelete))
	m.HandleFunc("GET /admin/folders/{id}", c.signedIn(c.folderEditor))
	m.HandleFunc("POST /admin/folders/{id}", c.signedIn(c.folderSave))
	m.HandleFunc("GET /admin/folders/{id}/delete", c.signedIn(c.folderDeletePage))
	m.HandleFunc("POST /admin/folders/{id}/delete", c.signedIn(c.folderDelete))
	m.HandleFunc("GET /admin/folder-types/{id}", c.signedIn(c.folderTypeEditor))
	m.HandleFunc("POST /admin/folder-types/{id}", c.signedIn(c.folderTypeSave))
}

func userURL(id string) string { return "/admin/users/" + url.PathEscape(id) }

// users

// userProjectRow is one project of the user's individual rights matrix.
type userProjectRow struct {
	projectRow
	Member bool // holds an individual grant row there
}

func (c *Console) userPage(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	u, err := c.svc.GetUser(r.Context(), s.Caller(), id)
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "User", "users", message(err))
		return
	}
	grants, err := c.svc.UserProjectGrants(r.Context(), s.Caller(), id)
	if err != nil {
		s.Error = message(err)
	}
	sysRoles, _ := c.svc.RolesOfScope(r.Context(), s.Caller(), domain.ScopeSystem, "")
	roleNames := map[string]string{}
	for _, ro := range sysRoles {
		roleNames[ro.ID] = ro.Name
	}
	byProject := map[string]domain.ProjectGrant{}
	for _, g := range grants {
		byProject[g.ProjectID] = g
	}
	_, projects := c.allProjects(s, r)
	// R21 and R22, asked of the service: a user who holds more than the
	// caller is drawn read-only, with the service's reason.
	canEdit, why := true, ""
	if err := c.svc.CheckActOnUser(r.Context(), s.Caller(), id, domain.PermUsersEdit); err != nil {
		canEdit, why = false, message(err)
		for _, p := range projects { // the service names projects by id
			why = strings.ReplaceAll(why, "project "+p.ID, "project “"+p.Name+"”")
		}
	}
	canDelete := u.ID != s.ID.UserID && c.svc.CheckActOnUser(r.Context(), s.Caller(), id, domain.PermUsersDelete) == nil
	var rows []userProjectRow
	for _, p := range projects {
		g, member := byProject[p.ID]
		editable := s.Can(domain.PermUsersEdit) || c.onProject(s, p.ID)[domain.PermProjectModerate]
		rows = append(rows, userProjectRow{projectRow: rowOf(p, g, c.projectRoles(r, s, p.ID), editable), Member: member})
	}
	anyEditable := slices.ContainsFunc(rows, func(r userProjectRow) bool { return r.Editable })
	data := map[string]any{
		"User": u, "Roles": sysRoles, "RoleName": roleNames[u.SystemRoleID], "Rows": rows, "Cols": projectCols(),
		"CanEdit": canEdit, "CanDelete": canDelete, "Self": u.ID == s.ID.UserID,
		"CanRights": anyEditable, "Why": why, "Local": u.Source == domain.SourceLocal,
	}
	c.fillUserGroups(r, s, u, data)
	c.fillAccess(r, s, u, data)
	if links, err := c.svc.UserOIDCLinks(r.Context(), s.Caller(), id); err == nil {
		data["Links"] = links
	} else {
		s.Error = message(err)
	}
	c.render(w, r, s, http.StatusOK, "user", "User "+u.Username, "users", data)
}

func (c *Console) userProfile(w http.ResponseWriter, r *http.Request, s *session) {
	id, f := r.PathValue("id"), r.PostForm
	name, email := strings.TrimSpace(f.Get("display_name")), strings.TrimSpace(f.Get("email"))
	up := service.UserUpdate{DisplayName: &name, Email: &email}
	// A field the caller could not see was drawn masked and not sent: it
	// is left as it is rather than overwritten with the mask (R18).
	if _, ok := f["display_name"]; !ok {
		up.DisplayName = nil
	}
	if _, ok := f["email"]; !ok {
		up.Email = nil
	}
	u, _, err := c.svc.UpdateUser(r.Context(), s.Caller(), id, up)
	if err != nil {
		failed(w, r, userURL(id), err)
		return
	}
	done(w, r, userURL(id), "User “"+u.Username+"” saved.")
}

func (c *Console) userRole(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	u, _, err := c.svc.SetUserSystemRole(r.Context(), s.Caller(), id, r.PostForm.Get("role"))
	if err != nil {
		failed(w, r, userURL(id), err)
		return
	}
	done(w, r, userURL(id), "System role of “"+u.Username+"” saved.")
}

func (c *Console) userPassword(w http.ResponseWriter, r *http.Request, s *session) {
	id, f := r.PathValue("id"), r.PostForm
	if f.Get("new") != f.Get("repeat") {
		failed(w, r, userURL(id), domain.E(domain.KindInvalid, domain.FieldError{Field: "Repeat new password", Message: "the two passwords differ"}))
		return
	}
	if _, err := c.svc.SetPassword(r.Context(), s.Caller(), id, f.Get("new")); err != nil {
		failed(w, r, userURL(id), err)
		return
	}
	if id == s.ID.UserID {
		c.auth.ClearSessionCookie(w, r)
		done(w, r, "/login", "Password changed. Every session of yours was ended; sign in with the new password.")
		return
	}
	done(w, r, userURL(id), "Password reset. The user's sessions were ended; they sign in with the new password.")
}

// userProjects saves the individual rights matrix: a row whose boxes
// changed is set; a row left with no box and no "member" tick loses its
// grant row; rows that did not change are not sent to the service, so an
// untouched exclusive project is not refused (R23). Rows the caller may
// not edit are drawn disabled and not listed in "row", so they are never
// read as unticked.
func (c *Console) userProjects(w http.ResponseWriter, r *http.Request, s *session) {
	id, f := r.PathValue("id"), r.PostForm
	back := userURL(id)
	grants, err := c.svc.UserProjectGrants(r.Context(), s.Caller(), id)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	old := map[string]domain.ProjectGrant{}
	for _, g := range grants {
		old[g.ProjectID] = g
	}
	changed := 0
	for _, pid := range f["row"] {
		keys, role := projectKeys(f["p."+pid]), f.Get("role."+pid)
		member := f.Get("member."+pid) == "on" || len(keys) > 0 || role != ""
		g, had := old[pid]
		switch {
		case had && !member:
			if _, err := c.svc.RemoveUserFromProject(r.Context(), s.Caller(), id, pid); err != nil {
				failed(w, r, back, err)
				return
			}
			changed++
		case member && (!had || !sameSet(keys, g.Permissions) || role != g.RoleID):
			if _, _, err := c.svc.SetUserProjectRights(r.Context(), s.Caller(), id, pid, role, keys); err != nil {
				failed(w, r, back, err)
				return
			}
			changed++
		}
	}
	if changed == 0 {
		done(w, r, back, "Nothing changed in the project rights.")
		return
	}
	done(w, r, back, "Project rights saved ("+plural(changed, "project")+" changed).")
}

func (c *Console) userDeletePage(w http.ResponseWriter, r *http.Request, s *session) {
	u, err := c.svc.GetUser(r.Context(), s.Caller(), r.PathValue("id"))
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "User", "users", message(err))
		return
	}
	grants, _ := c.svc.UserProjectGrants(r.Context(), s.Caller(), u.ID)
	names, _ := c.allProjects(s, r)
	var in []string
	for _, g := range grants {
		in = append(in, names[g.ProjectID])
	}
	slices.Sort(in)
	c.render(w, r, s, http.StatusOK, "user_delete", "Delete user "+u.Username, "users", map[string]any{
		"User": u, "Projects": in, "CanDelete": s.Can(domain.PermUsersDelete) && u.ID != s.ID.UserID, "Self": u.ID == s.ID.UserID,
	})
}

func (c *Console) userDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if r.PostForm.Get("confirm") != "yes" {
		failed(w, r, userURL(id)+"/delete", domain.E(domain.KindInvalid, domain.FieldError{Field: "confirm", Message: "tick “I understand” to delete the user"}))
		return
	}
	u, _ := c.svc.GetUser(r.Context(), s.Caller(), id)
	if _, err := c.svc.DeleteUser(r.Context(), s.Caller(), id); err != nil {
		failed(w, r, userURL(id)+"/delete", err)
		return
	}
	done(w, r, "/admin/users", "User “"+u.Username+"” deleted.")
}

// projects

func (c *Console) projectDeletePage(w http.ResponseWriter, r *http.Request, s *session) {
	p, err := c.svc.GetProject(r.Context(), s.Caller(), r.PathValue("id"))
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "Project", "projects", message(err))
		return
	}
	var groups, sysGroups []string
	users := 0
	pgs, gerr := c.svc.ProjectGroups(r.Context(), s.Caller(), p.ID)
	for _, pg := range pgs {
		if pg.Group.Scope == domain.ScopeProject {
			groups = append(groups, pg.Group.Name)
		} else {
			sysGroups = append(sysGroups, pg.Group.Name)
		}
	}
	if gerr == nil {
		var grants []domain.ProjectGrant
		grants, gerr = c.svc.ListProjectGrants(r.Context(), s.Caller(), p.ID)
		for _, g := range grants {
			if g.SubjectKind == domain.SubjectUser {
				users++
			}
		}
	}
	slices.Sort(sysGroups)
	c.render(w, r, s, http.StatusOK, "project_delete", "Delete project "+p.Name, "projects", map[string]any{
		"Project": p, "Groups": groups, "Users": users, "GroupGrants": sysGroups, "Counted": gerr == nil,
		"CanDelete": s.Can(domain.PermProjectDelete),
	})
}

func (c *Console) projectDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := "/admin/projects/" + url.PathEscape(id) + "/delete"
	if r.PostForm.Get("confirm") != "yes" {
		failed(w, r, back, domain.E(domain.KindInvalid, domain.FieldError{Field: "confirm", Message: "tick “I understand” to delete the project"}))
		return
	}
	p, _ := c.svc.GetProject(r.Context(), s.Caller(), id)
	if _, err := c.svc.DeleteProject(r.Context(), s.Caller(), id); err != nil {
		failed(w, r, back, err)
		return
	}
	done(w, r, "/admin/projects", "Project “"+p.Name+"” deleted, with its project groups and grants.")
}

// folders

func folderURL(id string) string { return "/admin/folders/" + url.PathEscape(id) }

// propField is one property the folder's type declares, with its value.
type propField struct{ Name, Value string }

func (c *Console) folderEditor(w http.ResponseWriter, r *http.Request, s *session) {
	f, err := c.svc.GetFolder(r.Context(), s.Caller(), r.PathValue("id"))
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "Folder", "folders", message(err))
		return
	}
	t, err := c.svc.GetFolderType(r.Context(), s.Caller(), f.TypeID)
	if err != nil {
		s.Error = message(err)
	}
	var props []propField
	for _, p := range t.Properties {
		props = append(props, propField{p, f.Properties[p]})
	}
	tree, more, _ := c.folderTreeUpTo(r, s, 2000)
	c.render(w, r, s, http.StatusOK, "folder", "Folder "+f.Name, "folders", map[string]any{
		"Folder": f, "Type": t, "Props": props, "Tree": tree, "MoreFolders": more, "CanEdit": s.Can(domain.PermFilesAdmin),
		"Levels": c.levelsHere(r, s, f), "Rules": c.rulesHere(r, s, f),
	})
}

// ruleHere is a rule that grants on a folder (R16): where it matches
// ("" when on the folder itself) and its matrix.
type ruleHere struct {
	service.FolderRule
	From string
}

// rulesHere asks the service which rules match the folder or an ancestor
// (nil when the caller may not list them), naming the ancestor matched.
func (c *Console) rulesHere(r *http.Request, s *session, f domain.Folder) []ruleHere {
	rs, err := c.svc.FolderRules(r.Context(), s.Caller(), f.ID)
	if err != nil {
		return nil
	}
	names := map[string]string{f.ID: ""}
	out := make([]ruleHere, 0, len(rs))
	for _, fr := range rs {
		name, ok := names[fr.MatchedID]
		if !ok {
			name = "a folder above"
			if a, err := c.svc.GetFolder(r.Context(), s.Caller(), fr.MatchedID); err == nil {
				name = a.Name
			}
			names[fr.MatchedID] = name
		}
		out = append(out, ruleHere{FolderRule: fr, From: name})
	}
	return out
}

// levelHere is one group's level on a folder: set on it, or inherited
// from the nearest folder above with an entry for that group (R15).
type levelHere struct {
	GroupID, GroupName, Level, From string
}

// levelsHere walks from the folder up to its root and keeps, per group,
// the nearest level (nil when the caller may not list levels).
func (c *Console) levelsHere(r *http.Request, s *session, f domain.Folder) []levelHere {
	var out []levelHere
	seen := map[string]bool{}
	for cur, hops := f, 0; hops < 64; hops++ {
		ls, err := c.svc.ListFolderLevels(r.Context(), s.Caller(), cur.ID, "")
		if err != nil {
			return nil
		}
		for _, l := range ls {
			if seen[l.GroupID] {
				continue
			}
			seen[l.GroupID] = true
			lh := levelHere{GroupID: l.GroupID, Level: l.Level.String(), GroupName: "a group you cannot see"}
			if g, err := c.svc.GetGroup(r.Context(), s.Caller(), l.GroupID); err == nil {
				lh.GroupName = g.Name
			}
			if cur.ID != f.ID {
				lh.From = cur.Name
			}
			out = append(out, lh)
		}
		if cur.ParentID == "" {
			break
		}
		if cur, err = c.svc.GetFolder(r.Context(), s.Caller(), cur.ParentID); err != nil {
			break
		}
	}
	slices.SortFunc(out, func(a, b levelHere) int {
		return strings.Compare(strings.ToLower(a.GroupName), strings.ToLower(b.GroupName))
	})
	return out
}

func (c *Console) folderSave(w http.ResponseWriter, r *http.Request, s *session) {
	id, f := r.PathValue("id"), r.PostForm
	name, parent := strings.TrimSpace(f.Get("name")), f.Get("parent")
	up := service.FolderUpdate{Name: &name, ParentID: &parent}
	props := map[string]string{}
	for _, k := range f["prop"] {
		if v := strings.TrimSpace(f.Get("prop." + k)); v != "" {
			props[k] = v
		}
	}
	up.Properties = &props
	fo, _, err := c.svc.UpdateFolder(r.Context(), s.Caller(), id, up)
	if err != nil {
		failed(w, r, folderURL(id), err)
		return
	}
	done(w, r, folderURL(id), "Folder “"+fo.Name+"” saved.")
}

func (c *Console) folderDeletePage(w http.ResponseWriter, r *http.Request, s *session) {
	f, err := c.svc.GetFolder(r.Context(), s.Caller(), r.PathValue("id"))
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "Folder", "folders", message(err))
		return
	}
	// The subtree: the folder and its descendants, from the visible tree
	// (depth first, so the descendants follow the folder).
	below, more, _ := c.subtree(r, s, f.ID, 2000)
	sub := []folderNode{{Folder: f}}
	if t, err := c.svc.GetFolderType(r.Context(), s.Caller(), f.TypeID); err == nil {
		sub[0].TypeName = t.Name
	}
	for _, n := range below {
		n.Depth++
		sub = append(sub, n)
	}
	c.render(w, r, s, http.StatusOK, "folder_delete", "Delete folder "+f.Name, "folders", map[string]any{
		"Folder": f, "Subtree": sub, "MoreFolders": more, "CanEdit": s.Can(domain.PermFilesAdmin),
	})
}

func (c *Console) folderDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if r.PostForm.Get("confirm") != "yes" {
		failed(w, r, folderURL(id)+"/delete", domain.E(domain.KindInvalid, domain.FieldError{Field: "confirm", Message: "tick “I understand” to delete the folder"}))
		return
	}
	f, _ := c.svc.GetFolder(r.Context(), s.Caller(), id)
	if _, err := c.svc.DeleteFolder(r.Context(), s.Caller(), id); err != nil {
		failed(w, r, folderURL(id)+"/delete", err)
		return
	}
	done(w, r, "/admin/folders", "Folder “"+f.Name+"” deleted with its subtree.")
}

func (c *Console) folderTypeEditor(w http.ResponseWriter, r *http.Request, s *session) {
	t, err := c.svc.GetFolderType(r.Context(), s.Caller(), r.PathValue("id"))
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "Folder type", "folders", message(err))
		return
	}
	c.render(w, r, s, http.StatusOK, "folder_type", "Folder type "+t.Name, "folders", map[string]any{
		"Type": t, "Contexts": strings.Join(t.Contexts, ", "), "Properties": strings.Join(t.Properties, ", "),
		"CanEdit": s.Can(domain.PermFilesAdmin),
	})
}

func (c *Console) folderTypeSave(w http.ResponseWriter, r *http.Request, s *session) {
	id, f := r.PathValue("id"), r.PostForm
	ctxs := splitList(f.Get("contexts"))
	if !contains(ctxs, domain.ContextRoot) {
		ctxs = append([]string{domain.ContextRoot}, ctxs...)
	}
	t, _, err := c.svc.UpdateFolderType(r.Context(), s.Caller(), id, domain.FolderType{Name: strings.TrimSpace(f.Get("name")),
		Contexts: ctxs, Properties: splitList(f.Get("properties"))})
	if err != nil {
		failed(w, r, "/admin/folder-types/"+url.PathEscape(id), err)
		return
	}
	done(w, r, "/admin/folder-types/"+url.PathEscape(id), "Folder type “"+t.Name+"” saved.")
}
