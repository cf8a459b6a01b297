package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// users

func (c *Console) userList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	page, err := c.svc.ListUsers(r.Context(), s.Caller(), service.ListQuery{Search: q.Get("q"), Sort: "username", Limit: c.pageSize, Cursor: q.Get("cursor")})
	if err != nil && q.Get("cursor") != "" && domain.KindOf(err) == domain.KindInvalid {
		// A stale or damaged page link: back to the first page.
		failed(w, r, "/admin/users"+queryOf("q", q.Get("q")), err)
		return
	}
	if err != nil {
		c.render(w, r, s, http.StatusForbidden, "denied", "Users", "users", message(err))
		return
	}
	if !s.ShowPI() {
		kept := page.Items[:0]
		for _, u := range page.Items {
			if matchesUsername(u.Username, q.Get("q")) {
				kept = append(kept, u) // R18: hidden names and emails are not searchable
			}
		}
		page.Items = kept
	}
	roles := map[string]string{}
	sysRoles, _ := c.svc.RolesOfScope(r.Context(), s.Caller(), domain.ScopeSystem, "")
	for _, ro := range sysRoles {
		roles[ro.ID] = ro.Name
	}
	c.render(w, r, s, http.StatusOK, "users", "Users", "users", map[string]any{
		"Users": page.Items, "Search": q.Get("q"), "RoleNames": roles, "Roles": sysRoles,
		"Pager":   pagerOf("/admin/users", q, []string{"q"}, page.Next),
		"CanEdit": s.Can(domain.PermUsersEdit), "DefaultRole": domain.RoleSystemManagerID,
	})
}

func (c *Console) userCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	u, _, err := c.svc.CreateUser(r.Context(), s.Caller(), service.NewUser{Username: strings.TrimSpace(f.Get("username")),
		Email: strings.TrimSpace(f.Get("email")), DisplayName: strings.TrimSpace(f.Get("display_name")),
		Password: f.Get("password"), SystemRoleID: f.Get("role")})
	if err != nil {
		failed(w, r, "/admin/users", err)
		return
	}
	done(w, r, "/admin/users", "User “"+u.Username+"” created.")
}

// userStatus enables a user at once, and disables one only after a
// confirmation that says what disabling does; both go back to where the
// form was (the user's page, or the list with its search and page).
func (c *Console) userStatus(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	st := domain.UserStatus(f.Get("status"))
	back := "/admin/users" + queryOf("q", f.Get("q"), "cursor", f.Get("cursor"))
	if f.Get("back") == "user" {
		back = userURL(r.PathValue("id"))
	}
	// The confirmation is asked only of a caller the service would let
	// act; anyone else gets the service's refusal (and its audit record)
	// at once.
	if st == domain.UserDisabled && f.Get("confirm") != "yes" &&
		c.svc.CheckActOnUser(r.Context(), s.Caller(), r.PathValue("id"), domain.PermUsersEdit) == nil {
		u, err := c.svc.GetUser(r.Context(), s.Caller(), r.PathValue("id"))
		if err != nil {
			failed(w, r, back, err)
			return
		}
		c.render(w, r, s, http.StatusOK, "user_disable", "Disable "+u.Username, "users", map[string]any{
			"User": u, "Back": back, "From": f.Get("back"), "Q": f.Get("q"), "Cursor": f.Get("cursor")})
		return
	}
	u, _, err := c.svc.SetUserStatus(r.Context(), s.Caller(), r.PathValue("id"), st)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	done(w, r, back, "User “"+u.Username+"” is now "+string(u.Status)+".")
}

// roles

func (c *Console) roleList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	page, err := c.svc.ListRoles(r.Context(), s.Caller(), service.ListQuery{Sort: "name", Cursor: q.Get("cursor"), Limit: c.pageSize})
	if err != nil {
		c.render(w, r, s, http.StatusForbidden, "denied", "Roles", "roles", message(err))
		return
	}
	c.render(w, r, s, http.StatusOK, "roles", "Roles", "roles", map[string]any{
		"Roles": page.Items, "CanEdit": s.Can(domain.PermRolesEdit), "CanDelete": s.Can(domain.PermRolesDelete),
		"Pager": pagerOf("/admin/roles", q, nil, page.Next),
	})
}

