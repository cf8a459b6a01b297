package console

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The user page's groups and effective access: what Keycloak shows of a
// user, here with the path that grants each thing. The engine answers
// (R19); the console only words the answer.

// accessLine is one permission the user holds, with how.
type accessLine struct {
	Key, Label string
	Paths      []string
}

// projectAccess is what the user may do in one project.
type projectAccess struct {
	ID, Name string
	Lines    []accessLine
}

// pathText words one grant path of an explanation.
func pathText(key string, p service.Path) string {
	var b strings.Builder
	if p.GroupName != "" {
		b.WriteString("group " + p.GroupName)
	} else {
		b.WriteString("their own grant")
	}
	switch {
	case p.RoleName != "":
		b.WriteString(", role " + p.RoleName)
	case p.Via == "checkbox" || p.Via == "project_grant":
		b.WriteString(", ticked")
	default:
		b.WriteString(", " + strings.ReplaceAll(p.Via, "_", " "))
	}
	if p.Permission != "" && p.Permission != key {
		b.WriteString(", through " + permLabel(p.Permission))
	}
	return b.String()
}

// accessOn lists the user's effective permissions on a resource, each
// with the paths that grant it. An error is returned, never shown as "no
// access".
func (c *Console) accessOn(r *http.Request, s *session, userID, res string) ([]accessLine, error) {
	access, err := c.svc.EffectiveAccess(r.Context(), s.Caller(), service.EffectiveQuery{Subject: "user:" + userID, Resource: res})
	if err != nil {
		return nil, err
	}
	out := make([]accessLine, 0, len(access))
	for _, a := range access {
		line := accessLine{Key: a.Permission, Label: permLabel(a.Permission)}
		for _, p := range a.Paths {
			line.Paths = append(line.Paths, pathText(a.Permission, p))
		}
		out = append(out, line)
	}
	return out, nil
}

// fillAccess adds the user's effective access to the page, if the caller
// may ask about them.
func (c *Console) fillAccess(r *http.Request, s *session, u domain.User, data map[string]any) {
	sys, err := c.accessOn(r, s, u.ID, "system")
	if k := domain.KindOf(err); k == domain.KindForbidden || k == domain.KindUnauthenticated {
		// Asking about another user needs users.view.
		data["AccessWhy"] = message(err)
		return
	}
	if err != nil {
		data["AccessWhy"] = "Their access could not be read: " + message(err)
		return
	}
	data["System"] = sys
	_, projects := c.allProjects(s, r)
	var pa []projectAccess
	for _, p := range projects {
		lines, err := c.accessOn(r, s, u.ID, "project:"+p.ID)
		if domain.Is(err, domain.KindNotFound) {
			continue // a project created since the list was read
		}
		if err != nil {
			data["AccessWhy"] = "Their access could not be read: " + message(err)
			return
		}
		if len(lines) > 0 {
			pa = append(pa, projectAccess{ID: p.ID, Name: p.Name, Lines: lines})
		}
	}
	data["ProjectAccess"] = pa
	data["AccessAsked"] = true
}

// fillUserGroups adds the user's groups, and the roles of each project
// matrix row.
func (c *Console) fillUserGroups(r *http.Request, s *session, u domain.User, data map[string]any) {
	groups, err := c.svc.UserGroups(r.Context(), s.Caller(), u.ID)
	if err != nil {
		data["GroupsWhy"] = message(err)
		return
	}
	now := c.now()
	type row struct {
		service.UserGroup
		Project string
		Ended   bool
		CanEdit bool
	}
	var rows []row
	for _, g := range groups {
		rows = append(rows, row{UserGroup: g, Project: c.projectName(r, s, g.Group.ProjectID), Ended: !g.Membership.ActiveAt(now),
			CanEdit: c.rightsOn(s, &g.Group).Members})
	}
	data["Groups"] = rows
	data["CanAddGroups"] = s.Can(domain.PermGroupsMembers)
}

// userGroups adds the user to a group found by name, or removes them
// from one.
func (c *Console) userGroups(w http.ResponseWriter, r *http.Request, s *session) {
	id, f := r.PathValue("id"), r.PostForm
	back := userURL(id) + "#groups"
	if gid := f.Get("remove"); gid != "" {
		if _, _, err := c.svc.RemoveMembers(r.Context(), s.Caller(), gid, []string{id}); err != nil {
			failed(w, r, back, err)
			return
		}
		done(w, r, back, "Removed from the group.")
		return
	}
	name := strings.TrimSpace(f.Get("group"))
	page, err := c.svc.ListGroups(r.Context(), s.Caller(), service.ListQuery{Search: name, Sort: "name", Limit: 50})
	if err != nil {
		failed(w, r, back, err)
		return
	}
	i := slices.IndexFunc(page.Items, func(g domain.Group) bool { return domain.NameKey(g.Name) == domain.NameKey(name) })
	if name == "" || i < 0 {
		failed(w, r, back, domain.E(domain.KindInvalid, domain.FieldError{Field: "group", Message: "no group is named “" + name + "”"}))
		return
	}
	in := service.MemberInput{UserID: id}
	if d := strings.TrimSpace(f.Get("expires")); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			failed(w, r, back, domain.E(domain.KindInvalid, domain.FieldError{Field: "expires", Message: "use the form YYYY-MM-DD"}))
			return
		}
		in.ExpiresAt = &t
	}
	res, _, err := c.svc.AddMembers(r.Context(), s.Caller(), page.Items[i].ID, []service.MemberInput{in})
	if err != nil {
		failed(w, r, back, err)
		return
	}
	msg := "Added to “" + page.Items[i].Name + "”."
	if len(res.Projects) > 0 {
		msg += " The user is now a member of: " + refNames(res.Projects) + "."
	}
	done(w, r, back, msg)
}
