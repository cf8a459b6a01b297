package declarative

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FormatVersion is the version of the file format this package reads and
// writes (the file's `version` key).
const FormatVersion = 1

// Config is one configuration file: the whole configuration of a server.
// Lists are sorted by natural key when exported.
type Config struct {
	Version     int          `yaml:"version"`
	FolderTypes []FolderType `yaml:"folder_types,omitempty"`
	Roles       []Role       `yaml:"roles,omitempty"`
	Users       []User       `yaml:"users,omitempty"`
	Groups      []Group      `yaml:"groups,omitempty"`
	Projects    []Project    `yaml:"projects,omitempty"`
	Folders     []Folder     `yaml:"folders,omitempty"`
	Webhooks    []Webhook    `yaml:"webhooks,omitempty"`
}

// FolderType is a folder type with its security contexts and properties.
type FolderType struct {
	Name       string   `yaml:"name"`
	Contexts   []string `yaml:"contexts,flow"`
	Properties []string `yaml:"properties,omitempty,flow"`

	line    int
	builtin bool
}

// Role is a system or project role. Built-in roles appear only when their
// permissions differ from the defaults.
type Role struct {
	Name        string   `yaml:"name"`
	Scope       string   `yaml:"scope"`
	Description string   `yaml:"description,omitempty"`
	Permissions []string `yaml:"permissions,flow"`

	line    int
	builtin bool
}

// User is a user without secrets.
type User struct {
	Username         string `yaml:"username"`
	Email            string `yaml:"email,omitempty"`
	DisplayName      string `yaml:"display_name,omitempty"`
	Status           string `yaml:"status,omitempty"`      // omitted: active
	Source           string `yaml:"source,omitempty"`      // omitted: local
	ExternalID       string `yaml:"external_id,omitempty"` // the identity provider's id
	SystemRole       string `yaml:"system_role,omitempty"`
	ShowPersonalInfo *bool  `yaml:"show_personal_info,omitempty"` // omitted: true, the default (R18)

	line int
}

// Group is a system group (under groups) or a project group (under a
// project's groups). Members are direct memberships; Everyone's and
// Public's are implicit and never listed.
type Group struct {
	Name                 string   `yaml:"name"`
	Builtin              string   `yaml:"builtin,omitempty"` // administrators, everyone or public
	Description          string   `yaml:"description,omitempty"`
	SystemRole           string   `yaml:"system_role,omitempty"`
	SystemPermissions    []string `yaml:"system_permissions,omitempty,flow"`
	DefaultProjectRights *Rights  `yaml:"default_project_rights,omitempty"`
	Rights               *Rights  `yaml:"rights,omitempty"` // project groups: rights in their project
	Domains              []string `yaml:"domains,omitempty,flow"`
	Members              []Member `yaml:"members,omitempty"`
	// MemberGroups are the groups that are members of this one (nested
	// groups, docs/model.md §3).
	MemberGroups []GroupMember `yaml:"member_groups,omitempty"`
	Rules        []Rule        `yaml:"rules,omitempty"`

	line int
}

// Rights are rights on a project: a project role and/or permissions.
type Rights struct {
	Role        string   `yaml:"role,omitempty"`
	Permissions []string `yaml:"permissions,omitempty,flow"`

	line int
}

// Member is a membership: a username, and an optional expiry. Written as
// a plain username when it does not expire.
type Member struct {
	User    string     `yaml:"user"`
	Expires *time.Time `yaml:"expires,omitempty"`

	line int
}

// GroupMember is a group as a member of the group it is listed under
// (nested groups): a group of the same project, or a system group (under
// a system group always; under a project group when System is set), and
// an optional expiry.
type GroupMember struct {
	Group   string     `yaml:"group"`
	System  bool       `yaml:"system,omitempty"`
	Expires *time.Time `yaml:"expires,omitempty"`

	line int
}

// Rule is an attribute rule owned by a group.
type Rule struct {
	Name     string      `yaml:"name"`
	Criteria []Criterion `yaml:"criteria"`
	Grants   Grants      `yaml:"grants"`

	line int
}

// Grants is a rule's matrix: context → actions.
type Grants map[string][]string

// MarshalYAML writes each context's actions on one line.
func (g Grants) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, ctx := range sortedKeys(g) {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, a := range g[ctx] {
			seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: a})
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: ctx}, seq)
	}
	return n, nil
}

// Criterion is one condition of a rule.
type Criterion struct {
	FolderType string   `yaml:"folder_type"`
	Property   string   `yaml:"property"`
	Operator   string   `yaml:"operator"`
	Value      string   `yaml:"value,omitempty"`
	Values     []string `yaml:"values,omitempty,flow"`

	line int
}

// Project is a project with its own groups, the system groups imported
// into it and its users' individual rights.
type Project struct {
	Name           string       `yaml:"name"`
	Description    string       `yaml:"description,omitempty"`
	MembershipMode string       `yaml:"membership_mode"`
	Groups         []Group      `yaml:"groups,omitempty"`
	ImportedGroups []Import     `yaml:"imported_groups,omitempty"`
	UserRights     []UserRights `yaml:"user_rights,omitempty"`

	line int
}

// Import is a system group present in a project, with its rights there.
type Import struct {
	Group       string   `yaml:"group"`
	Role        string   `yaml:"role,omitempty"`
	Permissions []string `yaml:"permissions,omitempty,flow"`

	line int
}

