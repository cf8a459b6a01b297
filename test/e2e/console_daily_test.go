package e2e

import (
	"regexp"

	"github.com/chromedp/chromedp"
	"strings"
	"testing"
	"time"
)

// The console tried as the administrators of the five reference documents
// would, on the demo data: each defect found that way gets a step here,
// with its screenshots, and the project page is walked through as an
// administrator and as a project moderator.

const (
	demoTrialCT = "0000de00-0000-7000-8000-000000000105"
	demoGRTTeam = "0000de00-0000-7000-8000-000000000206"
	demoHF101   = "0000de00-0000-7000-8000-000000000414"
)

// startDemo starts the binary with --demo and waits for its logins.
func startDemo(t *testing.T) *server {
	t.Helper()
	s := start(t, t.TempDir(), nil, "--demo")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.Log(), "username=user password=demo-user") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// ruleNumber finds a rule number (R5, R22) in text a person reads.
var ruleNumber = regexp.MustCompile(`\bR\d{1,2}\b`)

// noInternalWords fails if the page's visible text holds a rule number or
// a raw id.
func (b *uiBrowser) noInternalWords() {
	b.t.Helper()
	text := b.text("main")
	if m := ruleNumber.FindString(text); m != "" {
		b.t.Errorf("%s shows the rule number %s", b.location(), m)
	}
	if m := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).FindString(text); m != "" {
		b.t.Errorf("%s shows the id %s", b.location(), m)
	}
}

// tabTo presses Tab until the element with the id has the focus, as a
// keyboard user would; it fails if the element cannot be reached.
func (b *uiBrowser) tabTo(id string) {
	b.t.Helper()
	for i := 0; i < 200; i++ {
		if b.js(`document.activeElement && document.activeElement.id === ` + jsQuote(id)) {
			return
		}
		b.do(chromedp.KeyEvent("\t"))
	}
	b.t.Fatalf("%s cannot be reached with Tab on %s", id, b.location())
}

// str evaluates a string expression in the page.
func (b *uiBrowser) str(expr string) string {
	b.t.Helper()
	return evaluate[string](b, expr)
}

