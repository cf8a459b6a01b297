package hostile

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// attempt is one row of the limited-administrator table: who tries what
// through which transport. do returns whether it was refused and the
// answer, for the message.
type attempt struct {
	who, transport, what string
	do                   func(t *testing.T) (refused bool, answer string)
}

// cli runs the built binary's CLI against the server with a token.
func cli(t *testing.T, base, token string, args ...string) (refused bool, answer string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append(args, "--server", base, "--token", token)...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_CONFIG_DIR="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	msg := strings.TrimSpace(errb.String() + out.String())
	ee, ok := err.(*exec.ExitError)
	return ok && ee.ExitCode() == 1 && (strings.Contains(msg, "(403 ") || strings.Contains(msg, "(404 ")), fmt.Sprint(err) + ": " + msg
}

// restRefused sends a REST or SCIM request and reports a 403 or 404.
func restRefused(t *testing.T, c *client, method, path string, body any) (bool, string) {
	t.Helper()
	r := c.do(t, method, path, body)
	return r.Status == 403 || r.Status == 404, fmt.Sprintf("%d %.200s", r.Status, r.Body)
}

// consoleRefused posts a console form and reports a refusal: the console
// answers a refused form by redirecting back with an error message (or
// with a 403/404 page).
func consoleRefused(t *testing.T, c *client, path string, form url.Values) (bool, string) {
	t.Helper()
	r := c.form(t, path, form)
	if r.Status == 403 || r.Status == 404 {
		return true, fmt.Sprint(r.Status)
	}
	// The answer clears the previous flash message and sets its own.
	flash := ""
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "gatehouse_flash" && ck.Value != "" {
			flash, _ = url.QueryUnescape(ck.Value)
		}
	}
	return r.Status == 303 && strings.HasPrefix(flash, "error:"), fmt.Sprintf("%d %s", r.Status, flash)
}

