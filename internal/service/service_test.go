package service_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

func TestEveryWriteIsVisibleToTheEngineAtOnce(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	g := e.sysGroup("Auditors", domain.PermAuditView)
	steps := []struct {
		name  string
		write func()
		perm  string
		res   engine.Resource
		want  bool
	}{
		{"add member", func() { e.add(g.ID, u) }, domain.PermAuditView, system, true},
		{"remove checkbox", func() {
			_, _, err := e.svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, "", nil)
			e.must(err)
		}, domain.PermAuditView, system, false},
		{"individual role", func() {
			_, _, err := e.svc.SetUserSystemRole(e.ctx, e.admin, u.UserID, domain.RoleSystemMemberID)
			e.must(err)
		}, domain.PermUsersView, system, true},
		{"disable", func() {
			_, _, err := e.svc.SetUserStatus(e.ctx, e.admin, u.UserID, domain.UserDisabled)
			e.must(err)
		}, domain.PermUsersView, system, false},
		{"enable", func() {
			_, _, err := e.svc.SetUserStatus(e.ctx, e.admin, u.UserID, domain.UserActive)
			e.must(err)
		}, domain.PermUsersView, system, true},
		{"edit role", func() {
			perms := []string{domain.PermGroupsView}
			_, _, err := e.svc.UpdateRole(e.ctx, e.admin, domain.RoleSystemMemberID, service.RoleUpdate{Permissions: &perms})
			e.must(err)
		}, domain.PermUsersView, system, false},
	}
	for _, s := range steps {
		s.write()
		if got := e.can(u, s.perm, s.res); got != s.want {
			t.Errorf("after %s: %s = %v, want %v", s.name, s.perm, got, s.want)
		}
		if e.svc.Follower().Revision() != e.rev() {
			t.Errorf("after %s: engine at %d, store at %d", s.name, e.svc.Follower().Revision(), e.rev())
		}
	}
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", domain.ModeExclusive)
	a, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "A", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	b, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "B", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	u, w := e.user("u", ""), e.user("w", "")
	e.add(a.ID, u)
	rev := e.rev()
	audits, err := e.st.ListAudit(e.ctx, store.AuditQuery{Limit: 1000})
	e.must(err)

	// A bulk add whose second user breaks R23: the first is not added either.
	_, _, err = e.svc.AddMembers(e.ctx, e.admin, b.ID, []service.MemberInput{{UserID: w.UserID}, {UserID: u.UserID}})
	wantKind(t, err, domain.KindConflict)
	wantField(t, err, "users[1].user_id")
	// Invalid input, a duplicate name, a cycle: nothing written.
	_, _, err = e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "", Scope: domain.ScopeSystem})
	wantKind(t, err, domain.KindInvalid)
	_, _, err = e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "a", Scope: domain.ScopeProject, ProjectID: p.ID})
	wantKind(t, err, domain.KindExists)
	_, _, err = e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "U"})
	wantKind(t, err, domain.KindExists)

	if _, err := e.st.GetMembership(e.ctx, b.ID, w.UserID); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("w was added despite the failed bulk add: %v", err)
	}
	if got := e.rev(); got != rev {
		t.Errorf("revision moved from %d to %d", rev, got)
	}
	after, err := e.st.ListAudit(e.ctx, store.AuditQuery{Limit: 1000})
	e.must(err)
	if len(after.Items) != len(audits.Items) {
		t.Errorf("audit records: %d before, %d after failed writes", len(audits.Items), len(after.Items))
	}
	changes, err := e.st.ReadChanges(e.ctx, rev, 0)
	e.must(err)
	if len(changes) != 0 {
		t.Errorf("%d changes after failed writes", len(changes))
	}
}

func TestDeniedWriteIsAuditedButChangesNothing(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	rev := e.rev()
	_, _, err := e.svc.CreateProject(e.ctx, u, domain.Project{Name: "Mine"})
	wantKind(t, err, domain.KindForbidden, domain.PermProjectCreate)
	if e.rev() != rev {
		t.Error("a denied write moved the revision")
	}
	d := e.audits("project.create", domain.OutcomeDenied)
	if len(d) != 1 || d[0].ActorID != u.UserID || !strings.Contains(d[0].Detail, domain.PermProjectCreate) {
		t.Errorf("denied audit = %+v", d)
	}
	// Anonymous callers are not even audited as actors: they are asked to sign in.
	_, _, err = e.svc.CreateProject(e.ctx, service.Caller{}, domain.Project{Name: "Mine"})
	wantKind(t, err, domain.KindUnauthenticated)
}

