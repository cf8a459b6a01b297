package gatehouse_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

var ctx = context.Background()

// adminClient signs in as the administrator with a fresh API token.
func adminClient(t *testing.T, srv *apitest.Server) *gatehouse.Client {
	t.Helper()
	c, err := gatehouse.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, apitest.AdminUser, apitest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	nt, err := c.CreateToken(ctx, api.TokenRequest{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := gatehouse.New(srv.URL, gatehouse.WithToken(nt.Secret))
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// wantStatus fails unless err is an *Error with that status.
func wantStatus(t *testing.T, err error, status int) *gatehouse.Error {
	t.Helper()
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *gatehouse.Error with status %d", err, err, status)
	}
	if e.Status != status {
		t.Fatalf("status = %d, want %d: %v", e.Status, status, e)
	}
	return e
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := gatehouse.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	c, err := gatehouse.New("http://example.org:8080/api/v1/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BaseURL(), "http://example.org:8080/api/v1"; got != want {
		t.Errorf("BaseURL = %q, want %q", got, want)
	}
}

func TestLoginSessionAndTokens(t *testing.T) {
	srv := apitest.New(t)
	c, err := gatehouse.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Anonymous: /me is a 401.
	_, err = c.Me(ctx)
	if !gatehouse.IsUnauthenticated(err) {
		t.Fatalf("Me anonymous: err = %v, want 401", err)
	}
	// A wrong password: the generic 401.
	_, err = c.Login(ctx, "admin", "wrong")
	if e := wantStatus(t, err, 401); e.Detail != "invalid username or password" || e.Kind != "unauthenticated" {
		t.Errorf("bad login error = %+v", e)
	}
	s, err := c.Login(ctx, "admin", apitest.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID != srv.AdminID || s.Username != "admin" || time.Until(s.ExpiresAt) < 24*time.Hour {
		t.Errorf("session = %+v", s)
	}
	me, err := c.Me(ctx)
	if err != nil || me.ID != srv.AdminID {
		t.Fatalf("Me with the session = %+v, %v", me, err)
	}

	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	nt, err := c.CreateToken(ctx, api.TokenRequest{Name: "ci", Permissions: []string{"users.view"}, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nt.Secret, "gh_") || nt.Token.Name != "ci" || nt.Token.ExpiresAt == nil || !nt.Token.ExpiresAt.Equal(exp) {
		t.Errorf("new token = %+v", nt)
	}
	toks, err := c.ListTokens(ctx, "")
	if err != nil || !slices.ContainsFunc(toks, func(x api.APIToken) bool { return x.ID == nt.Token.ID }) {
		t.Errorf("ListTokens = %+v, %v", toks, err)
	}
	// Field errors keep their location.
	_, err = c.CreateToken(ctx, api.TokenRequest{Name: "x", Permissions: []string{"nope"}})
	e := wantStatus(t, err, 422)
	if len(e.Fields) != 1 || e.Fields[0].Location != "body.permissions[0]" || !strings.Contains(e.Error(), "permissions[0]: ") {
		t.Errorf("field errors = %+v; Error() = %q", e.Fields, e.Error())
	}

	// The token works on its own, within its limit.
	tc, err := gatehouse.New(srv.URL, gatehouse.WithToken(nt.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.ListUsers(ctx, gatehouse.ListOptions{}); err != nil {
		t.Errorf("ListUsers with a users.view token: %v", err)
	}
	_, err = tc.CreateUser(ctx, api.CreateUserRequest{Username: "eve"})
	wantStatus(t, err, 403)

	// Logout ends the session, not the token.
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(ctx); !gatehouse.IsUnauthenticated(err) {
		t.Errorf("Me after logout: err = %v, want 401", err)
	}
	if _, err := tc.Me(ctx); err != nil {
		t.Errorf("the token after logout: %v", err)
	}
	// Revoked, it is refused.
	if err := tc.RevokeToken(ctx, nt.Token.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tc.Me(ctx)
	if e := wantStatus(t, err, 401); !strings.Contains(e.Detail, "revoked") {
		t.Errorf("revoked token error = %v", e)
	}
}

func TestLoginThrottled(t *testing.T) {
	srv := apitest.New(t)
	c, _ := gatehouse.New(srv.URL)
	var err error
	for i := 0; i < 10 && gatehouse.StatusOf(err) != 429; i++ {
		_, err = c.Login(ctx, "admin", "wrong")
	}
	if e := wantStatus(t, err, 429); e.RetryAfter < time.Second {
		t.Errorf("RetryAfter = %v", e.RetryAfter)
	}
}

func TestUsersGroupsMembers(t *testing.T) {
	srv := apitest.New(t)
	c := adminClient(t, srv)

	bob, err := c.CreateUser(ctx, api.CreateUserRequest{Username: "bob", Email: "bob@example.org", DisplayName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(ctx, api.CreateUserRequest{Username: "BOB"})
	if !gatehouse.IsConflict(err) {
		t.Errorf("duplicate username: err = %v, want 409", err)
	}
	_, err = c.CreateUser(ctx, api.CreateUserRequest{Username: ""})
	if e := wantStatus(t, err, 422); len(e.Fields) == 0 || e.Fields[0].Location != "body.username" {
		t.Errorf("empty username: fields = %+v", e.Fields)
	}
	got, err := c.GetUser(ctx, bob.ID)
	if err != nil || got.Username != "bob" || got.Email != "bob@example.org" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	_, err = c.GetUser(ctx, "nobody")
	if !gatehouse.IsNotFound(err) {
		t.Errorf("GetUser(nobody): err = %v, want 404", err)
	}
	page, err := c.ListUsers(ctx, gatehouse.ListOptions{Search: "bo"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != bob.ID {
		t.Errorf("ListUsers(search bo) = %+v, %v", page, err)
	}
	// Conditional writes: a stale version is a 412.
	name := "Robert"
	if _, err := c.UpdateUser(ctx, bob.ID, api.UpdateUserRequest{DisplayName: &name}, got.Version); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateUser(ctx, bob.ID, api.UpdateUserRequest{DisplayName: &name}, got.Version)
	wantStatus(t, err, 412)

	if u, err := c.SetUserStatus(ctx, bob.ID, api.UserDisabled); err != nil || u.Status != api.UserDisabled {
		t.Errorf("disable: %+v, %v", u, err)
	}
	if u, err := c.SetUserStatus(ctx, bob.ID, api.UserActive); err != nil || u.Status != api.UserActive {
		t.Errorf("enable: %+v, %v", u, err)
	}
	if u, err := c.SetUserSystemRole(ctx, bob.ID, domain.RoleSystemMemberID); err != nil || u.SystemRoleID != domain.RoleSystemMemberID {
		t.Errorf("set-role: %+v, %v", u, err)
	}

	g, err := c.CreateGroup(ctx, api.CreateGroupRequest{Name: "Auditors", Scope: api.ScopeSystem, SystemPermissions: []string{"audit.view"}})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	if _, err := c.AddMembers(ctx, g.ID, api.MemberInput{UserID: bob.ID, ExpiresAt: &exp}); err != nil {
		t.Fatal(err)
	}
	ms, err := c.ListMembers(ctx, g.ID, gatehouse.MemberQuery{})
	if err != nil || len(ms.Items) != 1 || ms.Items[0].User.ID != bob.ID || ms.Items[0].ExpiresAt == nil || !ms.Items[0].ExpiresAt.Equal(exp) {
		t.Fatalf("ListMembers = %+v, %v", ms, err)
	}
	// At least the revision of the write, on any replica: Bob now holds audit.view.
	r, err := c.Check(ctx, gatehouse.CheckRequest{Subject: "user:" + bob.ID, Permission: "audit.view", Resource: "system",
		Consistency: gatehouse.AtLeast(c.Revision())})
	if err != nil || !r.Allowed || r.Revision < c.Revision() {
		t.Errorf("check after add = %+v, %v (client revision %d)", r, err, c.Revision())
	}
	if _, err := c.RemoveMembers(ctx, g.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	r, err = c.Check(ctx, gatehouse.CheckRequest{Subject: "user:" + bob.ID, Permission: "audit.view", Resource: "system"})
	if err != nil || r.Allowed {
		t.Errorf("check after remove = %+v, %v", r, err)
	}
	gs, err := c.ListGroups(ctx, gatehouse.GroupQuery{Scope: api.ScopeSystem, ListOptions: gatehouse.ListOptions{Search: "audit"}})
	if err != nil || len(gs.Items) != 1 || gs.Items[0].ID != g.ID {
		t.Errorf("ListGroups = %+v, %v", gs, err)
	}
	// A system group needs confirm (R27).
	_, err = c.DeleteGroup(ctx, g.ID, gatehouse.DeleteGroupOptions{})
	if gatehouse.StatusOf(err) < 400 {
		t.Errorf("delete without confirm: err = %v", err)
	}
	if _, err := c.DeleteGroup(ctx, g.ID, gatehouse.DeleteGroupOptions{Confirm: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUser(ctx, bob.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, bob.ID); !gatehouse.IsNotFound(err) {
		t.Errorf("deleted user: err = %v", err)
	}
}

func TestRolesProjectsChecks(t *testing.T) {
	srv := apitest.New(t)
	c := adminClient(t, srv)

	role, err := c.CreateRole(ctx, api.CreateRoleRequest{Name: "Readers", Scope: api.ScopeProject, Permissions: []string{"project.read"}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.GetRole(ctx, role.ID); err != nil || !slices.Contains(r.Permissions, "project.read") {
		t.Errorf("GetRole = %+v, %v", r, err)
	}
	p, err := c.CreateProject(ctx, api.CreateProjectRequest{Name: "Alpha"})
	if err != nil || p.MembershipMode != api.ModeMultiple {
		t.Fatalf("CreateProject = %+v, %v", p, err)
	}
	mode := api.ModeExclusive
	if p, err = c.UpdateProject(ctx, p.ID, api.UpdateProjectRequest{MembershipMode: &mode}, 0); err != nil || p.MembershipMode != mode {
		t.Errorf("set-mode = %+v, %v", p, err)
	}
	ann, err := c.CreateUser(ctx, api.CreateUserRequest{Username: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetUserProjectRights(ctx, ann.ID, p.ID, api.RightsRequest{RoleID: role.ID}); err != nil {
		t.Fatal(err)
	}
	// R7: an assigned role cannot be deleted, and the error says who holds it.
	_, err = c.DeleteRole(ctx, role.ID, 0)
	if e := wantStatus(t, err, 409); len(e.Holders) == 0 || !strings.Contains(e.Error(), "ann") {
		t.Errorf("delete assigned role: %v (holders %+v)", e, e.Holders)
	}

	res := "project:" + p.ID
	sub := "user:" + ann.ID
	r, err := c.Check(ctx, gatehouse.CheckRequest{Subject: sub, Permission: "project.read", Resource: res})
	if err != nil || !r.Allowed || r.Revision == 0 {
		t.Errorf("check = %+v, %v", r, err)
	}
	b, err := c.BatchCheck(ctx, gatehouse.BatchCheckRequest{Checks: []gatehouse.CheckRequest{
		{Subject: sub, Permission: "project.read", Resource: res},
		{Subject: sub, Permission: "project.moderate", Resource: res},
		{Subject: sub, Permission: "no.such", Resource: res}}})
	if err != nil || len(b.Results) != 3 || !b.Results[0].Allowed || b.Results[1].Allowed || b.Results[2].Err == nil {
		t.Errorf("batch = %+v, %v", b, err)
	}
	x, err := c.Explain(ctx, gatehouse.CheckRequest{Subject: sub, Permission: "project.read", Resource: res})
	if err != nil || !x.Allowed || len(x.Paths) == 0 || x.Paths[0].RoleName != "Readers" {
		t.Errorf("explain = %+v, %v", x, err)
	}
	x, err = c.Explain(ctx, gatehouse.CheckRequest{Subject: sub, Permission: "project.moderate", Resource: res})
	if err != nil || x.Allowed || len(x.Considered) == 0 {
		t.Errorf("explain deny = %+v, %v", x, err)
	}
	rs, err := c.ListResources(ctx, gatehouse.ResourcesQuery{Subject: sub, Permission: "project.read", Kind: "project"})
	if err != nil || !slices.Equal(rs.IDs, []string{p.ID}) {
		t.Errorf("ListResources = %+v, %v", rs, err)
	}
	ss, err := c.ListSubjects(ctx, gatehouse.SubjectsQuery{Permission: "project.read", Resource: res})
	if err != nil || !slices.ContainsFunc(ss.Users, func(u gatehouse.SubjectGrant) bool { return u.UserID == ann.ID }) {
		t.Errorf("ListSubjects = %+v, %v", ss, err)
	}
	ef, err := c.Effective(ctx, gatehouse.EffectiveQuery{Subject: sub, Resource: res})
	if err != nil || !slices.Contains(ef.Permissions, "project.read") {
		t.Errorf("EffectivePermissions = %+v, %v", ef, err)
	}
	// A bad resource names the field.
	_, err = c.Check(ctx, gatehouse.CheckRequest{Permission: "project.read", Resource: "planet:x"})
	if e := wantStatus(t, err, 422); len(e.Fields) == 0 || e.Fields[0].Location != "body.resource" {
		t.Errorf("bad resource: %+v", e.Fields)
	}
	// at_least beyond what the server has: 503 with the revision it has.
	_, err = c.Check(ctx, gatehouse.CheckRequest{Permission: "project.read", Resource: res,
		Consistency: gatehouse.Consistency{AtLeast: c.Revision() + 1000, Wait: 10 * time.Millisecond}})
	if e := wantStatus(t, err, 503); e.Revision == 0 || e.RetryAfter == 0 {
		t.Errorf("at_least ahead: %+v", e)
	}

	pl, err := c.ListProjects(ctx, gatehouse.ListOptions{})
	if err != nil || len(pl.Items) != 1 {
		t.Errorf("ListProjects = %+v, %v", pl, err)
	}
	if _, err := c.DeleteProject(ctx, p.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRole(ctx, role.ID, 0); err != nil {
		t.Errorf("delete the role once unassigned: %v", err)
	}

	// The audit log saw it all.
	a, err := c.ListAudit(ctx, gatehouse.AuditQuery{Action: "project.create"})
	if err != nil || len(a.Items) != 1 || a.Items[0].TargetID != p.ID {
		t.Errorf("ListAudit(project.create) = %+v, %v", a, err)
	}
}

func TestFolders(t *testing.T) {
	srv := apitest.New(t)
	c := adminClient(t, srv)
	root, err := c.CreateFolder(ctx, api.CreateFolderRequest{Name: "root"})
	if err != nil {
		t.Fatal(err)
	}
	child, err := c.CreateFolder(ctx, api.CreateFolderRequest{Name: "child", ParentID: root.ID})
	if err != nil {
		t.Fatal(err)
	}
	// A move below itself is refused.
	parent := child.ID
	_, err = c.UpdateFolder(ctx, root.ID, api.UpdateFolderRequest{ParentID: &parent}, 0)
	if gatehouse.StatusOf(err) < 400 || gatehouse.StatusOf(err) >= 500 {
		t.Errorf("cycle: err = %v", err)
	}
	kids, err := c.ListFolders(ctx, root.ID, gatehouse.ListOptions{})
	if err != nil || len(kids.Items) != 1 || kids.Items[0].ID != child.ID {
		t.Errorf("ListFolders = %+v, %v", kids, err)
	}
	g, err := c.CreateGroup(ctx, api.CreateGroupRequest{Name: "Readers", Scope: api.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetFolderLevel(ctx, root.ID, g.ID, "view"); err != nil {
		t.Fatal(err)
	}
	ls, err := c.ListFolderLevels(ctx, root.ID)
	if err != nil || len(ls) != 1 || ls[0].Level != "view" {
		t.Errorf("ListFolderLevels = %+v, %v", ls, err)
	}
	if _, err := c.DeleteFolder(ctx, root.ID, 0); err != nil {
		t.Fatal(err)
	}
}

// TestErrorDecoding covers answers that are not Gatehouse's own.
func TestErrorDecoding(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/api/v1/me":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
		case "/api/v1/users/a%2Fb":
			// The id is one escaped path segment.
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"title":"Service Unavailable","status":503,"detail":"busy","kind":"unavailable"}`))
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, _ := gatehouse.New(srv.URL)
	_, err := c.Me(ctx)
	// A proxy's HTML page is not shown; its status is.
	if e := wantStatus(t, err, 502); e.Detail != "" || !strings.Contains(e.Error(), "502 Bad Gateway") || !e.Unavailable() {
		t.Errorf("non-JSON error = %+v", e)
	}
	_, err = c.GetUser(ctx, "a/b")
	if e := wantStatus(t, err, 503); e.Detail != "busy" || e.RetryAfter != 7*time.Second || e.Kind != "unavailable" {
		t.Errorf("problem = %+v", e)
	}
}
