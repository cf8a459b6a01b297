package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// TestCommandsReachTheAPI runs, in order against one real server, the
// commands that were once only reachable through export/apply or curl:
// each step's output must contain every fragment of want (or, with code
// set, it must fail with that status and the fragments on stderr). The
// recorder of the harness checks that each step sends what its command
// declares.
func TestCommandsReachTheAPI(t *testing.T) {
	h := newHarness(t)
	h.login()
	var alice, bob api.User
	h.jsonOf(&alice, "users", "create", "alice")
	h.jsonOf(&bob, "users", "create", "bob")
	var radiology api.Project
	h.jsonOf(&radiology, "projects", "create", "Radiology")
	h.ok("groups", "create", "Radiologists")
	h.ok("folder-types", "create", "GRT Study", "--contexts", "data", "--properties", "phase,status")
	h.ok("folders", "create", "TMF")
	h.ok("levels", "set", "/TMF", "Radiologists", "view")
	h.ok("rules", "create", "Radiologists", "Phase 2", "--criterion", "GRT Study.phase eq 2", "--grant", "data.read")
	h.ok("roles", "create", "Readers", "--scope", "project", "--permissions", "project.read")

	steps := []struct {
		args  []string
		stdin string
		code  int
		want  []string
	}{
		{args: []string{"whoami"}, want: []string{apitest.AdminUser, "active"}},
		// The change feed: the bootstrap is revision 1; a filter by user.
		{args: []string{"changes", "--limit", "1"}, want: []string{"1\t", "system.bootstrap", "next: --after 1"}},
		{args: []string{"changes", "--user", "alice", "--json"}, want: []string{`"user.create"`, alice.ID}},
		{args: []string{"changes", "--entity", "spaceship"}, code: 1, want: []string{"entity"}},
		// The replica snapshot: decoded whole and summarized (no personal fields to show).
		{args: []string{"replica", "snapshot"}, want: []string{"revision ", " users, ", " memberships, ", " group memberships, ", " rules"}},
		{args: []string{"replica", "snapshot", "--json"}, want: []string{`"revision"`, `"memberships"`, `"group_memberships": 0`, `"folder_levels": 1`}},
		// A user's profile, password, preferences and project rights.
		{args: []string{"users", "update", "alice", "--display-name", "Alice L.", "--email", "alice@example.org"}, want: []string{"Alice L.", "alice@example.org"}},
		{args: []string{"users", "update", "alice"}, code: 2, want: []string{"users update changes nothing"}},
		{args: []string{"users", "set-password", "alice"}, stdin: "alice-new-pw-1\n", want: []string{"Password of alice set"}},
		{args: []string{"users", "set-preferences", "alice", "--show-personal-info=false"}, want: []string{"alice: personal information shown to other users: false"}},
		{args: []string{"users", "set-preferences", "alice"}, code: 2, want: []string{"--show-personal-info"}},
		{args: []string{"users", "set-project-rights", "alice", "Radiology", "--role", "Viewer"}, want: []string{radiology.ID, alice.ID, "Viewer"}},
		{args: []string{"projects", "grants", "Radiology"}, want: []string{alice.ID, "user", "Viewer"}},
		{args: []string{"users", "remove-from-project", "alice", "Radiology"}, want: []string{"Individual grant removed"}},
		// A project.
		{args: []string{"projects", "get", "radiology"}, want: []string{radiology.ID, "Radiology", "multiple"}},
		{args: []string{"projects", "update", "Radiology", "--description", "Imaging", "--mode", "exclusive"}, want: []string{"Imaging", "exclusive"}},
		{args: []string{"projects", "update", "Radiology", "--mode", "solo"}, code: 2, want: []string{"want multiple or exclusive"}},
		// A group: name, description, domains, rights in projects.
		{args: []string{"groups", "update", "Radiologists", "--description", "Read images"}, want: []string{"Radiologists", "system"}},
		{args: []string{"groups", "get", "radiologists"}, want: []string{"Radiologists", "system"}},
		{args: []string{"groups", "set-default-rights", "Radiologists", "--role", "Viewer"}, want: []string{"Group Radiologists brings into projects: role Viewer"}},
		{args: []string{"groups", "import", "Radiologists", "Radiology"}, want: []string{"Group Radiologists imported into: Radiology"}},
		{args: []string{"groups", "set-project-rights", "Radiologists", "Radiology", "--permissions", "project.read"}, want: []string{radiology.ID, "group", "project.read"}},
		{args: []string{"groups", "remove-from-projects", "Radiologists", "Radiology"}, code: 2, want: []string{"--yes"}},
		{args: []string{"groups", "remove-from-projects", "Radiologists", "Radiology", "--yes"}, want: []string{"Group Radiologists removed from: Radiology"}},
		{args: []string{"groups", "set-domains", "Radiologists", "pacs", "reporting"}, want: []string{"Accessible domains: pacs, reporting"}},
		{args: []string{"groups", "domains", "Radiologists"}, want: []string{"Accessible domains: pacs, reporting"}},
		{args: []string{"groups", "folder-levels", "Radiologists"}, want: []string{"/TMF", "view"}},
		{args: []string{"members", "add", "Radiologists", "alice", "bob"}, want: []string{"Added 2 user(s)"}},
		{args: []string{"members", "remove", "Radiologists", "alice", "bob"}, want: []string{"Removed 2 user(s) from Radiologists"}},
		// Roles, folder types, rules.
		{args: []string{"roles", "update", "Readers", "--permissions", "project.read,project.write", "--description", "read and write"}, want: []string{"Readers", "project.read,project.write"}},
		{args: []string{"folder-types", "update", "GRT Study", "--add-properties", "site", "--add-contexts", "document"}, want: []string{"root,data,document", "phase,status,site"}},
		{args: []string{"folder-types", "get", "grt study"}, want: []string{"GRT Study", "phase,status,site"}},
		{args: []string{"rules", "get", "Radiologists", "phase 2"}, want: []string{"Phase 2", "GRT Study.phase eq 2", "data: read"}},
		{args: []string{"rules", "update", "Radiologists", "Phase 2", "--name", "Phases 2-3", "--criterion", "GRT Study.phase in 2,3"}, want: []string{"Phases 2-3", "GRT Study.phase in 2,3", "data: read"}},
		{args: []string{"rules", "update", "Radiologists", "Phases 2-3"}, code: 2, want: []string{"changes nothing"}},
		// The permission queries.
		{args: []string{"batch-check", "admin", "audit.view", "system", "alice", "audit.view", "system"}, want: []string{"allowed", "denied", "(revision "}},
		{args: []string{"batch-check", "admin", "audit.view"}, code: 2, want: []string{"triples"}},
		{args: []string{"resources", "me", "project.read", "--kind", "project"}, want: []string{"Projects (revision", radiology.ID}},
		{args: []string{"resources", "me", "project.read", "--kind", "planet"}, code: 2, want: []string{"--kind \"planet\""}},
		{args: []string{"subjects", "audit.view", "system"}, want: []string{apitest.AdminUser, "Administrators", "Anonymous allowed: false"}},
		{args: []string{"effective-permissions", "admin", "system"}, want: []string{"Permissions of user:", "audit.view"}},
		// The audit log over the API.
		{args: []string{"audit-log", "list", "--action", "group.update", "--actor", "admin", "--since", "1h"}, want: []string{"group.update", apitest.AdminUser}},
		{args: []string{"audit-log", "list", "--since", "soon"}, code: 2, want: []string{"--since"}},
		{args: []string{"audit-log", "verify"}, want: []string{"OK: ", "records, chain head"}},
	}
	for _, s := range steps {
		h.step(t, s.stdin, s.code, s.want, s.args...)
	}

	// The new password works.
	c, _ := gatehouse.New(h.srv.URL)
	if _, err := c.Login(context.Background(), "alice", "alice-new-pw-1"); err != nil {
		t.Errorf("alice's new password: %v", err)
	}
	// --json is the API's answer as it came: the domains' revision, which
	// the client's typed method drops, is there.
	var domains map[string]any
	h.jsonOf(&domains, "groups", "domains", "Radiologists")
	if _, ok := domains["revision"]; !ok || len(domains["domains"].([]any)) != 2 {
		t.Errorf("groups domains --json = %v", domains)
	}
	var verify map[string]any
	h.jsonOf(&verify, "audit-log", "verify")
	if verify["ok"] != true || verify["head_hash"] == "" {
		t.Errorf("audit-log verify --json = %v", verify)
	}
	var u api.User
	h.jsonOf(&u, "users", "get", "alice")
	if u.DisplayName != "Alice L." || u.ShowPersonalInfo {
		t.Errorf("alice after update and set-preferences = %+v", u)
	}
}

