package declarative

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Action is what an operation does.
type Action int

// The actions. Keep is an object absent from the file that is not
// deleted because --prune was not given.
const (
	Create Action = iota
	Update
	Delete
	Keep
)

func (a Action) String() string {
	return [...]string{"create", "update", "delete", "keep"}[a]
}

// Object kinds, in the order their creations and updates run.
const (
	KindFolderType   = "folder type"
	KindRole         = "role"
	KindUser         = "user"
	KindProject      = "project"
	KindGroup        = "group"
	KindProjectGroup = "project group"
	KindImport       = "imported group"
	KindUserRights   = "user rights"
	KindMember       = "member"
	KindMemberGroup  = "member group"
	KindProjectMode  = "membership mode"
	KindFolder       = "folder"
	KindLevel        = "folder level"
	KindRule         = "rule"
)

// kindOrder is the order of creations and updates: what an object refers
// to exists before it (types before folders, roles before the groups that
// hold them, groups before their members). Deletions run in the reverse
// order. A project becomes exclusive only after its memberships changed,
// so that the switch is not refused for users about to leave a group.
var kindOrder = []string{KindFolderType, KindRole, KindUser, KindProject, KindGroup, KindProjectGroup,
	KindImport, KindUserRights, KindMember, KindMemberGroup, KindProjectMode, KindFolder, KindLevel, KindRule, KindWebhook}

// GroupRef names a group: a system group (Project "") or a project's group.
type GroupRef struct {
	Project string
	Name    string
}

func (g GroupRef) String() string {
	if g.Project == "" {
		return g.Name
	}
	return g.Project + "/" + g.Name
}

// Op is one operation of a plan. The object fields hold the desired object
// for creations and updates, the current one for deletions.
type Op struct {
	Action  Action
	Kind    string
	Name    string   // the object, by natural key: "alice", "Trial/Investigators"
	Changes []string // for updates: each changed field, "field: old → new"
	Fields  []string // for updates: the names of the changed fields

	FolderType *FolderType
	Role       *Role
	User       *User
	Project    *Project
	Group      *Group
	GroupRef   GroupRef // the group of a group, member or rule op
	Import     *Import
	UserRights *UserRights
	Member     *Member
	// MemberGroup is the group of a member group op (its GroupRef is the
	// containing group).
	MemberGroup *GroupMember
	Folder      *Folder
	Level       *Level
	Rule        *Rule
	Webhook     *Webhook
	ProjectOf   string // the project of an import or user rights op
}

// Has reports whether an update changes field.
func (o *Op) Has(field string) bool { return slices.Contains(o.Fields, field) }

// Plan is the ordered list of operations that makes a server match a file.
type Plan struct {
	Ops []Op
	// Conflicts are differences the API cannot make (a folder's type or
	// project, a folder type's removed context): apply refuses the plan.
	Conflicts []string
}

// Counts returns how many operations of each action the plan holds.
func (p *Plan) Counts() (create, update, del, keep int) {
	for _, o := range p.Ops {
		switch o.Action {
		case Create:
			create++
		case Update:
			update++
		case Delete:
			del++
		case Keep:
			keep++
		}
	}
	return
}

// Changes returns the operations that change something, in order.
func (p *Plan) Changes() []Op {
	var out []Op
	for _, o := range p.Ops {
		if o.Action != Keep {
			out = append(out, o)
		}
	}
	return out
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes()) == 0 && len(p.Conflicts) == 0 }

// Summary is the plan's one-line count.
func (p *Plan) Summary() string {
	c, u, d, k := p.Counts()
	if c+u+d == 0 {
		s := "No changes: the server matches the file."
		if k > 0 {
			s += fmt.Sprintf(" %d object(s) absent from the file kept (--prune deletes them).", k)
		}
		return s
	}
	s := fmt.Sprintf("Plan: %d to create, %d to update, %d to delete.", c, u, d)
	if k > 0 {
		s += fmt.Sprintf(" %d absent from the file kept (--prune deletes them).", k)
	}
	return s
}

