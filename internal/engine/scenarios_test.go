package engine_test

// The five systems Gatehouse was built from (docs/model.md: [C], [S2],
// [S3], [Q], [S5]) as scenarios: each builds the setup its system describes, asserts its checks on the reference
// evaluator and on the engine, and asserts a few explanations (R19).

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/engine"
)

// scenario parses a matrixCase written in the YAML format of the matrices.
func scenario(t *testing.T, src string) matrixCase {
	t.Helper()
	var c matrixCase
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("scenario: %v", err)
	}
	return c
}

// explainOn runs Explain on every implementation of the scenario's model.
func explainOn(t *testing.T, c matrixCase, subject, permission, resource string, assert func(t *testing.T, name string, x engine.Explanation)) {
	t.Helper()
	snap := buildSnapshot(t, c.Model)
	res, err := engine.ParseResource(resource)
	if err != nil {
		t.Fatal(err)
	}
	now := parseTime(t, c.Now)
	for _, im := range implementations(t, snap) {
		x, err := im.q.Explain(subjectOf(subject), permission, res, now)
		if err != nil {
			t.Errorf("%s: Explain(%s, %s, %s): %v", im.name, subject, permission, resource, err)
			continue
		}
		assert(t, im.name, x)
	}
}

// TestScenarioCIRCUSGroups_C000_R8_R14_R18 follows [C] 000 (CIRCUS DB "Managing Groups"):
// global privileges, accessible domains, the five project settings, and
// the personal-information preference (R18, R8, R12, R14).
func TestScenarioCIRCUSGroups_C000_R8_R14_R18(t *testing.T) {
	c := scenario(t, `
name: "[C] CIRCUS groups"
model:
  users:
    - {id: admin}
    - {id: radA}                           # radiologist of XYZ hospital
    - {id: radB, show_personal_info: false} # hides personal info temporarily
    - {id: student}
  projects: [{id: lung, name: Lung CT}, {id: liver, name: Liver MRI}]
  groups:
    - {id: admin, name: admin, system_permissions: [server.manage]}
    - {id: xyz, name: radiologists of XYZ hosp, system_permissions: [personal_info.view, volume.download, project.create]}
    - {id: students, name: students}
  memberships:
    - {group: admin, user: admin}
    - {group: xyz, user: radA}
    - {group: xyz, user: radB}
    - {group: students, user: student}
  project_grants:
    # Readable / Writable / Add Series / View Personal Info Projects of "radiologists of XYZ hosp"
    - {project: lung, group: xyz, permissions: [project.read, project.write, project.add_series, project.view_personal_info]}
    - {project: liver, group: xyz, permissions: [project.read]}
    # Moderate Projects of students: all access to liver
    - {project: liver, group: students, permissions: [project.moderate]}
  domain_grants:
    - {group: xyz, domain: xyz-hospital}
    - {group: students, domain: teaching}
checks:
  - {subject: admin, permission: project.delete, resource: system, allowed: true}
  - {subject: admin, permission: personal_info.view, resource: system, allowed: true}
  - {subject: radA, permission: project.create, resource: system, allowed: true}
  - {subject: radA, permission: project.delete, resource: system, allowed: false}
  - {subject: radA, permission: volume.download, resource: system, allowed: true}
  - {subject: radA, permission: project.add_series, resource: "project:lung", allowed: true}
  - {subject: radA, permission: project.view_personal_info, resource: "project:lung", allowed: true}
  - {subject: radA, permission: project.write, resource: "project:liver", allowed: false}
  - {subject: radA, permission: domain.access, resource: "domain:xyz-hospital", allowed: true}
  - {subject: radA, permission: domain.access, resource: "domain:teaching", allowed: false}
  - {subject: student, permission: project.view_personal_info, resource: "project:liver", allowed: true}
  - {subject: student, permission: project.add_series, resource: "project:liver", allowed: true}
  - {subject: student, permission: project.read, resource: "project:lung", allowed: false}
  - {subject: student, permission: personal_info.view, resource: system, allowed: false}
  # R18: radB holds the privileges but hides personal information
  - {subject: radB, permission: personal_info.view, resource: system, allowed: false}
  - {subject: radB, permission: project.view_personal_info, resource: "project:lung", allowed: false}
  - {subject: radB, permission: project.write, resource: "project:lung", allowed: true}
  # Manage Server administers the server, not project data (docs/decisions.md)
  - {subject: admin, permission: project.read, resource: "project:lung", allowed: false}
lists:
  - {subject: radA, permission: project.read, kind: project, want: [liver, lung]}
  - {subject: student, permission: project.write, kind: project, want: [liver]}
  - {subject: radA, permission: domain.access, kind: domain, want: [xyz-hospital]}
`)
	runCase(t, c)
	// R18: the explanation says the preference is the only reason.
	explainOn(t, c, "radB", "personal_info.view", "system", func(t *testing.T, name string, x engine.Explanation) {
		if x.Allowed {
			t.Fatalf("%s: allowed", name)
		}
		if !strings.Contains(strings.ToLower(x.Reason+strings.Join(x.Considered, " ")), "personal") {
			t.Errorf("%s: R18 deny does not mention the personal-information preference: %s", name, describeExplanation(x))
		}
	})
}