// TestJSONIsTheAPIAnswer: a command's --json output is the API's answer
// as the server sent it, byte for byte once indented, for the commands
// built on the typed client too.
func TestJSONIsTheAPIAnswer(t *testing.T) {
	h := newHarness(t)
	h.login()
	h.ok("roles", "create", "Doomed", "--scope", "project", "--permissions", "project.read")
	ctx := context.Background()
	c, _ := gatehouse.New(h.srv.URL)
	if _, err := c.Login(ctx, apitest.AdminUser, apitest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	everyone := domain.GroupEveryoneID
	for _, s := range []struct {
		args         []string
		method, path string
		body         any
	}{
		{[]string{"whoami"}, "GET", "/me", nil},
		{[]string{"users", "get", apitest.AdminUser}, "GET", "/users/" + h.srv.AdminID, nil},
		{[]string{"users", "list"}, "GET", "/users", nil},
		{[]string{"tokens", "list"}, "GET", "/tokens", nil},
		{[]string{"groups", "get", everyone}, "GET", "/groups/" + everyone, nil},
		{[]string{"members", "list", "Administrators"}, "GET", "/groups/" + domain.GroupAdministratorsID + "/members", nil},
		{[]string{"folder-types", "list"}, "GET", "/folder-types", nil},
		{[]string{"explain", "me", "audit.view", "system"}, "POST", "/explain", map[string]string{"permission": "audit.view", "resource": "system"}},
	} {
		var want json.RawMessage
		_, err := c.Do(ctx, s.method, s.path, s.body, &want)
		if err != nil {
			t.Fatalf("%s %s: %v", s.method, s.path, err)
		}
		var b bytes.Buffer
		if err := json.Indent(&b, want, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := h.ok(append(s.args, "--json")...); got != b.String()+"\n" {
			t.Errorf("gatehouse %s --json:\n%s\nwant the API's %s %s:\n%s", strings.Join(s.args, " "), got, s.method, s.path, b.String())
		}
	}
	// A write: the answer of DELETE /roles/{id}, only.
	var del map[string]any
	h.jsonOf(&del, "roles", "delete", "Doomed")
	if _, ok := del["revision"]; !ok || len(del) != 1 {
		t.Errorf("roles delete --json = %v, want the API's {revision}", del)
	}
}

// TestSetOwnPasswordAsksForTheCurrentOne: the server changes your own
// password only with your current one (docs/security.md, Passwords), so
// `users set-password` asks for it first when USER is you.
func TestSetOwnPasswordAsksForTheCurrentOne(t *testing.T) {
	h := newHarness(t)
	h.login()
	r := h.run("not-the-password\nnew-admin-pw-2\n", "users", "set-password", apitest.AdminUser)
	if r.code == 0 || !strings.Contains(r.stderr, "current password is not right") {
		t.Errorf("wrong current password: exit %d, stderr %q; want a failure saying so", r.code, r.stderr)
	}
	r = h.run(apitest.AdminPassword+"\nnew-admin-pw-2\n", "users", "set-password", apitest.AdminUser)
	if r.code != 0 || !strings.Contains(r.stdout, "Password of admin set") {
		t.Fatalf("right current password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c, _ := gatehouse.New(h.srv.URL)
	if _, err := c.Login(context.Background(), apitest.AdminUser, "new-admin-pw-2"); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

// TestWebhookCommands: every webhooks command through a real server, with
// a receiver on loopback (a range the test server allows).
func TestWebhookCommands(t *testing.T) {
	var pings atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Gatehouse-Event") == "ping" && strings.HasPrefix(r.Header.Get("Gatehouse-Signature"), "t=") {
			pings.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	h := newHarness(t)
	h.login()
	h.ok("users", "create", "alice")
	var hook struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	h.jsonOf(&hook, "webhooks", "create", "cache", "--url", recv.URL+"/in", "--entity", "membership", "--user", "alice")
	if hook.ID == "" || !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("webhooks create --json: %+v, want an id and the generated secret", hook)
	}
	steps := []struct {
		args []string
		code int
		want []string
	}{
		{args: []string{"webhooks", "list"}, want: []string{hook.ID, "cache", recv.URL, "ok"}},
		{args: []string{"webhooks", "show", hook.ID}, want: []string{"entity=membership", "delivered up to"}},
		{args: []string{"webhooks", "update", hook.ID, "--action", "group.member_add", "--inactive"}, want: []string{"action=group.member_add", "active           false"}},
		{args: []string{"webhooks", "create", "bad", "--url", "ftp://x.example.org/"}, code: 1, want: []string{"url", "https"}},
		{args: []string{"webhooks", "ping", hook.ID}, want: []string{"Delivered: the receiver answered 204"}},
		{args: []string{"webhooks", "deliveries", hook.ID}, want: []string{"ping", "204", "ok"}},
		{args: []string{"webhooks", "redeliver", hook.ID, "--from", "1"}, want: []string{"will deliver again from revision 1"}},
		{args: []string{"webhooks", "redeliver", hook.ID}, code: 2, want: []string{"--from"}},
		{args: []string{"webhooks", "delete", hook.ID}, want: []string{"deleted"}},
		{args: []string{"webhooks", "show", hook.ID}, code: 1, want: []string{"not found"}},
	}
	for _, s := range steps {
		h.step(t, "", s.code, s.want, s.args...)
	}
	if pings.Load() != 1 {
		t.Errorf("the receiver got %d signed pings, want 1", pings.Load())
	}
}

// step runs one command: its output (stderr when it must fail with code)
// must contain every fragment of want.
func (h *harness) step(t *testing.T, stdin string, code int, want []string, args ...string) {
	t.Helper()
	r := h.run(stdin, args...)
	out := r.stdout
	if code != 0 {
		out = r.stderr
	}
	if r.code != code {
		t.Errorf("gatehouse %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
		return
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("gatehouse %s: output does not contain %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
}
