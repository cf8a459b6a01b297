package console

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/benchtest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The console on a large directory: every page is paged and searched by
// the store, so its server time and its HTML size must not grow with the
// directory. TestConsoleLarge writes the large data set: 100,000
// users, 10,000 groups of 100 members each (1,000,000 memberships; with
// GATEHOUSE_CONSOLE_LARGE_GROUPS=1000, 1,000 groups of 1,000, heavier
// member lists), 100 projects with ten groups
// added to each and 1,000 members of their own in one, then draws each
// page and reports its time and size; a page over the bounds fails.
// Nesting: the first 1,000 groups are members of ten "dept" groups (100
// each), which are members of "all-staff": every user is a member of
// all-staff through two groups, and its Nested groups tab lists 100,000.
// It takes minutes: it runs only with GATEHOUSE_CONSOLE_LARGE=1.

// lgGroups is the number of groups (TestConsoleLarge sets it).
var lgGroups = 10_000

const (
	lgUsers       = 100_000
	lgPerUser     = 10 // so that every group has lgUsers*lgPerUser/lgGroups members
	lgProjects    = 100
	lgProjMembers = 1_000
	// A page must answer within lgMaxTime and weigh at most lgMaxBytes.
	lgMaxTime  = 2 * time.Second
	lgMaxBytes = 600 << 10
)

func TestConsoleLarge(t *testing.T) {
	if os.Getenv("GATEHOUSE_CONSOLE_LARGE") != "1" || testing.Short() {
		t.Skip("set GATEHOUSE_CONSOLE_LARGE=1 to draw the console over 100,000 users (minutes)")
	}
	lgGroups = 10_000
	if os.Getenv("GATEHOUSE_CONSOLE_LARGE_GROUPS") == "1000" {
		lgGroups = 1_000
	}
	st := openStore(t)
	start := time.Now()
	ids := writeLarge(t, st)
	t.Logf("wrote %d users, %d groups, %d memberships and %d projects in %v", lgUsers, lgGroups, lgUsers*lgPerUser, lgProjects, time.Since(start).Round(time.Second))
	start = time.Now()
	e := envOn(t, st)
	t.Logf("service (engine snapshot) loaded in %v", time.Since(start).Round(time.Millisecond))
	ck := e.signIn(t)
	g, p, u := ids.group, ids.project, ids.user
	for _, path := range []string{
		"/admin/groups", "/admin/groups?q=group-0999",
		"/admin/groups/" + g + "/general", "/admin/groups/" + g + "/privileges", "/admin/groups/" + g + "/projects",
		"/admin/groups/" + g + "/members", "/admin/groups/" + g + "/members?sort=username&order=desc",
		"/admin/groups/" + g + "/members?view=all", "/admin/groups/" + g + "/members?view=all&q=user-099999",
		"/admin/groups/" + g + "/delete", "/admin/groups/" + g + "/nesting",
		"/admin/groups/" + ids.nested + "/nesting", "/admin/groups/" + ids.nested + "/nesting?sort=through&order=desc",
		"/admin/groups/" + ids.nested + "/nesting?find=user-099999",
		"/admin/users", "/admin/users?q=user-05", "/admin/users/" + u,
		"/admin/roles", "/admin/projects", "/admin/projects/" + p + "/groups", "/admin/projects/" + p + "/members",
		"/admin/projects/" + p + "/members?q=user-0000", "/admin/projects/" + p + "/settings",
		"/admin/folders", "/admin/audit", "/admin/access",
	} {
		drawLarge(t, e, ck, path)
	}
	// The Nested groups tab again, then its next two pages: the pages
	// after the first, at the same revision.
	for _, path := range []string{"/admin/groups/" + ids.nested + "/nesting", "/admin/groups/" + ids.nested + "/nesting?sort=through&order=desc"} {
		body := drawLarge(t, e, ck, path)
		for range 2 {
			next := link(nextLink, body)
			if next == "" {
				t.Fatalf("%s: no link to the next page", path)
			}
			body = drawLarge(t, e, ck, next)
		}
	}
}

