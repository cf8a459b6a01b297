package cli_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

func TestFolderTypesCommands(t *testing.T) {
	h := newHarness(t)
	h.login()
	// root is added to the contexts when not listed.
	row(t, h.ok("folder-types", "create", "GRT Study", "--contexts", "data,document", "--properties", "phase,status"),
		"GRT Study", "root,data,document", "phase,status")
	types := h.ok("folder-types", "list")
	row(t, types, domain.FolderTypeFolderID, "folder", "root")
	row(t, types, "GRT Study", "phase,status")
	var ft domain.FolderType
	h.jsonOf(&ft, "folder-types", "get", "grt study")
	if ft.Name != "GRT Study" || !ft.HasContext("root") || !ft.HasContext("data") || !ft.HasProperty("phase") {
		t.Errorf("folder-types get --json = %+v", ft)
	}
	var byID api.FolderType
	h.jsonOf(&byID, "folder-types", "get", ft.ID)
	if byID.ID != ft.ID {
		t.Errorf("folder-types get by id = %+v", byID)
	}
	h.fails(1, []string{`no folder type with the id or name "Study"`, "GRT Study"}, "folder-types", "get", "Study")
	// The server names the field at fault.
	h.fails(1, []string{"contexts[1]", "422"}, "folder-types", "create", "Bad", "--contexts", "Data")
	h.fails(1, []string{"409"}, "folder-types", "create", "grt study")
	h.fails(2, []string{"folder-types get needs TYPE"}, "folder-types", "get")

	// A type in use stays.
	h.ok("folders", "create", "Study 1", "--type", "GRT Study")
	h.fails(1, []string{"409"}, "folder-types", "delete", "GRT Study")
	h.ok("folders", "delete", "/Study 1")
	if out := h.ok("folder-types", "delete", "GRT Study"); !strings.Contains(out, "Folder type GRT Study ("+ft.ID+") deleted") {
		t.Errorf("folder-types delete = %q", out)
	}
	h.fails(1, []string{"no folder type"}, "folder-types", "get", "GRT Study")
}

