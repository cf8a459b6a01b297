package declarative

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// pageSize is the largest page the API serves.
const pageSize = 1000

// Remote reads a server's configuration and applies operations to it
// over the REST API, as the client's user. It keeps the mapping from
// natural keys to the server's ids, updated as objects are created.
type Remote struct {
	c   *gatehouse.Client
	now func() time.Time

	self      string
	userID    map[string]string // key(username)
	roleID    map[string]string // scope/key(name)
	groupID   map[string]string // key(GroupRef.String())
	projectID map[string]string // key(name)
	typeID    map[string]string // key(name)
	folderID  map[string]string // key(path)
	ruleID    map[string]string // key(GroupRef.String()) \x00 key(rule)
	webhookID map[string]string // key(name)
	// noWebhooks: the caller may not read subscriptions (webhooks.manage).
	noWebhooks bool
}

// NewRemote returns a Remote over c. now is the clock expiries are read
// against (nil: time.Now).
func NewRemote(c *gatehouse.Client, now func() time.Time) *Remote {
	if now == nil {
		now = time.Now
	}
	return &Remote{c: c, now: now}
}

// Self is the username the client acts as (after Load).
func (r *Remote) Self() string { return r.self }

func all[T any](ctx context.Context, page func(cursor string) (api.Page[T], error)) ([]T, error) {
	var out []T
	cursor := ""
	for {
		p, err := page(cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" || len(p.Items) == 0 {
			return out, nil
		}
		cursor = p.NextCursor
	}
}

