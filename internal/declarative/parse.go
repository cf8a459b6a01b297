package declarative

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// MaxFileBytes bounds the size of a configuration file.
const MaxFileBytes = 64 << 20

// Problem is one thing wrong with a file: where and what.
type Problem struct {
	File    string
	Line    int    // 0 when unknown
	Field   string // path of the field, e.g. groups[2].members[0]
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	if p.Field != "" {
		b.WriteString(": " + p.Field)
	}
	b.WriteString(": " + p.Message)
	return b.String()
}

// Problems is every problem found in a file, in file order; it is the
// cause of the KindInvalid *domain.Error that Parse returns.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// ProblemsOf returns the problems carried by an error from Parse.
func ProblemsOf(err error) Problems {
	var ps Problems
	errors.As(err, &ps)
	return ps
}

// maxProblems bounds how many problems one parse reports: beyond it, the
// file is wrong in a way one list will not help with.
const maxProblems = 50

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse reads and validates a configuration file. file names it in error
// messages; now is the instant expiries must lie after. The result is
// normalized (see Normalize). Any problem makes the whole file invalid:
// the error is a KindInvalid *domain.Error whose cause is Problems.
func Parse(file string, data []byte, now time.Time) (*Config, error) {
	if len(data) > MaxFileBytes {
		return nil, invalid(Problems{{File: file, Message: fmt.Sprintf("the file is larger than %d MiB", MaxFileBytes>>20)}})
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid(Problems{{File: file, Message: "the file is empty; it needs at least `version: 1`"}})
		}
		return nil, invalid(yamlProblems(file, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, invalid(Problems{{File: file, Line: extra.Line, Message: "the file holds more than one YAML document; put the whole configuration in one"}})
	}
	v := validator{file: file, now: now}
	v.config(&c)
	if len(v.ps) > 0 {
		return nil, invalid(v.ps)
	}
	Normalize(&c)
	return &c, nil
}

func invalid(ps Problems) error { return domain.E(domain.KindInvalid, ps) }

// yamlProblems turns a decoding error (syntax, type or one of ours) into
// problems with lines.
func yamlProblems(file string, err error) Problems {
	var msgs []string
	var te *yaml.TypeError
	var le *lineError
	switch {
	case errors.As(err, &le):
		return Problems{{File: file, Line: le.line, Message: le.msg}}
	case errors.As(err, &te):
		msgs = te.Errors
	default:
		msgs = []string{err.Error()}
	}
	var ps Problems
	for _, m := range msgs {
		p := Problem{File: file, Message: m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Message = sm[2]
		}
		p.Message = strings.TrimPrefix(p.Message, "yaml: ")
		ps = append(ps, p)
	}
	return ps
}

// ---- validation ----

type validator struct {
	file string
	now  time.Time
	ps   Problems

	types        map[string]*FolderType
	sysRoles     map[string]bool
	projRoles    map[string]bool
	users        map[string]bool
	sysGroups    map[string]*Group
	projects     map[string]*Project
	projGroups   map[string]map[string]bool // project key → group keys
	folders      map[string]bool
	builtinNames map[string]string // builtin kind → name in this file
}

func (v *validator) add(line int, field, format string, args ...any) {
	if len(v.ps) < maxProblems {
		v.ps = append(v.ps, Problem{File: v.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

// fields adds a domain validation error's field problems under prefix.
func (v *validator) fields(line int, prefix string, err error) {
	if err == nil {
		return
	}
	fs := domain.FieldsOf(err)
	if len(fs) == 0 {
		v.add(line, prefix, "%v", err)
	}
	for _, f := range fs {
		v.add(line, prefix+"."+f.Field, "%s", f.Message)
	}
}

func key(s string) string { return domain.NameKey(s) }

func at(list string, i int) string { return list + "[" + strconv.Itoa(i) + "]" }

func (v *validator) config(c *Config) {
	switch c.Version {
	case FormatVersion:
	case 0:
		v.add(0, "version", "is required: write `version: %d` at the top", FormatVersion)
	default:
		v.add(0, "version", "this gatehouse reads version %d files, not version %d", FormatVersion, c.Version)
	}
	v.folderTypes(c.FolderTypes)
	v.roles(c.Roles)
	v.usersList(c.Users)
	// Names first, so that references may point forward in the file.
	v.sysGroups = map[string]*Group{}
	v.builtinNames = map[string]string{}
	for i := range c.Groups {
		g := &c.Groups[i]
		f := at("groups", i)
		if g.Builtin != "" {
			switch domain.Builtin(g.Builtin) {
			case domain.BuiltinAdministrators, domain.BuiltinEveryone, domain.BuiltinPublic:
				if _, dup := v.builtinNames[g.Builtin]; dup {
					v.add(g.line, f+".builtin", "the built-in group %q is listed twice", g.Builtin)
				}
				v.builtinNames[g.Builtin] = g.Name
			default:
				v.add(g.line, f+".builtin", "unknown built-in group %q; built-in groups are administrators, everyone and public", g.Builtin)
			}
		}
		if k := key(g.Name); k != "" {
			if _, dup := v.sysGroups[k]; dup {
				v.add(g.line, f+".name", "the system group %q is listed twice", g.Name)
			}
			v.sysGroups[k] = g
		}
	}
	for _, b := range domain.BuiltinGroups() {
		if _, ok := v.builtinNames[string(b.Builtin)]; !ok {
			k := key(b.Name)
			if g, ok := v.sysGroups[k]; ok {
				// Listed by its default name without builtin: it is the
				// built-in group all the same.
				g.Builtin = string(b.Builtin)
				v.builtinNames[string(b.Builtin)] = g.Name
				continue
			}
			v.sysGroups[k] = &Group{Name: b.Name, Builtin: string(b.Builtin)}
			v.builtinNames[string(b.Builtin)] = b.Name
		}
	}
	v.projects = map[string]*Project{}
	v.projGroups = map[string]map[string]bool{}
	for i := range c.Projects {
		p := &c.Projects[i]
		k := key(p.Name)
		if k == "" {
			continue
		}
		if _, dup := v.projects[k]; dup {
			v.add(p.line, at("projects", i)+".name", "the project %q is listed twice", p.Name)
		}
		v.projects[k] = p
		gs := map[string]bool{}
		for _, g := range p.Groups {
			gs[key(g.Name)] = true
		}
		v.projGroups[k] = gs
	}
	for i := range c.Groups {
		v.group(&c.Groups[i], at("groups", i), "")
	}
	for i := range c.Projects {
		v.project(&c.Projects[i], at("projects", i))
	}
	v.foldersList(c.Folders)
	v.webhooks(c.Webhooks)
}

func (v *validator) name(line int, field, what, s string, max int) {
	switch {
	case strings.TrimSpace(s) == "":
		v.add(line, field, "%s is required", what)
	case strings.TrimSpace(s) != s:
		v.add(line, field, "%s %q has spaces around it", what, s)
	case len(s) > max:
		v.add(line, field, "%s is longer than %d characters", what, max)
	}
}

func (v *validator) folderTypes(ts []FolderType) {
	v.types = map[string]*FolderType{}
	b := domain.BuiltinFolderType()
	v.types[key(b.Name)] = &FolderType{Name: b.Name, Contexts: b.Contexts, builtin: true}
	for i := range ts {
		t := &ts[i]
		f := at("folder_types", i)
		v.name(t.line, f+".name", "name", t.Name, domain.MaxNameLen)
		dt := domain.FolderType{Name: t.Name, Contexts: slices.Clone(t.Contexts), Properties: slices.Clone(t.Properties)}
		v.fields(t.line, f, dt.Validate())
		k := key(t.Name)
		if old, dup := v.types[k]; dup && !old.builtin {
			v.add(t.line, f+".name", "the folder type %q is listed twice", t.Name)
		}
		v.types[k] = t
	}
}

func (v *validator) roles(rs []Role) {
	v.sysRoles, v.projRoles = map[string]bool{}, map[string]bool{}
	for _, r := range domain.BuiltinRoles() {
		v.roleSet(string(r.Scope))[key(r.Name)] = true
	}
	seen := map[string]bool{}
	for i := range rs {
		r := &rs[i]
		f := at("roles", i)
		v.name(r.line, f+".name", "name", r.Name, domain.MaxNameLen)
		if r.Scope != string(domain.ScopeSystem) && r.Scope != string(domain.ScopeProject) {
			v.add(r.line, f+".scope", "must be system or project, not %q", r.Scope)
			continue
		}
		dr := domain.Role{Name: r.Name, Scope: domain.Scope(r.Scope), Description: r.Description, Permissions: r.Permissions}
		if err := dr.Validate(); err != nil {
			for _, fe := range domain.FieldsOf(err) {
				if fe.Field != "name" {
					v.add(r.line, f+"."+fe.Field, "%s", fe.Message)
				}
			}
		}
		k := r.Scope + "/" + key(r.Name)
		if seen[k] {
			v.add(r.line, f+".name", "the %s role %q is listed twice", r.Scope, r.Name)
		}
		seen[k] = true
		v.roleSet(r.Scope)[key(r.Name)] = true
	}
}

func (v *validator) roleSet(scope string) map[string]bool {
	if scope == string(domain.ScopeSystem) {
		return v.sysRoles
	}
	return v.projRoles
}

func (v *validator) usersList(us []User) {
	v.users = map[string]bool{}
	for i := range us {
		u := &us[i]
		f := at("users", i)
		v.name(u.line, f+".username", "username", u.Username, 128)
		if k := key(u.Username); v.users[k] {
			v.add(u.line, f+".username", "the user %q is listed twice", u.Username)
		}
		v.users[key(u.Username)] = true
		switch domain.UserStatus(u.Status) {
		case "", domain.UserActive, domain.UserDisabled:
		default:
			v.add(u.line, f+".status", "must be active or disabled, not %q", u.Status)
		}
		switch domain.UserSource(u.Source) {
		case "", domain.SourceLocal, domain.SourceSCIM, domain.SourceOIDC:
		default:
			v.add(u.line, f+".source", "must be local, scim or oidc, not %q", u.Source)
		}
		if u.SystemRole != "" && !v.sysRoles[key(u.SystemRole)] {
			v.add(u.line, f+".system_role", "unknown system role %q", u.SystemRole)
		}
	}
}

func (v *validator) permissions(line int, field string, scope domain.Scope, keys []string) {
	seen := map[string]bool{}
	for i, k := range keys {
		p, ok := domain.LookupPermission(k)
		switch {
		case !ok:
			v.add(line, at(field, i), "unknown permission %q", k)
		case p.Scope != scope:
			v.add(line, at(field, i), "%q is a %s permission, not a %s one", k, p.Scope, scope)
		case seen[k]:
			v.add(line, at(field, i), "permission %q is listed twice", k)
		}
		seen[k] = true
	}
}

func (v *validator) rights(line int, field, role string, perms []string) {
	if role != "" && !v.projRoles[key(role)] {
		v.add(line, field+".role", "unknown project role %q", role)
	}
	v.permissions(line, field+".permissions", domain.ScopeProject, perms)
}

// group checks a system group (project "") or a project group.
func (v *validator) group(g *Group, f, project string) {
	v.name(g.line, f+".name", "name", g.Name, domain.MaxNameLen)
	if len(g.Description) > domain.MaxDescriptionLen {
		v.add(g.line, f+".description", "is longer than %d characters", domain.MaxDescriptionLen)
	}
	if project != "" {
		switch {
		case g.Builtin != "":
			v.add(g.line, f+".builtin", "built-in groups are system groups")
		case g.SystemRole != "" || len(g.SystemPermissions) > 0:
			v.add(g.line, f+".system_permissions", "a project group cannot hold system permissions or a system role")
		case g.DefaultProjectRights != nil:
			v.add(g.line, f+".default_project_rights", "only system groups carry default project rights")
		}
		if g.Rights != nil {
			v.rights(g.Rights.line, f+".rights", g.Rights.Role, g.Rights.Permissions)
		}
	} else {
		if g.Rights != nil {
			v.add(g.Rights.line, f+".rights", "a system group has rights in a project through that project's imported_groups; use default_project_rights for the rights it brings")
		}
		if g.SystemRole != "" && !v.sysRoles[key(g.SystemRole)] {
			v.add(g.line, f+".system_role", "unknown system role %q", g.SystemRole)
		}
		v.permissions(g.line, f+".system_permissions", domain.ScopeSystem, g.SystemPermissions)
		if g.Builtin == string(domain.BuiltinPublic) && (g.SystemRole != "" || len(g.SystemPermissions) > 0) {
			v.add(g.line, f+".system_permissions", "the Public group can hold no system permission (R5)")
		}
		if r := g.DefaultProjectRights; r != nil {
			v.rights(r.line, f+".default_project_rights", r.Role, r.Permissions)
		}
	}
	ds := map[string]bool{}
	for _, fe := range domain.FieldsOf(domain.CheckDomainList(g.Domains)) {
		v.add(g.line, f+"."+fe.Field, "%s", fe.Message)
	}
	for i, d := range g.Domains {
		if strings.TrimSpace(d) != d {
			v.add(g.line, at(f+".domains", i), "domain %q has spaces around it", d)
		}
		if ds[key(d)] {
			v.add(g.line, at(f+".domains", i), "domain %q is listed twice", d)
		}
		ds[key(d)] = true
	}
	if len(g.Members) > 0 && (g.Builtin == string(domain.BuiltinEveryone) || g.Builtin == string(domain.BuiltinPublic)) {
		v.add(g.Members[0].line, f+".members", "the %s group's members are implicit and cannot be listed (R4, R5)", g.Name)
	}
	v.memberGroups(g, f, project)
	ms := map[string]bool{}
	for i, m := range g.Members {
		mf := at(f+".members", i)
		switch {
		case m.User == "":
			v.add(m.line, mf+".user", "a member needs a username")
		case !v.users[key(m.User)]:
			v.add(m.line, mf+".user", "unknown user %q: list it under users", m.User)
		case ms[key(m.User)]:
			v.add(m.line, mf+".user", "user %q is listed twice", m.User)
		}
		ms[key(m.User)] = true
		if m.Expires != nil && !m.Expires.After(v.now) {
			v.add(m.line, mf+".expires", "%s is in the past; an expired membership counts for nothing (R6): remove it", m.Expires.UTC().Format(time.RFC3339))
		}
	}
	rs := map[string]bool{}
	for i := range g.Rules {
		r := &g.Rules[i]
		rf := at(f+".rules", i)
		if rs[key(r.Name)] {
			v.add(r.line, rf+".name", "the rule %q is listed twice in this group", r.Name)
		}
		rs[key(r.Name)] = true
		v.rule(r, rf)
	}
}

func (v *validator) rule(r *Rule, f string) {
	dr := domain.Rule{Name: r.Name, GroupID: "g", Grants: r.Grants}
	var t *FolderType
	for i, c := range r.Criteria {
		cf := at(f+".criteria", i)
		ct, ok := v.types[key(c.FolderType)]
		if !ok {
			v.add(c.line, cf+".folder_type", "unknown folder type %q", c.FolderType)
		} else {
			t = ct
			if c.Property != "" && key(c.Property) != domain.PropertyDescription && !ct.hasProperty(c.Property) {
				v.add(c.line, cf+".property", "folder type %q declares no property %q", ct.Name, c.Property)
			}
		}
		dr.Criteria = append(dr.Criteria, domain.Criterion{FolderTypeID: key(c.FolderType), Property: c.Property, Operator: domain.Operator(c.Operator), Value: c.Value, Values: c.Values})
	}
	if err := dr.Validate(); err != nil {
		for _, fe := range domain.FieldsOf(err) {
			if fe.Field == "group_id" {
				continue
			}
			v.add(r.line, f+"."+strings.ReplaceAll(fe.Field, "folder_type_id", "folder_type"), "%s", fe.Message)
		}
	}
	if t != nil {
		for _, ctx := range sortedKeys(r.Grants) {
			if !slices.Contains(t.Contexts, ctx) {
				v.add(r.line, f+".grants."+ctx, "folder type %q has no context %q; its contexts are: %s", t.Name, ctx, strings.Join(t.Contexts, ", "))
			}
		}
	}
}

func (t *FolderType) hasProperty(p string) bool {
	for _, x := range t.Properties {
		if key(x) == key(p) {
			return true
		}
	}
	return false
}

func (v *validator) project(p *Project, f string) {
	v.name(p.line, f+".name", "name", p.Name, domain.MaxNameLen)
	switch domain.MembershipMode(p.MembershipMode) {
	case "", domain.ModeMultiple, domain.ModeExclusive:
	default:
		v.add(p.line, f+".membership_mode", "must be multiple or exclusive, not %q", p.MembershipMode)
	}
	gs := map[string]bool{}
	for i := range p.Groups {
		g := &p.Groups[i]
		gf := at(f+".groups", i)
		if gs[key(g.Name)] {
			v.add(g.line, gf+".name", "the group %q is listed twice in project %q", g.Name, p.Name)
		}
		gs[key(g.Name)] = true
		v.group(g, gf, p.Name)
	}
	is := map[string]bool{}
	for i, im := range p.ImportedGroups {
		imf := at(f+".imported_groups", i)
		if _, ok := v.sysGroups[key(im.Group)]; !ok {
			v.add(im.line, imf+".group", "unknown system group %q", im.Group)
		}
		if is[key(im.Group)] {
			v.add(im.line, imf+".group", "group %q is imported twice", im.Group)
		}
		is[key(im.Group)] = true
		v.rights(im.line, imf, im.Role, im.Permissions)
	}
	us := map[string]bool{}
	for i, ur := range p.UserRights {
		uf := at(f+".user_rights", i)
		if !v.users[key(ur.User)] {
			v.add(ur.line, uf+".user", "unknown user %q: list it under users", ur.User)
		}
		if us[key(ur.User)] {
			v.add(ur.line, uf+".user", "user %q is listed twice", ur.User)
		}
		us[key(ur.User)] = true
		v.rights(ur.line, uf, ur.Role, ur.Permissions)
	}
	if p.MembershipMode == string(domain.ModeExclusive) {
		// R23: in an exclusive project the group's rights replace the
		// user's own; the server drops them when the user joins.
		inGroup := map[string]string{}
		for _, g := range p.Groups {
			for _, m := range g.Members {
				inGroup[key(m.User)] = g.Name
			}
		}
		for _, im := range p.ImportedGroups {
			if g, ok := v.sysGroups[key(im.Group)]; ok && g.Builtin == "" {
				for _, m := range g.Members {
					inGroup[key(m.User)] = g.Name
				}
			}
		}
		for i, ur := range p.UserRights {
			if g, ok := inGroup[key(ur.User)]; ok && (ur.Role != "" || len(ur.Permissions) > 0) {
				v.add(ur.line, at(f+".user_rights", i), "user %q is in group %q of exclusive project %q, whose rights replace the user's own (R23): leave this entry without role and permissions", ur.User, g, p.Name)
			}
		}
	}
	if p.MembershipMode == string(domain.ModeExclusive) {
		// R23: a user is in at most one (non-built-in) group present in
		// an exclusive project.
		in := map[string]string{}
		note := func(g *Group, line int, field string) {
			for _, m := range g.Members {
				if other, ok := in[key(m.User)]; ok && other != g.Name {
					v.add(line, field, "user %q is in both %q and %q, but project %q is exclusive (R23)", m.User, other, g.Name, p.Name)
				}
				in[key(m.User)] = g.Name
			}
		}
		for i := range p.Groups {
			note(&p.Groups[i], p.Groups[i].line, at(f+".groups", i))
		}
		for i, im := range p.ImportedGroups {
			if g, ok := v.sysGroups[key(im.Group)]; ok && g.Builtin == "" {
				note(g, im.line, at(f+".imported_groups", i))
			}
		}
	}
}

// splitPath cuts a folder path into its names.
func splitPath(p string) []string { return strings.Split(p, "/") }

func (v *validator) foldersList(fs []Folder) {
	v.folders = map[string]bool{}
	for _, f := range fs {
		v.folders[key(f.Path)] = true
	}
	seen := map[string]bool{}
	for i := range fs {
		fo := &fs[i]
		f := at("folders", i)
		if fo.Path == "" {
			v.add(fo.line, f+".path", "path is required: the folder's names from its root, joined by /")
			continue
		}
		names := splitPath(fo.Path)
		bad := false
		for _, n := range names {
			if n == "" || strings.TrimSpace(n) != n || len(n) > domain.MaxFolderNameLen {
				v.add(fo.line, f+".path", "%q: every name in a path must be 1 to %d characters without spaces around it (and no empty name between slashes)", fo.Path, domain.MaxFolderNameLen)
				bad = true
				break
			}
		}
		if seen[key(fo.Path)] {
			v.add(fo.line, f+".path", "the folder %q is listed twice", fo.Path)
		}
		seen[key(fo.Path)] = true
		if !bad && len(names) > 1 {
			parent := strings.Join(names[:len(names)-1], "/")
			if !v.folders[key(parent)] {
				v.add(fo.line, f+".path", "the parent folder %q is not listed", parent)
			}
		}
		t, ok := v.types[key(fo.Type)]
		if fo.Type == "" {
			v.add(fo.line, f+".type", "type is required (the built-in type is %q)", domain.BuiltinFolderType().Name)
		} else if !ok {
			v.add(fo.line, f+".type", "unknown folder type %q", fo.Type)
		}
		if fo.Project != "" {
			if _, ok := v.projects[key(fo.Project)]; !ok {
				v.add(fo.line, f+".project", "unknown project %q", fo.Project)
			}
		}
		for _, pk := range sortedKeys(fo.Properties) {
			if t != nil && !t.hasProperty(pk) {
				v.add(fo.line, f+".properties."+pk, "folder type %q declares no property %q", t.Name, pk)
			}
			if len(fo.Properties[pk]) > domain.MaxPropertyValue {
				v.add(fo.line, f+".properties."+pk, "is longer than %d characters", domain.MaxPropertyValue)
			}
		}
		ls := map[string]bool{}
		for j, l := range fo.Levels {
			lf := at(f+".levels", j)
			if l.Project == "" {
				if _, ok := v.sysGroups[key(l.Group)]; !ok {
					v.add(l.line, lf+".group", "unknown system group %q (a project group needs project:)", l.Group)
				}
			} else if gs, ok := v.projGroups[key(l.Project)]; !ok {
				v.add(l.line, lf+".project", "unknown project %q", l.Project)
			} else if !gs[key(l.Group)] {
				v.add(l.line, lf+".group", "project %q has no group %q", l.Project, l.Group)
			}
			if _, err := domain.ParseLevel(l.Level); err != nil {
				v.add(l.line, lf+".level", "%v", err)
			}
			lk := key(l.Project) + "/" + key(l.Group)
			if ls[lk] {
				v.add(l.line, lf+".group", "group %q has two levels on this folder", l.Group)
			}
			ls[lk] = true
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- normalization ----

// Normalize puts c in its canonical form, the one export writes: every
// list sorted by natural key, permission and domain sets sorted, defaults
// (active, local, multiple) spelled the same way, expiries in UTC.
func Normalize(c *Config) {
	c.Version = FormatVersion
	for i := range c.FolderTypes {
		t := &c.FolderTypes[i]
		t.Contexts = contextsOrder(t.Contexts)
		t.Properties = sortedSet(t.Properties)
	}
	sortBy(c.FolderTypes, func(t FolderType) string { return key(t.Name) })
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if w.Active != nil && *w.Active {
			w.Active = nil
		}
		if w.Filter != nil && *w.Filter == (WebhookFilter{}) {
			w.Filter = nil
		}
	}
	sortBy(c.Webhooks, func(w Webhook) string { return key(w.Name) })
	for i := range c.Roles {
		c.Roles[i].Permissions = sortedSet(c.Roles[i].Permissions)
		if c.Roles[i].Permissions == nil {
			c.Roles[i].Permissions = []string{}
		}
	}
	sortBy(c.Roles, func(r Role) string { return r.Scope + "\x00" + key(r.Name) })
	for i := range c.Users {
		u := &c.Users[i]
		if u.Status == string(domain.UserActive) {
			u.Status = ""
		}
		if u.Source == string(domain.SourceLocal) {
			u.Source = ""
		}
		if u.ShowPersonalInfo != nil && *u.ShowPersonalInfo {
			u.ShowPersonalInfo = nil
		}
	}
	sortBy(c.Users, func(u User) string { return key(u.Username) })
	for i := range c.Groups {
		normGroup(&c.Groups[i])
	}
	sortBy(c.Groups, func(g Group) string { return key(g.Name) })
	for i := range c.Projects {
		p := &c.Projects[i]
		if p.MembershipMode == "" {
			p.MembershipMode = string(domain.ModeMultiple)
		}
		for j := range p.Groups {
			normGroup(&p.Groups[j])
		}
		sortBy(p.Groups, func(g Group) string { return key(g.Name) })
		for j := range p.ImportedGroups {
			p.ImportedGroups[j].Permissions = sortedSet(p.ImportedGroups[j].Permissions)
		}
		sortBy(p.ImportedGroups, func(im Import) string { return key(im.Group) })
		for j := range p.UserRights {
			p.UserRights[j].Permissions = sortedSet(p.UserRights[j].Permissions)
		}
		sortBy(p.UserRights, func(u UserRights) string { return key(u.User) })
	}
	sortBy(c.Projects, func(p Project) string { return key(p.Name) })
	for i := range c.Folders {
		f := &c.Folders[i]
		if len(f.Properties) == 0 {
			f.Properties = nil
		}
		sortBy(f.Levels, func(l Level) string { return key(l.Project) + "\x00" + key(l.Group) })
	}
	// Sorting by the list of names (not the joined text) keeps every
	// parent right before its children.
	sortBy(c.Folders, func(f Folder) string { return strings.ReplaceAll(key(f.Path), "/", "\x00") })
}

func normGroup(g *Group) {
	g.SystemPermissions = sortedSet(g.SystemPermissions)
	g.Domains = sortedSet(g.Domains)
	if r := g.DefaultProjectRights; r != nil {
		r.Permissions = sortedSet(r.Permissions)
		if r.Role == "" && len(r.Permissions) == 0 {
			g.DefaultProjectRights = nil
		}
	}
	if r := g.Rights; r != nil {
		r.Permissions = sortedSet(r.Permissions)
		if r.Role == "" && len(r.Permissions) == 0 {
			g.Rights = nil
		}
	}
	for i := range g.Members {
		if e := g.Members[i].Expires; e != nil {
			t := e.UTC()
			g.Members[i].Expires = &t
		}
	}
	sortBy(g.Members, func(m Member) string { return key(m.User) })
	for i := range g.MemberGroups {
		if e := g.MemberGroups[i].Expires; e != nil {
			t := e.UTC()
			g.MemberGroups[i].Expires = &t
		}
	}
	sortBy(g.MemberGroups, func(m GroupMember) string { return memberGroupKey(m) })
	for i := range g.Rules {
		r := &g.Rules[i]
		for ctx, acts := range r.Grants {
			r.Grants[ctx] = actionsOrder(acts)
		}
		for j := range r.Criteria {
			r.Criteria[j].Values = slices.Clone(r.Criteria[j].Values)
		}
	}
	sortBy(g.Rules, func(r Rule) string { return key(r.Name) })
}

// contextsOrder puts root first, then the others sorted.
func contextsOrder(cs []string) []string {
	out := sortedSet(cs)
	if i := slices.Index(out, domain.ContextRoot); i > 0 {
		out = append([]string{domain.ContextRoot}, slices.Delete(out, i, i+1)...)
	}
	return out
}

// actionsOrder sorts actions in the order of domain.RuleActions.
func actionsOrder(as []string) []string {
	order := domain.RuleActions()
	out := sortedSet(as)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := slices.Index(order, out[i]), slices.Index(order, out[j])
		return a < b
	})
	return out
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}

func sortBy[T any](s []T, k func(T) string) {
	sort.SliceStable(s, func(i, j int) bool { return k(s[i]) < k(s[j]) })
}

// memberGroupKey is a member group's key among a group's member groups.
func memberGroupKey(m GroupMember) string {
	if m.System {
		return "\x00" + key(m.Group)
	}
	return key(m.Group)
}

// memberGroups checks a group's member groups: each names a group of the
// file in the scope nested groups allow (docs/model.md §3), once, with an
// expiry in the future. Cycles and depth are the server's to refuse.
func (v *validator) memberGroups(g *Group, f, project string) {
	if len(g.MemberGroups) > 0 && (g.Builtin == string(domain.BuiltinEveryone) || g.Builtin == string(domain.BuiltinPublic)) {
		v.add(g.MemberGroups[0].line, f+".member_groups", "the %s group's members are implicit and cannot be listed (R4, R5)", g.Name)
	}
	seen := map[string]bool{}
	for i, m := range g.MemberGroups {
		mf := at(f+".member_groups", i)
		system := m.System || project == ""
		switch {
		case m.Group == "":
			v.add(m.line, mf+".group", "a member group needs a group name")
		case system && v.sysGroups[key(m.Group)] == nil:
			v.add(m.line, mf+".group", "unknown system group %q: list it under groups", m.Group)
		case !system && !v.projGroups[key(project)][key(m.Group)]:
			v.add(m.line, mf+".group", "unknown group %q of project %q: list it under the project's groups, or set system: true for a system group", m.Group, project)
		case seen[memberGroupKey(m)]:
			v.add(m.line, mf+".group", "group %q is listed twice", m.Group)
		}
		seen[memberGroupKey(m)] = true
		if m.Expires != nil && !m.Expires.After(v.now) {
			v.add(m.line, mf+".expires", "%s is in the past; an expired membership counts for nothing (R6): remove it", m.Expires.UTC().Format(time.RFC3339))
		}
	}
}
