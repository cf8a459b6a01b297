package domain

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits, in characters.
const (
	MaxNameLen        = 128
	MaxFolderNameLen  = 255
	MaxDescriptionLen = 4096
	MaxEmailLen       = 254
	MaxDomainLen      = 253
	MaxPropertyValue  = 4096
	MaxCriteria       = 32
	// MaxDomainLabelLen is the longest label of a domain name (DNS's).
	MaxDomainLabelLen = 63
)

// MaxDomains is how many accessible domains one group may list, the same
// through every way of setting them (REST, console, apply).
const MaxDomains = 1000

// NameKey is the form in which names are compared for uniqueness: names
// are unique case-insensitively (docs/model.md §1, §3).
func NameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// checkText validates a single-line text field that has already been
// trimmed: valid UTF-8, no control characters, within min..max characters.
func (p *problems) text(field, s string, min, max int) {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		p.add(field, "is not valid UTF-8")
	case n < min && n == 0:
		p.add(field, "is required")
	case n < min:
		p.add(field, "must be at least %d characters", min)
	case n > max:
		p.add(field, "must be at most %d characters (got %d)", max, n)
	default:
		for _, r := range s {
			if unicode.IsControl(r) {
				p.add(field, "must not contain control characters such as line breaks or tabs")
				return
			}
		}
	}
}

// longText validates a multi-line field (descriptions): line breaks and tabs
// are allowed, other control characters are not.
func (p *problems) longText(field, s string, max int) {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		p.add(field, "is not valid UTF-8")
	case n > max:
		p.add(field, "must be at most %d characters (got %d)", max, n)
	default:
		for _, r := range s {
			if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
				p.add(field, "must not contain control characters")
				return
			}
		}
	}
}

func (p *problems) required(field, s string) {
	if s == "" {
		p.add(field, "is required")
	}
}

func (p *problems) email(field, s string) {
	if s == "" {
		return
	}
	if utf8.RuneCountInString(s) > MaxEmailLen {
		p.add(field, "must be at most %d characters", MaxEmailLen)
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") && !strings.HasSuffix(s, "@localhost") {
		p.add(field, "%q is not an email address like name@example.org", s)
	}
}

// permissionKeys checks that every key exists in the catalog with the given
// scope and appears once. It reports whether all keys were good.
func (p *problems) permissionKeys(field string, scope Scope, keys []string) bool {
	seen := map[string]bool{}
	ok := true
	for i, k := range keys {
		f := indexField(field, i)
		perm, found := catalogIndex[k]
		switch {
		case !found:
			p.add(f, "unknown permission %q; %s permissions are: %s", k, scope, strings.Join(PermissionsOfScope(scope), ", "))
			ok = false
		case perm.Scope != scope:
			p.add(f, "permission %q applies to the %s scope, not %s", k, perm.Scope, scope)
			ok = false
		case seen[k]:
			p.add(f, "permission %q is listed twice", k)
			ok = false
		}
		seen[k] = true
	}
	return ok
}

// requirements reports each R9 requirement the set does not meet.
func (p *problems) requirements(field string, keys []string) {
	for _, r := range Unmet(keys) {
		p.add(field, "%s requires %s (R9): grant %s as well", r.Permission, r.Requires, r.Requires)
	}
}

// CheckRequirements returns an Invalid error naming every unmet R9
// requirement of keys, which should be the whole set granted together (for
// example a group's role permissions and its checkboxes).
func CheckRequirements(op, field string, keys []string) error {
	var p problems
	p.requirements(field, keys)
	return p.err(op)
}

func trim(s *string) { *s = strings.TrimSpace(*s) }

// Validate trims the user's text fields in place and checks every field.
func (u *User) Validate() error {
	var p problems
	trim(&u.Username)
	trim(&u.Email)
	trim(&u.DisplayName)
	trim(&u.ExternalID)
	p.text("username", u.Username, 1, MaxNameLen)
	p.email("email", u.Email)
	p.text("display_name", u.DisplayName, 0, 256)
	p.text("external_id", u.ExternalID, 0, 256)
	if u.Status == "" {
		u.Status = UserActive
	}
	if u.Status != UserActive && u.Status != UserDisabled {
		p.add("status", "must be active or disabled, not %q", u.Status)
	}
	if u.Source == "" {
		u.Source = SourceLocal
	}
	switch u.Source {
	case SourceLocal, SourceSCIM, SourceOIDC:
	default:
		p.add("source", "must be local, scim or oidc, not %q", u.Source)
	}
	return p.err("validate user")
}