func (c *Console) roleEditor(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	role := domain.Role{ID: "new", Scope: domain.Scope(r.URL.Query().Get("scope")), Editable: true}
	if role.Scope != domain.ScopeProject {
		role.Scope = domain.ScopeSystem
	}
	if id != "new" {
		var err error
		if role, err = c.svc.GetRole(r.Context(), s.Caller(), id); err != nil {
			c.render(w, r, s, http.StatusNotFound, "denied", "Role", "roles", message(err))
			return
		}
	}
	c.render(w, r, s, http.StatusOK, "role", "Role", "roles", map[string]any{
		"Role": role, "Held": setOf(role.Permissions), "Areas": areasOf(role.Scope),
		"CanEdit": s.Can(domain.PermRolesEdit) && role.Editable,
	})
}

func (c *Console) roleSave(w http.ResponseWriter, r *http.Request, s *session) {
	id, f := r.PathValue("id"), r.PostForm
	name, desc, perms := strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("description")), closeViews(f["perm"])
	var err error
	var role domain.Role
	if id == "new" {
		role, _, err = c.svc.CreateRole(r.Context(), s.Caller(), domain.Role{Name: name, Description: desc, Scope: domain.Scope(f.Get("scope")), Permissions: perms})
	} else {
		role, _, err = c.svc.UpdateRole(r.Context(), s.Caller(), id, service.RoleUpdate{Name: &name, Description: &desc, Permissions: &perms})
	}
	if err != nil {
		failed(w, r, "/admin/roles/"+url.PathEscape(id)+queryOf("scope", f.Get("scope")), err)
		return
	}
	done(w, r, "/admin/roles", "Role “"+role.Name+"” saved.")
}

func (c *Console) roleDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.svc.DeleteRole(r.Context(), s.Caller(), r.PathValue("id")); err != nil {
		failed(w, r, "/admin/roles", err)
		return
	}
	done(w, r, "/admin/roles", "Role deleted.")
}

// projects

type projectLine struct {
	domain.Project
	CanEdit bool
}

func (c *Console) projectList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	page, err := c.svc.ListProjects(r.Context(), s.Caller(), service.ListQuery{Search: q.Get("q"), Sort: "name", Cursor: q.Get("cursor"), Limit: c.pageSize})
	if err != nil {
		s.Error = message(err)
	}
	var rows []projectLine
	for _, p := range page.Items {
		rows = append(rows, projectLine{Project: p, CanEdit: c.onProject(s, p.ID)[domain.PermProjectModerate] || s.Can(domain.PermServerManage)})
	}
	c.render(w, r, s, http.StatusOK, "projects", "Projects", "projects", map[string]any{
		"Projects": rows, "CanCreate": s.Can(domain.PermProjectCreate), "CanDelete": s.Can(domain.PermProjectDelete),
		"Search": q.Get("q"), "Pager": pagerOf("/admin/projects", q, []string{"q"}, page.Next),
	})
}

func (c *Console) projectCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	p, _, err := c.svc.CreateProject(r.Context(), s.Caller(), domain.Project{Name: strings.TrimSpace(f.Get("name")),
		Description: strings.TrimSpace(f.Get("description")), MembershipMode: domain.MembershipMode(f.Get("mode"))})
	if err != nil {
		failed(w, r, "/admin/projects", err)
		return
	}
	done(w, r, "/admin/projects", "Project “"+p.Name+"” created.")
}

func (c *Console) projectUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	mode := domain.MembershipMode(r.PostForm.Get("mode"))
	p, _, err := c.svc.UpdateProject(r.Context(), s.Caller(), r.PathValue("id"), service.ProjectUpdate{MembershipMode: &mode})
	if err != nil {
		failed(w, r, "/admin/projects", err)
		return
	}
	done(w, r, "/admin/projects", "Project “"+p.Name+"” is now in "+string(p.MembershipMode)+" membership mode.")
}

// folders

func (c *Console) folderPage(w http.ResponseWriter, r *http.Request, s *session) {
	tree, more, err := c.folderTreeUpTo(r, s, 2000)
	types, terr := c.svc.ListFolderTypes(r.Context(), s.Caller())
	if err == nil {
		err = terr
	}
	_, projects := c.allProjects(s, r)
	if err != nil {
		s.Error = message(err)
	}
	c.render(w, r, s, http.StatusOK, "folders", "Folders", "folders", map[string]any{
		"Tree": tree, "MoreFolders": more, "Types": types, "Projects": projects, "CanEdit": s.Can(domain.PermFilesAdmin),
	})
}

