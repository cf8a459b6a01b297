package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/cli"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// usageErr stands for cmd/gatehouse's usage error: the root's flag-error
// function makes one, and run() exits 2 for it.
type usageErr struct{ error }

// harness runs the commands in-process against a real server, as
// cmd/gatehouse's run() does: a root with the same flag-error function and
// exit statuses.
type harness struct {
	t   *testing.T
	srv *apitest.Server
	env map[string]string
	dir string // GATEHOUSE_CONFIG_DIR
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	srv := apitest.New(t)
	dir := filepath.Join(t.TempDir(), "config")
	return &harness{t: t, srv: srv, dir: dir, env: map[string]string{"GATEHOUSE_SERVER": srv.URL, "GATEHOUSE_CONFIG_DIR": dir}}
}

type result struct {
	code           int
	stdout, stderr string
}

// run executes "gatehouse args..." with stdin.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	root := &cobra.Command{Use: "gatehouse", SilenceUsage: true, SilenceErrors: true}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErr{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	rec := newRecorder()
	root.AddCommand(cli.Commands(cli.Env{Getenv: func(k string) string { return h.env[k] }, HTTPClient: rec.client()})...)
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	cmd, err := root.ExecuteContextC(context.Background())
	h.t.Helper()
	rec.check(h.t, cmd)
	r := result{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		fmt.Fprintf(&errb, "gatehouse: %v\n", err)
		r.stderr = errb.String()
		r.code = 1
		if errors.As(err, new(usageErr)) {
			r.code = 2
		}
	}
	return r
}