// Concurrent commits may return revisions out of order; the follower
// applies them in order anyway and ends where the store is.
func TestConcurrentWritesKeepTheEngineInStep(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Crowd", domain.PermReportsView)
	const n = 24
	var wg sync.WaitGroup
	users := make([]service.Caller, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "user" + strconv.Itoa(i)})
			if err != nil {
				errs <- err
				return
			}
			users[i] = service.Caller{UserID: u.ID}
			if _, _, err := e.svc.AddMembers(e.ctx, e.admin, g.ID, []service.MemberInput{{UserID: u.ID}}); err != nil {
				errs <- err
				return
			}
			// Read-your-write from this goroutine.
			d, err := e.svc.Engine().Check(engine.Subject{UserID: u.ID}, domain.PermReportsView, system, time.Now())
			if err != nil || !d.Allowed {
				errs <- fmt.Errorf("user%d right after the add: %+v, %v", i, d, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, want := e.svc.Follower().Revision(), e.rev(); got != want {
		t.Fatalf("engine at %d, store at %d", got, want)
	}
	for i, u := range users {
		if !e.can(u, domain.PermReportsView, system) {
			t.Errorf("user%d has no reports.view", i)
		}
	}
}

// countingSource counts snapshot loads: a follower that ever applied a
// change out of order would fail and rebuild from a snapshot.
type countingSource struct {
	store.Store
	mu    sync.Mutex
	loads int
}

func (c *countingSource) StreamSnapshot(ctx context.Context, start func(int64, string) error, put func(*domain.Mutation) error) error {
	c.mu.Lock()
	c.loads++
	c.mu.Unlock()
	return c.Store.StreamSnapshot(ctx, start, put)
}

func TestFollowerCatchUpAppliesInRevisionOrder(t *testing.T) {
	e := newEnv(t)
	src := &countingSource{Store: e.st}
	f, err := service.NewFollower(e.ctx, src)
	e.must(err)
	start := f.Revision()
	var revs []int64
	for i := range 12 {
		e.sysGroup("G" + strconv.Itoa(i))
		revs = append(revs, e.rev())
	}
	// Ask for the revisions in reverse order, concurrently.
	var wg sync.WaitGroup
	errs := make([]error, len(revs))
	for i := len(revs) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = f.CatchUp(e.ctx, revs[i])
			if errs[i] == nil && f.Revision() < revs[i] {
				errs[i] = fmt.Errorf("CatchUp(%d) returned at %d", revs[i], f.Revision())
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		e.must(err)
	}
	if f.Revision() != revs[len(revs)-1] || f.Revision() <= start {
		t.Errorf("follower at %d, want %d", f.Revision(), revs[len(revs)-1])
	}
	if src.loads != 1 {
		t.Errorf("%d snapshot loads, want 1 (a change was refused and the index rebuilt)", src.loads)
	}
	// A revision that does not exist yet is an error, not a hang.
	err = f.CatchUp(e.ctx, f.Revision()+5)
	wantKind(t, err, domain.KindUnavailable)
	e.must(f.CatchUp(e.ctx, 0))
}

func TestUsersPasswordsAndPreferences(t *testing.T) {
	e := newEnv(t)
	u, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "  dana  ", Email: "dana@example.org", Password: "first-password-1"})
	e.must(err)
	if u.Username != "dana" || !u.ShowPersonalInfo || u.Status != domain.UserActive {
		t.Errorf("created %+v", u)
	}
	dana := service.Caller{UserID: u.ID, Username: u.Username}
	stored, _ := e.st.GetUser(e.ctx, u.ID)
	e.must(password.Verify("first-password-1", stored.PasswordHash))

	// A user may change their own preference and password, and see themselves.
	got, _, err := e.svc.SetShowPersonalInfo(e.ctx, dana, u.ID, false)
	e.must(err)
	if got.ShowPersonalInfo {
		t.Error("preference not saved")
	}
	e.must(errOf(e.svc.SetPassword(e.ctx, dana, u.ID, "second-password-2")))
	stored, _ = e.st.GetUser(e.ctx, u.ID)
	e.must(password.Verify("second-password-2", stored.PasswordHash))
	if _, err := e.svc.GetUser(e.ctx, dana, u.ID); err != nil {
		t.Error(err)
	}
	// Not someone else's.
	other := e.user("other", "")
	_, _, err = e.svc.SetShowPersonalInfo(e.ctx, dana, other.UserID, false)
	wantKind(t, err, domain.KindNotFound)
	_, err = e.svc.ListUsers(e.ctx, dana, service.ListQuery{})
	wantKind(t, err, domain.KindForbidden)

	// Edits with a stale version conflict; bad emails name the field.
	email := "not an email"
	_, _, err = e.svc.UpdateUser(e.ctx, e.admin, u.ID, service.UserUpdate{Email: &email})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "email")
	name := "dana2"
	_, _, err = e.svc.UpdateUser(e.ctx, e.admin, u.ID, service.UserUpdate{DisplayName: &name, Version: 1})
	wantKind(t, err, domain.KindConflict)
	e.must(errOf(e.svc.DeleteUser(e.ctx, e.admin, u.ID)))
	_, err = e.svc.GetUser(e.ctx, e.admin, u.ID)
	wantKind(t, err, domain.KindNotFound)
}

