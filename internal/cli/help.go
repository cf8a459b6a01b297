package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples are the Examples sections of the commands that do not set one
// where they are built (the apiSpec commands carry theirs). docs/cli.md
// shows the same commands with their output.
var examples = map[string][]string{
	"login":  {"login", "login --server https://gatehouse.example.org --username admin", "login --token \"$GATEHOUSE_TOKEN\""},
	"logout": {"logout"},
	"export": {"export -o gatehouse.yaml", "export > backup.yaml"},
	"apply":  {"apply -f gatehouse.yaml --dry-run", "apply -f gatehouse.yaml", "apply -f gatehouse.yaml --prune"},
	"check":  {"check alice audit.view system", "check alice project.read project:Radiology --json", "check me root.read folder:/TMF/ABC-001"},
	"explain": {"explain alice audit.view system", "explain alice users.edit system",
		"explain bob data.read folder:/TMF/ABC-001 --json"},

	"users list":     {"users list", "users list --search ali --sort email --desc --limit 20", "users list --json | jq -r '.items[].username'"},
	"users get":      {"users get alice", "users get alice --json | jq -r .id"},
	"users create":   {"users create alice --email alice@example.org --display-name \"Alice Liddell\" --password", "users create bob --role \"System Member\""},
	"users disable":  {"users disable alice"},
	"users enable":   {"users enable alice"},
	"users delete":   {"users delete alice"},
	"users set-role": {"users set-role alice \"System Member\"", "users set-role alice none"},

	"groups list":            {"groups list", "groups list --scope project --project Radiology"},
	"groups get":             {"groups get Auditors", "groups get Auditors --json"},
	"groups create":          {"groups create Auditors --permissions audit.view --description \"Read the audit log\"", "groups create Team --scope project --project Radiology"},
	"groups delete":          {"groups delete Team --members remove_users", "groups delete Auditors --yes"},
	"groups set-permissions": {"groups set-permissions Auditors audit.view users.view", "groups set-permissions Auditors --role \"System Member\""},

	"members list":          {"members list Auditors", "members list Auditors --search ali --sort email", "members list Radiologists --effective"},
	"members add":           {"members add Auditors alice bob --expires 2027-01-31", "members add Auditors alice --expires 30d"},
	"members remove":        {"members remove Auditors bob", "members remove Auditors alice bob"},
	"members groups":        {"members groups Radiologists"},
	"members parents":       {"members parents \"XYZ radiologists\""},
	"members add-groups":    {"members add-groups Radiologists \"XYZ radiologists\" \"ABC radiologists\"", "members add-groups Radiologists Locums --expires 30d"},
	"members remove-groups": {"members remove-groups Radiologists Locums"},

	"roles list":   {"roles list", "roles list --scope project"},
	"roles get":    {"roles get \"System Member\"", "roles get Viewer --json"},
	"roles create": {"roles create \"Report readers\" --scope project --permissions project.read"},
	"roles delete": {"roles delete \"Report readers\""},

	"projects list":     {"projects list", "projects list --search radio"},
	"projects create":   {"projects create Radiology --mode exclusive --description Imaging"},
	"projects set-mode": {"projects set-mode Radiology multiple"},
	"projects delete":   {"projects delete Radiology"},

	"tokens list":   {"tokens list", "tokens list --user okta-provisioning"},
	"tokens create": {"tokens create ci --permissions users.view --expires 90d", "tokens create okta-scim --user okta-provisioning --permissions scim.provision --expires 365d"},
	"tokens revoke": {"tokens revoke 01a20446-6821-799d-b65e-67fcb848097b"},

	"folder-types list":   {"folder-types list"},
	"folder-types create": {"folder-types create \"GRT Study\" --contexts analysis,data,document --properties phase,status"},
	"folder-types delete": {"folder-types delete \"GRT Study\""},

	"folders list":         {"folders list", "folders list --parent /TMF"},
	"folders get":          {"folders get /TMF/ABC-001", "folders get 01a204a4-7d31-7d94-b93b-73b0909359b5 --json"},
	"folders create":       {"folders create TMF", "folders create ABC-001 --parent /TMF --type \"GRT Study\" --property phase=2 --project \"Trial ABC\""},
	"folders move":         {"folders move /Images/CT --parent /TMF/ABC-001", "folders move /TMF/ABC-001/CT --parent /"},
	"folders set-property": {"folders set-property /TMF/ABC-001 status=open", "folders set-property /TMF/ABC-001 --remove status"},
	"folders delete":       {"folders delete /TMF/ABC-001/CT"},

	"levels list":   {"levels list /Images"},
	"levels set":    {"levels set /Images Radiologists delete", "levels set /Images Public view"},
	"levels remove": {"levels remove /Images Public"},

	"rules list":   {"rules list Radiologists"},
	"rules create": {"rules create Radiologists \"Phase 2 studies\" --criterion 'GRT Study.phase in 2,3' --grant data.read,data.view_blinded"},
	"rules delete": {"rules delete Radiologists \"Phase 2 studies\""},
}

// document fills in the help of the commands under root: the examples
// above, and a Long description from the Short one where there is none.
func document(cmds []*cobra.Command) {
	var walk func(c *cobra.Command, path string)
	walk = func(c *cobra.Command, path string) {
		if path == "" {
			path = c.Name()
		} else {
			path += " " + c.Name()
		}
		if ex, ok := examples[path]; ok && c.Example == "" {
			c.Example = "  gatehouse " + strings.Join(ex, "\n  gatehouse ")
		}
		if c.Long == "" {
			c.Long = c.Short + "."
		}
		for _, s := range c.Commands() {
			walk(s, path)
		}
	}
	for _, c := range cmds {
		walk(c, "")
	}
}