// drawLarge draws one page, logs its time and size, fails it over the
// bounds, and returns its HTML.
func drawLarge(t *testing.T, e *env, ck *http.Cookie, path string) string {
	t.Helper()
	t0, cpu0 := time.Now(), benchtest.ProcessCPU()
	resp := e.do(t, http.MethodGet, path, nil, ck)
	body := read(t, resp)
	d, cpu := time.Since(t0), benchtest.ProcessCPU()-cpu0
	// The process's CPU time too: on a loaded machine it says more than
	// the wall time, which counts the waits for a core.
	t.Logf("%-80s %4d %8.1f ms (CPU %6.1f ms) %8d bytes", trimPath(path), resp.StatusCode,
		float64(d.Microseconds())/1000, float64(cpu.Microseconds())/1000, len(body))
	if resp.StatusCode != http.StatusOK || d > lgMaxTime || len(body) > lgMaxBytes {
		t.Errorf("%s: status %d in %v, %d bytes; want 200 within %v and %d bytes", path, resp.StatusCode, d, len(body), lgMaxTime, lgMaxBytes)
	}
	return body
}

// trimPath shortens a path's cursors for the log.
func trimPath(path string) string {
	return cursorParam.ReplaceAllString(path, "$1…")
}

var cursorParam = regexp.MustCompile(`((?:cursor|before)=[^&]{0,6})[^&]*`)

type largeIDs struct{ group, project, user, nested string }

// writeLarge writes the directory straight into the store, in
// transactions of about 10,000 rows (the service would audit each write
// and take an hour).
func writeLarge(t *testing.T, st store.Store) largeIDs {
	t.Helper()
	write := func(fn func(ctx context.Context, tx store.Tx) error) {
		t.Helper()
		_, err := st.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
			if err := fn(ctx, tx); err != nil {
				return err
			}
			return tx.Audit(ctx, &domain.AuditEvent{ActorName: "large test", Action: "test.setup", Outcome: domain.OutcomeSuccess})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	groups := make([]string, lgGroups)
	projects := make([]string, lgProjects)
	write(func(ctx context.Context, tx store.Tx) error {
		for i := range groups {
			g := &domain.Group{Name: fmt.Sprintf("group-%04d", i), Scope: domain.ScopeSystem}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			groups[i] = g.ID
		}
		for i := range projects {
			p := &domain.Project{Name: fmt.Sprintf("project-%03d", i), MembershipMode: domain.ModeMultiple}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			projects[i] = p.ID
			for k := range 10 {
				pg := &domain.ProjectGrant{ProjectID: p.ID, SubjectKind: domain.SubjectGroup, SubjectID: groups[(i*10+k)%lgGroups],
					Permissions: []string{domain.PermProjectRead}}
				if err := tx.PutProjectGrant(ctx, pg); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var nested string
	write(func(ctx context.Context, tx store.Tx) error {
		var err error
		nested, err = writeNesting(ctx, tx, groups[:1000])
		return err
	})
	var first string
	const perTx = 900
	for lo := 0; lo < lgUsers; lo += perTx {
		write(func(ctx context.Context, tx store.Tx) error {
			for i := lo; i < min(lo+perTx, lgUsers); i++ {
				u := &domain.User{Username: fmt.Sprintf("user-%06d", i), Email: fmt.Sprintf("user-%06d@example.org", i),
					DisplayName: fmt.Sprintf("User %d", i), Status: domain.UserActive, Source: domain.SourceLocal}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				if i == 0 {
					first = u.ID
				}
				for k := range lgPerUser {
					m := &domain.Membership{GroupID: groups[(i+k*(lgGroups/lgPerUser))%lgGroups], UserID: u.ID}
					if err := tx.PutMembership(ctx, m); err != nil {
						return err
					}
				}
				if i < lgProjMembers {
					pg := &domain.ProjectGrant{ProjectID: projects[0], SubjectKind: domain.SubjectUser, SubjectID: u.ID}
					if err := tx.PutProjectGrant(ctx, pg); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	return largeIDs{group: groups[0], project: projects[0], user: first, nested: nested}
}

// writeNesting makes the groups members of ten dept groups, members of
// all-staff, and returns all-staff's id.
func writeNesting(ctx context.Context, tx store.Tx, groups []string) (string, error) {
	top := &domain.Group{Name: "all-staff", Scope: domain.ScopeSystem}
	if err := tx.CreateGroup(ctx, top); err != nil {
		return "", err
	}
	for d := range 10 {
		dept := &domain.Group{Name: fmt.Sprintf("dept-%02d", d), Scope: domain.ScopeSystem}
		if err := tx.CreateGroup(ctx, dept); err != nil {
			return "", err
		}
		if err := tx.PutGroupMembership(ctx, &domain.GroupMembership{GroupID: top.ID, MemberGroupID: dept.ID}); err != nil {
			return "", err
		}
		for i := d; i < len(groups); i += 10 {
			if err := tx.PutGroupMembership(ctx, &domain.GroupMembership{GroupID: dept.ID, MemberGroupID: groups[i]}); err != nil {
				return "", err
			}
		}
	}
	return top.ID, nil
}