// TestScenarioProjectUserGroups_S2_001_R14 follows [S2] 001: an exclusive project in
// which a group's rights replace a user's own, a system-level group
// imported into several projects (R14).
func TestScenarioProjectUserGroups_S2_001_R14(t *testing.T) {
	c := scenario(t, `
name: "[S2] project and system user groups"
model:
  users: [{id: ann}, {id: ben}, {id: cat}]
  projects:
    - {id: trial1, name: Trial 1, mode: exclusive}
    - {id: trial2, name: Trial 2, mode: exclusive}
  groups:
    - {id: monitors, name: Monitors, project: trial1}
    - {id: cro, name: CRO staff}          # system level, imported into both trials
  memberships:
    - {group: monitors, user: ann}
    - {group: cro, user: cat}
  project_grants:
    # individual rights set before ann joined a group
    - {project: trial1, user: ann, role: Moderator}
    - {project: trial1, user: ben, role: Editor}
    - {project: trial1, group: monitors, role: Viewer}
    - {project: trial1, group: cro, role: Contributor}
    - {project: trial2, group: cro, role: Viewer}
    - {project: trial2, user: cat, role: Moderator}
checks:
  # "Added users to a user group will lose all existing access rights within the project"
  - {subject: ann, permission: project.read, resource: "project:trial1", allowed: true}
  - {subject: ann, permission: project.write, resource: "project:trial1", allowed: false}
  - {subject: ann, permission: project.moderate, resource: "project:trial1", allowed: false}
  # ben is in no group of trial1: his own rights count
  - {subject: ben, permission: project.write, resource: "project:trial1", allowed: true}
  # cat is in the system group present in both: its rights apply in each, replacing hers
  - {subject: cat, permission: project.add_series, resource: "project:trial1", allowed: true}
  - {subject: cat, permission: project.read, resource: "project:trial2", allowed: true}
  - {subject: cat, permission: project.write, resource: "project:trial2", allowed: false}
  - {subject: ann, permission: project.read, resource: "project:trial2", allowed: false}
`)
	runCase(t, c)
	explainOn(t, c, "ann", "project.read", "project:trial1", func(t *testing.T, name string, x engine.Explanation) {
		if !x.Allowed || len(x.Paths) == 0 {
			t.Fatalf("%s: want an allow with paths: %s", name, describeExplanation(x))
		}
		for _, p := range x.Paths {
			if p.GroupID == "" {
				t.Errorf("%s: in an exclusive project the individual grant must not be a path (R14): %+v", name, p)
			}
		}
		if !hasPath(x, func(p engine.Path) bool { return p.GroupID == "monitors" }) {
			t.Errorf("%s: no path through group Monitors: %s", name, describeExplanation(x))
		}
	})
}