func TestConsoleDailyWork(t *testing.T) {
	srv := startDemo(t)
	b := newUIBrowser(t, srv.URL)
	b.signIn("admin", "demo-admin")

	// Defect 1: a new project group can be given rights at once.
	t.Run("D1_ProjectGroupRights", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/new?project="+demoLungCT, "new project group")
		b.fill("#name", "Lung readers")
		b.submit("#save", "project group created")
		b.submit("#tab-projects", "projects tab of a new project group")
		if !b.exists(byID("no-rights-Lung CT screening")) {
			t.Fatal("the project group's own project is not offered")
		}
		b.click(byID("p-Lung CT screening-project.read"))
		b.submit("#save-rights", "project group rights saved")
		b.wantFlash("Project rights saved")
		if !b.checked(byID("p-Lung CT screening-project.read")) {
			t.Error("Read in Lung CT screening was not kept")
		}
		b.submit("#tab-members", "members tab of the project group")
		b.wantText("#present-info", "Lung CT screening")
		b.noInternalWords()
	})

	// Defect 2: project roles are shown and assigned.
	t.Run("D2_ProjectRoles", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/"+b.groupID("Investigators")+"/projects", "Investigators projects")
		if v, _ := b.value(byID("role-Clinical trial CT-2025")); v == "" {
			t.Fatal("the Contributor role of Investigators is not shown")
		}
		if !b.checked(byID("p-Clinical trial CT-2025-project.read")) || !b.js(`document.querySelectorAll("#projects-matrix input.viarole").length > 0`) {
			t.Error("the rights the role gives are not shown on the boxes")
		}
		b.choose(byID("role-Clinical trial CT-2025"), "Viewer")
		b.submit("#save-rights", "Investigators now Viewer")
		b.wantFlash("Project rights saved")
		b.wantText("#projects-matrix", "Viewer")
		if b.checked(byID("p-Clinical trial CT-2025-project.write")) {
			t.Error("Write is still shown after the role became Viewer")
		}
		b.choose(byID("role-Clinical trial CT-2025"), "Contributor")
		b.submit("#save-rights", "Investigators Contributor again")
		b.wantFlash("Project rights saved")
	})

	// Defects 3 and 7: a system group added with empty default rights
	// says so; deleting it says its members left.
	t.Run("D3_D7_SystemGroupAddedAndDeleted", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/new", "new system group")
		b.fill("#name", "Temporary reviewers")
		b.submit("#save", "system group created")
		b.submit("#tab-members", "members of the new group")
		b.submit("#view-all", "all users, to add")
		for _, u := range []string{"aiko.sato", "ben.sato"} {
			b.fill("#member-search", u)
			b.submit("#search", "search "+u)
			b.click(byID("m-" + u))
			b.submit("#save-members", u+" added")
			b.wantFlash("1 user added.")
		}
		b.fill("#member-search", "aiko.sato")
		b.submit("#search", "aiko again")
		b.submit("#save-members", "saved without a change")
		b.wantFlash("Nothing changed.")
		b.submit("#view-members", "the two members")
		b.wantText("#member-count", "2")
		b.submit("#tab-projects", "projects of the new group")
		b.click(byID("import-Breast MG"))
		b.submit("#import", "added to Breast MG")
		b.wantFlash("Breast MG", "without access")
		if strings.Contains(b.text("#flash"), "now have access") {
			t.Error("adding a group with empty rights says its members have access")
		}
		b.open("/admin/groups/"+b.groupID("Temporary reviewers")+"/delete", "delete dialog")
		b.wantText("#dlg-desc", "Breast MG", "2 members leave")
		b.click("#confirm")
		b.submit("#confirm-delete", "system group deleted")
		b.wantFlash("left Breast MG")
		if strings.Contains(b.text("#flash"), "stay") {
			t.Errorf("the flash says the members stay: %s", b.text("#flash"))
		}
	})

	// Defect 4: the permissions of the group's role are shown.
	t.Run("D4_PrivilegesFromRole", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/"+b.groupID("User managers")+"/privileges", "User managers privileges")
		if !b.js(`document.querySelectorAll(".fromrole").length > 1`) {
			t.Error("the role's permissions are not marked")
		}
		b.wantText(byID("fromrole-users.view"), "System Manager")
		b.noInternalWords()
	})

	// Defect 5: the Members tab lists members, with the role they hold
	// through the group, ended memberships marked, and true counts.
	t.Run("D5_Members", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/"+b.groupID("User managers")+"/members", "User managers members")
		b.wantText("#members", "System Manager")
		b.open("/admin/groups/"+b.groupID("Research assistants")+"/members", "Research assistants members")
		b.wantText("#expired-count", "ended")
		if !b.js(`document.querySelectorAll("#members tr.expired").length === 5`) {
			t.Error("the five ended memberships are not marked")
		}
		b.wantText("#members tr.expired", "ended")
		b.noInternalWords()
	})

	// Ticks on one page of the user list survive going to the next page
	// and sorting, and are saved together.
	t.Run("SelectionsSurvivePaging", func(t *testing.T) {
		b.t = t
		pick := `(() => { const b = [...document.querySelectorAll('#members input[type=checkbox][name="member"]')].find(b => !b.checked && !b.disabled); b.click(); return b.id.slice(2); })()`
		b.open("/admin/groups/"+b.groupID("Help desk")+"/members?view=all", "Help desk, all users, page 1")
		first := b.str(pick)
		b.submit("#page-next", "page 2")
		second := b.str(pick)
		b.wantText("#pending", "1 change on other pages")
		b.submit("#sort-username", "sorted again")
		b.submit("#save-members", "both saved")
		b.wantFlash("2 users added.")
		b.submit("#view-members", "Help desk members")
		b.wantText("#members", first, second)
	})

	// Bulk membership: a pasted list, previewed, then applied at once.
	t.Run("BulkMembership", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/"+b.groupID("Lung readers")+"/members", "Lung readers members")
		b.click("#bulk-open")
		b.fill("#bulk-list", "chiara.rossi\nnobody.here\nchiara.rossi\nelif.rossi,2099-01-31\nfarid.rossi,31/01/2099\n")
		b.submit("#bulk-preview", "bulk preview")
		b.wantText("#bulk-summary", "2 to add", "1 already members", "1 not found", "1 not understood")
		b.wantText("#bulk-lines", "no such user", "listed twice", "YYYY-MM-DD")
		b.submit("#bulk-apply", "bulk applied")
		b.wantFlash("2 users added from the list.")
		b.wantText("#members", "chiara.rossi", "elif.rossi", "2099-01-31")
	})

	// Defect 6: the create form comes first; disabling asks first and
	// keeps the search.
	t.Run("D6_Users", func(t *testing.T) {
		b.t = t
		b.open("/admin/users?q=sato", "users searched")
		if !b.js(`!!(document.querySelector("#new-user").compareDocumentPosition(document.querySelector("#users")) & Node.DOCUMENT_POSITION_FOLLOWING)`) {
			t.Error("the create-user form is not above the list")
		}
		b.submit(`button[aria-label="Disable aiko.sato"]`, "disable asks")
		b.wantText("#dlg-desc", "refused")
		b.submit("#confirm-disable", "aiko disabled")
		b.wantFlash("aiko.sato", "disabled")
		if !strings.Contains(b.location(), "q=sato") {
			t.Errorf("the search was lost: %s", b.location())
		}
		b.submit(`button[aria-label="Enable aiko.sato"]`, "aiko enabled")
		b.wantFlash("active")
	})

	// Defects 8 and 9: one folder type per rule, its properties only,
	// labels for operators and actions, the offending row marked.
	t.Run("D8_D9_RuleEditor", func(t *testing.T) {
		b.t = t
		b.open("/admin/groups/"+demoGRTTeam+"/rules/new", "new rule")
		if b.js(`document.querySelectorAll('select[name$=".type"]').length > 0`) {
			t.Error("the folder type is still chosen per row")
		}
		b.choose("#rule-type", "GRT Study")
		visible := b.js(`[...document.querySelectorAll("#c0-prop option")].filter(o => !o.hidden && o.value).map(o => o.value).join(",") === "indication,portfolio"`)
		if !visible {
			t.Error("the property list is not filtered by the type")
		}
		if !b.js(`[...document.querySelectorAll("#c0-op option")].some(o => o.text === "starts with")`) {
			t.Error("operators are not labelled")
		}
		b.wantText("#grants thead", "View blinded")
		b.fill("#rule-name", "Stale form")
		// A form drawn for another type still names therapeutic_area.
		b.js(`(() => { const s = document.querySelector("#c0-prop"); const o = new Option("therapeutic_area", "therapeutic_area", true, true); s.add(o); return true; })()`)
		b.fill("#c0-value", "x")
		b.click(byID("g-data-read"))
		b.submit("#save-rule", "refused with the row marked")
		b.wantText("#flash-error", "Criterion 1", "indication, portfolio")
		if strings.Contains(b.text("#flash-error"), "description") {
			t.Error("the refusal offers description")
		}
		if !b.exists("#c0-row.invalid") {
			t.Error("the offending row is not highlighted")
		}
		b.noInternalWords()
		b.open("/admin/groups/"+b.groupID("Administrators")+"/folders", "folder levels labelled")
		b.wantText("#folder-tree", "Delete folder")
	})

	// Defect 9: no rule numbers or ids on the pages people read.
	t.Run("D9_NoInternalWords", func(t *testing.T) {
		b.t = t
		for _, p := range []string{"/admin/groups", "/admin/users", "/admin/projects", "/admin/projects/" + demoTrialCT + "/groups",
			"/admin/groups/" + demoGRTTeam + "/rules", "/admin/audit",
			"/admin/access?username=user&permission=root.read&resource=folder:" + demoAdminOnly,
			"/admin/access?username=scientist&permission=data.read&resource=folder:" + demoGRT001} {
			b.open(p, "words "+p)
			b.noInternalWords()
		}
	})

	// Defect 10: 390 px wide pages do not scroll sideways, the navigation
	// is one line, there is a favicon, breadcrumbs end on the page.
	t.Run("D10_NarrowScreen", func(t *testing.T) {
		b.t = t
		b.viewport(390, 844)
		defer b.viewport(1280, 900)
		// Every page of every route (console_routes_test.go), then the
		// sign-in page, signed out.
		for _, p := range append(everyPage(), "/login") {
			if p == "/login" {
				b.signOut()
			}
			b.open(p, "390 "+p)
			if !b.js(`document.documentElement.scrollWidth <= window.innerWidth`) {
				t.Errorf("%s scrolls sideways at 390 px: %s", p, b.str(`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 391 && !e.closest(".tablewrap, header nav")).slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join("; ")`))
			}
			if !b.js(`!document.querySelector("header nav") || document.querySelector("header nav").getBoundingClientRect().height < 48`) {
				t.Errorf("%s: the navigation takes more than one line", p)
			}
			if b.exists(".crumbs") && strings.HasSuffix(strings.TrimSpace(b.text(".crumbs")), "›") {
				t.Errorf("%s: the breadcrumb ends in ›", p)
			}
		}
		b.signIn("admin", "demo-admin")
		if code, body := get(t, srv.URL+"/favicon.ico"); code != 200 || !strings.Contains(body, "<svg") {
			t.Errorf("favicon: %d", code)
		}
	})

	// The project page, as the administrator of 001 and 004 starts.
	t.Run("ProjectPage", func(t *testing.T) {
		b.t = t
		b.open("/admin/projects", "projects")
		b.submit(byID("project-Clinical trial CT-2025"), "the trial's groups")
		b.wantText("#projects-matrix", "Investigators", "Clinical monitors", "Data managers", "Sponsor auditors", "Contributor", "Viewer")
		b.submit("#tab-members", "the trial's members")
		b.wantText("#member-total", "members")
		b.submit("#tab-settings", "the trial's settings")
		if !b.checked("#mode-exclusive") {
			t.Error("the exclusive mode is not shown")
		}
		// Members through groups and with rights of their own.
		b.open("/admin/projects/"+demoLungCT+"/members?q=aiko.rossi", "Lung CT members, searched")
		b.wantText("#projects-matrix", "aiko.rossi", "Research assistants")
		b.fill("#new-username", "user")
		b.choose("#new-role", "Viewer")
		b.submit("#add-member-button", "user added to Lung CT")
		b.wantFlash("“user” is now a member")
		b.fill("#member-search", "user")
		b.submit("#search", "Lung CT members: user")
		if v, _ := b.value(byID("role-user")); v == "" {
			t.Error("the new member's Viewer role is not shown")
		}
		b.open("/admin/projects/"+demoLungCT+"/groups", "Lung CT groups")
		b.fill("#gq", "Help")
		b.submit("#group-search", "system groups searched")
		b.click(byID("import-Help desk"))
		b.submit("#import", "Help desk added to Lung CT")
		b.wantFlash("Help desk", "added")
		b.js(`(() => { const r = [...document.querySelectorAll("#projects-matrix tbody tr")].find(r => r.textContent.includes("Help desk")); r.querySelector('input[form="remove-form"]').checked = true; return true; })()`)
		b.submit("#remove-selected", "remove asks")
		b.wantText("#remove-groups", "Help desk")
		b.click("#confirm")
		b.submit("#confirm-remove", "Help desk removed")
		b.wantFlash("removed from")
	})

	// The user's page: groups with expiry, project roles, effective access.
	t.Run("UserPage", func(t *testing.T) {
		b.t = t
		b.open("/admin/users/"+b.userID("aiko.rossi"), "aiko.rossi's page")
		b.wantText("#user-groups", "Research assistants")
		b.wantText("#access-projects", "Lung CT screening", "Research assistants", "Viewer")
		b.fill("#add-group-name", "help desk")
		b.fill("#add-group-expires", "2099-06-30")
		b.submit("#add-group-button", "added to Help desk")
		b.wantFlash("Added to “Help desk”.")
		b.wantText("#user-groups", "Help desk", "until 2099-06-30")
		b.submit(`button[aria-label="Remove from Help desk"]`, "removed from Help desk")
		b.wantFlash("Removed")
		b.choose(byID("role-Liver MR"), "Editor")
		b.submit("#save-user-rights", "Editor in Liver MR")
		b.wantFlash("1 project changed")
		if !b.checked(byID("u-Liver MR-project.write")) {
			t.Error("the Editor role's rights are not shown in Liver MR")
		}
		b.wantText("#access-projects", "Liver MR")
		b.noInternalWords()
	})

	// A folder's page says which groups hold which level there, and
	// from where.
	t.Run("FolderPage", func(t *testing.T) {
		b.t = t
		b.open("/admin/folders/"+demoAdminOnly, "Administration folder")
		b.wantText("#folder-levels", "Normal Users", "None", "set here", "Administrators", "Delete folder", "inherited from Image library")
		b.noInternalWords()
		// The rules that grant here (R16): HF-101 (portfolio XYZ, under
		// the cardiovascular program) is matched by one rule itself and
		// inherits another from its parent; GRT-002 (portfolio DEF)
		// matches none.
		b.open("/admin/folders/"+demoHF101, "HF-101 rules")
		b.wantText("#folder-rules", "Portfolio XYZ documents", "External partner XYZ", "this folder", "Document: Read",
			"Cardiovascular documents", "Cardio writers", "a folder above: Heart failure program", "Document: Read, Edit")
		if first := b.str(`document.querySelector("#folder-rules tbody tr").textContent`); !strings.Contains(first, "this folder") {
			t.Errorf("the rule matched here is not listed first: %q", first)
		}
		b.noInternalWords()
		b.open("/admin/folders/"+demoGRT002, "GRT-002 no rules")
		b.wantText("#folder-rules", "No rule matches this folder")
	})

	// One story by keyboard alone: add a system group to a project.
	t.Run("KeyboardOnly", func(t *testing.T) {
		b.t = t
		b.open("/admin/projects/"+demoLungCT+"/groups", "keyboard: Lung CT groups")
		b.tabTo("gq")
		b.loads("keyboard: search", chromedp.KeyEvent("Help desk\r"))
		b.tabTo("import-Help desk")
		b.do(chromedp.KeyEvent(" "))
		b.tabTo("import")
		b.loads("keyboard: added", chromedp.KeyEvent("\r"))
		b.wantFlash("“Help desk” added.")
	})

	// Another story by keyboard alone, with the focus visible at every
	// stop: a user added to a group until a date, and removed again.
	t.Run("KeyboardAddToGroupWithExpiry", func(t *testing.T) {
		b.t = t
		keyboardAddToGroup(t, b, "radiologist")
	})

	// A project moderator lands on their projects and works there.
	t.Run("ModeratorLands", func(t *testing.T) {
		b.t = t
		b.signOut()
		b.signIn("moderator", "demo-moderator")
		if strings.Contains(b.text("main"), "Missing permission") {
			t.Fatalf("the moderator lands on a refusal: %s", b.text("main"))
		}
		b.submit(byID("project-Clinical trial CT-2025"), "moderator on the trial")
		if b.disabled("#save-rights") {
			t.Error("the moderator may not save the groups' rights")
		}
		b.choose(byID("role-Data managers"), "Contributor")
		b.submit("#save-rights", "moderator changed a role")
		b.wantFlash("Rights saved (1 group changed)")
		b.submit("#tab-members", "moderator sees the members")
		b.noInternalWords()
		b.signOut()
	})
}
