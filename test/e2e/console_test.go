package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConsoleStories clicks through the reference documents' stories in
// the web console, in one browser against one real server, in order: each
// story builds on the data of the one before, as an administrator would.
func TestConsoleStories(t *testing.T) {
	const pw = "console-admin-pw-1"
	srv := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=" + pw})
	b := newUIBrowser(t, srv.URL)

	t.Run("SignIn", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups", "anonymous goes to sign in")
		if !strings.Contains(b.location(), "/login") {
			t.Fatalf("an anonymous visit ended on %s, want the sign-in page", b.location())
		}
		b.fill("#username", "admin")
		b.fill("#password", "wrong password")
		b.submit("#signin", "sign in refused")
		b.wantText("#flash-error", "username or password is not right")
		// Keyboard only: type the password and press Enter.
		b.fill("#password", "")
		b.typeEnter("#password", pw, "groups after sign in")
		b.wantText("#group-count", "3 groups")
		b.wantText("#usermenu", "admin")
	})

	t.Run("Users", func(t *testing.T) {
		b.t = t
		// carol gets no system role: she becomes the limited
		// administrator of the last story through one group.
		for _, u := range []struct{ name, display, email, role string }{
			{"alice", "Alice Archer", "alice@example.org", "System Manager"},
			{"bob", "Bob Baker", "bob@example.org", "System Member"},
			{"carol", "Carol Clark", "carol@example.org", "None"},
			{"dave", "Dave Dunn", "dave@example.org", "System Manager"},
		} {
			b.open("/admin/users", "users")
			b.click("#new-user")
			b.fill("#u-username", u.name)
			b.fill("#u-name", u.display)
			b.fill("#u-email", u.email)
			b.fill("#u-password", u.name+"-password-1")
			b.choose("#u-role", u.role)
			b.submit("#create-user", "user "+u.name+" created")
			b.wantFlash("User “" + u.name + "” created.")
		}
		b.wantText("#users", "Alice Archer", "carol@example.org", "System Manager")
	})

	// [C] CIRCUS DB and [S5] system groups: create a group, set its
	// privileges (R8 auto-check, R9 explained), role and accessible
	// domains, then add and remove members with search and sort (R28).
	t.Run("C_S5_GroupPrivilegesAndMembers", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups", "groups list")
		if !b.disabled(`button[aria-label="Delete Administrators (not allowed)"]`) {
			t.Error("built-in Administrators offers an enabled delete")
		}
		b.wantText("#groups", "built-in")
		b.submit("#create-group", "new group form")
		b.wantText("#scope-warning", "cannot be changed")
		b.fill("#name", "Radiologists of XYZ hosp")
		b.fill("#description", "Reads studies of XYZ hospital")
		b.submit("#save", "group created, privileges tab")
		b.wantFlash("created")

		// R8: edit brings view.
		b.click(byID("perm-groups.edit"))
		if !b.checked(byID("perm-groups.view")) {
			t.Error("checking Add/edit groups did not check View groups (R8)")
		}
		// R9 inline: groups.members without users.view is flagged at once.
		b.click(byID("perm-groups.members"))
		if !b.js(`document.getElementById("req-groups.members").classList.contains("unmet")`) {
			t.Error("groups.members without users.view is not flagged (R9)")
		}
		b.shot("R9 requirement flagged inline")
		b.click(byID("perm-project.create"))
		b.click(byID("perm-personal_info.view"))
		b.fill("#domains", "xyz-hosp.example\nteaching.example")
		b.submit("#save", "R9 refused on save")
		if !b.exists("#flash-error") {
			t.Fatal("saving groups.members without users.view was accepted (R9)")
		}
		b.wantText("#flash-error", "users.view")
		// The form comes back as it was sent, with the refusal: fix it.
		if !b.checked(byID("perm-groups.members")) || !b.checked(byID("perm-project.create")) {
			t.Error("the refused form lost what was checked")
		}
		if v, _ := b.value("#domains"); !strings.Contains(v, "teaching.example") {
			t.Errorf("the refused form lost the domains: %q", v)
		}
		b.click(byID("perm-users.view"))
		b.click(byID("perm-roles.view"))
		if b.js(`document.getElementById("req-groups.members").classList.contains("unmet")`) {
			t.Error("the R9 hint stays after checking users.view")
		}
		b.choose("#role", "System Member")
		b.submit("#save", "privileges saved")
		b.wantFlash("Privileges of “Radiologists of XYZ hosp” saved.")
		for _, k := range []string{"groups.edit", "groups.view", "groups.members", "users.view", "project.create"} {
			if !b.checked(byID("perm-" + k)) {
				t.Errorf("%s is not checked after saving", k)
			}
		}
		if v, _ := b.value("#domains"); !strings.Contains(v, "teaching.example") {
			t.Errorf("domains after save: %q", v)
		}

		// General: scope read-only.
		b.submit("#tab-general", "general tab")
		if !b.js(`document.getElementById("scope").readOnly`) {
			t.Error("scope is editable after creation (R1)")
		}

		// Members: every user listed, search and sort.
		b.submit("#tab-members", "members tab")
		b.submit("#view-all", "members tab: all users")
		b.wantText("#members", "admin", "alice", "bob", "carol", "Alice Archer", "System Manager")
		first := b.text("#members tbody tr:first-child .username")
		if first != "admin" {
			t.Errorf("default order starts with %q, want admin (alphabetical by username)", first)
		}
		b.submit("#sort-username", "members sorted descending")
		if got := b.text("#members tbody tr:first-child .username"); got != "dave" {
			t.Errorf("descending order starts with %q, want dave", got)
		}
		b.submit("#sort-username", "members unsorted")
		b.submit("#sort-email", "members sorted by email")
		b.fill("#member-search", "example.org")
		b.submit("#search", "members searched by email")
		b.fill("#member-search", "Archer")
		b.submit("#search", "members searched by name")
		if n := b.js(`document.querySelectorAll("#members tbody tr").length === 1`); !n {
			t.Error("searching Archer does not leave one row")
		}
		b.fill("#member-search", "")
		b.submit("#search", "members all again")
		b.click("#m-alice")
		b.click("#m-bob")
		b.click("#m-dave")
		b.fill("#expires", "2099-12-31")
		b.submit("#save-members", "members added")
		b.wantFlash("3 users added.")
		if !b.checked("#m-alice") || !b.checked("#m-bob") {
			t.Error("alice and bob are not checked after adding them")
		}
		b.wantText("#members", "2099-12-31")
		b.click("#m-bob")
		b.submit("#save-members", "member removed")
		b.wantFlash("1 user removed.")
	})

	// [S2] project and system user groups: exclusive projects, importing
	// a system group into two projects, removal with R27's confirmation,
	// deleting a project group keeping its users (R26).
	t.Run("S2_ProjectAndSystemGroups", func(t *testing.T) {
		b.t = t
		for _, p := range []struct{ name, mode string }{{"Trial A", "exclusive"}, {"Trial B", "multiple"}, {"Trial C", "multiple"}} {
			b.open("/admin/projects", "projects")
			b.fill("#p-name", p.name)
			b.choose("#p-mode", p.mode)
			b.submit("#create-project", "project "+p.name+" created")
			b.wantFlash("Project “" + p.name + "” created.")
		}
		b.wantText("#projects", "Trial A", "exclusive", "Trial B", "multiple")

		// A system group, imported into two projects.
		b.open("/admin/groups/new", "new system group")
		b.fill("#name", "Monitors")
		b.submit("#save", "Monitors created")
		b.submit("#tab-projects", "Monitors projects tab")
		b.click("#default-project\\.read")
		b.submit("#save-default", "default rights saved")
		b.wantFlash("Default project rights saved")
		b.click(`[id="import-Trial A"]`)
		b.click(`[id="import-Trial B"]`)
		b.click(`[id="import-Trial C"]`)
		b.submit("#import", "Monitors imported into three projects")
		b.wantFlash("Trial A", "Trial B", "Trial C")
		b.wantText("#projects-matrix", "Trial A", "Trial B", "Trial C")
		b.click(`[id="p-Trial B-project.write"]`)
		if !b.checked(`[id="p-Trial B-project.read"]`) {
			t.Error("write without read in the matrix")
		}
		b.submit("#save-rights", "project rights saved")
		b.wantFlash("Project rights saved (1 project changed).")
		if !b.checked(`[id="p-Trial B-project.write"]`) {
			t.Error("Trial B write was not saved")
		}

		// R24: adding a member lists the projects.
		b.submit("#tab-members", "Monitors members")
		b.submit("#view-all", "Monitors members: all users")
		b.wantText("#present-info", "Trial A", "Trial B")
		b.click("#m-alice")
		b.submit("#save-members", "alice added to Monitors")
		b.wantFlash("1 user added.", "Trial A", "Trial B", "Trial C")

		// A project group of the exclusive project: alice is in Monitors
		// there, so her checkbox is disabled and the group is named.
		b.open("/admin/groups/new", "new project group")
		b.fill("#name", "Site team")
		b.click("#scope-project")
		b.choose("#project", "Trial A")
		b.submit("#save", "Site team created")
		b.submit("#tab-members", "Site team members, alice disabled")
		b.submit("#view-all", "Site team members, alice disabled: all users")
		if !b.disabled("#m-alice") {
			t.Error("alice's checkbox is enabled although she is in Monitors in exclusive Trial A (R23)")
		}
		b.wantText("#members", "Monitors")
		b.click("#m-dave")
		b.click("#m-bob")
		b.submit("#save-members", "Site team members added")
		b.wantFlash("2 users added.", "Trial A")

		// R27: remove Monitors from two projects, with confirmation.
		monitors := b.groupID("Monitors")
		b.open("/admin/groups/"+monitors+"/projects", "Monitors projects")
		b.click(`input[aria-label="Select Trial B"]`)
		b.click(`input[aria-label="Select Trial C"]`)
		b.submit("#remove-selected", "R27 confirmation")
		b.wantText("#remove-projects", "Trial B", "Trial C")
		b.click("#confirm")
		b.submit("#confirm-remove", "Monitors removed from two projects")
		b.wantFlash("Trial B, Trial C")
		b.wantText("#projects-matrix", "Trial A")
		if strings.Contains(b.text("#projects-matrix"), "Trial B") {
			t.Error("Trial B is still in the matrix")
		}

		// R26: delete the project group, keeping its users.
		b.open("/admin/groups", "groups before delete")
		b.submit(`a[aria-label="Delete Site team"]`, "delete dialog")
		if !b.checked("#keep-users") {
			t.Error("keep users is not the default (R26)")
		}
		b.submit("#confirm-delete", "Site team deleted")
		b.wantFlash("Group “Site team” deleted.", "stay in Trial A without access")
		if strings.Contains(b.text("#groups"), "Site team") {
			t.Error("Site team is still listed")
		}
	})

	// [S3] document-system rules and [Q] image-server folder levels.
	t.Run("S3_Q_RulesAndFolderLevels", func(t *testing.T) {
		b.t = t
		b.open("/admin/folders", "folders")
		b.fill("#t-name", "GRT Study")
		b.fill("#t-contexts", "data, document, analysis")
		b.fill("#t-props", "Indication, Portfolio, description")
		b.submit("#create-type", "folder type created")
		b.wantFlash("Folder type “GRT Study” created.")
		for _, f := range []struct{ name, parent, typ, props string }{
			{"Studies", "", "folder", ""},
			{"Study 1", "Studies", "GRT Study", "Indication=GRT\nPortfolio=ABC"},
			{"Study 2", "Studies", "GRT Study", "Indication=GRT\nPortfolio=XYZ"},
			{"Documents", "Study 1", "folder", ""},
		} {
			b.fill("#f-name", f.name)
			if f.parent != "" {
				b.choose("#f-parent", f.parent)
			}
			b.choose("#f-type", f.typ)
			b.fill("#f-props", f.props)
			b.submit("#create-folder", "folder "+f.name+" created")
			b.wantFlash("Folder “" + f.name + "” created.")
		}
		b.wantText("#folders", "Study 1", "Indication = GRT")

		b.open("/admin/groups/new", "new group for rules")
		b.fill("#name", "Document readers")
		b.submit("#save", "Document readers created")
		b.submit("#tab-rules", "rules tab")
		b.submit("#add-rule", "new rule")
		b.wantText("#and-note", "AND")
		b.fill("#rule-name", "GRT studies of ABC")
		// One folder type for the whole rule: a folder has one type.
		b.choose("#rule-type", "GRT Study")
		b.choose("#c0-prop", "Indication")
		b.choose("#c0-op", "equals")
		b.fill("#c0-value", "GRT")
		b.submit("#add-row", "criteria row added")
		if v, _ := b.value("#rule-name"); v != "GRT studies of ABC" {
			t.Errorf("rule name lost on adding a row: %q", v)
		}
		if v, _ := b.value("#rule-type"); v == "" {
			t.Error("the folder type was lost on adding a row")
		}
		b.choose("#c1-prop", "Portfolio")
		b.fill("#c1-value", "ABC")
		if b.js(`[...document.querySelectorAll("#c0-prop option")].some(o => o.value === "description")`) {
			t.Error("description is offered as a criterion property (R10)")
		}
		b.click("#all-read")
		for _, cx := range []string{"root", "data", "document", "analysis"} {
			if !b.checked(byID("g-" + cx + "-read")) {
				t.Errorf("Check all read did not check read on %s", cx)
			}
		}
		b.click("#g-document-edit")
		b.shot("rule with two criteria and check all")
		b.submit("#save-rule", "rule saved")
		b.wantFlash("Rule “GRT studies of ABC” saved.")
		b.wantText("#rules", "Indication equals GRT", "AND", "Portfolio equals ABC", "Document: Read, Edit")

		// Folder levels: set on Studies, inherited below; none overrides.
		b.submit("#tab-folders", "folder permissions")
		b.choose(`[id="lvl-Studies"]`, "Download")
		b.choose(`[id="lvl-Study 2"]`, "None")
		b.submit("#save-levels", "folder levels saved")
		b.wantFlash("2 changes")
		b.wantText("#folder-tree", "inherited from Studies")
		row := b.text(`#folder-tree tbody tr:nth-child(2)`)
		if !strings.Contains(row, "Study 1") || !strings.Contains(row, "inherited from Studies") {
			t.Errorf("Study 1 row: %q", row)
		}
		b.submit("#tab-members", "Document readers members")
		b.submit("#view-all", "Document readers members: all users")
		b.click("#m-alice")
		b.submit("#save-members", "alice reads documents")
		b.wantFlash("1 user added.")
	})

	// [S5] a limited administrator sees what they may not do disabled;
	// the access explorer explains (R19).
	t.Run("S5_LimitedAdminAndAccessExplorer", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/new", "new helpdesk group")
		b.fill("#name", "Helpdesk")
		b.submit("#save", "Helpdesk created")
		b.click(byID("perm-groups.view"))
		b.click(byID("perm-users.view"))
		b.submit("#save", "Helpdesk privileges")
		b.wantFlash("saved")
		b.submit("#tab-members", "Helpdesk members")
		b.submit("#view-all", "Helpdesk members: all users")
		b.click("#m-carol")
		b.submit("#save-members", "carol in Helpdesk")
		b.wantFlash("1 user added.")

		carol := b.userID("carol")
		b.open("/admin/access?user="+carol+"&permission=groups.edit&resource=system", "access explorer deny")
		b.wantText("#verdict", "Denied", "carol", "groups.edit")
		b.open("/admin/access", "access explorer form")
		b.fill("#x-user", "carol")
		b.fill("#x-perm", "groups.view")
		b.choose("#x-res", "the system")
		b.submit("#ask", "access explorer allow")
		b.wantText("#verdict", "Allowed")
		b.wantText("#paths", "Helpdesk")
		b.wantText("#effective", "groups.view", "users.view")
		b.fill("#x-user", "alice")
		b.fill("#x-perm", "root.read")
		b.choose("#x-res", "folder Documents")
		b.submit("#ask", "access explorer rule path")
		b.wantText("#verdict", "Allowed")
		b.wantText("#paths", "GRT studies of ABC")

		b.signOut()
		b.wantFlash("signed out")
		b.signIn("carol", "carol-password-1")
		b.open("/admin/groups", "groups as limited admin")
		if !b.disabled("#create-group") {
			t.Error("Create new is enabled for a user without groups.edit")
		}
		if !b.disabled(`button[aria-label="Delete Radiologists of XYZ hosp (not allowed)"]`) {
			t.Error("delete is enabled for a user without groups.delete")
		}
		b.submit(`#groups a[href$="/general"]`, "group as limited admin")
		if !b.disabled("#save") || !b.disabled("#name") {
			t.Error("the general tab is editable without groups.edit")
		}
		b.wantText("#readonly", "groups.edit")
		b.open("/admin/users", "users as limited admin, masked")
		b.wantText("#pi-masked", "hidden")
		if strings.Contains(b.text("#users"), "Alice Archer") {
			t.Error("carol sees names without personal_info.view (R18)")
		}
		b.open("/admin/roles", "roles denied")
		b.signOut()
	})

	// R18 preference, password and API tokens.
	t.Run("Preferences", func(t *testing.T) {
		b.t = t
		b.signIn("admin", pw)
		b.click("#usermenu")
		b.submit(`a[href="/preferences"]`, "preferences")
		b.click("#show-pi")
		b.submit("#save-pi", "personal info hidden")
		b.wantFlash("hidden")
		b.open("/admin/users", "users with personal info hidden")
		b.wantText("#pi-masked", "turned it off")
		if strings.Contains(b.text("#users"), "alice@example.org") {
			t.Error("emails shown although the preference is off (R18)")
		}
		b.open("/preferences", "preferences again")
		b.click("#show-pi")
		b.submit("#save-pi", "personal info shown")
		b.fill("#tok-name", "nightly sync")
		b.submit("#create-token", "token created")
		b.wantFlash("nightly sync")
		if s := b.text("#token-secret"); !strings.HasPrefix(s, "gh_") {
			t.Errorf("token secret %q", s)
		}
		b.wantText("#tokens", "nightly sync")
		b.fill("#pw-current", pw)
		b.fill("#pw-new", "a-new-admin-pw-2")
		b.fill("#pw-repeat", "a-new-admin-pw-2")
		b.submit("#change-password", "password changed")
		b.wantFlash("Password changed.", "sign in with the new password")
		b.fill("#username", "admin")
		b.fill("#password", "a-new-admin-pw-2")
		b.submit("#signin", "signed in with the new password")
		b.open("/admin/audit", "audit log")
		b.wantText("#audit", "group.create", "member")
		b.fill("#a-action", "group.delete")
		b.submit("#filter", "audit filtered")
		b.wantText("#audit", "group.delete")
		b.open("/admin/roles", "roles")
		if !b.disabled(`button[aria-label="Delete role IT Administrator (not allowed)"]`) {
			t.Error("a predefined role offers an enabled delete")
		}
		b.submit("#new-system-role", "new custom role")
		b.fill("#role-name", "Auditor")
		b.click(byID("perm-audit.view"))
		b.click(byID("perm-users.edit"))
		if !b.checked(byID("perm-users.view")) {
			t.Error("users.edit did not check users.view in the role editor (R8)")
		}
		b.submit("#save-role", "custom role saved")
		b.wantFlash("Role “Auditor” saved.")
		b.wantText("#roles", "Auditor", "audit.view")
		b.submit(`button[aria-label="Delete role Auditor"]`, "custom role deleted")
		b.wantFlash("Role deleted.")

		b.open("/admin/users", "users before disabling")
		b.submit(`button[aria-label="Disable dave"]`, "disabling dave asks first")
		b.wantText("#dlg-desc", "refused")
		b.submit("#confirm-disable", "dave disabled")
		b.wantFlash("“dave” is now disabled.")
		b.submit(`button[aria-label="Enable dave"]`, "dave enabled")
		b.wantFlash("“dave” is now active.")
		b.open("/admin/projects", "projects page")
		b.open("/admin/folders", "folders page")
		b.open("/admin/nowhere", "not found page")
		b.wantText("h1", "Not Found")

		// A narrow screen: the same pages stay readable.
		b.viewport(420, 860)
		b.open("/admin/groups", "groups on a narrow screen")
		b.open("/admin/access", "access explorer on a narrow screen")
		b.viewport(1280, 900)
	})
}

// TestConsoleRefusesCrossSiteForms: every console form is protected
// against cross-site request forgery (net/http's CrossOriginProtection),
// the sign-in form too, and a refusal is a readable page, not a raw error.
// No browser is needed: the check reads the headers browsers send.
func TestConsoleRefusesCrossSiteForms(t *testing.T) {
	srv := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=console-admin-pw-1"})
	for _, path := range []string{"/login", "/logout", "/admin/groups", "/preferences/password"} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader("username=admin&password=console-admin-pw-1"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "sent from another site") {
			t.Errorf("cross-site POST %s: %d %q, want 403 with an explanation", path, resp.StatusCode, body)
		}
		if len(resp.Cookies()) > 0 {
			t.Errorf("cross-site POST %s set cookies %v", path, resp.Cookies())
		}
	}
	// Same-origin sign-in works and sets the session cookie.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader("username=admin&password=console-admin-pw-1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/groups" {
		t.Errorf("same-origin sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