func TestProjectsCreatorModeratesAndDeleteNeedsPermission(t *testing.T) {
	e := newEnv(t)
	creators := e.sysGroup("Creators", domain.PermProjectCreate)
	c := e.user("creator", "")
	e.add(creators.ID, c)
	p, _, err := e.svc.CreateProject(e.ctx, c, domain.Project{Name: "Mine"})
	e.must(err)
	if !e.can(c, domain.PermProjectModerate, proj(p.ID)) {
		t.Error("the creator does not moderate the project")
	}
	desc := "described"
	_, _, err = e.svc.UpdateProject(e.ctx, c, p.ID, service.ProjectUpdate{Description: &desc})
	e.must(err)
	_, err = e.svc.DeleteProject(e.ctx, c, p.ID)
	wantKind(t, err, domain.KindForbidden, domain.PermProjectDelete)
	e.must(errOf(e.svc.DeleteProject(e.ctx, e.admin, p.ID)))
	if _, err := e.svc.Engine().Check(engine.Subject{UserID: c.UserID}, domain.PermProjectRead, proj(p.ID), time.Now()); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("engine still knows the deleted project: %v", err)
	}
}

func TestFoldersAndRules(t *testing.T) {
	e := newEnv(t)
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "GRT Study", Contexts: []string{"data", "document"}, Properties: []string{"indication", "portfolio", "description"}})
	e.must(err)
	if !ft.HasContext("root") {
		t.Error("root context not added")
	}
	root, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "studies", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	_, _, err = e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "s1", ParentID: root.ID, TypeID: ft.ID, Properties: map[string]string{"colour": "red"}})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "properties.colour")
	s1, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "s1", ParentID: root.ID, TypeID: ft.ID, Properties: map[string]string{"indication": "GRT", "portfolio": "ABC"}})
	e.must(err)
	child, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "c", ParentID: s1.ID, TypeID: domain.FolderTypeFolderID})
	e.must(err)

	// Moves below itself are refused.
	_, _, err = e.svc.UpdateFolder(e.ctx, e.admin, root.ID, service.FolderUpdate{ParentID: &child.ID})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "parent_id")

	// Rules: criteria ANDed, matrix contexts of the type, R10.
	g := e.sysGroup("GRT team")
	u := e.user("u", "")
	e.add(g.ID, u)
	rule := domain.Rule{GroupID: g.ID, Name: "GRT ABC", Criteria: []domain.Criterion{
		{FolderTypeID: ft.ID, Property: "indication", Operator: domain.OpEq, Value: "GRT"},
		{FolderTypeID: ft.ID, Property: "portfolio", Operator: domain.OpEq, Value: "ABC"}},
		Grants: map[string][]string{"document": {"read", "edit"}, "analysis": {"read"}}}
	_, _, err = e.svc.CreateRule(e.ctx, e.admin, rule)
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "grants.analysis")
	delete(rule.Grants, "analysis")
	bad := rule
	bad.Criteria = append([]domain.Criterion{{FolderTypeID: ft.ID, Property: "description", Operator: domain.OpExists}}, rule.Criteria...)
	_, _, err = e.svc.CreateRule(e.ctx, e.admin, bad)
	wantKind(t, err, domain.KindInvalid, "R10")
	r, _, err := e.svc.CreateRule(e.ctx, e.admin, rule)
	e.must(err)
	if !e.can(u, "document.edit", folder(s1.ID)) || e.can(u, "data.read", folder(s1.ID)) {
		t.Error("rule not applied as written")
	}
	props := map[string]string{"indication": "GRT", "portfolio": "XYZ"}
	_, _, err = e.svc.UpdateFolder(e.ctx, e.admin, s1.ID, service.FolderUpdate{Properties: &props})
	e.must(err)
	if e.can(u, "document.read", folder(s1.ID)) {
		t.Error("rule still matches after the property changed (criteria are ANDed)")
	}
	rules, err := e.svc.ListRules(e.ctx, e.admin, g.ID)
	e.must(err)
	if len(rules) != 1 {
		t.Errorf("%d rules", len(rules))
	}
	e.must(errOf(e.svc.DeleteRule(e.ctx, e.admin, r.ID)))
	e.must(errOf(e.svc.DeleteFolder(e.ctx, e.admin, root.ID)))
	if _, err := e.st.GetFolder(e.ctx, child.ID); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("subtree not deleted: %v", err)
	}
	// Folder types and folders are for files.admin holders.
	_, _, err = e.svc.CreateFolder(e.ctx, u, domain.Folder{Name: "x", TypeID: domain.FolderTypeFolderID})
	wantKind(t, err, domain.KindForbidden, domain.PermFilesAdmin)
}