// TestScenarioDocumentRules_S3_002_R16 follows [S3] 002: group rules on folder types
// and properties, joined by AND (R16).
func TestScenarioDocumentRules_S3_002_R16(t *testing.T) {
	c := scenario(t, `
name: "[S3] document-system group rules"
model:
  users: [{id: writer}, {id: partner}, {id: nobody}]
  groups:
    - {id: cardio, name: Cardiovascular writers}
    - {id: ext, name: External partner ABC}
  memberships: [{group: cardio, user: writer}, {group: ext, user: partner}]
  folder_types:
    - {id: project, name: Project, contexts: [root, document], properties: [Therapeutic area, description]}
    - {id: grt, name: GRT Study, contexts: [root, data, document, analysis], properties: [Indication, Portfolio]}
  folders:
    - {id: cv, name: CV-001, type: project, properties: {Therapeutic area: Cardiovascular}}
    - {id: cv-docs, name: Documents, parent: cv, type: project, properties: {Therapeutic area: Cardiovascular}}
    - {id: onc, name: ONC-007, type: project, properties: {Therapeutic area: Oncology}}
    - {id: s1, name: GRT-ABC-1, type: grt, properties: {Indication: GRT, Portfolio: ABC}}
    - {id: s1-data, name: Data, parent: s1}
    - {id: s2, name: GRT-XYZ-2, type: grt, properties: {Indication: GRT, Portfolio: XYZ}}
  rules:
    - id: cvdocs
      name: Cardiovascular documents
      group: cardio
      criteria: [{type: project, property: Therapeutic area, op: eq, value: Cardiovascular}]
      grants: {document: [read, edit]}
    - id: abc
      name: ABC partner
      group: ext
      criteria:
        - {type: grt, property: Indication, op: eq, value: GRT}
        - {type: grt, property: Portfolio, op: eq, value: ABC}
      # "Check all" Read, plus create and blinded viewing on data
      grants: {root: [read], data: [read, create, view_blinded], document: [read], analysis: [read]}
checks:
  - {subject: writer, permission: document.read, resource: "folder:cv", allowed: true}
  - {subject: writer, permission: document.edit, resource: "folder:cv-docs", allowed: true}
  - {subject: writer, permission: document.delete, resource: "folder:cv", allowed: false}
  - {subject: writer, permission: root.read, resource: "folder:cv", allowed: false}
  - {subject: writer, permission: document.read, resource: "folder:onc", allowed: false}
  - {subject: partner, permission: data.view_blinded, resource: "folder:s1", allowed: true}
  - {subject: partner, permission: analysis.read, resource: "folder:s1", allowed: true}
  - {subject: partner, permission: root.read, resource: "folder:s1-data", allowed: true}
  - {subject: partner, permission: data.set_blinded, resource: "folder:s1", allowed: false}
  - {subject: partner, permission: data.read, resource: "folder:s2", allowed: false}
  - {subject: nobody, permission: document.read, resource: "folder:cv", allowed: false}
  # the type Project has no context data (R16)
  - {subject: writer, permission: data.read, resource: "folder:cv", error: invalid}
lists:
  - {subject: writer, permission: document.edit, kind: folder, want: [cv, cv-docs]}
  - {subject: partner, permission: root.read, kind: folder, want: [s1, s1-data]}
`)
	runCase(t, c)
	// A deny on a folder the rule does not match suggests a change.
	explainOn(t, c, "writer", "document.edit", "folder:onc", func(t *testing.T, name string, x engine.Explanation) {
		if x.Allowed {
			t.Fatalf("%s: allowed", name)
		}
		if len(x.Suggestions) == 0 {
			t.Errorf("%s: deny of document.edit on the Oncology folder suggests nothing (R19): %s", name, describeExplanation(x))
		}
	})
	// An allow by rule names the rule and the folder it matched.
	explainOn(t, c, "writer", "document.edit", "folder:cv-docs", func(t *testing.T, name string, x engine.Explanation) {
		if !hasPath(x, func(p engine.Path) bool {
			return p.Via == "rule" && p.RuleID == "cvdocs" && (p.MatchedID == "cv" || p.MatchedID == "cv-docs")
		}) {
			t.Errorf("%s: allow by rule does not name the rule and the folder it matched (R19): %s", name, describeExplanation(x))
		}
	})
	// The context error names the type's contexts.
	snap := buildSnapshot(t, c.Model)
	for _, im := range implementations(t, snap) {
		_, err := im.q.Check(subjectOf("writer"), "data.read", engine.Resource{Kind: engine.KindFolder, ID: "cv"}, time.Now())
		if err == nil || !strings.Contains(err.Error(), "document") || !strings.Contains(err.Error(), "root") {
			t.Errorf("%s: undeclared context error %v does not name the type's contexts (R16)", im.name, err)
		}
	}
}

