package console

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// follow posts a form and reads the page the browser is redirected to,
// with the flash cookie the redirect set.
func (e *env) follow(t *testing.T, path string, form url.Values, ck *http.Cookie) (string, string) {
	t.Helper()
	resp := e.do(t, http.MethodPost, path, form, ck)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, read(t, resp))
	}
	to := resp.Header.Get("Location")
	cks := []*http.Cookie{ck}
	for _, c := range resp.Cookies() {
		if c.Name == flashCookie {
			cks = append(cks, c)
		}
	}
	return to, read(t, e.do(t, http.MethodGet, to, nil, cks...))
}

// The new screens render for the administrator.
func TestEditPagesRender(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	u, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "bob", DisplayName: "Bob <b>", Email: "bob@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := e.svc.CreateProject(ctx, e.admin, domain.Project{Name: "P1", MembershipMode: domain.ModeMultiple})
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := e.svc.CreateFolder(ctx, e.admin, domain.Folder{Name: "Top", TypeID: domain.FolderTypeFolderID})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/admin/users/" + u.ID, "/admin/users/" + u.ID + "/delete", "/admin/projects/" + p.ID + "/delete",
		"/admin/folders/" + f.ID, "/admin/folders/" + f.ID + "/delete", "/admin/folder-types/" + domain.FolderTypeFolderID} {
		resp := e.do(t, http.MethodGet, path, nil, ck)
		body := read(t, resp)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "went wrong") {
			t.Errorf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		if strings.Contains(body, "Bob <b>") {
			t.Errorf("GET %s: user data unescaped", path)
		}
	}
}

// Editing a user goes through the service; its refusals come back as the
// page's message.
func TestUserEdits(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	u, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "bob", DisplayName: "Bob", Email: "bob@example.org", Password: "bob-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := e.svc.CreateProject(ctx, e.admin, domain.Project{Name: "P1", MembershipMode: domain.ModeMultiple})
	if err != nil {
		t.Fatal(err)
	}
	base := "/admin/users/" + u.ID
	if _, body := e.follow(t, base+"/profile", url.Values{"display_name": {"Robert Baker"}, "email": {"rb@example.org"}}, ck); !strings.Contains(body, "saved") {
		t.Errorf("profile: %s", body)
	}
	if got, _ := e.svc.GetUser(ctx, e.admin, u.ID); got.DisplayName != "Robert Baker" || got.Email != "rb@example.org" {
		t.Errorf("profile not saved: %+v", got)
	}
	// A form without the masked fields leaves them as they are.
	e.follow(t, base+"/profile", url.Values{}, ck)
	if got, _ := e.svc.GetUser(ctx, e.admin, u.ID); got.DisplayName != "Robert Baker" {
		t.Errorf("a profile form without the name cleared it: %+v", got)
	}
	if _, body := e.follow(t, base+"/password", url.Values{"new": {"x1"}, "repeat": {"x2"}}, ck); !strings.Contains(body, "differ") {
		t.Errorf("mismatched passwords: %s", body)
	}
	if _, body := e.follow(t, base+"/projects", url.Values{"row": {p.ID}, "p." + p.ID: {domain.PermProjectWrite}}, ck); !strings.Contains(body, "1 project changed") {
		t.Errorf("project rights: %s", body)
	}
	gs, err := e.svc.UserProjectGrants(ctx, e.admin, u.ID)
	if err != nil || len(gs) != 1 || !sameSet(gs[0].Permissions, []string{domain.PermProjectWrite, domain.PermProjectRead}) {
		t.Errorf("project rights stored: %+v %v", gs, err)
	}
	e.follow(t, base+"/projects", url.Values{"row": {p.ID}}, ck)
	if gs, _ := e.svc.UserProjectGrants(ctx, e.admin, u.ID); len(gs) != 0 {
		t.Errorf("unticking every box should remove the user from the project: %+v", gs)
	}
	if to, body := e.follow(t, base+"/delete", url.Values{}, ck); !strings.HasSuffix(to, "/delete") || !strings.Contains(body, "I understand") {
		t.Errorf("delete without confirmation went to %s", to)
	}
	if to, body := e.follow(t, base+"/delete", url.Values{"confirm": {"yes"}}, ck); to != "/admin/users" || !strings.Contains(body, "deleted") {
		t.Errorf("delete: %s %s", to, body)
	}
	// The administrator may not delete themselves: the button is disabled.
	body := read(t, e.do(t, http.MethodGet, "/admin/users/"+e.admin.UserID, nil, ck))
	if !strings.Contains(body, `id="delete-user" disabled`) && !strings.Contains(body, `disabled id="delete-user"`) {
		t.Errorf("own delete button is not disabled")
	}
}