func splitList(v string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) {
		if x = strings.TrimSpace(x); x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func (c *Console) folderTypeCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	ctxs := splitList(f.Get("contexts"))
	if !contains(ctxs, domain.ContextRoot) {
		ctxs = append([]string{domain.ContextRoot}, ctxs...)
	}
	t, _, err := c.svc.CreateFolderType(r.Context(), s.Caller(), domain.FolderType{Name: strings.TrimSpace(f.Get("name")),
		Contexts: ctxs, Properties: splitList(f.Get("properties"))})
	if err != nil {
		failed(w, r, "/admin/folders", err)
		return
	}
	done(w, r, "/admin/folders", "Folder type “"+t.Name+"” created.")
}

func (c *Console) folderCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	props := map[string]string{}
	for _, line := range strings.Split(f.Get("properties"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) != "" {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	fo, _, err := c.svc.CreateFolder(r.Context(), s.Caller(), domain.Folder{Name: strings.TrimSpace(f.Get("name")), ParentID: f.Get("parent"),
		TypeID: f.Get("type"), Properties: props, ProjectID: f.Get("project")})
	if err != nil {
		failed(w, r, "/admin/folders", err)
		return
	}
	done(w, r, "/admin/folders", "Folder “"+fo.Name+"” created.")
}

// audit

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	aq := service.AuditQuery{ActorID: q.Get("actor"), Action: q.Get("action"), TargetKind: q.Get("kind"), Cursor: q.Get("cursor"), Limit: 50}
	if who := strings.TrimSpace(q.Get("who")); who != "" {
		id, err := c.svc.UserIDByUsername(r.Context(), s.Caller(), who)
		if err != nil {
			s.Error = "No user “" + who + "”."
		}
		aq.ActorID = id
	}
	page, err := c.svc.ListAudit(r.Context(), s.Caller(), aq)
	if err != nil {
		c.render(w, r, s, http.StatusForbidden, "denied", "Audit log", "audit", message(err))
		return
	}
	next := ""
	if page.Next != "" {
		next = "/admin/audit" + queryOf("actor", aq.ActorID, "action", aq.Action, "kind", aq.TargetKind, "cursor", page.Next)
	}
	n := &namer{c: c, r: r, s: s, names: map[string]string{}}
	targets, details := map[string]string{}, map[string]string{}
	for _, ev := range page.Items {
		targets[ev.ID] = n.target(&ev)
		details[ev.ID] = n.text(ev.Detail)
	}
	c.render(w, r, s, http.StatusOK, "audit", "Audit log", "audit", map[string]any{
		"Events": page.Items, "Who": q.Get("who"), "Action": aq.Action, "Kind": aq.TargetKind, "Next": next,
		"Targets": targets, "Details": details,
	})
}

// namer names the objects an audit page mentions by id, looking each up
// once through the service (so only what the caller may see is named).
type namer struct {
	c     *Console
	r     *http.Request
	s     *session
	names map[string]string
}

// target names an event's target: from the record itself (its name or
// username), else by looking it up.
func (n *namer) target(ev *domain.AuditEvent) string {
	for _, raw := range [][]byte{ev.After, ev.Before} {
		var v struct{ Name, Username string }
		if len(raw) > 0 && json.Unmarshal(raw, &v) == nil {
			if v.Name != "" {
				return v.Name
			}
			if v.Username != "" {
				return v.Username
			}
		}
	}
	if ev.TargetID == "" {
		return ""
	}
	v := n.name(ev.TargetID)
	if _, rest, ok := strings.Cut(v, " "); ok && !strings.HasPrefix(v, "(") {
		return rest // the kind is in its own column
	}
	return v
}

// name looks an id up as a project, group, user or folder.
func (n *namer) name(id string) string {
	if v, ok := n.names[id]; ok {
		return v
	}
	ctx, c := n.r.Context(), n.s.Caller()
	v := "(deleted or hidden)"
	if p, err := n.c.svc.GetProject(ctx, c, id); err == nil {
		v = "project " + p.Name
	} else if g, err := n.c.svc.GetGroup(ctx, c, id); err == nil {
		v = "group " + g.Name
	} else if u, err := n.c.svc.GetUser(ctx, c, id); err == nil {
		v = "user " + u.Username
	} else if f, err := n.c.svc.GetFolder(ctx, c, id); err == nil {
		v = "folder " + f.Name
	}
	n.names[id] = v
	return v
}