// TestScenarioImageServer_Q003_R15_R17 follows [Q] 003: Administrators, Normal Users
// (Everyone) and Public; folder levels inherited down the tree and lowered
// by a child folder (R15); files.admin overriding them (R17).
func TestScenarioImageServer_Q003_R15_R17(t *testing.T) {
	c := scenario(t, `
name: "[Q] image server groups"
model:
  users: [{id: admin}, {id: editor}, {id: normal}, {id: curator}]
  groups:
    - {id: editors, name: Editors}
    - {id: curators, name: Curators, system_permissions: [files.admin]}
  memberships:
    - {group: Administrators, user: admin}
    - {group: editors, user: editor}
    - {group: curators, user: curator}
  folders:
    - {id: images, name: images}
    - {id: public, name: public, parent: images}
    - {id: press, name: press, parent: images}
    - {id: embargo, name: embargo, parent: press}
    - {id: y2026, name: "2026", parent: embargo}
  levels:
    - {folder: images, group: Normal Users, level: download}
    - {folder: images, group: editors, level: delete}
    - {folder: public, group: Public, level: view}
    # a child folder lowers inherited levels
    - {folder: embargo, group: Everyone, level: none}
    - {folder: embargo, group: editors, level: view}
checks:
  - {subject: normal, permission: root.download, resource: "folder:press", allowed: true}
  - {subject: normal, permission: root.edit, resource: "folder:press", allowed: false}
  - {subject: normal, permission: root.read, resource: "folder:embargo", allowed: false}
  - {subject: normal, permission: root.read, resource: "folder:y2026", allowed: false}
  - {subject: editor, permission: root.delete, resource: "folder:press", allowed: true}
  - {subject: editor, permission: root.read, resource: "folder:y2026", allowed: true}
  - {subject: editor, permission: root.edit, resource: "folder:y2026", allowed: false}
  - {subject: anonymous, permission: root.read, resource: "folder:public", allowed: true}
  - {subject: anonymous, permission: root.download, resource: "folder:public", allowed: false}
  - {subject: anonymous, permission: root.read, resource: "folder:press", allowed: false}
  # a user's level is never below Public's
  - {subject: editor, permission: root.read, resource: "folder:public", allowed: true}
  # Administrators and files.admin override the levels
  - {subject: admin, permission: root.delete_folder, resource: "folder:y2026", allowed: true}
  - {subject: curator, permission: root.delete_folder, resource: "folder:embargo", allowed: true}
  - {subject: curator, permission: users.view, resource: system, allowed: false}
  # Public provides no system permission
  - {subject: anonymous, permission: users.view, resource: system, allowed: false}
lists:
  - {subject: normal, permission: root.read, kind: folder, want: [images, public, press]}
  - {subject: editor, permission: root.read, kind: folder, under: press, want: [press, embargo, y2026]}
  - {subject: anonymous, permission: root.read, kind: folder, want: [public]}
`)
	runCase(t, c)
	// An allow via an inherited level names the folder it is inherited from.
	explainOn(t, c, "normal", "root.download", "folder:press", func(t *testing.T, name string, x engine.Explanation) {
		if !hasPath(x, func(p engine.Path) bool {
			return p.Via == "folder_level" && p.FolderID == "images" && p.GroupID == "00000000-0000-7000-8000-000000000002"
		}) {
			t.Errorf("%s: allow by inherited level does not name group Everyone and folder images (R15, R19): %s", name, describeExplanation(x))
		}
	})
	explainOn(t, c, "curator", "root.delete_folder", "folder:embargo", func(t *testing.T, name string, x engine.Explanation) {
		if !hasPath(x, func(p engine.Path) bool { return p.GroupID == "curators" }) {
			t.Errorf("%s: files.admin allow does not name group Curators (R17, R19): %s", name, describeExplanation(x))
		}
	})
	explainOn(t, c, "normal", "root.read", "folder:embargo", func(t *testing.T, name string, x engine.Explanation) {
		if x.Allowed || len(x.Suggestions) == 0 {
			t.Errorf("%s: a deny by a nearer none should suggest a change (R19): %s", name, describeExplanation(x))
		}
	})
}