// A folder cannot move below itself; a folder type cannot lose a context:
// the service refuses and the page says why.
func TestFolderEditsShowRefusals(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	top, _, err := e.svc.CreateFolder(ctx, e.admin, domain.Folder{Name: "Top", TypeID: domain.FolderTypeFolderID})
	if err != nil {
		t.Fatal(err)
	}
	sub, _, err := e.svc.CreateFolder(ctx, e.admin, domain.Folder{Name: "Sub", TypeID: domain.FolderTypeFolderID, ParentID: top.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := e.follow(t, "/admin/folders/"+top.ID, url.Values{"name": {"Top"}, "parent": {sub.ID}}, ck); !strings.Contains(body, "below itself") {
		t.Errorf("cycle: %s", body)
	}
	ft, _, err := e.svc.CreateFolderType(ctx, e.admin, domain.FolderType{Name: "study", Contexts: []string{domain.ContextRoot, "data"}, Properties: []string{"Indication"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := e.follow(t, "/admin/folder-types/"+ft.ID, url.Values{"name": {"study"}, "contexts": {"root"}, "properties": {"Indication"}}, ck); !strings.Contains(body, "cannot be removed") {
		t.Errorf("context removal: %s", body)
	}
	if _, body := e.follow(t, "/admin/folder-types/"+ft.ID, url.Values{"name": {"study"}, "contexts": {"data, analysis"}, "properties": {"Indication, Phase"}}, ck); !strings.Contains(body, "saved") {
		t.Errorf("adding to a type: %s", body)
	}
	if to, _ := e.follow(t, "/admin/folders/"+top.ID+"/delete", url.Values{"confirm": {"yes"}}, ck); to != "/admin/folders" {
		t.Errorf("delete went to %s", to)
	}
	if _, err := e.svc.GetFolder(ctx, e.admin, sub.ID); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("the subtree survived: %v", err)
	}
}

var nextLink, prevLink = regexp.MustCompile(`<a href="([^"]*)" rel="next"`), regexp.MustCompile(`<a href="([^"]*)" rel="prev"`)

func link(re *regexp.Regexp, body string) string {
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// The users list and the members tab page with Next and Previous links
// that keep the search and the sort.
func TestPaging(t *testing.T) {
	e := newEnv(t)
	e.h.(*Console).pageSize = 2
	ck := e.signIn(t)
	ctx := context.Background()
	g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Readers", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"user-a", "user-b", "user-c", "user-d", "user-e"} {
		if _, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: n}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) string { return read(t, e.do(t, http.MethodGet, path, nil, ck)) }
	// Users, searched: user-a..e, two per page.
	var seen []string
	path := "/admin/users?q=user-"
	var pages []string
	for path != "" && len(pages) < 5 {
		pages = append(pages, path)
		body := get(path)
		for _, m := range regexp.MustCompile(`>(user-[a-e])</a>`).FindAllStringSubmatch(body, -1) {
			seen = append(seen, m[1])
		}
		path = link(nextLink, body)
		if path != "" && !strings.Contains(path, "q=user-") {
			t.Errorf("next link %q lost the search", path)
		}
	}
	if strings.Join(seen, ",") != "user-a,user-b,user-c,user-d,user-e" || len(pages) != 3 {
		t.Fatalf("paged users: %v over %d pages", seen, len(pages))
	}
	last := get(pages[2])
	if prev := link(prevLink, last); prev != pages[1] {
		t.Errorf("previous of page 3 is %q, want %q", prev, pages[1])
	}
	if prev := link(prevLink, get(pages[1])); prev != pages[0] {
		t.Errorf("previous of page 2 is %q, want %q", prev, pages[0])
	}
	if link(prevLink, get(pages[0])) != "" {
		t.Errorf("the first page has a previous link")
	}
	// Every user, to add members, sorted descending: the view and the
	// sort are kept.
	body := get("/admin/groups/" + g.ID + "/members?view=all&q=user-&sort=username&order=desc")
	next := link(nextLink, body)
	if !strings.Contains(next, "order=desc") || !strings.Contains(next, "q=user-") || !strings.Contains(next, "view=all") {
		t.Fatalf("members next link %q", next)
	}
	if body := get(next); !strings.Contains(body, "user-c") || strings.Contains(body, "user-e") || link(prevLink, body) == "" {
		t.Errorf("members page 2:\n%s", body)
	}
}

// Deleting a project says what goes with it and asks for confirmation.
func TestProjectDelete(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	p, _, err := e.svc.CreateProject(ctx, e.admin, domain.Project{Name: "P1", MembershipMode: domain.ModeMultiple})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "P1 readers", Scope: domain.ScopeProject, ProjectID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	body := read(t, e.do(t, http.MethodGet, "/admin/projects/"+p.ID+"/delete", nil, ck))
	if !strings.Contains(body, "P1 readers") || !strings.Contains(body, "grants") {
		t.Errorf("the confirmation does not say what goes:\n%s", body)
	}
	if to, _ := e.follow(t, "/admin/projects/"+p.ID+"/delete", url.Values{}, ck); !strings.HasSuffix(to, "/delete") {
		t.Errorf("unconfirmed delete went to %s", to)
	}
	if to, body := e.follow(t, "/admin/projects/"+p.ID+"/delete", url.Values{"confirm": {"yes"}}, ck); to != "/admin/projects" || !strings.Contains(body, "deleted") {
		t.Errorf("delete: %s\n%s", to, body)
	}
	if _, err := e.svc.GetGroup(ctx, e.admin, g.ID); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("the project group survived: %v", err)
	}
}

// A damaged page link goes back to the first page with a message rather
// than to an error page.
func TestBadCursor(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	resp := e.do(t, http.MethodGet, "/admin/users?q=a&cursor=not-a-cursor", nil, ck)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users?q=a" {
		t.Errorf("bad cursor: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Bulk membership: a list sent as a file is previewed line by line, and
// applying it adds the users in one change.
func TestBulkMembership(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Readers", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ann", "ben"} {
		if _, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: n}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("do", "preview")
	// Part of the list pasted, part in a file.
	_ = mw.WriteField("list", "ann\nnobody\n")
	fw, _ := mw.CreateFormFile("file", "list.csv")
	_, _ = fw.Write([]byte("ben,2099-01-31\nann\nben,31/01/2099\n"))
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/admin/groups/"+g.ID+"/bulk", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.AddCookie(ck)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	body := w.Body.String()
	for _, want := range []string{"<strong>2</strong> to add", "1 already members", "1 not found", "1 not understood", "no such user", "listed twice"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %q:\n%s", want, body)
		}
	}
	if to, body := e.follow(t, "/admin/groups/"+g.ID+"/bulk", url.Values{"do": {"apply"}, "list": {"ann\nnobody\nben,2099-01-31\n"}}, ck); !strings.Contains(body, "2 users added from the list.") {
		t.Errorf("apply went to %s:\n%s", to, body)
	}
	n, err := e.svc.GroupMemberCounts(ctx, e.admin, g.ID)
	if err != nil || n.Active != 2 {
		t.Errorf("after the list: %+v, %v; want 2 members", n, err)
	}
}

// The bulk preview says who would be refused and why (R23 here: a second
// group in an exclusive project), and applying leaves them out.
func TestBulkMembershipPreviewsRefusals(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	p, _, err := e.svc.CreateProject(ctx, e.admin, domain.Project{Name: "Trial", MembershipMode: domain.ModeExclusive})
	if err != nil {
		t.Fatal(err)
	}
	var groups []domain.Group
	for _, n := range []string{"Site A", "Site B"} {
		g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: n, Scope: domain.ScopeSystem})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.ImportGroup(ctx, e.admin, g.ID, []string{p.ID}); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	ids := map[string]string{}
	for _, n := range []string{"ann", "bob"} {
		u, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: n})
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = u.ID
	}
	if _, _, err := e.svc.AddMembers(ctx, e.admin, groups[1].ID, []service.MemberInput{{UserID: ids["bob"]}}); err != nil {
		t.Fatal(err)
	}
	body := read(t, e.do(t, http.MethodPost, "/admin/groups/"+groups[0].ID+"/bulk", url.Values{"do": {"preview"}, "list": {"ann\nbob\n"}}, ck))
	for _, want := range []string{"<strong>1</strong> to add", "1 refused", "Site B"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %q:\n%s", want, body)
		}
	}
	if to, body := e.follow(t, "/admin/groups/"+groups[0].ID+"/bulk", url.Values{"do": {"apply"}, "list": {"ann\nbob\n"}}, ck); !strings.Contains(body, "1 user added from the list.") {
		t.Errorf("apply went to %s:\n%s", to, body)
	}
}