// Validate trims the project's text fields in place and checks every field.
func (pr *Project) Validate() error {
	var p problems
	trim(&pr.Name)
	p.text("name", pr.Name, 1, MaxNameLen)
	p.longText("description", pr.Description, MaxDescriptionLen)
	if pr.MembershipMode == "" {
		pr.MembershipMode = ModeMultiple
	}
	if pr.MembershipMode != ModeMultiple && pr.MembershipMode != ModeExclusive {
		p.add("membership_mode", "must be multiple or exclusive, not %q", pr.MembershipMode)
	}
	return p.err("validate project")
}

// Validate trims the group's text fields in place and checks every field
// that can be checked without the store: scope and project agree, built-in
// kinds are system groups, permission keys exist and fit their scope, Public
// holds no system permission (R5). Requirements (R9) are checked by the
// service on the whole set, role included (see CheckRequirements).
func (g *Group) Validate() error {
	var p problems
	trim(&g.Name)
	trim(&g.ExternalID)
	p.text("name", g.Name, 1, MaxNameLen)
	p.text("external_id", g.ExternalID, 0, 256)
	p.longText("description", g.Description, MaxDescriptionLen)
	switch g.Scope {
	case ScopeSystem:
		if g.ProjectID != "" {
			p.add("project_id", "must be empty for a system group")
		}
	case ScopeProject:
		if g.ProjectID == "" {
			p.add("project_id", "is required for a project group")
		}
	case "":
		p.add("scope", "is required: system or project (it cannot be changed later)")
	default:
		p.add("scope", "must be system or project, not %q", g.Scope)
	}
	switch g.Builtin {
	case BuiltinNone:
	case BuiltinAdministrators, BuiltinEveryone, BuiltinPublic:
		if g.Scope != ScopeSystem {
			p.add("builtin", "built-in groups are system groups")
		}
	default:
		p.add("builtin", "unknown built-in group kind %q", g.Builtin)
	}
	if g.Scope == ScopeProject {
		if len(g.SystemPermissions) > 0 {
			p.add("system_permissions", "a project group cannot hold system permissions")
		}
		if g.SystemRoleID != "" {
			p.add("system_role_id", "a project group cannot hold a system role")
		}
		if g.DefaultProjectRoleID != "" || len(g.DefaultProjectPermissions) > 0 {
			p.add("default_project_permissions", "only system groups carry default project rights")
		}
	}
	if g.Builtin == BuiltinPublic && (len(g.SystemPermissions) > 0 || g.SystemRoleID != "") {
		p.add("system_permissions", "the Public group can hold no system permission (R5); give it folder levels or project read rights instead")
	}
	p.permissionKeys("system_permissions", ScopeSystem, g.SystemPermissions)
	p.permissionKeys("default_project_permissions", ScopeProject, g.DefaultProjectPermissions)
	return p.err("validate group")
}

// Validate checks the membership's keys.
func (m *Membership) Validate() error {
	var p problems
	p.required("group_id", m.GroupID)
	p.required("user_id", m.UserID)
	if m.ExpiresAt != nil && m.ExpiresAt.IsZero() {
		p.add("expires_at", "must be a time, or absent for a membership that does not expire")
	}
	if m.Source != MembershipByAdministrator && m.Source != MembershipByOIDC {
		p.add("source", "must be empty (made by an administrator) or oidc, not %q", m.Source)
	}
	return p.err("validate membership")
}

// Validate checks the group membership's keys: a group is never a member
// of itself.
func (m *GroupMembership) Validate() error {
	var p problems
	p.required("group_id", m.GroupID)
	p.required("member_group_id", m.MemberGroupID)
	if m.GroupID != "" && m.GroupID == m.MemberGroupID {
		p.add("member_group_id", "a group cannot be a member of itself")
	}
	if m.ExpiresAt != nil && m.ExpiresAt.IsZero() {
		p.add("expires_at", "must be a time, or absent for a membership that does not expire")
	}
	return p.err("validate group membership")
}

// Validate trims the role's text fields in place and checks every field,
// including its own requirements (R9).
func (r *Role) Validate() error {
	var p problems
	trim(&r.Name)
	p.text("name", r.Name, 1, MaxNameLen)
	p.longText("description", r.Description, MaxDescriptionLen)
	switch r.Scope {
	case ScopeSystem, ScopeProject:
		if p.permissionKeys("permissions", r.Scope, r.Permissions) {
			p.requirements("permissions", r.Permissions)
		}
	case "":
		p.add("scope", "is required: system or project")
	default:
		p.add("scope", "must be system or project, not %q", r.Scope)
	}
	return p.err("validate role")
}

