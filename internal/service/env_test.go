package service_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// env is a bootstrapped SQLite database with a service over it; admin is
// the initial administrator (a member of Administrators).
type env struct {
	t     testing.TB
	ctx   context.Context
	st    store.Store
	svc   *service.Service
	admin service.Caller
}

func newEnv(t testing.TB) *env { return newEnvAt(t, nil) }

// newEnvAt is newEnv with the service's clock (nil: time.Now).
func newEnvAt(t testing.TB, now func() time.Time) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{AdminPassword: "pw-admin-123", PasswordParams: &cheap,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, st, service.Options{PasswordParams: &cheap, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.GetUserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, st: st, svc: svc, admin: service.Caller{UserID: a.ID, Username: a.Username, RemoteAddr: "127.0.0.1"}}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// user creates a user as admin with an individual system role ("" for
// none) and returns them as a caller.
func (e *env) user(name, roleID string) service.Caller {
	e.t.Helper()
	u, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: name, Email: name + "@example.org", SystemRoleID: roleID})
	e.must(err)
	return service.Caller{UserID: u.ID, Username: u.Username}
}

// sysGroup creates a system group as admin with checkboxes.
func (e *env) sysGroup(name string, keys ...string) domain.Group {
	e.t.Helper()
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: name, Scope: domain.ScopeSystem, SystemPermissions: keys})
	e.must(err)
	return g
}

func (e *env) project(name string, mode domain.MembershipMode) domain.Project {
	e.t.Helper()
	p, _, err := e.svc.CreateProject(e.ctx, e.admin, domain.Project{Name: name, MembershipMode: mode})
	e.must(err)
	return p
}

func (e *env) add(groupID string, users ...service.Caller) service.MembersResult {
	e.t.Helper()
	var in []service.MemberInput
	for _, u := range users {
		in = append(in, service.MemberInput{UserID: u.UserID})
	}
	res, _, err := e.svc.AddMembers(e.ctx, e.admin, groupID, in)
	e.must(err)
	return res
}

// can asks the service's engine, as it is right now.
func (e *env) can(c service.Caller, perm string, r engine.Resource) bool {
	e.t.Helper()
	d, err := e.svc.Engine().Check(engine.Subject{UserID: c.UserID}, perm, r, time.Now())
	e.must(err)
	return d.Allowed
}

var system = engine.Resource{Kind: engine.KindSystem}

func proj(id string) engine.Resource { return engine.Resource{Kind: engine.KindProject, ID: id} }

func folder(id string) engine.Resource { return engine.Resource{Kind: engine.KindFolder, ID: id} }

// wantKind fails unless err has kind k and its message contains every
// fragment.
func wantKind(t *testing.T, err error, k domain.Kind, fragments ...string) {
	t.Helper()
	if !domain.Is(err, k) {
		t.Fatalf("err = %v (kind %v), want kind %v", err, domain.KindOf(err), k)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("err = %q, want it to mention %q", err.Error(), f)
		}
	}
}

// wantField fails unless err names field among its field errors.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	for _, f := range domain.FieldsOf(err) {
		if f.Field == field {
			return
		}
	}
	t.Errorf("err = %v; want a field error on %q", err, field)
}

// audits lists audit events of an action and outcome.
func (e *env) audits(action string, outcome domain.Outcome) []domain.AuditEvent {
	e.t.Helper()
	page, err := e.st.ListAudit(e.ctx, store.AuditQuery{Action: action, Limit: 1000})
	e.must(err)
	var out []domain.AuditEvent
	for _, a := range page.Items {
		if a.Outcome == outcome {
			out = append(out, a)
		}
	}
	return out
}

// wantDeniedAudit checks that a refusal was audited for actor and action.
func (e *env) wantDeniedAudit(actor service.Caller, action string) {
	e.t.Helper()
	for _, a := range e.audits(action, domain.OutcomeDenied) {
		if a.ActorID == actor.UserID {
			return
		}
	}
	e.t.Errorf("no denied audit record of %s by %s", action, actor.Username)
}

func (e *env) rev() int64 {
	r, err := e.st.Revision(e.ctx)
	e.must(err)
	return r
}

func (e *env) individualRow(userID, projectID string) (domain.ProjectGrant, bool) {
	pg, err := e.st.GetProjectGrant(e.ctx, projectID, domain.SubjectUser, userID)
	if domain.Is(err, domain.KindNotFound) {
		return pg, false
	}
	e.must(err)
	return pg, true
}

// errOf is the error of a write whose committed revision the test does
// not need.
func errOf(_ int64, err error) error { return err }