// TestFoldersLevelsRules is the story of a tree: register folders by path,
// give a group a level, then a rule, and check through folder:/paths.
func TestFoldersLevelsRules(t *testing.T) {
	h := newHarness(t)
	h.login()
	h.ok("folder-types", "create", "GRT Study", "--contexts", "data", "--properties", "phase,status")
	h.ok("projects", "create", "Trial ABC")

	var lib api.Folder
	h.jsonOf(&lib, "folders", "create", "Image library")
	row(t, h.ok("folders", "create", "Public gallery", "--parent", "/Image library"), "/Image library/Public gallery", "folder")
	// Paths match names in any case; --type and --project take names.
	out := h.ok("folders", "create", "ABC-001", "--parent", "/image LIBRARY", "--type", "grt study", "--property", "phase=2", "--project", "Trial ABC")
	row(t, out, "/Image library/ABC-001", "GRT Study", "phase=2")

	row(t, h.ok("folders", "list"), lib.ID, "/Image library", "folder")
	children := h.ok("folders", "list", "--parent", "/Image library")
	row(t, children, "/Image library/Public gallery", "folder")
	row(t, children, "/Image library/ABC-001", "GRT Study", "phase=2")
	var page api.Page[api.Folder]
	h.jsonOf(&page, "folders", "list", "--parent", lib.ID)
	if len(page.Items) != 2 {
		t.Errorf("folders list --parent id --json = %+v", page)
	}

	var study api.Folder
	h.jsonOf(&study, "folders", "get", "/IMAGE LIBRARY/abc-001/")
	if study.Name != "ABC-001" || study.ParentID != lib.ID || study.Properties["phase"] != "2" || study.ProjectID == "" {
		t.Errorf("folders get by path = %+v", study)
	}
	row(t, h.ok("folders", "get", study.ID), study.ID, "/Image library/ABC-001")
	// A root folder's bare name works too, and a path without the leading slash.
	row(t, h.ok("folders", "get", "image library"), lib.ID, "/Image library")
	row(t, h.ok("folders", "get", "Image library/abc-001"), study.ID, "/Image library/ABC-001")

	// An unknown path names the segment not found and where it was looked for.
	h.fails(1, []string{`no folder "Private" in /Image library`}, "folders", "get", "/Image library/Private")
	h.fails(1, []string{`no folder "Nope" at the root`}, "folders", "get", "/Nope/ABC-001")
	h.fails(1, []string{`no folder with the id or root name "Nope"`}, "folders", "get", "Nope")
	h.fails(1, []string{`no folder "Nope" at the root`}, "folders", "create", "X", "--parent", "/Nope")
	h.fails(1, []string{"root of the tree"}, "folders", "get", "/")

	// Properties: set some, keep the others, remove one; the type must declare them.
	row(t, h.ok("folders", "set-property", "/Image library/ABC-001", "phase=3", "status=open"), "phase=3,status=open")
	row(t, h.ok("folders", "set-property", "/Image library/ABC-001", "--remove", "status"), "/Image library/ABC-001", "phase=3")
	h.fails(1, []string{"properties.color", "declares no property"}, "folders", "set-property", "/Image library/ABC-001", "color=red")
	h.fails(2, []string{`"phase"`, "KEY=VALUE"}, "folders", "set-property", "/Image library/ABC-001", "phase")
	h.fails(2, []string{"KEY=VALUE"}, "folders", "create", "Y", "--property", "=x")

	// Levels, inherited down the tree (R15).
	h.ok("users", "create", "erin")
	h.ok("groups", "create", "Viewers")
	h.ok("members", "add", "Viewers", "erin")
	const studyPath = "folder:/Image library/ABC-001"
	if out := h.ok("check", "erin", "root.read", studyPath); !strings.HasPrefix(out, "denied") {
		t.Errorf("check before any level = %q", out)
	}
	if out := h.ok("levels", "set", "/Image library", "Viewers", "view"); !strings.Contains(out, "Group Viewers has level view on /Image library") {
		t.Errorf("levels set = %q", out)
	}
	row(t, h.ok("levels", "list", "/Image library"), "Viewers", "view")
	var levels api.Page[api.FolderLevel]
	h.jsonOf(&levels, "levels", "list", lib.ID)
	if len(levels.Items) != 1 || levels.Items[0].Level != "view" {
		t.Errorf("levels list --json = %+v", levels)
	}
	if out := h.ok("check", "erin", "root.read", studyPath); !strings.HasPrefix(out, "allowed") {
		t.Errorf("check with an inherited level = %q", out)
	}
	x := h.ok("explain", "erin", "root.read", studyPath)
	row(t, x, "Viewers", lib.ID, "view")
	if want := "on " + studyPath + " (folder:" + study.ID + "): allowed"; !strings.Contains(x, want) {
		t.Errorf("explain does not say %q:\n%s", want, x)
	}
	h.fails(2, []string{"LEVEL", `unknown folder level "read"`, "create_folder"}, "levels", "set", "/Image library", "Viewers", "read")
	h.fails(1, []string{`no folder "Gallery" in /Image library`}, "levels", "list", "/Image library/Gallery")
	if out := h.ok("levels", "remove", "/Image library", "Viewers"); !strings.Contains(out, "Removed the level of group Viewers on /Image library") {
		t.Errorf("levels remove = %q", out)
	}
	h.jsonOf(&levels, "levels", "list", "/Image library")
	if len(levels.Items) != 0 {
		t.Errorf("levels after remove = %+v", levels)
	}
	if out := h.ok("check", "erin", "root.read", studyPath); !strings.HasPrefix(out, "denied") {
		t.Errorf("check after levels remove = %q", out)
	}
	// A folder:/path that does not exist is an error, not a question for the server.
	h.fails(1, []string{`no folder "ABC-002" in /Image library`}, "check", "erin", "root.read", "folder:/Image library/ABC-002")

	// Rules (R16): the type name holds a space, the value is a list.
	out = h.ok("rules", "create", "Viewers", "Phase 3", "--criterion", "GRT Study.phase in 3,4", "--grant", "data.read", "--grant", "root.read,data.view_blinded")
	row(t, out, "Phase 3", "GRT Study.phase in 3,4", "data: read,view_blinded; root: read")
	if out := h.ok("check", "erin", "data.read", studyPath); !strings.HasPrefix(out, "allowed") {
		t.Errorf("check through a rule = %q", out)
	}
	row(t, h.ok("explain", "erin", "data.read", studyPath), "Phase 3")
	h.ok("rules", "create", "Viewers", "Open", "--criterion", "grt study.status = open", "--criterion", "GRT Study.phase exists", "--grant", "root.read")
	rules := h.ok("rules", "list", "Viewers")
	row(t, rules, "Phase 3")
	row(t, rules, "Open", "GRT Study.status eq open AND GRT Study.phase exists", "root: read")
	// An empty value is written ""; a type name may hold dots.
	row(t, h.ok("rules", "create", "Viewers", "Has status", "--criterion", `GRT Study.status ne ""`, "--grant", "root.read"),
		"Has status", `GRT Study.status ne ""`)
	h.ok("folder-types", "create", "Scan v1.2", "--properties", "size.mb")
	row(t, h.ok("rules", "create", "Viewers", "Sized", "--criterion", "scan V1.2.size.mb exists", "--grant", "root.read"),
		"Sized", "Scan v1.2.size.mb exists")
	h.ok("rules", "delete", "Viewers", "Has status")
	h.ok("rules", "delete", "Viewers", "sized")
	var rpage api.Page[api.Rule]
	h.jsonOf(&rpage, "rules", "list", "Viewers")
	if len(rpage.Items) != 2 || rpage.Items[0].Criteria[0].FolderTypeID == "" {
		t.Errorf("rules list --json = %+v", rpage)
	}
	// Mistakes in the command line exit 2; unknown names and the server's refusals 1.
	h.fails(2, []string{"--criterion", "TYPE.PROPERTY OP VALUE"}, "rules", "create", "Viewers", "X", "--criterion", "GRT Study.phase 3", "--grant", "root.read")
	h.fails(2, []string{"--grant", `cannot grant "download"`}, "rules", "create", "Viewers", "X", "--criterion", "GRT Study.phase eq 3", "--grant", "data.download")
	h.fails(2, []string{"CONTEXT.ACTION"}, "rules", "create", "Viewers", "X", "--criterion", "GRT Study.phase eq 3", "--grant", "read")
	h.fails(2, []string{"at least one --grant"}, "rules", "create", "Viewers", "X", "--criterion", "GRT Study.phase eq 3")
	h.fails(2, []string{"exists operator takes no value"}, "rules", "create", "Viewers", "X", "--criterion", "GRT Study.phase exists 3", "--grant", "root.read")
	h.fails(1, []string{`no folder type with the id or name "Study"`}, "rules", "create", "Viewers", "X", "--criterion", "Study.phase eq 3", "--grant", "root.read")
	h.fails(1, []string{"criteria[0].property", "declares no property"}, "rules", "create", "Viewers", "X", "--criterion", "GRT Study.colour eq red", "--grant", "root.read")
	h.fails(1, []string{"criteria[0].property", "R10"}, "rules", "create", "Viewers", "X", "--criterion", "GRT Study.description eq red", "--grant", "root.read")
	h.fails(1, []string{"409"}, "rules", "create", "Viewers", "phase 3", "--criterion", "GRT Study.phase eq 3", "--grant", "root.read")

	if out := h.ok("rules", "delete", "Viewers", "phase 3"); !strings.Contains(out, "Rule Phase 3") || !strings.Contains(out, "deleted") {
		t.Errorf("rules delete = %q", out)
	}
	h.fails(1, []string{`group Viewers has no rule with the id or name "Phase 3"`}, "rules", "delete", "Viewers", "Phase 3")
	if out := h.ok("check", "erin", "data.read", studyPath); !strings.HasPrefix(out, "denied") {
		t.Errorf("check after rules delete = %q", out)
	}

	// Move: under another folder, then back to the root; a move below itself is refused.
	row(t, h.ok("folders", "move", "/Image library/Public gallery", "--parent", "/Image library/ABC-001"), "/Image library/ABC-001/Public gallery")
	row(t, h.ok("folders", "move", "/Image library/ABC-001/Public gallery", "--parent", "/"), "/Public gallery")
	h.fails(1, []string{"422"}, "folders", "move", "/Image library", "--parent", "/Image library/ABC-001")
	h.fails(2, []string{"--parent"}, "folders", "move", "/Public gallery")

	// Delete takes the subtree.
	if out := h.ok("folders", "delete", "/Image library"); !strings.Contains(out, "Folder /Image library ("+lib.ID+") deleted with its subtree") {
		t.Errorf("folders delete = %q", out)
	}
	h.fails(1, []string{`no folder "Image library" at the root`}, "folders", "get", "/Image library/ABC-001")
	h.jsonOf(&page, "folders", "list")
	if len(page.Items) != 1 || page.Items[0].Name != "Public gallery" {
		t.Errorf("folders after delete = %+v", page)
	}
}