func TestDomainsAndFolderTypes(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Hospital XYZ")
	u := e.user("u", "")
	e.add(g.ID, u)
	got, _, err := e.svc.SetGroupDomains(e.ctx, e.admin, g.ID, []string{" xyz.example ", "abc.example"})
	e.must(err)
	if !slices.Equal(got, []string{"abc.example", "xyz.example"}) {
		t.Errorf("domains = %v", got)
	}
	if !e.can(u, domain.PermDomainAccess, engine.Resource{Kind: engine.KindDomain, ID: "xyz.example"}) {
		t.Error("no access to a granted domain")
	}
	_, _, err = e.svc.SetGroupDomains(e.ctx, e.admin, g.ID, []string{""})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "domains[0]")
	// A groups.edit holder without access to a domain can neither add nor remove it.
	mgr := e.user("manager", domain.RoleSystemManagerID)
	_, _, err = e.svc.SetGroupDomains(e.ctx, mgr, g.ID, []string{"abc.example"})
	wantKind(t, err, domain.KindForbidden, "xyz.example")
	_, _, err = e.svc.SetGroupDomains(e.ctx, e.admin, g.ID, nil)
	e.must(err)
	if e.can(u, domain.PermDomainAccess, engine.Resource{Kind: engine.KindDomain, ID: "xyz.example"}) {
		t.Error("access to a removed domain")
	}

	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{"root", "data"}})
	e.must(err)
	ft.Contexts = []string{"root"}
	_, _, err = e.svc.UpdateFolderType(e.ctx, e.admin, ft.ID, ft)
	wantKind(t, err, domain.KindInvalid, "data")
	ft.Contexts = []string{"root", "data", "document"}
	ft.Properties = []string{"indication"}
	ft2, _, err := e.svc.UpdateFolderType(e.ctx, e.admin, ft.ID, ft)
	e.must(err)
	if !ft2.HasContext("document") || !ft2.HasProperty("indication") {
		t.Errorf("updated type = %+v", ft2)
	}
	types, err := e.svc.ListFolderTypes(e.ctx, u)
	e.must(err)
	if len(types) != 2 {
		t.Errorf("%d folder types", len(types))
	}
	e.must(errOf(e.svc.DeleteFolderType(e.ctx, e.admin, ft.ID)))
	// The built-in type is every untyped folder's default: not deletable.
	_, err = e.svc.DeleteFolderType(e.ctx, e.admin, domain.FolderTypeFolderID)
	wantKind(t, err, domain.KindInvalid, "built-in folder type")
	wantField(t, err, "id")
}