// Write prints the plan grouped by kind of object, one line per
// operation, then the summary.
func (p *Plan) Write(w io.Writer) error {
	var b strings.Builder
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "! cannot apply: %s\n", c)
	}
	last := ""
	for _, o := range p.Ops {
		if o.Kind != last {
			fmt.Fprintf(&b, "%s:\n", plural(o.Kind))
			last = o.Kind
		}
		switch o.Action {
		case Create:
			fmt.Fprintf(&b, "  + create %s\n", o.Name)
		case Update:
			fmt.Fprintf(&b, "  ~ update %s (%s)\n", o.Name, strings.Join(o.Changes, "; "))
		case Delete:
			fmt.Fprintf(&b, "  - delete %s\n", o.Name)
		case Keep:
			fmt.Fprintf(&b, "  = keep   %s (absent from the file; would delete with --prune)\n", o.Name)
		}
	}
	b.WriteString(p.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Options shape a plan.
type Options struct {
	// Prune deletes objects absent from the file; without it they are
	// listed as kept.
	Prune bool
	// Self is the username apply runs as: never deleted, so that apply
	// cannot lock its caller out.
	Self string
}

// Diff computes the plan that turns cur (the server's configuration, as
// Load reads it, built-in objects included) into want (a parsed file).
// It is pure: the same inputs give the same plan.
func Diff(cur, want *Config, opts Options) *Plan {
	d := differ{opts: opts, byKind: map[string][]Op{}, delKind: map[string][]Op{},
		curBuiltin: builtinNames(cur), wantBuiltin: builtinNames(want)}
	d.folderTypes(cur.FolderTypes, want.FolderTypes)
	d.roles(cur.Roles, want.Roles)
	d.users(cur.Users, want.Users)
	// System groups before projects: a pruned system group's imports go
	// with it.
	d.groups("", cur.Groups, want.Groups, KindGroup)
	d.projects(cur.Projects, want.Projects)
	d.folders(cur.Folders, want.Folders)
	d.webhooks(cur.Webhooks, want.Webhooks)
	p := &Plan{Conflicts: d.conflicts}
	for _, k := range kindOrder {
		p.Ops = append(p.Ops, d.byKind[k]...)
	}
	for i := len(kindOrder) - 1; i >= 0; i-- {
		p.Ops = append(p.Ops, d.delKind[kindOrder[i]]...)
	}
	return p
}

type differ struct {
	opts      Options
	byKind    map[string][]Op // creations and updates
	delKind   map[string][]Op // deletions and keeps
	conflicts []string
	// Objects being deleted, whose dependents the server deletes with
	// them (so no separate deletion is planned for those).
	goneProjects map[string]bool
	goneGroups   map[string]bool
	goneUsers    map[string]bool
	// The names of the built-in groups on each side (key(name) → kind),
	// so that a reference to a renamed built-in group still matches.
	curBuiltin, wantBuiltin map[string]string
}

// builtinNames maps each built-in group's name in c (its default name
// when c does not list it) to its kind.
func builtinNames(c *Config) map[string]string {
	m := map[string]string{}
	listed := map[string]bool{}
	for _, g := range c.Groups {
		if g.Builtin != "" {
			m[key(g.Name)] = g.Builtin
			listed[g.Builtin] = true
		}
	}
	for _, b := range domain.BuiltinGroups() {
		if !listed[string(b.Builtin)] {
			if _, taken := m[key(b.Name)]; !taken {
				m[key(b.Name)] = string(b.Builtin)
			}
		}
	}
	return m
}

// sysGroupKey is the key of a reference to a system group by name.
func sysGroupKey(names map[string]string, name string) string {
	if kind, ok := names[key(name)]; ok {
		return "builtin:" + kind
	}
	return key(name)
}

func (d *differ) add(o Op) {
	if o.Action == Delete || o.Action == Keep {
		d.delKind[o.Kind] = append(d.delKind[o.Kind], o)
		return
	}
	d.byKind[o.Kind] = append(d.byKind[o.Kind], o)
}

// absent plans the deletion of an object absent from the file: a
// deletion with --prune, else a keep.
func (d *differ) absent(o Op) {
	o.Action = Keep
	if d.opts.Prune {
		o.Action = Delete
	}
	d.add(o)
}

// changes collects an update's changed fields.
type changes struct {
	lines  []string
	fields []string
}

func (c *changes) cmp(field string, old, new any) {
	if fmt.Sprint(old) == fmt.Sprint(new) {
		return
	}
	c.lines = append(c.lines, fmt.Sprintf("%s: %s → %s", field, show(old), show(new)))
	c.fields = append(c.fields, field)
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return "(none)"
		}
		return fmt.Sprintf("%q", v)
	case []string:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + strings.Join(v, ", ") + "]"
	case *time.Time:
		if v == nil {
			return "(never)"
		}
		return v.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

func (c *changes) op(o Op) (Op, bool) {
	o.Action, o.Changes, o.Fields = Update, c.lines, c.fields
	return o, len(c.lines) > 0
}

// pairUp matches current and desired objects by key: desired order for
// the pairs and creations, current order for the absent ones.
func pairUp[T any](cur, want []T, k func(*T) string) (pairs [][2]*T, absent []*T) {
	return pairUpBy(cur, want, k, k)
}

// pairUpBy is pairUp with a key function for each side.
func pairUpBy[T any](cur, want []T, kc, kw func(*T) string) (pairs [][2]*T, absent []*T) {
	idx := map[string]*T{}
	for i := range cur {
		idx[kc(&cur[i])] = &cur[i]
	}
	used := map[string]bool{}
	for i := range want {
		kk := kw(&want[i])
		used[kk] = true
		pairs = append(pairs, [2]*T{idx[kk], &want[i]})
	}
	for i := range cur {
		if !used[kc(&cur[i])] {
			absent = append(absent, &cur[i])
		}
	}
	return pairs, absent
}

func (d *differ) folderTypes(cur, want []FolderType) {
	pairs, absent := pairUp(cur, want, func(t *FolderType) string { return key(t.Name) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		if c == nil {
			d.add(Op{Action: Create, Kind: KindFolderType, Name: w.Name, FolderType: w})
			continue
		}
		for _, x := range c.Contexts {
			if !slices.Contains(w.Contexts, x) {
				d.conflicts = append(d.conflicts, fmt.Sprintf("folder type %q: context %q cannot be removed (rules may grant on it)", w.Name, x))
			}
		}
		for _, x := range c.Properties {
			if !w.hasProperty(x) {
				d.conflicts = append(d.conflicts, fmt.Sprintf("folder type %q: property %q cannot be removed (folders and rules may use it)", w.Name, x))
			}
		}
		var ch changes
		ch.cmp("name", c.Name, w.Name)
		ch.cmp("contexts", c.Contexts, w.Contexts)
		ch.cmp("properties", c.Properties, w.Properties)
		if o, ok := ch.op(Op{Kind: KindFolderType, Name: w.Name, FolderType: w}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		if !c.builtin {
			d.absent(Op{Kind: KindFolderType, Name: c.Name, FolderType: c})
		}
	}
}

func (d *differ) roles(cur, want []Role) {
	pairs, absent := pairUp(cur, want, func(r *Role) string { return r.Scope + "/" + key(r.Name) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		name := w.Scope + " role " + w.Name
		if c == nil {
			d.add(Op{Action: Create, Kind: KindRole, Name: name, Role: w})
			continue
		}
		var ch changes
		ch.cmp("name", c.Name, w.Name)
		ch.cmp("description", c.Description, w.Description)
		ch.cmp("permissions", c.Permissions, w.Permissions)
		if o, ok := ch.op(Op{Kind: KindRole, Name: name, Role: w}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		if !c.builtin {
			d.absent(Op{Kind: KindRole, Name: c.Scope + " role " + c.Name, Role: c})
		}
	}
}

func (d *differ) users(cur, want []User) {
	d.goneUsers = map[string]bool{}
	pairs, absent := pairUp(cur, want, func(u *User) string { return key(u.Username) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		if c == nil {
			d.add(Op{Action: Create, Kind: KindUser, Name: w.Username, User: w})
			continue
		}
		var ch changes
		ch.cmp("username", c.Username, w.Username)
		ch.cmp("email", c.Email, w.Email)
		ch.cmp("display_name", c.DisplayName, w.DisplayName)
		ch.cmp("status", or(c.Status, "active"), or(w.Status, "active"))
		ch.cmp("source", or(c.Source, "local"), or(w.Source, "local"))
		ch.cmp("external_id", c.ExternalID, w.ExternalID)
		ch.cmp("system_role", c.SystemRole, w.SystemRole)
		ch.cmp("show_personal_info", c.showPersonalInfo(), w.showPersonalInfo())
		if o, ok := ch.op(Op{Kind: KindUser, Name: w.Username, User: w}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		if key(c.Username) == key(d.opts.Self) {
			continue
		}
		d.absent(Op{Kind: KindUser, Name: c.Username, User: c})
		if d.opts.Prune {
			d.goneUsers[key(c.Username)] = true
		}
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (d *differ) projects(cur, want []Project) {
	d.goneProjects = map[string]bool{}
	pairs, absent := pairUp(cur, want, func(p *Project) string { return key(p.Name) })
	empty := Project{}
	for _, p := range pairs {
		c, w := p[0], p[1]
		if c == nil {
			d.add(Op{Action: Create, Kind: KindProject, Name: w.Name, Project: w})
			c = &empty
		} else {
			var ch changes
			ch.cmp("name", c.Name, w.Name)
			ch.cmp("description", c.Description, w.Description)
			if o, ok := ch.op(Op{Kind: KindProject, Name: w.Name, Project: w}); ok {
				d.add(o)
			}
			if c.MembershipMode != w.MembershipMode {
				var mc changes
				mc.cmp("membership_mode", c.MembershipMode, w.MembershipMode)
				o, _ := mc.op(Op{Kind: KindProjectMode, Name: w.Name, Project: w})
				if w.MembershipMode == string(domain.ModeMultiple) {
					// Leaving exclusive mode first lets the memberships
					// below overlap.
					o.Kind = KindProject
				}
				d.add(o)
			}
		}
		d.groups(w.Name, c.Groups, w.Groups, KindProjectGroup)
		d.imports(w.Name, c.ImportedGroups, w.ImportedGroups)
		d.userRights(w.Name, c.UserRights, w.UserRights)
	}
	for _, c := range absent {
		d.absent(Op{Kind: KindProject, Name: c.Name, Project: c})
		if !d.opts.Prune {
			// Kept: so are its groups, and its objects are not listed
			// one by one.
			continue
		}
		d.goneProjects[key(c.Name)] = true
	}
}

func (d *differ) imports(project string, cur, want []Import) {
	pairs, absent := pairUpBy(cur, want,
		func(i *Import) string { return sysGroupKey(d.curBuiltin, i.Group) },
		func(i *Import) string { return sysGroupKey(d.wantBuiltin, i.Group) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		name := project + " ← " + w.Group
		if c == nil {
			d.add(Op{Action: Create, Kind: KindImport, Name: name, Import: w, ProjectOf: project})
			continue
		}
		var ch changes
		ch.cmp("role", c.Role, w.Role)
		ch.cmp("permissions", c.Permissions, w.Permissions)
		if o, ok := ch.op(Op{Kind: KindImport, Name: name, Import: w, ProjectOf: project}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		if d.goneGroups[key(c.Group)] {
			continue
		}
		d.absent(Op{Kind: KindImport, Name: project + " ← " + c.Group, Import: c, ProjectOf: project})
	}
}

func (d *differ) userRights(project string, cur, want []UserRights) {
	pairs, absent := pairUp(cur, want, func(u *UserRights) string { return key(u.User) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		name := project + "/" + w.User
		if c == nil {
			d.add(Op{Action: Create, Kind: KindUserRights, Name: name, UserRights: w, ProjectOf: project})
			continue
		}
		var ch changes
		ch.cmp("role", c.Role, w.Role)
		ch.cmp("permissions", c.Permissions, w.Permissions)
		if o, ok := ch.op(Op{Kind: KindUserRights, Name: name, UserRights: w, ProjectOf: project}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		if d.goneUsers[key(c.User)] {
			continue
		}
		d.absent(Op{Kind: KindUserRights, Name: project + "/" + c.User, UserRights: c, ProjectOf: project})
	}
}

// groupKey matches system groups: built-in ones by kind, whatever their name.
func groupKey(g *Group) string {
	if g.Builtin != "" {
		return "builtin:" + g.Builtin
	}
	return key(g.Name)
}

func (d *differ) groups(project string, cur, want []Group, kind string) {
	if d.goneGroups == nil {
		d.goneGroups = map[string]bool{}
	}
	pairs, absent := pairUp(cur, want, groupKey)
	empty := Group{}
	for _, p := range pairs {
		c, w := p[0], p[1]
		ref := GroupRef{Project: project, Name: w.Name}
		if c == nil {
			d.add(Op{Action: Create, Kind: kind, Name: ref.String(), Group: w, GroupRef: ref})
			c = &empty
		} else {
			var ch changes
			ch.cmp("name", c.Name, w.Name)
			ch.cmp("description", c.Description, w.Description)
			ch.cmp("system_role", c.SystemRole, w.SystemRole)
			ch.cmp("system_permissions", c.SystemPermissions, w.SystemPermissions)
			ch.cmp("default_project_rights", rightsText(c.DefaultProjectRights), rightsText(w.DefaultProjectRights))
			ch.cmp("rights", rightsText(c.Rights), rightsText(w.Rights))
			ch.cmp("domains", c.Domains, w.Domains)
			if o, ok := ch.op(Op{Kind: kind, Name: ref.String(), Group: w, GroupRef: ref}); ok {
				d.add(o)
			}
		}
		d.members(ref, c.Members, w.Members)
		d.memberGroups(ref, c.MemberGroups, w.MemberGroups)
		d.rules(ref, c.Rules, w.Rules)
	}
	for _, c := range absent {
		if c.Builtin != "" || d.goneProjects[key(project)] {
			continue
		}
		ref := GroupRef{Project: project, Name: c.Name}
		d.absent(Op{Kind: kind, Name: ref.String(), Group: c, GroupRef: ref})
		if d.opts.Prune {
			d.goneGroups[key(ref.String())] = true
			continue
		}
		// A kept group keeps its members and rules: they are not listed.
	}
}

func rightsText(r *Rights) string {
	if r == nil {
		return ""
	}
	s := r.Role
	if len(r.Permissions) > 0 {
		if s != "" {
			s += " + "
		}
		s += strings.Join(r.Permissions, ", ")
	}
	return s
}

func (d *differ) members(g GroupRef, cur, want []Member) {
	pairs, absent := pairUp(cur, want, func(m *Member) string { return key(m.User) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		name := g.String() + " ∋ " + w.User
		if c == nil {
			d.add(Op{Action: Create, Kind: KindMember, Name: name, GroupRef: g, Member: w})
			continue
		}
		var ch changes
		ch.cmp("expires", c.Expires, w.Expires)
		if o, ok := ch.op(Op{Kind: KindMember, Name: name, GroupRef: g, Member: w}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		if d.goneUsers[key(c.User)] {
			continue
		}
		d.absent(Op{Kind: KindMember, Name: g.String() + " ∋ " + c.User, GroupRef: g, Member: c})
	}
}

func (d *differ) memberGroups(g GroupRef, cur, want []GroupMember) {
	pairs, absent := pairUp(cur, want, func(m *GroupMember) string { return memberGroupKey(*m) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		name := g.String() + " ∋ group " + w.Group
		if c == nil {
			d.add(Op{Action: Create, Kind: KindMemberGroup, Name: name, GroupRef: g, MemberGroup: w})
			continue
		}
		var ch changes
		ch.cmp("expires", c.Expires, w.Expires)
		if o, ok := ch.op(Op{Kind: KindMemberGroup, Name: name, GroupRef: g, MemberGroup: w}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		d.absent(Op{Kind: KindMemberGroup, Name: g.String() + " ∋ group " + c.Group, GroupRef: g, MemberGroup: c})
	}
}

func (d *differ) rules(g GroupRef, cur, want []Rule) {
	pairs, absent := pairUp(cur, want, func(r *Rule) string { return key(r.Name) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		name := g.String() + ": " + w.Name
		if c == nil {
			d.add(Op{Action: Create, Kind: KindRule, Name: name, GroupRef: g, Rule: w})
			continue
		}
		var ch changes
		ch.cmp("name", c.Name, w.Name)
		ch.cmp("criteria", criteriaText(c.Criteria), criteriaText(w.Criteria))
		ch.cmp("grants", grantsText(c.Grants), grantsText(w.Grants))
		if o, ok := ch.op(Op{Kind: KindRule, Name: name, GroupRef: g, Rule: w}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		d.absent(Op{Kind: KindRule, Name: g.String() + ": " + c.Name, GroupRef: g, Rule: c})
	}
}

func criteriaText(cs []Criterion) string {
	var parts []string
	for _, c := range cs {
		v := c.Value
		if len(c.Values) > 0 {
			v = "[" + strings.Join(c.Values, ", ") + "]"
		}
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s.%s %s %s", c.FolderType, c.Property, c.Operator, v)))
	}
	return strings.Join(parts, " AND ")
}

func grantsText(g map[string][]string) string {
	var parts []string
	for _, ctx := range sortedKeys(g) {
		parts = append(parts, ctx+": "+strings.Join(g[ctx], ","))
	}
	return strings.Join(parts, "; ")
}

func (d *differ) folders(cur, want []Folder) {
	pairs, absent := pairUp(cur, want, func(f *Folder) string { return key(f.Path) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		if c == nil {
			d.add(Op{Action: Create, Kind: KindFolder, Name: w.Path, Folder: w})
			for i := range w.Levels {
				d.add(Op{Action: Create, Kind: KindLevel, Name: w.Path + ": " + levelRef(&w.Levels[i]), Folder: w, Level: &w.Levels[i]})
			}
			continue
		}
		if key(c.Type) != key(w.Type) {
			d.conflicts = append(d.conflicts, fmt.Sprintf("folder %q: its type is %q on the server and %q in the file; a folder's type cannot be changed: delete the folder and create it again", w.Path, c.Type, w.Type))
		}
		if key(c.Project) != key(w.Project) {
			d.conflicts = append(d.conflicts, fmt.Sprintf("folder %q: its project is %q on the server and %q in the file; a folder's project cannot be changed: delete the folder and create it again", w.Path, c.Project, w.Project))
		}
		var ch changes
		ch.cmp("name", c.Path, w.Path)
		ch.cmp("properties", propsText(c.Properties), propsText(w.Properties))
		if o, ok := ch.op(Op{Kind: KindFolder, Name: w.Path, Folder: w}); ok {
			d.add(o)
		}
		d.levels(c, w)
	}
	// Deleting a folder deletes its subtree: plan only the topmost.
	var gone []string
	for _, c := range absent {
		under := false
		for _, g := range gone {
			if strings.HasPrefix(key(c.Path), g+"/") {
				under = true
			}
		}
		if under {
			continue
		}
		d.absent(Op{Kind: KindFolder, Name: c.Path, Folder: c})
		gone = append(gone, key(c.Path))
	}
}

func levelRef(l *Level) string {
	return GroupRef{Project: l.Project, Name: l.Group}.String()
}

func propsText(m map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (d *differ) levels(c, w *Folder) {
	lk := func(names map[string]string) func(*Level) string {
		return func(l *Level) string {
			if l.Project == "" {
				return "/" + sysGroupKey(names, l.Group)
			}
			return key(l.Project) + "/" + key(l.Group)
		}
	}
	pairs, absent := pairUpBy(c.Levels, w.Levels, lk(d.curBuiltin), lk(d.wantBuiltin))
	for _, p := range pairs {
		cl, wl := p[0], p[1]
		name := w.Path + ": " + levelRef(wl)
		if cl == nil {
			d.add(Op{Action: Create, Kind: KindLevel, Name: name, Folder: w, Level: wl})
			continue
		}
		var ch changes
		ch.cmp("level", cl.Level, wl.Level)
		if o, ok := ch.op(Op{Kind: KindLevel, Name: name, Folder: w, Level: wl}); ok {
			d.add(o)
		}
	}
	for _, cl := range absent {
		if d.goneGroups[key(levelRef(cl))] || d.goneProjects[key(cl.Project)] {
			continue
		}
		d.absent(Op{Kind: KindLevel, Name: w.Path + ": " + levelRef(cl), Folder: w, Level: cl})
	}
}

func (u *User) showPersonalInfo() bool { return u.ShowPersonalInfo == nil || *u.ShowPersonalInfo }

func plural(kind string) string {
	if strings.HasSuffix(kind, "rights") {
		return kind
	}
	return kind + "s"
}