// Validate checks the grant's keys and permission keys. Requirements (R9)
// are checked by the service with the role's permissions included.
func (g *ProjectGrant) Validate() error {
	var p problems
	p.required("project_id", g.ProjectID)
	p.required("subject_id", g.SubjectID)
	if g.SubjectKind != SubjectUser && g.SubjectKind != SubjectGroup {
		p.add("subject_kind", "must be user or group, not %q", g.SubjectKind)
	}
	p.permissionKeys("permissions", ScopeProject, g.Permissions)
	return p.err("validate project grant")
}

// Validate trims the domain name in place and checks it.
func (d *DomainGrant) Validate() error {
	var p problems
	trim(&d.Domain)
	p.required("group_id", d.GroupID)
	if err := CheckDomainName(d.Domain); err != nil {
		p.add("domain", "%s", err.Error())
	}
	return p.err("validate domain grant")
}

// CheckDomainName is the one rule for an accessible domain's name, used
// by every way of setting domains: dot-separated labels of ASCII letters,
// digits, '-' and '_', each 1 to 63 characters and not starting or ending
// with '-', at most 253 characters in all. It accepts host names
// ("ct.example.org") and the short names sites use ("xyz-hosp", "CT");
// it refuses text that is no name ("not a domain at all!", "<b>"). Names
// keep their case: they compare case-sensitively (docs/decisions.md).
func CheckDomainName(s string) error {
	switch {
	case s == "":
		return errors.New("is required")
	case len(s) > MaxDomainLen:
		return fmt.Errorf("must be at most %d characters (got %d)", MaxDomainLen, len(s))
	}
	for _, label := range strings.Split(s, ".") {
		if !domainLabel(label) {
			return fmt.Errorf("%q is not a domain name: dot-separated labels of letters, digits, - and _, "+
				"each 1 to %d characters, not starting or ending with -", s, MaxDomainLabelLen)
		}
	}
	return nil
}

// CheckDomainList checks a group's list of accessible domains before
// anything is written: at most MaxDomains, each (trimmed) name by
// CheckDomainName. Fields are "domains" and "domains[i]".
func CheckDomainList(names []string) error {
	var p problems
	if len(names) > MaxDomains {
		p.add("domains", "at most %d domains, not %d", MaxDomains, len(names))
	}
	for i, n := range names {
		if err := CheckDomainName(strings.TrimSpace(n)); err != nil {
			p.add(indexField("domains", i), "%s", err.Error())
		}
	}
	return p.err("validate domains")
}