// TestScenarioSystemGroupsUnion_S5_004_R13 follows [S5] 004: the union of a user's
// own system role and the role of their system group (R13).
func TestScenarioSystemGroupsUnion_S5_004_R13(t *testing.T) {
	c := scenario(t, `
name: "[S5] system groups with roles"
model:
  users:
    - {id: mia, system_role: System Member}
    - {id: noah, system_role: System Manager}
    - {id: ivy}
  roles:
    - {id: storage-admins, name: Storage admins, scope: system, permissions: [storage.edit, storage.delete]}
  groups:
    - {id: it, name: IT, system_role: IT Administrator}
    - {id: managers, name: Managers, system_role: System Manager}
    - {id: storage, name: Storage, system_role: storage-admins}
  memberships:
    - {group: managers, user: mia}
    - {group: storage, user: noah}
    - {group: it, user: ivy}
checks:
  # mia: System Member ∪ System Manager: the higher permission wins for each
  - {subject: mia, permission: users.edit, resource: system, allowed: true}
  - {subject: mia, permission: groups.members, resource: system, allowed: true}
  - {subject: mia, permission: roles.edit, resource: system, allowed: false}
  - {subject: mia, permission: storage.edit, resource: system, allowed: false}
  # noah: System Manager ∪ storage admins
  - {subject: noah, permission: storage.delete, resource: system, allowed: true}
  - {subject: noah, permission: users.delete, resource: system, allowed: true}
  - {subject: noah, permission: roles.assign_admin, resource: system, allowed: false}
  # ivy: only IT Administrator has Add/Edit and Delete for storage
  - {subject: ivy, permission: storage.delete, resource: system, allowed: true}
  - {subject: ivy, permission: roles.assign_admin, resource: system, allowed: true}
`)
	runCase(t, c)
	// The union is explained by both sources.
	explainOn(t, c, "mia", "users.view", "system", func(t *testing.T, name string, x engine.Explanation) {
		own := hasPath(x, func(p engine.Path) bool { return p.GroupID == "" })
		group := hasPath(x, func(p engine.Path) bool { return p.GroupID == "managers" })
		if !own || !group {
			t.Errorf("%s: users.view is granted by mia's own role and by group Managers; paths own=%v group=%v (R13, R19): %s", name, own, group, describeExplanation(x))
		}
	})
}

func hasPath(x engine.Explanation, f func(engine.Path) bool) bool {
	for _, p := range x.Paths {
		if f(p) {
			return true
		}
	}
	return false
}