// ok runs a command that must succeed and returns its stdout.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	r := h.run("", args...)
	if r.code != 0 {
		h.t.Fatalf("gatehouse %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with code and mention each fragment
// on stderr, on one line.
func (h *harness) fails(code int, fragments []string, args ...string) {
	h.t.Helper()
	r := h.run("", args...)
	if r.code != code {
		h.t.Fatalf("gatehouse %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if lines := strings.Count(r.stderr, "\n"); lines != 1 || !strings.HasPrefix(r.stderr, "gatehouse: ") {
		h.t.Errorf("gatehouse %s: stderr is not one line \"gatehouse: ...\": %q", strings.Join(args, " "), r.stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(r.stderr, f) {
			h.t.Errorf("gatehouse %s: stderr %q does not mention %q", strings.Join(args, " "), r.stderr, f)
		}
	}
}

// jsonOf runs a command with --json and decodes its output into v.
func (h *harness) jsonOf(v any, args ...string) {
	h.t.Helper()
	out := h.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		h.t.Fatalf("gatehouse %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (h *harness) login() {
	h.t.Helper()
	r := h.run(apitest.AdminUser+"\n"+apitest.AdminPassword+"\n", "login")
	if r.code != 0 {
		h.t.Fatalf("login: exit %d: %s", r.code, r.stderr)
	}
}

// row finds the table row that has all the cells, or fails.
func row(t *testing.T, table string, cells ...string) {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		fields := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		all := true
		for _, c := range cells {
			found := false
			for _, f := range fields {
				if f == c {
					found = true
				}
			}
			all = all && found
		}
		if all {
			return
		}
	}
	t.Errorf("no row with %q in:\n%s", cells, table)
}

func noRow(t *testing.T, table, cell string) {
	t.Helper()
	if regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(cell) + `(\s|$)`).MatchString(table) {
		t.Errorf("%q is in:\n%s", cell, table)
	}
}

// TestLoginTokenCheckFlow is the story: sign in, administer, check,
// explain, sign out.
func TestLoginTokenCheckFlow(t *testing.T) {
	h := newHarness(t)
	// Not signed in: a 401 that says what to do.
	h.fails(1, []string{"sign in", "run: gatehouse login"}, "users", "list")
	// A wrong password: the server's one message.
	r := h.run("admin\nwrong\n", "login")
	if r.code != 1 || !strings.Contains(r.stderr, "invalid username or password") {
		t.Fatalf("bad login: exit %d, %q", r.code, r.stderr)
	}

	r = h.run("admin\n"+apitest.AdminPassword+"\n", "login")
	if r.code != 0 || !strings.Contains(r.stdout, "Signed in to "+h.srv.URL+" as admin") {
		t.Fatalf("login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	path := filepath.Join(h.dir, "credentials")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode = %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	var cred struct {
		Server  string `json:"server"`
		Token   string `json:"token"`
		TokenID string `json:"token_id"`
	}
	if err := json.Unmarshal(raw, &cred); err != nil || !strings.HasPrefix(cred.Token, "gh_") || cred.TokenID == "" || cred.Server != h.srv.URL {
		t.Fatalf("credentials = %s (%v)", raw, err)
	}
	// The session that made the token is signed out; the token is listed.
	row(t, h.ok("tokens", "list"), cred.TokenID, "active")

	h.ok("users", "create", "bob", "--email", "bob@example.org", "--display-name", "Bob B")
	row(t, h.ok("users", "list"), "bob", "Bob B", "bob@example.org", "active")
	h.ok("groups", "create", "Auditors", "--permissions", "audit.view", "--description", "read the log")
	h.ok("members", "add", "Auditors", "bob", "--expires", "30d")
	members := h.ok("members", "list", "Auditors")
	row(t, members, "bob", "Bob B")
	// Times shown to people carry their zone: UTC, whatever the offset given.
	h.ok("groups", "create", "Night shift", "--permissions", "volume.download")
	if out := h.ok("members", "add", "Night shift", "bob", "--expires", "2099-01-31T18:00:00+02:00"); !strings.Contains(out, " until 2099-01-31 16:00 UTC;") {
		t.Errorf("members add --expires printed %q, want the expiry in UTC, saying so", out)
	}
	row(t, h.ok("members", "list", "Night shift"), "bob", "2099-01-31 16:00 UTC")

	// bob may now read the audit log, and explain says through which group.
	if out := h.ok("check", "bob", "audit.view", "system"); !strings.HasPrefix(out, "allowed (revision ") {
		t.Errorf("check = %q", out)
	}
	x := h.ok("explain", "bob", "audit.view", "system")
	if !strings.Contains(x, ": allowed") {
		t.Errorf("explain = %q", x)
	}
	row(t, x, "Auditors")

	h.ok("members", "remove", "Auditors", "bob")
	if out := h.ok("check", "bob", "audit.view", "system"); !strings.HasPrefix(out, "denied") {
		t.Errorf("check after remove = %q", out)
	}
	x = h.ok("explain", "bob", "audit.view", "system")
	if !strings.Contains(x, "may not audit.view on system: denied") || !strings.Contains(x, "Considered") {
		t.Errorf("explain deny = %q", x)
	}

	// Logout revokes the token on the server and forgets it.
	h.ok("logout")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("credentials still there after logout: %v", err)
	}
	c, _ := gatehouse.New(h.srv.URL, gatehouse.WithToken(cred.Token))
	if _, err := c.Me(context.Background()); !gatehouse.IsUnauthenticated(err) {
		t.Errorf("the stored token after logout: err = %v, want 401", err)
	}
	if out := h.ok("logout"); !strings.Contains(out, "Not signed in") {
		t.Errorf("second logout = %q", out)
	}
}

func TestTokenFromFlagAndEnvironment(t *testing.T) {
	h := newHarness(t)
	h.login()
	var nt api.NewToken
	h.jsonOf(&nt, "tokens", "create", "script", "--permissions", "users.view", "--expires", "2h")
	if !strings.HasPrefix(nt.Secret, "gh_") || nt.Token.ExpiresAt == nil || len(nt.Token.Permissions) != 1 {
		t.Fatalf("tokens create --json = %+v", nt)
	}
	h.ok("logout")
	// GATEHOUSE_TOKEN works without stored credentials, within its limit.
	h.env["GATEHOUSE_TOKEN"] = nt.Secret
	row(t, h.ok("users", "list"), "admin")
	h.fails(1, []string{"403", "users.edit"}, "users", "create", "eve")
	// --token wins over the environment.
	delete(h.env, "GATEHOUSE_TOKEN")
	h.fails(1, []string{"401"}, "users", "list", "--token", "gh_bad")
	row(t, h.ok("users", "list", "--token", nt.Secret), "admin")
	// login --token checks and stores a token.
	if out := h.ok("login", "--token", nt.Secret); !strings.Contains(out, "as admin") {
		t.Errorf("login --token = %q", out)
	}
	row(t, h.ok("users", "list"), "admin")
	// Revoked, it stops working.
	h.ok("tokens", "revoke", nt.Token.ID)
	h.fails(1, []string{"revoked"}, "users", "list")
	// A malformed server URL is a usage mistake; an unreachable server is said so.
	h.fails(2, []string{"want an http:// or https:// URL"}, "users", "list", "--server", "127.0.0.1:8080")
	h.fails(1, []string{"cannot reach the server at http://127.0.0.1:1"}, "users", "list", "--server", "http://127.0.0.1:1")
}

func TestUsersCommands(t *testing.T) {
	h := newHarness(t)
	h.login()
	r := h.run("carol-secret-1\n", "users", "create", "carol", "--password", "--role", "System Member")
	if r.code != 0 {
		t.Fatalf("users create --password: %s", r.stderr)
	}
	row(t, r.stdout, "carol", "active", "System Member")
	// The password works.
	c, _ := gatehouse.New(h.srv.URL)
	if _, err := c.Login(context.Background(), "carol", "carol-secret-1"); err != nil {
		t.Errorf("carol's password: %v", err)
	}

	var u api.User
	h.jsonOf(&u, "users", "get", "CAROL")
	if u.Username != "carol" || u.SystemRoleID != domain.RoleSystemMemberID {
		t.Errorf("users get --json = %+v", u)
	}
	row(t, h.ok("users", "disable", "carol"), "carol", "disabled")
	row(t, h.ok("users", "enable", u.ID), "carol", "active")
	var cleared api.User
	h.jsonOf(&cleared, "users", "set-role", "carol", "none")
	if cleared.Username != "carol" || cleared.SystemRoleID != "" {
		t.Errorf("set-role none: %+v", cleared)
	}
	h.ok("users", "set-role", "carol", "System Manager")
	var page api.Page[api.User]
	h.jsonOf(&page, "users", "list", "--search", "car")
	if len(page.Items) != 1 || page.Items[0].SystemRoleID != domain.RoleSystemManagerID {
		t.Errorf("users list --search --json = %+v", page)
	}
	if out := h.ok("users", "delete", "carol"); !strings.Contains(out, "User carol ("+u.ID+") deleted") {
		t.Errorf("users delete = %q", out)
	}
	h.fails(1, []string{`no user with the id or name "carol"`}, "users", "get", "carol")
	// The server's field errors name the field.
	h.fails(1, []string{"body.username"}, "users", "create", " ")
	h.fails(1, []string{"409"}, "users", "create", "ADMIN")
	// Usage mistakes exit 2.
	h.fails(2, []string{"users create needs USERNAME"}, "users", "create")
	h.fails(2, []string{"unknown command \"frobnicate\""}, "users", "frobnicate")
	h.fails(2, []string{"unknown flag"}, "users", "list", "--frobnicate")
}

func TestGroupsRolesProjects(t *testing.T) {
	h := newHarness(t)
	h.login()
	row(t, h.ok("roles", "create", "Readers", "--scope", "project", "--permissions", "project.read"), "Readers", "project", "false", "project.read")
	roles := h.ok("roles", "list", "--scope", "project")
	row(t, roles, "Readers", "project.read")
	row(t, roles, "Viewer", "true", "project.read")
	noRow(t, roles, "System Member")
	var role api.Role
	h.jsonOf(&role, "roles", "get", "readers")
	if role.Name != "Readers" {
		t.Errorf("roles get --json = %+v", role)
	}

	row(t, h.ok("projects", "create", "Alpha", "--description", "first"), "Alpha", "multiple", "first")
	row(t, h.ok("projects", "set-mode", "Alpha", "exclusive"), "Alpha", "exclusive")
	var projects api.Page[api.Project]
	h.jsonOf(&projects, "projects", "list")
	if len(projects.Items) != 1 || projects.Items[0].MembershipMode != api.ModeExclusive {
		t.Errorf("projects list --json = %+v", projects)
	}

	h.ok("groups", "create", "Team", "--scope", "project", "--project", "Alpha")
	row(t, h.ok("groups", "list", "--project", "Alpha"), "Team", "project", projects.Items[0].ID)
	h.ok("users", "create", "dan")
	h.ok("members", "add", "Team", "dan")
	if out := h.ok("check", "dan", "project.read", "project:Alpha"); !strings.HasPrefix(out, "denied") {
		t.Errorf("check with no rights = %q", out)
	}
	out := h.ok("groups", "delete", "Team", "--members", "remove_users")
	if !strings.Contains(out, "Group Team") || !strings.Contains(out, "Alpha") {
		t.Errorf("groups delete = %q", out)
	}

	h.ok("groups", "create", "Auditors")
	row(t, h.ok("groups", "set-permissions", "Auditors", "audit.view", "users.view", "--role", "System Member"), "Auditors", "system", "System Member", "audit.view,users.view")
	var g api.Group
	h.jsonOf(&g, "groups", "set-permissions", "Auditors")
	if len(g.SystemPermissions) != 0 || g.SystemRoleID != domain.RoleSystemMemberID {
		t.Errorf("set-permissions with none, keeping the role: %+v", g)
	}
	// A system group needs --yes; built-ins cannot go at all.
	h.fails(2, []string{"--yes"}, "groups", "delete", "Auditors")
	h.ok("groups", "delete", "Auditors", "--yes")
	h.fails(1, []string{"4"}, "groups", "delete", "Everyone", "--yes")
	h.fails(2, []string{"--scope \"planet\""}, "groups", "create", "X", "--scope", "planet")
	h.fails(2, []string{"--expires", "not a time"}, "members", "add", "Everyone", "admin", "--expires", "soon")

	h.ok("roles", "delete", "Readers")
	h.fails(1, []string{"no role"}, "roles", "get", "Readers")
	h.ok("projects", "delete", "Alpha")
	h.fails(2, []string{"want multiple or exclusive"}, "projects", "create", "B", "--mode", "solo")
	// Explain as a table of paths: the administrator holds audit.view through Administrators.
	row(t, h.ok("explain", "me", "audit.view", "system"), "Administrators")
	var ck api.CheckResponse
	h.jsonOf(&ck, "check", "me", "audit.view", "system", "--at-least", "1")
	if !ck.Allowed || ck.Revision < 1 {
		t.Errorf("check --json = %+v", ck)
	}
	h.fails(1, []string{"503"}, "check", "me", "audit.view", "system", "--at-least", "999999")
}