// attackLimitedAdmin: a project moderator (delegated administration of
// one project) and a user whose token is limited to users.view try to
// reach objects and actions outside their permissions through REST, SCIM,
// the console and the CLI. Every attempt is refused (403/404, or the
// console's refusal), changes nothing, and leaves a denied record in the
// audit log.
func attackLimitedAdmin(t *testing.T) {
	s := start(t)
	api := newClient(s.URL, adminToken(t, s.URL))
	p1 := idOf(t, api.must(t, 201, "POST", "/api/v1/projects", map[string]any{"name": "Trial A"}))
	p2 := idOf(t, api.must(t, 201, "POST", "/api/v1/projects", map[string]any{"name": "Trial B"}))
	pg1 := idOf(t, api.must(t, 201, "POST", "/api/v1/groups", map[string]any{"name": "A moderators", "scope": "project", "project_id": p1}))
	pg2 := idOf(t, api.must(t, 201, "POST", "/api/v1/groups", map[string]any{"name": "B readers", "scope": "project", "project_id": p2}))
	api.must(t, 200, "PUT", "/api/v1/groups/"+pg1+"/projects/"+p1, map[string]any{"permissions": []string{"project.read", "project.moderate"}})
	mod := idOf(t, api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "mod", "password": "mod-password-1"}))
	api.must(t, 200, "POST", "/api/v1/groups/"+pg1+"/members", map[string]any{"members": []map[string]any{{"user_id": mod}}})
	help := idOf(t, api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "helpdesk", "password": "help-password-1"}))
	hg := idOf(t, api.must(t, 201, "POST", "/api/v1/groups", map[string]any{"name": "Helpdesk", "scope": "system", "system_permissions": []string{"users.view", "users.edit", "groups.view"}}))
	api.must(t, 200, "POST", "/api/v1/groups/"+hg+"/members", map[string]any{"members": []map[string]any{{"user_id": help}}})
	victim := idOf(t, api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "victim", "password": "victim-password-1"}))
	folder := idOf(t, api.must(t, 201, "POST", "/api/v1/folders", map[string]any{"name": "Images"}))
	groups := api.must(t, 200, "GET", "/api/v1/groups?search=Administrators", nil)["items"].([]any)
	admins := groups[0].(map[string]any)["id"].(string)

	// The moderator may moderate Trial A: check that this works, so the
	// refusals below are about the limits, not a broken setup.
	modTok := tokenFor(t, s.URL, "mod", "mod-password-1", nil)
	modAPI := newClient(s.URL, modTok)
	modAPI.must(t, 200, "POST", "/api/v1/groups/"+pg1+"/members", map[string]any{"members": []map[string]any{{"user_id": victim}}})
	modCon := consoleClient(t, s.URL, "mod", "mod-password-1")
	limTok := tokenFor(t, s.URL, "helpdesk", "help-password-1", []string{"users.view"})
	limAPI := newClient(s.URL, limTok)
	limAPI.must(t, 200, "GET", "/api/v1/users/"+victim, nil)
	prov := idOf(t, api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "idp", "password": "idp-password-1"}))
	pvg := idOf(t, api.must(t, 201, "POST", "/api/v1/groups", map[string]any{"name": "Provisioners", "scope": "system", "system_permissions": []string{"scim.provision", "users.view", "users.edit", "groups.view", "groups.members"}}))
	api.must(t, 200, "POST", "/api/v1/groups/"+pvg+"/members", map[string]any{"members": []map[string]any{{"user_id": prov}}})
	provAPI := newClient(s.URL, tokenFor(t, s.URL, "idp", "idp-password-1", []string{"scim.provision"}))
	provAPI.must(t, 200, "GET", "/scim/v2/Users", nil)

	table := []attempt{
		// REST, moderator of Trial A
		{"moderator", "REST", "add himself to Administrators", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "POST", "/api/v1/groups/"+admins+"/members", map[string]any{"members": []map[string]any{{"user_id": mod}}})
		}},
		{"moderator", "REST", "add a member to Trial B's group", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "POST", "/api/v1/groups/"+pg2+"/members", map[string]any{"members": []map[string]any{{"user_id": mod}}})
		}},
		{"moderator", "REST", "rename Trial B's group", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "PATCH", "/api/v1/groups/"+pg2, map[string]any{"name": "pwned"})
		}},
		{"moderator", "REST", "give his group system permissions", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "POST", "/api/v1/groups", map[string]any{"name": "Escalate", "scope": "system", "system_permissions": []string{"server.manage"}})
		}},
		{"moderator", "REST", "give his group moderation of Trial B", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "PUT", "/api/v1/groups/"+pg1+"/projects/"+p2, map[string]any{"permissions": []string{"project.read", "project.moderate"}})
		}},
		{"moderator", "REST", "give himself the System Administrator role", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "PUT", "/api/v1/users/"+mod+"/system-role", map[string]any{"role_id": "system-administrator"})
		}},
		{"moderator", "REST", "delete Trial B", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "DELETE", "/api/v1/projects/"+p2, nil)
		}},
		{"moderator", "REST", "disable another user", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "PUT", "/api/v1/users/"+victim+"/status", map[string]any{"status": "disabled"})
		}},
		{"moderator", "REST", "set his group's level on a folder", func(t *testing.T) (bool, string) {
			return restRefused(t, modAPI, "PUT", "/api/v1/folders/"+folder+"/levels/"+pg1, map[string]any{"level": "edit"})
		}},
		// SCIM: a provisioning token (scim.provision, limited to it)
		// reaching past what provisioning may do.
		{"provisioner", "SCIM", "add a user to Administrators", func(t *testing.T) (bool, string) {
			return restRefused(t, provAPI, "PATCH", "/scim/v2/Groups/"+admins, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": prov}}}}})
		}},
		{"provisioner", "SCIM", "rename Administrators", func(t *testing.T) (bool, string) {
			return restRefused(t, provAPI, "PATCH", "/scim/v2/Groups/"+admins, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "pwned"}}})
		}},
		{"provisioner", "SCIM", "delete a locally managed user", func(t *testing.T) (bool, string) {
			return restRefused(t, provAPI, "DELETE", "/scim/v2/Users/"+victim, nil)
		}},
		// REST, token limited to users.view (its user holds users.edit)
		{"limited token", "REST", "edit a user", func(t *testing.T) (bool, string) {
			return restRefused(t, limAPI, "PATCH", "/api/v1/users/"+victim, map[string]any{"display_name": "pwned"})
		}},
		{"limited token", "REST", "create a user", func(t *testing.T) (bool, string) {
			return restRefused(t, limAPI, "POST", "/api/v1/users", map[string]any{"username": "evil-limited"})
		}},
		{"limited token", "REST", "create a token for another user", func(t *testing.T) (bool, string) {
			return restRefused(t, limAPI, "POST", "/api/v1/tokens", map[string]any{"name": "theirs", "user_id": victim})
		}},
		// Console, moderator
		{"moderator", "console", "rename Trial B's group", func(t *testing.T) (bool, string) {
			return consoleRefused(t, modCon, "/admin/groups/"+pg2+"/general", url.Values{"name": {"pwned"}, "description": {""}})
		}},
		{"moderator", "console", "disable another user", func(t *testing.T) (bool, string) {
			return consoleRefused(t, modCon, "/admin/users/"+victim+"/status", url.Values{"status": {"disabled"}})
		}},
		{"moderator", "console", "add himself to Administrators", func(t *testing.T) (bool, string) {
			return consoleRefused(t, modCon, "/admin/groups/"+admins+"/members", url.Values{"member": {mod}, "shown": {mod}})
		}},
		{"moderator", "console", "delete Trial B", func(t *testing.T) (bool, string) {
			return consoleRefused(t, modCon, "/admin/projects/"+p2+"/delete", url.Values{"confirm": {"yes"}})
		}},
		{"moderator", "console", "create a user", func(t *testing.T) (bool, string) {
			return consoleRefused(t, modCon, "/admin/users", url.Values{"username": {"evil-console"}, "password": {"evil-password-1"}})
		}},
		// CLI
		{"moderator", "CLI", "create a system group with users.edit", func(t *testing.T) (bool, string) {
			return cli(t, s.URL, modTok, "groups", "create", "Escalate CLI", "--permissions", "users.edit")
		}},
		{"moderator", "CLI", "create a project", func(t *testing.T) (bool, string) {
			return cli(t, s.URL, modTok, "projects", "create", "Evil project")
		}},
		{"moderator", "CLI", "create a role", func(t *testing.T) (bool, string) {
			return cli(t, s.URL, modTok, "roles", "create", "Evil role", "--scope", "system", "--permissions", "server.manage")
		}},
		{"limited token", "CLI", "create a user", func(t *testing.T) (bool, string) {
			return cli(t, s.URL, limTok, "users", "create", "evil-cli")
		}},
		{"limited token", "CLI", "disable a user", func(t *testing.T) (bool, string) {
			return cli(t, s.URL, limTok, "users", "disable", "victim")
		}},
	}
	actor := map[string]string{"moderator": mod, "limited token": help, "provisioner": prov}
	for _, a := range table {
		q := url.Values{"actor_id": {actor[a.who]}}
		before := auditCount(t, api, q, "denied")
		refused, answer := a.do(t)
		after := auditCount(t, api, q, "denied")
		audited := after > before
		tableAttempt(refused, audited)
		t.Logf("%-13s %-8s %-45s refused=%v audited=%v", a.who, a.transport, a.what, refused, audited)
		if !refused {
			t.Errorf("%s via %s could %s: %s", a.who, a.transport, a.what, answer)
		}
		if !audited {
			t.Errorf("%s via %s trying to %s left no denied record in the audit log (%s)", a.who, a.transport, a.what, answer)
		}
	}
	// Nothing changed.
	if m := api.must(t, 200, "GET", "/api/v1/groups/"+admins+"/members", nil); strings.Contains(fmt.Sprint(m), mod) {
		t.Errorf("the moderator is now an Administrator: %v", m)
	}
	if g := api.must(t, 200, "GET", "/api/v1/groups/"+pg2, nil); g["name"] != "B readers" {
		t.Errorf("Trial B's group was renamed to %v", g["name"])
	}
	if u := api.must(t, 200, "GET", "/api/v1/users/"+victim, nil); u["status"] != "active" || u["display_name"] == "pwned" {
		t.Errorf("the victim was changed: %v", u)
	}
	api.must(t, 200, "GET", "/api/v1/projects/"+p2, nil)
	for _, name := range []string{"evil-limited", "evil-console", "evil-cli", "scimmed"} {
		if m := api.must(t, 200, "GET", "/api/v1/users?search="+name, nil); len(m["items"].([]any)) != 0 {
			t.Errorf("user %s was created", name)
		}
	}
	s.checkLog(t)
}