func domainLabel(l string) bool {
	if l == "" || len(l) > MaxDomainLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Validate trims and checks the folder type: a name, the root context, each
// context an identifier listed once, property names listed once.
func (t *FolderType) Validate() error {
	var p problems
	trim(&t.Name)
	p.text("name", t.Name, 1, MaxNameLen)
	seen := map[string]bool{}
	for i, c := range t.Contexts {
		if err := checkIdentifier(c); err != nil {
			p.add(indexField("contexts", i), "context %s", err.Error())
		} else if seen[c] {
			p.add(indexField("contexts", i), "context %q is listed twice", c)
		}
		seen[c] = true
	}
	if !seen[ContextRoot] {
		p.add("contexts", "must include %q: every folder type has the root context", ContextRoot)
	}
	props := map[string]bool{}
	for i := range t.Properties {
		trim(&t.Properties[i])
		f := indexField("properties", i)
		p.text(f, t.Properties[i], 1, MaxNameLen)
		k := NameKey(t.Properties[i])
		if props[k] {
			p.add(f, "property %q is listed twice", t.Properties[i])
		}
		props[k] = true
	}
	return p.err("validate folder type")
}

// Validate trims and checks the folder. Whether its properties are declared
// by its type is checked by the service, which knows the type.
func (f *Folder) Validate() error {
	var p problems
	trim(&f.Name)
	p.text("name", f.Name, 1, MaxFolderNameLen)
	if strings.ContainsRune(f.Name, '/') {
		p.add("name", "must not contain /")
	}
	p.required("type_id", f.TypeID)
	if f.ID != "" && f.ParentID == f.ID {
		p.add("parent_id", "a folder cannot be its own parent")
	}
	for k, v := range f.Properties {
		field := "properties." + k
		if strings.TrimSpace(k) != k || k == "" {
			p.add("properties", "property name %q must be non-empty without surrounding spaces", k)
			continue
		}
		p.text(field, k, 1, MaxNameLen)
		p.longText(field, v, MaxPropertyValue)
	}
	return p.err("validate folder")
}

// Validate checks the folder level's keys and level.
func (l *FolderLevel) Validate() error {
	var p problems
	p.required("folder_id", l.FolderID)
	p.required("group_id", l.GroupID)
	if l.Level > LevelDeleteFolder {
		p.add("level", "unknown level %d; levels are: %s", l.Level, strings.Join(Levels(), ", "))
	}
	return p.err("validate folder level")
}

// PropertyDescription is the property that rule criteria may not use (R10).
const PropertyDescription = "description"

// Validate trims and checks the rule: a name, one to MaxCriteria criteria
// on one folder type joined by AND, no criterion on description (R10),
// operators with the values they need, and a matrix of contexts × rule
// actions granting at least one action. Whether the contexts belong to the
// folder type is checked by the service, which knows the type.
func (r *Rule) Validate() error {
	var p problems
	trim(&r.Name)
	p.text("name", r.Name, 1, MaxNameLen)
	p.required("group_id", r.GroupID)
	switch {
	case len(r.Criteria) == 0:
		p.add("criteria", "a rule needs at least one criterion")
	case len(r.Criteria) > MaxCriteria:
		p.add("criteria", "a rule has at most %d criteria (got %d)", MaxCriteria, len(r.Criteria))
	}
	for i := range r.Criteria {
		c := &r.Criteria[i]
		f := indexField("criteria", i)
		trim(&c.Property)
		p.required(f+".folder_type_id", c.FolderTypeID)
		if i > 0 && c.FolderTypeID != "" && r.Criteria[0].FolderTypeID != "" && c.FolderTypeID != r.Criteria[0].FolderTypeID {
			p.add(f+".folder_type_id", "all criteria of a rule apply to one folder type; criteria are joined by AND and a folder has one type")
		}
		p.text(f+".property", c.Property, 1, MaxNameLen)
		if NameKey(c.Property) == PropertyDescription {
			p.add(f+".property", "the description property cannot be used in rule criteria (R10)")
		}
		switch c.Operator {
		case OpEq, OpNe, OpContains, OpStartsWith:
			p.longText(f+".value", c.Value, MaxPropertyValue)
			if len(c.Values) > 0 {
				p.add(f+".values", "is only for the in operator; use value")
			}
		case OpIn:
			if len(c.Values) == 0 {
				p.add(f+".values", "the in operator needs at least one value")
			}
			if c.Value != "" {
				p.add(f+".value", "the in operator takes values, not value")
			}
			for j, v := range c.Values {
				p.longText(indexField(f+".values", j), v, MaxPropertyValue)
			}
		case OpExists:
			if c.Value != "" || len(c.Values) > 0 {
				p.add(f+".value", "the exists operator takes no value")
			}
		case "":
			p.add(f+".operator", "is required: one of eq, ne, in, contains, starts_with, exists")
		default:
			p.add(f+".operator", "unknown operator %q; operators are eq, ne, in, contains, starts_with, exists", c.Operator)
		}
	}
	granted := 0
	for ctx, actions := range r.Grants {
		f := "grants." + ctx
		if err := checkIdentifier(ctx); err != nil {
			p.add(f, "context %s", err.Error())
			continue
		}
		seen := map[string]bool{}
		for j, a := range actions {
			act, err := ParseAction(a)
			switch {
			case err != nil || !IsRuleAction(act):
				p.add(indexField(f, j), "a rule cannot grant %q; rule actions are: %s", a, strings.Join(RuleActions(), ", "))
			case seen[a]:
				p.add(indexField(f, j), "action %q is listed twice", a)
			default:
				granted++
			}
			seen[a] = true
		}
	}
	if granted == 0 && len(p) == 0 {
		p.add("grants", "a rule must grant at least one action on at least one context")
	}
	return p.err("validate rule")
}

// Validate checks a setting's key.
func (s *Setting) Validate() error {
	var p problems
	if err := checkIdentifier(s.Key); err != nil {
		p.add("key", "setting key %s", err.Error())
	}
	p.longText("value", s.Value, MaxDescriptionLen)
	return p.err("validate setting")
}

// Validate checks an audit event has what R29 asks: an action, an outcome
// and a time.
func (a *AuditEvent) Validate() error {
	var p problems
	p.required("action", a.Action)
	if a.Outcome != OutcomeSuccess && a.Outcome != OutcomeDenied {
		p.add("outcome", "must be success or denied, not %q", a.Outcome)
	}
	if a.At.IsZero() {
		p.add("at", "is required")
	}
	return p.err("validate audit event")
}