// Load reads the server's whole configuration, built-in objects included
// (Export leaves out those that carry no configuration), normalized.
func (r *Remote) Load(ctx context.Context) (*Config, error) {
	c := r.c
	r.userID, r.roleID, r.groupID, r.projectID = map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	r.typeID, r.folderID, r.ruleID = map[string]string{}, map[string]string{}, map[string]string{}
	me, err := c.Me(ctx)
	if err != nil {
		return nil, err
	}
	r.self = me.Username
	cfg := &Config{Version: FormatVersion}

	types, err := c.ListFolderTypes(ctx)
	if err != nil {
		return nil, err
	}
	typeName := map[string]string{}
	for _, t := range types {
		typeName[t.ID] = t.Name
		r.typeID[key(t.Name)] = t.ID
		cfg.FolderTypes = append(cfg.FolderTypes, FolderType{Name: t.Name, Contexts: t.Contexts, Properties: t.Properties, builtin: t.ID == domain.FolderTypeFolderID})
	}

	roles, err := all(ctx, func(cur string) (api.Page[api.Role], error) {
		return c.ListRoles(ctx, "", gatehouse.ListOptions{Cursor: cur, Limit: pageSize})
	})
	if err != nil {
		return nil, err
	}
	roleName := map[string]string{}
	for _, ro := range roles {
		roleName[ro.ID] = ro.Name
		r.roleID[string(ro.Scope)+"/"+key(ro.Name)] = ro.ID
		cfg.Roles = append(cfg.Roles, Role{Name: ro.Name, Scope: string(ro.Scope), Description: ro.Description, Permissions: ro.Permissions, builtin: ro.Builtin})
	}

	users, err := all(ctx, func(cur string) (api.Page[api.User], error) {
		return c.ListUsers(ctx, gatehouse.ListOptions{Cursor: cur, Limit: pageSize})
	})
	if err != nil {
		return nil, err
	}
	userName := map[string]string{}
	for _, u := range users {
		userName[u.ID] = u.Username
		r.userID[key(u.Username)] = u.ID
		cu := User{Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Status: string(u.Status), Source: string(u.Source),
			ExternalID: u.ExternalID, SystemRole: roleName[u.SystemRoleID]}
		if !u.ShowPersonalInfo {
			f := false
			cu.ShowPersonalInfo = &f
		}
		cfg.Users = append(cfg.Users, cu)
	}

	projects, err := all(ctx, func(cur string) (api.Page[api.Project], error) {
		return c.ListProjects(ctx, gatehouse.ListOptions{Cursor: cur, Limit: pageSize})
	})
	if err != nil {
		return nil, err
	}
	projectName := map[string]string{}
	projIdx := map[string]*Project{}
	cfg.Projects = make([]Project, len(projects))
	for i, p := range projects {
		projectName[p.ID] = p.Name
		r.projectID[key(p.Name)] = p.ID
		cfg.Projects[i] = Project{Name: p.Name, Description: p.Description, MembershipMode: string(p.MembershipMode)}
		projIdx[p.ID] = &cfg.Projects[i]
	}

	groups, err := all(ctx, func(cur string) (api.Page[api.Group], error) {
		return c.ListGroups(ctx, gatehouse.GroupQuery{ListOptions: gatehouse.ListOptions{Cursor: cur, Limit: pageSize}})
	})
	if err != nil {
		return nil, err
	}
	rights := func(roleID string, perms []string) *Rights {
		if roleID == "" && len(perms) == 0 {
			return nil
		}
		return &Rights{Role: roleName[roleID], Permissions: perms}
	}
	type groupInfo struct {
		name, project string
	}
	groupOf := map[string]groupInfo{}
	var sysGroups []Group
	projGroups := map[string][]Group{}
	for _, g := range groups {
		cg := Group{Name: g.Name, Builtin: string(g.Builtin), Description: g.Description, SystemRole: roleName[g.SystemRoleID],
			SystemPermissions: g.SystemPermissions, DefaultProjectRights: rights(g.DefaultProjectRoleID, g.DefaultProjectPermissions)}
		ref := GroupRef{Name: g.Name}
		if g.Scope == api.ScopeProject {
			ref.Project = projectName[g.ProjectID]
		}
		groupOf[g.ID] = groupInfo{g.Name, ref.Project}
		r.groupID[key(ref.String())] = g.ID
		d, err := c.GroupDomains(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		cg.Domains = d.Domains
		if g.Builtin != string(domain.BuiltinEveryone) && g.Builtin != string(domain.BuiltinPublic) {
			if cg.Members, err = r.members(ctx, g.ID); err != nil {
				return nil, err
			}
			if cg.MemberGroups, err = r.memberGroups(ctx, g.ID, ref.Project); err != nil {
				return nil, err
			}
		}
		rules, err := c.ListRules(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		for _, ru := range rules {
			r.ruleID[key(ref.String())+"\x00"+key(ru.Name)] = ru.ID
			cr := Rule{Name: ru.Name, Grants: ru.Grants}
			for _, cri := range ru.Criteria {
				cr.Criteria = append(cr.Criteria, Criterion{FolderType: typeName[cri.FolderTypeID], Property: cri.Property,
					Operator: string(cri.Operator), Value: cri.Value, Values: cri.Values})
			}
			cg.Rules = append(cg.Rules, cr)
		}
		if g.Scope == api.ScopeProject {
			projGroups[g.ProjectID] = append(projGroups[g.ProjectID], cg)
		} else {
			sysGroups = append(sysGroups, cg)
		}
	}
	cfg.Groups = sysGroups
	for _, p := range projects {
		cp := projIdx[p.ID]
		cp.Groups = projGroups[p.ID]
		grants, err := c.ListProjectGrants(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, gr := range grants {
			switch gr.SubjectKind {
			case string(domain.SubjectUser):
				cp.UserRights = append(cp.UserRights, UserRights{User: userName[gr.SubjectID], Role: roleName[gr.RoleID], Permissions: gr.Permissions})
			case string(domain.SubjectGroup):
				gi := groupOf[gr.SubjectID]
				if gi.project == "" {
					cp.ImportedGroups = append(cp.ImportedGroups, Import{Group: gi.name, Role: roleName[gr.RoleID], Permissions: gr.Permissions})
					continue
				}
				for i := range cp.Groups {
					if cp.Groups[i].Name == gi.name {
						cp.Groups[i].Rights = rights(gr.RoleID, gr.Permissions)
					}
				}
			}
		}
	}

	// Folders, breadth first from the roots.
	type pending struct{ id, path string }
	queue := []pending{{"", ""}}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		children, err := all(ctx, func(cur string) (api.Page[api.Folder], error) {
			return c.ListFolders(ctx, parent.id, gatehouse.ListOptions{Cursor: cur, Limit: pageSize})
		})
		if err != nil {
			return nil, err
		}
		for _, f := range children {
			path := f.Name
			if parent.path != "" {
				path = parent.path + "/" + f.Name
			}
			r.folderID[key(path)] = f.ID
			cf := Folder{Path: path, Type: typeName[f.TypeID], Project: projectName[f.ProjectID], Properties: f.Properties}
			levels, err := c.ListFolderLevels(ctx, f.ID)
			if err != nil {
				return nil, err
			}
			for _, l := range levels {
				gi := groupOf[l.GroupID]
				cf.Levels = append(cf.Levels, Level{Group: gi.name, Project: gi.project, Level: l.Level})
			}
			cfg.Folders = append(cfg.Folders, cf)
			queue = append(queue, pending{f.ID, path})
		}
	}
	groupName := map[string]string{}
	for id, gi := range groupOf {
		groupName[id] = GroupRef{Project: gi.project, Name: gi.name}.String()
	}
	if err := r.loadWebhooks(ctx, cfg, userName, groupName, projectName); err != nil {
		return nil, err
	}
	Normalize(cfg)
	return cfg, nil
}

// members lists a group's unexpired memberships: an expired one counts
// for nothing (R6) and could not be created again.
func (r *Remote) members(ctx context.Context, groupID string) ([]Member, error) {
	rows, err := all(ctx, func(cur string) (api.Page[api.MemberRow], error) {
		return r.c.ListMembers(ctx, groupID, gatehouse.MemberQuery{Cursor: cur, Limit: pageSize})
	})
	if err != nil {
		return nil, err
	}
	now := r.now()
	var out []Member
	for _, m := range rows {
		if m.ExpiresAt != nil && !m.ExpiresAt.After(now) {
			continue
		}
		out = append(out, Member{User: m.User.Username, Expires: m.ExpiresAt})
	}
	return out, nil
}

// Export returns the part of a loaded configuration that export writes:
// built-in objects only where they carry configuration (a built-in role
// whose permissions or description changed, a built-in group renamed,
// described differently or holding grants, members or rules; the
// Administrators group always, for its members).
func Export(cur *Config) *Config {
	out := *cur
	out.FolderTypes = slices.DeleteFunc(slices.Clone(cur.FolderTypes), func(t FolderType) bool {
		b := domain.BuiltinFolderType()
		return t.builtin && t.Name == b.Name && len(t.Properties) == 0 && slices.Equal(t.Contexts, b.Contexts)
	})
	defRoles := map[string]domain.Role{}
	for _, ro := range domain.BuiltinRoles() {
		defRoles[key(ro.Name)] = ro
	}
	out.Roles = slices.DeleteFunc(slices.Clone(cur.Roles), func(ro Role) bool {
		d, ok := defRoles[key(ro.Name)]
		return ro.builtin && ok && d.Name == ro.Name && d.Description == ro.Description && slices.Equal(sortedSet(d.Permissions), ro.Permissions)
	})
	defGroups := map[string]domain.Group{}
	for _, g := range domain.BuiltinGroups() {
		defGroups[string(g.Builtin)] = g
	}
	out.Groups = slices.DeleteFunc(slices.Clone(cur.Groups), func(g Group) bool {
		d, ok := defGroups[g.Builtin]
		if !ok || g.Builtin == string(domain.BuiltinAdministrators) {
			return false
		}
		return g.Name == d.Name && g.Description == d.Description && g.SystemRole == "" && len(g.SystemPermissions) == 0 &&
			g.DefaultProjectRights == nil && len(g.Domains) == 0 && len(g.Members) == 0 && len(g.Rules) == 0
	})
	return &out
}

// ---- execution ----

// Target applies one operation; *Remote is the real one.
type Target interface {
	Apply(ctx context.Context, op Op) error
}

// Execute runs the plan's changes in order, calling progress after each
// (may be nil). It stops at the first failure, naming the operation; the
// operations before it stay applied (each is its own transaction on the
// server), and running apply again continues from there.
func Execute(ctx context.Context, t Target, p *Plan, progress func(done, total int, op Op)) error {
	if len(p.Conflicts) > 0 {
		return domain.E(domain.KindConflict, fmt.Errorf("the server cannot be made to match the file: %s", strings.Join(p.Conflicts, "; ")))
	}
	ops := p.Changes()
	for i, op := range ops {
		if err := t.Apply(ctx, op); err != nil {
			return fmt.Errorf("%s %s %s: %w", op.Action, op.Kind, op.Name, err)
		}
		if progress != nil {
			progress(i+1, len(ops), op)
		}
	}
	return nil
}

func (r *Remote) id(m map[string]string, what, k, shown string) (string, error) {
	if id, ok := m[k]; ok {
		return id, nil
	}
	return "", domain.Errorf("declarative.Apply", domain.KindNotFound, "%s %q is not on the server", what, shown)
}

func (r *Remote) role(scope domain.Scope, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	return r.id(r.roleID, string(scope)+" role", string(scope)+"/"+key(name), name)
}

func (r *Remote) group(g GroupRef) (string, error) {
	return r.id(r.groupID, "group", key(g.String()), g.String())
}

func (r *Remote) rights(rr *Rights) (api.RightsRequest, error) {
	if rr == nil {
		return api.RightsRequest{}, nil
	}
	id, err := r.role(domain.ScopeProject, rr.Role)
	return api.RightsRequest{RoleID: id, Permissions: rr.Permissions}, err
}

// Apply performs one operation over the API.
func (r *Remote) Apply(ctx context.Context, op Op) error {
	switch op.Kind {
	case KindFolderType:
		return r.applyFolderType(ctx, op)
	case KindRole:
		return r.applyRole(ctx, op)
	case KindUser:
		return r.applyUser(ctx, op)
	case KindProject, KindProjectMode:
		return r.applyProject(ctx, op)
	case KindGroup, KindProjectGroup:
		return r.applyGroup(ctx, op)
	case KindImport:
		return r.applyImport(ctx, op)
	case KindUserRights:
		return r.applyUserRights(ctx, op)
	case KindMember:
		return r.applyMember(ctx, op)
	case KindMemberGroup:
		return r.applyMemberGroup(ctx, op)
	case KindFolder:
		return r.applyFolder(ctx, op)
	case KindLevel:
		return r.applyLevel(ctx, op)
	case KindRule:
		return r.applyRule(ctx, op)
	case KindWebhook:
		return r.applyWebhook(ctx, op)
	}
	return fmt.Errorf("unknown operation kind %q", op.Kind)
}

func (r *Remote) applyFolderType(ctx context.Context, op Op) error {
	t := op.FolderType
	req := api.FolderTypeRequest{Name: t.Name, Contexts: t.Contexts, Properties: t.Properties}
	switch op.Action {
	case Create:
		ft, err := r.c.CreateFolderType(ctx, req)
		if err == nil {
			r.typeID[key(ft.Name)] = ft.ID
		}
		return err
	case Update:
		id, err := r.id(r.typeID, "folder type", key(t.Name), t.Name)
		if err != nil {
			return err
		}
		_, err = r.c.UpdateFolderType(ctx, id, req, 0)
		return err
	}
	id, err := r.id(r.typeID, "folder type", key(t.Name), t.Name)
	if err != nil {
		return err
	}
	_, err = r.c.DeleteFolderType(ctx, id)
	return err
}

func (r *Remote) applyRole(ctx context.Context, op Op) error {
	ro := op.Role
	switch op.Action {
	case Create:
		created, err := r.c.CreateRole(ctx, api.CreateRoleRequest{Name: ro.Name, Description: ro.Description, Scope: ro.Scope, Permissions: ro.Permissions})
		if err == nil {
			r.roleID[ro.Scope+"/"+key(created.Name)] = created.ID
		}
		return err
	}
	id, err := r.role(domain.Scope(ro.Scope), ro.Name)
	if err != nil {
		return err
	}
	if op.Action == Delete {
		_, err = r.c.DeleteRole(ctx, id, 0)
		return err
	}
	u := api.UpdateRoleRequest{}
	if op.Has("name") {
		u.Name = &ro.Name
	}
	if op.Has("description") {
		u.Description = &ro.Description
	}
	if op.Has("permissions") {
		perms := nonNil(ro.Permissions)
		u.Permissions = &perms
	}
	_, err = r.c.UpdateRole(ctx, id, u, 0)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (r *Remote) applyUser(ctx context.Context, op Op) error {
	u := op.User
	roleID, err := r.role(domain.ScopeSystem, u.SystemRole)
	if err != nil && op.Action != Delete {
		return err
	}
	var id string
	switch op.Action {
	case Create:
		created, err := r.c.CreateUser(ctx, api.CreateUserRequest{Username: u.Username, Email: u.Email, DisplayName: u.DisplayName,
			Source: u.Source, ExternalID: u.ExternalID, SystemRoleID: roleID})
		if err != nil {
			return err
		}
		id = created.ID
		r.userID[key(u.Username)] = id
		if u.Status == string(domain.UserDisabled) {
			if _, err := r.c.SetUserStatus(ctx, id, api.UserDisabled); err != nil {
				return err
			}
		}
		if !u.showPersonalInfo() {
			_, err = r.c.SetShowPersonalInfo(ctx, id, false)
		}
		return err
	case Delete:
		if id, err = r.id(r.userID, "user", key(u.Username), u.Username); err != nil {
			return err
		}
		_, err = r.c.DeleteUser(ctx, id, 0)
		return err
	}
	if id, err = r.id(r.userID, "user", key(u.Username), u.Username); err != nil {
		return err
	}
	if op.Has("source") || op.Has("external_id") {
		return domain.Errorf("declarative.Apply", domain.KindConflict, "a user's source and external id cannot be changed over the API")
	}
	if op.Has("username") || op.Has("email") || op.Has("display_name") {
		upd := api.UpdateUserRequest{}
		if op.Has("username") {
			upd.Username = &u.Username
		}
		if op.Has("email") {
			upd.Email = &u.Email
		}
		if op.Has("display_name") {
			upd.DisplayName = &u.DisplayName
		}
		if _, err := r.c.UpdateUser(ctx, id, upd, 0); err != nil {
			return err
		}
	}
	if op.Has("system_role") {
		if _, err := r.c.SetUserSystemRole(ctx, id, roleID); err != nil {
			return err
		}
	}
	if op.Has("status") {
		if _, err := r.c.SetUserStatus(ctx, id, or(u.Status, api.UserActive)); err != nil {
			return err
		}
	}
	if op.Has("show_personal_info") {
		if _, err := r.c.SetShowPersonalInfo(ctx, id, u.showPersonalInfo()); err != nil {
			return err
		}
	}
	return nil
}

func (r *Remote) applyProject(ctx context.Context, op Op) error {
	p := op.Project
	if op.Action == Create {
		created, err := r.c.CreateProject(ctx, api.CreateProjectRequest{Name: p.Name, Description: p.Description, MembershipMode: p.MembershipMode})
		if err == nil {
			r.projectID[key(p.Name)] = created.ID
		}
		return err
	}
	id, err := r.id(r.projectID, "project", key(p.Name), p.Name)
	if err != nil {
		return err
	}
	if op.Action == Delete {
		_, err = r.c.DeleteProject(ctx, id, 0)
		return err
	}
	u := api.UpdateProjectRequest{}
	if op.Has("name") {
		u.Name = &p.Name
	}
	if op.Has("description") {
		u.Description = &p.Description
	}
	if op.Has("membership_mode") {
		m := p.MembershipMode
		u.MembershipMode = &m
	}
	_, err = r.c.UpdateProject(ctx, id, u, 0)
	return err
}

func (r *Remote) applyGroup(ctx context.Context, op Op) error {
	g, ref := op.Group, op.GroupRef
	var id string
	var err error
	switch op.Action {
	case Create:
		ng := api.CreateGroupRequest{Name: g.Name, Description: g.Description, Scope: api.ScopeSystem}
		if ref.Project != "" {
			ng.Scope = api.ScopeProject
			if ng.ProjectID, err = r.id(r.projectID, "project", key(ref.Project), ref.Project); err != nil {
				return err
			}
		}
		created, err := r.c.CreateGroup(ctx, ng)
		if err != nil {
			return err
		}
		id = created.ID
		r.groupID[key(ref.String())] = id
		// The grants go through their own endpoints, as an update would.
		op.Fields = []string{"system_role", "system_permissions", "default_project_rights", "rights", "domains"}
		if g.SystemRole == "" && len(g.SystemPermissions) == 0 {
			op.Fields = slices.DeleteFunc(op.Fields, func(f string) bool { return f == "system_role" || f == "system_permissions" })
		}
		if g.DefaultProjectRights == nil {
			op.Fields = slices.DeleteFunc(op.Fields, func(f string) bool { return f == "default_project_rights" })
		}
		if g.Rights == nil {
			op.Fields = slices.DeleteFunc(op.Fields, func(f string) bool { return f == "rights" })
		}
		if len(g.Domains) == 0 {
			op.Fields = slices.DeleteFunc(op.Fields, func(f string) bool { return f == "domains" })
		}
	case Delete:
		if id, err = r.group(ref); err != nil {
			return err
		}
		o := gatehouse.DeleteGroupOptions{Confirm: true} // R27: the file is the confirmation
		if ref.Project != "" {
			o = gatehouse.DeleteGroupOptions{Members: "keep_users"} // R26's default
		}
		_, err = r.c.DeleteGroup(ctx, id, o)
		return err
	default:
		// Renamed: the key of a built-in group is its kind, so look it up
		// by its old name too.
		if id, err = r.groupByRefOrBuiltin(ref, g.Builtin); err != nil {
			return err
		}
		if op.Has("name") || op.Has("description") {
			u := api.UpdateGroupRequest{}
			if op.Has("name") {
				u.Name = &g.Name
			}
			if op.Has("description") {
				u.Description = &g.Description
			}
			if _, err := r.c.UpdateGroup(ctx, id, u, 0); err != nil {
				return err
			}
			r.groupID[key(ref.String())] = id
		}
	}
	if op.Has("system_role") || op.Has("system_permissions") {
		roleID, err := r.role(domain.ScopeSystem, g.SystemRole)
		if err != nil {
			return err
		}
		if _, err := r.c.SetGroupSystemGrants(ctx, id, api.SystemGrantsRequest{SystemRoleID: roleID, SystemPermissions: g.SystemPermissions}); err != nil {
			return err
		}
	}
	if op.Has("default_project_rights") {
		rr, err := r.rights(g.DefaultProjectRights)
		if err != nil {
			return err
		}
		if _, err := r.c.SetGroupDefaultProjectRights(ctx, id, api.DefaultRightsRequest{DefaultProjectRoleID: rr.RoleID, DefaultProjectPermissions: rr.Permissions}); err != nil {
			return err
		}
	}
	if op.Has("rights") {
		rr, err := r.rights(g.Rights)
		if err != nil {
			return err
		}
		pid, err := r.id(r.projectID, "project", key(ref.Project), ref.Project)
		if err != nil {
			return err
		}
		if _, err := r.c.SetGroupProjectRights(ctx, id, pid, rr); err != nil {
			return err
		}
	}
	if op.Has("domains") {
		if _, err := r.c.SetGroupDomains(ctx, id, g.Domains); err != nil {
			return err
		}
	}
	return nil
}

// groupByRefOrBuiltin finds a group being updated: by its name, or for a
// built-in group being renamed, by its fixed id.
func (r *Remote) groupByRefOrBuiltin(ref GroupRef, builtin string) (string, error) {
	switch domain.Builtin(builtin) {
	case domain.BuiltinAdministrators:
		return domain.GroupAdministratorsID, nil
	case domain.BuiltinEveryone:
		return domain.GroupEveryoneID, nil
	case domain.BuiltinPublic:
		return domain.GroupPublicID, nil
	}
	return r.group(ref)
}

func (r *Remote) applyImport(ctx context.Context, op Op) error {
	im := op.Import
	gid, err := r.group(GroupRef{Name: im.Group})
	if err != nil {
		return err
	}
	pid, err := r.id(r.projectID, "project", key(op.ProjectOf), op.ProjectOf)
	if err != nil {
		return err
	}
	switch op.Action {
	case Delete:
		_, err = r.c.RemoveGroupFromProjects(ctx, gid, []string{pid}, true)
		return err
	case Create:
		if _, err := r.c.ImportGroup(ctx, gid, []string{pid}); err != nil {
			return err
		}
	}
	rr, err := r.rights(&Rights{Role: im.Role, Permissions: im.Permissions})
	if err != nil {
		return err
	}
	_, err = r.c.SetGroupProjectRights(ctx, gid, pid, rr)
	return err
}

func (r *Remote) applyUserRights(ctx context.Context, op Op) error {
	ur := op.UserRights
	uid, err := r.id(r.userID, "user", key(ur.User), ur.User)
	if err != nil {
		return err
	}
	pid, err := r.id(r.projectID, "project", key(op.ProjectOf), op.ProjectOf)
	if err != nil {
		return err
	}
	if op.Action == Delete {
		_, err = r.c.RemoveUserFromProject(ctx, uid, pid)
		return err
	}
	rr, err := r.rights(&Rights{Role: ur.Role, Permissions: ur.Permissions})
	if err != nil {
		return err
	}
	_, err = r.c.SetUserProjectRights(ctx, uid, pid, rr)
	return err
}

func (r *Remote) applyMember(ctx context.Context, op Op) error {
	gid, err := r.group(op.GroupRef)
	if err != nil {
		return err
	}
	uid, err := r.id(r.userID, "user", key(op.Member.User), op.Member.User)
	if err != nil {
		return err
	}
	if op.Action == Delete {
		_, err = r.c.RemoveMembers(ctx, gid, uid)
		return err
	}
	_, err = r.c.AddMembers(ctx, gid, api.MemberInput{UserID: uid, ExpiresAt: op.Member.Expires})
	return err
}

// memberGroups lists a group's unexpired member groups, by name; a
// system group under a project group is marked System.
func (r *Remote) memberGroups(ctx context.Context, groupID, project string) ([]GroupMember, error) {
	rows, err := r.c.ListGroupMembers(ctx, groupID)
	if err != nil {
		return nil, err
	}
	now := r.now()
	var out []GroupMember
	for _, m := range rows {
		if m.Membership.ExpiresAt != nil && !m.Membership.ExpiresAt.After(now) {
			continue
		}
		out = append(out, GroupMember{Group: m.Group.Name, System: project != "" && m.Group.Scope == string(domain.ScopeSystem), Expires: m.Membership.ExpiresAt})
	}
	return out, nil
}

func (r *Remote) applyMemberGroup(ctx context.Context, op Op) error {
	gid, err := r.group(op.GroupRef)
	if err != nil {
		return err
	}
	child := GroupRef{Name: op.MemberGroup.Group}
	if !op.MemberGroup.System {
		child.Project = op.GroupRef.Project
	}
	cid, err := r.group(child)
	if err != nil {
		return err
	}
	if op.Action == Delete {
		_, err = r.c.RemoveGroupMembers(ctx, gid, cid)
		return err
	}
	_, err = r.c.AddGroupMembers(ctx, gid, api.GroupMemberInput{GroupID: cid, ExpiresAt: op.MemberGroup.Expires})
	return err
}

func (r *Remote) applyFolder(ctx context.Context, op Op) error {
	f := op.Folder
	names := splitPath(f.Path)
	if op.Action == Create {
		nf := api.CreateFolderRequest{Name: names[len(names)-1], Properties: f.Properties}
		var err error
		if len(names) > 1 {
			parent := strings.Join(names[:len(names)-1], "/")
			if nf.ParentID, err = r.id(r.folderID, "folder", key(parent), parent); err != nil {
				return err
			}
		}
		if nf.TypeID, err = r.id(r.typeID, "folder type", key(f.Type), f.Type); err != nil {
			return err
		}
		if f.Project != "" {
			if nf.ProjectID, err = r.id(r.projectID, "project", key(f.Project), f.Project); err != nil {
				return err
			}
		}
		created, err := r.c.CreateFolder(ctx, nf)
		if err == nil {
			r.folderID[key(f.Path)] = created.ID
		}
		return err
	}
	id, err := r.id(r.folderID, "folder", key(f.Path), f.Path)
	if err != nil {
		return err
	}
	if op.Action == Delete {
		_, err = r.c.DeleteFolder(ctx, id, 0)
		return err
	}
	u := api.UpdateFolderRequest{}
	if op.Has("name") {
		u.Name = &names[len(names)-1]
	}
	if op.Has("properties") {
		props := f.Properties
		if props == nil {
			props = map[string]string{}
		}
		u.Properties = &props
	}
	_, err = r.c.UpdateFolder(ctx, id, u, 0)
	return err
}

func (r *Remote) applyLevel(ctx context.Context, op Op) error {
	fid, err := r.id(r.folderID, "folder", key(op.Folder.Path), op.Folder.Path)
	if err != nil {
		return err
	}
	gid, err := r.group(GroupRef{Project: op.Level.Project, Name: op.Level.Group})
	if err != nil {
		return err
	}
	if op.Action == Delete {
		_, err = r.c.DeleteFolderLevel(ctx, fid, gid)
		return err
	}
	lv, err := domain.ParseLevel(op.Level.Level)
	if err != nil {
		return err
	}
	_, err = r.c.SetFolderLevel(ctx, fid, gid, lv.String())
	return err
}

func (r *Remote) applyRule(ctx context.Context, op Op) error {
	ru := op.Rule
	rk := key(op.GroupRef.String()) + "\x00" + key(ru.Name)
	if op.Action == Delete {
		id, err := r.id(r.ruleID, "rule", rk, ru.Name)
		if err != nil {
			return err
		}
		_, err = r.c.DeleteRule(ctx, id)
		return err
	}
	req := api.RuleRequest{Name: ru.Name, Grants: ru.Grants}
	for _, c := range ru.Criteria {
		tid, err := r.id(r.typeID, "folder type", key(c.FolderType), c.FolderType)
		if err != nil {
			return err
		}
		req.Criteria = append(req.Criteria, api.Criterion{FolderTypeID: tid, Property: c.Property, Operator: c.Operator, Value: c.Value, Values: c.Values})
	}
	if op.Action == Update {
		id, err := r.id(r.ruleID, "rule", rk, ru.Name)
		if err != nil {
			return err
		}
		_, err = r.c.UpdateRule(ctx, id, req, 0)
		return err
	}
	gid, err := r.group(op.GroupRef)
	if err != nil {
		return err
	}
	created, err := r.c.CreateRule(ctx, gid, req)
	if err == nil {
		r.ruleID[rk] = created.ID
	}
	return err
}