// UserRights is a user's individual grant on a project (possibly empty:
// the user is then a member of the project without rights).
type UserRights struct {
	User        string   `yaml:"user"`
	Role        string   `yaml:"role,omitempty"`
	Permissions []string `yaml:"permissions,omitempty,flow"`

	line int
}

// Folder is a folder named by its path of names from a root
// ("Trials/ABC-001/Data"), with its group levels.
type Folder struct {
	Path       string            `yaml:"path"`
	Type       string            `yaml:"type"`
	Project    string            `yaml:"project,omitempty"`
	Properties map[string]string `yaml:"properties,omitempty"`
	Levels     []Level           `yaml:"levels,omitempty"`

	line int
}

// Level is a group's access level on a folder. Project names the project
// of a project group; empty for a system group.
type Level struct {
	Group   string `yaml:"group"`
	Project string `yaml:"project,omitempty"`
	Level   string `yaml:"level"`

	line int
}

// ---- strict decoding ----

// Each type decodes itself from its node so that it can reject unknown
// keys (yaml.v3's Node.Decode does not apply the decoder's KnownFields)
// and remember its line for later error messages.

func (x *Config) UnmarshalYAML(n *yaml.Node) error {
	type plain Config
	return strict(n, "the configuration", (*plain)(x), nil)
}

func (x *FolderType) UnmarshalYAML(n *yaml.Node) error {
	type plain FolderType
	return strict(n, "a folder type", (*plain)(x), &x.line)
}

func (x *Role) UnmarshalYAML(n *yaml.Node) error {
	type plain Role
	return strict(n, "a role", (*plain)(x), &x.line)
}

func (x *User) UnmarshalYAML(n *yaml.Node) error {
	type plain User
	return strict(n, "a user", (*plain)(x), &x.line)
}

func (x *Group) UnmarshalYAML(n *yaml.Node) error {
	type plain Group
	return strict(n, "a group", (*plain)(x), &x.line)
}

func (x *Rights) UnmarshalYAML(n *yaml.Node) error {
	type plain Rights
	return strict(n, "rights", (*plain)(x), &x.line)
}

// UnmarshalYAML reads a member written as a username or as a mapping.
func (x *Member) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		x.line = n.Line
		return n.Decode(&x.User)
	}
	type plain Member
	return strict(n, "a member", (*plain)(x), &x.line)
}

// MarshalYAML writes a member that does not expire as its username.
func (x Member) MarshalYAML() (any, error) {
	if x.Expires == nil {
		return x.User, nil
	}
	type plain Member
	return plain(x), nil
}

func (x *GroupMember) UnmarshalYAML(n *yaml.Node) error {
	type plain GroupMember
	return strict(n, "a member group", (*plain)(x), &x.line)
}

func (x *Rule) UnmarshalYAML(n *yaml.Node) error {
	type plain Rule
	return strict(n, "a rule", (*plain)(x), &x.line)
}

func (x *Criterion) UnmarshalYAML(n *yaml.Node) error {
	type plain Criterion
	return strict(n, "a criterion", (*plain)(x), &x.line)
}

func (x *Project) UnmarshalYAML(n *yaml.Node) error {
	type plain Project
	return strict(n, "a project", (*plain)(x), &x.line)
}

func (x *Import) UnmarshalYAML(n *yaml.Node) error {
	type plain Import
	return strict(n, "an imported group", (*plain)(x), &x.line)
}

func (x *UserRights) UnmarshalYAML(n *yaml.Node) error {
	type plain UserRights
	return strict(n, "user rights", (*plain)(x), &x.line)
}

func (x *Folder) UnmarshalYAML(n *yaml.Node) error {
	type plain Folder
	return strict(n, "a folder", (*plain)(x), &x.line)
}

func (x *Level) UnmarshalYAML(n *yaml.Node) error {
	type plain Level
	return strict(n, "a level", (*plain)(x), &x.line)
}

// lineError is a decoding problem at a line of the file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// strict checks that n is a mapping whose keys are all yaml fields of v
// (a pointer to a struct), each once, then decodes n into v and records
// n's line.
func strict(n *yaml.Node, what string, v any, line *int) error {
	if line != nil {
		*line = n.Line
	}
	if n.Kind != yaml.MappingNode {
		return &lineError{n.Line, fmt.Sprintf("%s must be a mapping of keys to values, not %s", what, nodeKind(n))}
	}
	known := yamlKeys(reflect.TypeOf(v).Elem())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return &lineError{k.Line, fmt.Sprintf("a key of %s must be a plain word", what)}
		}
		if !contains(known, k.Value) {
			return &lineError{k.Line, fmt.Sprintf("unknown key %q in %s; known keys: %s", k.Value, what, strings.Join(known, ", "))}
		}
		if seen[k.Value] {
			return &lineError{k.Line, fmt.Sprintf("key %q appears twice in %s", k.Value, what)}
		}
		seen[k.Value] = true
	}
	return n.Decode(v)
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "this"
}

// yamlKeys lists the yaml keys of a struct type's exported fields.
func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, name)
	}
	return out
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// ---- encoding ----

// Header is the comment at the top of an exported file.
const Header = "# Gatehouse configuration (gatehouse export). Apply with: gatehouse apply -f FILE\n" +
	"# Format: docs/configuration-as-code.md\n"

// Encode writes c as YAML with two-space indentation, after the header.
// It writes c's lists in their order: Normalize sorts them.
func Encode(c *Config) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(Header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	return b.Bytes(), nil
}
