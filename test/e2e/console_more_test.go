package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleEditing clicks through the console's editing screens: a
// user's page (profile, individual system role, password reset, status,
// individual project rights, delete), a limited administrator refused by
// R22 with the service's reason, deleting a project with what goes with
// it, and the folder and folder type editors (rename, move with a cycle
// refused, properties, delete a subtree, add to a type but not remove).
func TestConsoleEditing(t *testing.T) {
	const pw = "console-admin-pw-1"
	srv := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=" + pw})
	b := newUIBrowser(t, srv.URL)
	b.signIn("admin", pw)

	t.Run("Setup", func(t *testing.T) {
		b.t = t
		for _, u := range []struct{ name, display, email, role string }{
			{"bob", "Bob Baker", "bob@example.org", "System Member"},
			{"dave", "Dave Dunn", "dave@example.org", "System Manager"},
			{"erin", "Erin Evans", "erin@example.org", "None"},
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
		for _, p := range []struct{ name, mode string }{{"Oncology", "multiple"}, {"Trials", "exclusive"}} {
			b.open("/admin/projects", "projects")
			b.fill("#p-name", p.name)
			b.choose("#p-mode", p.mode)
			b.submit("#create-project", "project "+p.name+" created")
			b.wantFlash("“" + p.name + "” created.")
		}
		b.open("/admin/groups/new", "new project group")
		b.fill("#name", "Trials team")
		b.click("#scope-project")
		b.choose("#project", "Trials")
		b.submit("#save", "project group created")
	})

	t.Run("UserPage", func(t *testing.T) {
		b.t = t
		b.open("/admin/users", "users with links")
		b.loads("bob's page", clickLink("#users a", "bob"))
		b.wantText("h1", "bob", "active")
		if v, _ := b.value("#e-name"); v != "Bob Baker" {
			t.Errorf("name field holds %q", v)
		}
		b.fill("#e-name", "Robert Baker")
		b.fill("#e-email", "robert@example.org")
		b.submit("#save-profile", "profile saved")
		b.wantFlash("User “bob” saved.")
		if v, _ := b.value("#e-email"); v != "robert@example.org" {
			t.Errorf("email field holds %q after saving", v)
		}

		b.choose("#e-role", "System Manager")
		b.submit("#save-role", "role saved")
		b.wantFlash("System role of “bob” saved.")

		b.fill("#e-new", "bob-new-password-2")
		b.fill("#e-repeat", "bob-other-password")
		b.submit("#reset-password", "passwords differ")
		b.wantText("#flash-error", "differ")
		b.fill("#e-new", "bob-new-password-2")
		b.fill("#e-repeat", "bob-new-password-2")
		b.submit("#reset-password", "password reset")
		b.wantFlash("Password reset.")

		// Individual project rights: Write brings Read along.
		b.click(byID("u-Oncology-project.write"))
		b.submit("#save-user-rights", "project rights saved")
		b.wantFlash("Project rights saved (1 project changed).")
		if !b.checked(byID("u-Oncology-project.read")) || !b.checked(byID("m-Oncology")) {
			t.Errorf("Write in Oncology did not bring Read and membership along")
		}

		b.submit("#toggle-status", "disabling bob asks first")
		b.wantText("#dlg-desc", "refused")
		b.submit("#confirm-disable", "bob disabled")
		b.wantFlash("“bob” is now disabled.")
		b.wantText("h1", "disabled")
		b.submit("#toggle-status", "bob enabled")
		b.wantFlash("“bob” is now active.")

		// One's own page: no deleting oneself.
		b.open("/admin/users", "users")
		b.loads("own page", clickLink("#users a", "admin"))
		if !b.disabled("#delete-user") {
			t.Errorf("the administrator may delete themselves")
		}
		b.wantText("#delete-why", "cannot delete yourself")
	})

	t.Run("LimitedAdministrator", func(t *testing.T) {
		b.t = t
		adminURL := b.location()
		b.signOut()
		b.signIn("dave", "dave-password-1")
		// The administrator holds more than dave: R22, read-only, with
		// the service's reason.
		b.open(strings.TrimPrefix(adminURL, srv.URL), "admin seen by dave")
		// The reason is worded for a person, without the rule's number.
		b.wantText("#readonly", "hold no more than you")
		if strings.Contains(b.text("#readonly"), "R22") {
			t.Error("the reason shows a rule number")
		}
		if !b.disabled("#save-role") || !b.disabled("#toggle-status") || !b.disabled("#delete-user") {
			t.Errorf("dave may act on the administrator")
		}
		// bob now holds rights in Oncology that dave does not: R22 again.
		b.open("/admin/users", "users seen by dave")
		b.loads("bob seen by dave", clickLink("#users a", "bob"))
		b.wantText("#readonly", "project.write", "hold no more than you")
		// Names and emails are masked: dave may not view personal
		// information (R18).
		b.wantText("#pi-masked", "hidden")
		if v, _ := b.value("#e-email"); v == "robert@example.org" {
			t.Errorf("dave sees bob's email")
		}
		// On erin (who holds less than dave) the role form is open, and
		// an administrator role is refused by the service, with why.
		b.open("/admin/users", "users seen by dave")
		b.loads("erin seen by dave", clickLink("#users a", "erin"))
		if b.exists("#readonly") {
			t.Errorf("dave may not edit erin: %s", b.text("#readonly"))
		}
		b.choose("#e-role", "System Administrator")
		b.submit("#save-role", "administrator role refused")
		b.wantText("#flash-error", "roles.assign_admin")
		b.signOut()
		b.signIn("admin", pw)
	})

	t.Run("DeleteUser", func(t *testing.T) {
		b.t = t
		b.open("/admin/users", "users")
		b.loads("bob's page", clickLink("#users a", "bob"))
		b.submit("#delete-user", "delete bob dialog")
		b.wantText("#dlg-desc", "group memberships", "Oncology")
		b.click("#confirm")
		b.submit("#confirm-delete", "bob deleted")
		b.wantFlash("User “bob” deleted.")
		if strings.Contains(b.text("#users"), "bob") {
			t.Errorf("bob is still listed")
		}
	})

	t.Run("DeleteProject", func(t *testing.T) {
		b.t = t
		b.open("/admin/projects", "projects")
		b.submit(byID("delete-Trials"), "delete Trials dialog")
		b.wantText("#consequences", "Trials team", "no system groups")
		b.click("#confirm")
		b.submit("#confirm-delete", "Trials deleted")
		b.wantFlash("Project “Trials” deleted")
		if strings.Contains(b.text("#projects"), "Trials") {
			t.Errorf("Trials is still listed")
		}
		b.open("/admin/groups", "groups after deleting Trials")
		if strings.Contains(b.text("#groups"), "Trials team") {
			t.Errorf("the project group outlived its project")
		}
	})

	t.Run("Folders", func(t *testing.T) {
		b.t = t
		b.open("/admin/folders", "folders")
		b.fill("#t-name", "Study")
		b.fill("#t-contexts", "data")
		b.fill("#t-props", "Indication")
		b.submit("#create-type", "type created")
		for _, f := range []struct{ name, parent, typ string }{
			{"Studies", "(top level)", "folder"}, {"Study 1", "Studies", "Study"}, {"Arm A", "Study 1", "folder"}, {"Archive", "(top level)", "folder"},
		} {
			b.open("/admin/folders", "folders")
			b.fill("#f-name", f.name)
			b.choose("#f-parent", f.parent)
			b.choose("#f-type", f.typ)
			b.submit("#create-folder", "folder "+f.name+" created")
			b.wantFlash("“" + f.name + "” created.")
		}

		// Rename and set a property declared by the type.
		b.loads("Study 1 editor", clickLink("#folders a", "Study 1"))
		b.fill("#fe-name", "Study 001")
		b.fill(byID("fe-prop-Indication"), "Oncology")
		b.submit("#save-folder", "Study 1 renamed")
		b.wantFlash("Folder “Study 001” saved.")
		b.open("/admin/folders", "folders after rename")
		b.wantText("#folders", "Study 001", "Indication = Oncology")

		// A move below its own descendant is refused, with the reason.
		b.loads("Studies editor", clickLink("#folders a", "Studies"))
		b.choose("#fe-parent", "Arm A")
		b.submit("#save-folder", "cycle refused")
		b.wantText("#flash-error", "below itself")
		// A real move.
		b.choose("#fe-parent", "Archive")
		b.submit("#save-folder", "Studies moved")
		b.wantFlash("Folder “Studies” saved.")

		// Deleting a subtree lists what goes.
		b.open("/admin/folders", "folders after move")
		b.loads("Study 001 editor", clickLink("#folders a", "Study 001"))
		b.submit("#delete-folder", "delete Study 001 dialog")
		b.wantText("#subtree", "Study 001", "Arm A")
		b.click("#confirm")
		b.submit("#confirm-delete", "subtree deleted")
		b.wantFlash("deleted with its subtree")
		if got := b.text("#folders"); strings.Contains(got, "Arm A") || !strings.Contains(got, "Studies") {
			t.Errorf("after deleting the subtree the tree is %q", got)
		}

		// A folder type: adding works, removing is refused with why.
		b.loads("Study type editor", clickLink("#folder-types a", "Study"))
		b.fill("#te-contexts", "")
		b.submit("#save-type", "context removal refused")
		b.wantText("#flash-error", "cannot be removed")
		b.fill("#te-name", "Clinical study")
		b.fill("#te-contexts", "data, analysis")
		b.fill("#te-props", "Indication, Phase")
		b.submit("#save-type", "type extended")
		b.wantFlash("Folder type “Clinical study” saved.")
		b.open("/admin/folders", "folders with the extended type")
		b.wantText("#folder-types", "Clinical study", "analysis", "Phase")
	})
}

// clickLink clicks the link under sel whose text is text.
func clickLink(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => {
		const a = [...document.querySelectorAll(` + jsQuote(sel) + `)].find(a => a.textContent.trim() === ` + jsQuote(text) + `);
		if (!a) throw new Error("no link " + ` + jsQuote(text) + `);
		a.click();
	})()`)
}