// text names the ids in a sentence and leaves out rule numbers.
func (n *namer) text(t string) string {
	t = idRE.ReplaceAllStringFunc(t, func(m string) string {
		_, id, ok := strings.Cut(m, ":")
		if !ok {
			id = m
		}
		return "“" + n.name(id) + "”"
	})
	return strings.TrimSpace(ruleRefRE.ReplaceAllString(t, " "))
}

// access explorer

type accessAnswer struct {
	Explanation service.Explanation
	Effective   []string
	Error       string
	Subject     string
	GroupNames  map[string]string
}

func (c *Console) accessPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	var perms []string
	for _, p := range domain.Catalog() {
		perms = append(perms, p.Key)
	}
	types, _ := c.svc.ListFolderTypes(r.Context(), s.Caller())
	for _, cx := range ruleContexts(types) {
		for _, a := range domain.Actions() {
			perms = append(perms, cx+"."+a)
		}
	}
	tree, more, _ := c.folderTreeUpTo(r, s, 500)
	_, projects := c.allProjects(s, r)
	names := map[string]string{"system": "the system"}
	for _, f := range tree {
		names[f.ID] = f.Name
		names["folder:"+f.ID] = "folder " + f.Name
	}
	for _, p := range projects {
		names[p.ID] = p.Name
		names["project:"+p.ID] = "project " + p.Name
	}
	// The subject is named by username; a link may name it by id.
	user, username := q.Get("user"), strings.TrimSpace(q.Get("username"))
	if username != "" && username != "anonymous" {
		id, err := c.svc.UserIDByUsername(r.Context(), s.Caller(), username)
		if err != nil {
			s.Error = "No user “" + username + "” that you may ask about."
		}
		user = id
	} else if username == "anonymous" {
		user = "anonymous"
	} else if user != "" && user != "anonymous" {
		if u, err := c.svc.GetUser(r.Context(), s.Caller(), user); err == nil {
			username = u.Username
		}
	}
	data := map[string]any{"Perms": perms, "Projects": projects, "Tree": tree, "MoreFolders": more, "Names": names,
		"User": user, "Username": username, "Perm": q.Get("permission"), "Resource": q.Get("resource")}
	if q.Get("resource") != "" && s.Error == "" {
		a := c.explain(r, s, user, q.Get("permission"), q.Get("resource"))
		humanize(&a, names)
		data["Answer"] = a
	}
	c.render(w, r, s, http.StatusOK, "access", "Access explorer", "access", data)
}

// humanize puts names in place of the ids in an explanation's sentences
// and leaves out rule numbers: they are written for the API's readers.
func humanize(a *accessAnswer, names map[string]string) {
	h := func(t string) string {
		t = idRE.ReplaceAllStringFunc(t, func(m string) string {
			if n, ok := names[m]; ok {
				return "“" + strings.TrimPrefix(strings.TrimPrefix(n, "folder "), "project ") + "”"
			}
			return m
		})
		return strings.TrimSpace(ruleRefRE.ReplaceAllString(t, " "))
	}
	ex := &a.Explanation
	ex.Reason = h(ex.Reason)
	for i := range ex.Considered {
		ex.Considered[i] = h(ex.Considered[i])
	}
	for i := range ex.Suggestions {
		ex.Suggestions[i] = h(ex.Suggestions[i])
	}
}

// idRE matches an id in a sentence, with its kind when it has one.
var idRE = regexp.MustCompile(`(?:(?:folder|project):)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// explain answers the explorer's question: R19's explanation of the check
// and the subject's effective permissions on the resource.
func (c *Console) explain(r *http.Request, s *session, user, perm, res string) accessAnswer {
	var a accessAnswer
	subject := "anonymous"
	a.Subject = "anonymous"
	if user != "" && user != "anonymous" {
		subject = "user:" + user
		a.Subject = user
		if u, err := c.svc.GetUser(r.Context(), s.Caller(), user); err == nil {
			a.Subject = u.Username
		}
	}
	var err error
	if perm != "" {
		a.Explanation, err = c.svc.Explain(r.Context(), s.Caller(), service.CheckQuery{Subject: subject, Permission: perm, Resource: res})
		if err != nil {
			a.Error = message(err)
			return a
		}
	}
	e, err := c.svc.EffectivePermissions(r.Context(), s.Caller(), service.EffectiveQuery{Subject: subject, Resource: res})
	if err != nil {
		a.Error = message(err)
	}
	a.Effective = e.Permissions
	return a
}

// preferences

func (c *Console) prefsPage(w http.ResponseWriter, r *http.Request, s *session) {
	tokens, err := c.authn.ListTokens(r.Context(), s.ID, s.ID.UserID)
	if err != nil {
		s.Error = message(err)
	}
	var live []domain.APIToken
	for _, t := range tokens {
		if t.RevokedAt == nil {
			live = append(live, t)
		}
	}
	c.render(w, r, s, http.StatusOK, "preferences", "Personal preferences", "prefs", map[string]any{
		"Tokens": live, "Secret": newSecret(w, r), "HasPIRight": c.holdsPIRight(s),
	})
}

// holdsPIRight tells whether the user would see personal information with
// the preference on: whether the preference is the only thing hiding it.
func (c *Console) holdsPIRight(s *session) bool {
	ex, err := c.svc.Explain(context.Background(), s.Caller(), service.CheckQuery{Permission: domain.PermPersonalInfoView, Resource: "system"})
	return err == nil && (ex.Allowed || len(ex.Paths) > 0 || strings.Contains(ex.Reason, "preference"))
}

const secretCookie = "gatehouse_new_token"

// newSecret shows a just-created token's secret once: it travels from the
// POST to the next page in a short-lived HttpOnly cookie, cleared on read.
func newSecret(w http.ResponseWriter, r *http.Request) string {
	ck, err := r.Cookie(secretCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: secretCookie, Value: "", Path: "/preferences", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return ck.Value
}

func (c *Console) prefsPI(w http.ResponseWriter, r *http.Request, s *session) {
	show := r.PostForm.Get("show") == "on"
	if _, _, err := c.svc.SetShowPersonalInfo(r.Context(), s.Caller(), s.ID.UserID, show); err != nil {
		failed(w, r, "/preferences", err)
		return
	}
	msg := "Personal information is now hidden."
	if show {
		msg = "Personal information is now shown (where you have the right to see it)."
	}
	done(w, r, "/preferences", msg)
}

func (c *Console) prefsPassword(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	if f.Get("new") != f.Get("repeat") {
		failed(w, r, "/preferences", domain.E(domain.KindInvalid, domain.FieldError{Field: "Repeat new password", Message: "the two new passwords differ"}))
		return
	}
	// The current password is asked for, so that a browser left signed in
	// cannot be used to take the account over.
	ns, err := c.authn.Login(r.Context(), s.User.Username, f.Get("current"), s.ID.RemoteAddr, "console password check")
	if err != nil {
		failed(w, r, "/preferences", domain.E(domain.KindInvalid, domain.FieldError{Field: "Current password", Message: "is not right"}))
		return
	}
	_ = c.authn.Logout(r.Context(), ns.Secret, s.ID.RemoteAddr) // the check's own session is not needed
	if _, err := c.svc.SetPassword(r.Context(), s.Caller(), s.ID.UserID, f.Get("new")); err != nil {
		failed(w, r, "/preferences", err)
		return
	}
	// A new password ends every session of the user (the service revokes
	// them), this one too: sign in again.
	c.auth.ClearSessionCookie(w, r)
	done(w, r, "/login", "Password changed. Every session of yours was ended; sign in with the new password.")
}

func (c *Console) prefsTokenCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	req := authn.TokenRequest{Name: strings.TrimSpace(f.Get("name")), Permissions: f["perm"]}
	if d := strings.TrimSpace(f.Get("expires")); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			failed(w, r, "/preferences", domain.E(domain.KindInvalid, domain.FieldError{Field: "Expires", Message: "use the form YYYY-MM-DD"}))
			return
		}
		req.ExpiresAt = &t
	}
	nt, err := c.authn.CreateToken(r.Context(), s.ID, req)
	if err != nil {
		failed(w, r, "/preferences", err)
		return
	}
	// The new token's secret rides in this cookie once; over HTTPS it
	// must never be sent back over plain HTTP.
	http.SetCookie(w, &http.Cookie{Name: secretCookie, Value: nt.Secret, Path: "/preferences", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || c.secureCookies})
	done(w, r, "/preferences", "Token “"+nt.Token.Name+"” created. Copy its secret now: it is shown only once.")
}

func (c *Console) prefsTokenRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.authn.RevokeToken(r.Context(), s.ID, r.PathValue("id")); err != nil {
		failed(w, r, "/preferences", err)
		return
	}
	done(w, r, "/preferences", "Token revoked.")
}
