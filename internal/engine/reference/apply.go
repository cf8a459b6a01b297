package reference

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Apply applies a change to snap in place, the way the store would have
// written it: a put replaces the object with the same key or appends it; a
// delete removes the object and performs the cascades listed in the doc of
// domain.Mutation. snap.Revision becomes c.Revision. The objects of c are
// copied, so c may be reused.
func Apply(snap *domain.Snapshot, c domain.Change) error {
	for i, m := range c.Mutations {
		if err := applyOne(snap, m); err != nil {
			return fmt.Errorf("reference.Apply: revision %d, mutation %d (%s %s): %w", c.Revision, i, m.Op, m.Entity, err)
		}
	}
	snap.Revision = c.Revision
	return nil
}

// put replaces the element of *s whose key equals key(v), or appends v.
func put[T any](s *[]T, v T, same func(a, b *T) bool) {
	v = deepCopy(v)
	for i := range *s {
		if same(&(*s)[i], &v) {
			(*s)[i] = v
			return
		}
	}
	*s = append(*s, v)
}

// remove deletes every element of *s for which drop is true.
func remove[T any](s *[]T, drop func(*T) bool) {
	*s = slices.DeleteFunc(*s, func(v T) bool { return drop(&v) })
}

func applyOne(snap *domain.Snapshot, m domain.Mutation) error {
	if m.Op != domain.OpPut && m.Op != domain.OpDelete {
		return fmt.Errorf("unknown op %q", m.Op)
	}
	del := m.Op == domain.OpDelete
	missing := fmt.Errorf("mutation has no %s object", m.Entity)
	switch m.Entity {
	case domain.EntityUser:
		if m.User == nil {
			return missing
		}
		if del {
			deleteUser(snap, m.User.ID)
		} else {
			put(&snap.Users, *m.User, func(a, b *domain.User) bool { return a.ID == b.ID })
		}
	case domain.EntityProject:
		if m.Project == nil {
			return missing
		}
		if del {
			deleteProject(snap, m.Project.ID)
		} else {
			put(&snap.Projects, *m.Project, func(a, b *domain.Project) bool { return a.ID == b.ID })
		}
	case domain.EntityGroup:
		if m.Group == nil {
			return missing
		}
		if del {
			deleteGroup(snap, m.Group.ID)
		} else {
			put(&snap.Groups, *m.Group, func(a, b *domain.Group) bool { return a.ID == b.ID })
		}
	case domain.EntityMembership:
		if m.Membership == nil {
			return missing
		}
		same := func(a, b *domain.Membership) bool { return a.GroupID == b.GroupID && a.UserID == b.UserID }
		if del {
			remove(&snap.Memberships, func(x *domain.Membership) bool { return same(x, m.Membership) })
		} else {
			put(&snap.Memberships, *m.Membership, same)
		}
	case domain.EntityGroupMembership:
		if m.GroupMembership == nil {
			return missing
		}
		same := func(a, b *domain.GroupMembership) bool {
			return a.GroupID == b.GroupID && a.MemberGroupID == b.MemberGroupID
		}
		if del {
			remove(&snap.GroupMemberships, func(x *domain.GroupMembership) bool { return same(x, m.GroupMembership) })
		} else {
			put(&snap.GroupMemberships, *m.GroupMembership, same)
		}
	case domain.EntityRole:
		if m.Role == nil {
			return missing
		}
		if del {
			remove(&snap.Roles, func(x *domain.Role) bool { return x.ID == m.Role.ID })
		} else {
			put(&snap.Roles, *m.Role, func(a, b *domain.Role) bool { return a.ID == b.ID })
		}
	case domain.EntityProjectGrant:
		if m.ProjectGrant == nil {
			return missing
		}
		same := func(a, b *domain.ProjectGrant) bool {
			return a.ProjectID == b.ProjectID && a.SubjectKind == b.SubjectKind && a.SubjectID == b.SubjectID
		}
		if del {
			remove(&snap.ProjectGrants, func(x *domain.ProjectGrant) bool { return same(x, m.ProjectGrant) })
		} else {
			put(&snap.ProjectGrants, *m.ProjectGrant, same)
		}
	case domain.EntityDomainGrant:
		if m.DomainGrant == nil {
			return missing
		}
		same := func(a, b *domain.DomainGrant) bool { return a.GroupID == b.GroupID && a.Domain == b.Domain }
		if del {
			remove(&snap.DomainGrants, func(x *domain.DomainGrant) bool { return same(x, m.DomainGrant) })
		} else {
			put(&snap.DomainGrants, *m.DomainGrant, same)
		}
	case domain.EntityFolderType:
		if m.FolderType == nil {
			return missing
		}
		if del {
			remove(&snap.FolderTypes, func(x *domain.FolderType) bool { return x.ID == m.FolderType.ID })
		} else {
			put(&snap.FolderTypes, *m.FolderType, func(a, b *domain.FolderType) bool { return a.ID == b.ID })
		}
	case domain.EntityFolder:
		if m.Folder == nil {
			return missing
		}
		if del {
			deleteFolder(snap, m.Folder.ID)
		} else {
			put(&snap.Folders, *m.Folder, func(a, b *domain.Folder) bool { return a.ID == b.ID })
		}
	case domain.EntityFolderLevel:
		if m.FolderLevel == nil {
			return missing
		}
		same := func(a, b *domain.FolderLevel) bool { return a.FolderID == b.FolderID && a.GroupID == b.GroupID }
		if del {
			remove(&snap.FolderLevels, func(x *domain.FolderLevel) bool { return same(x, m.FolderLevel) })
		} else {
			put(&snap.FolderLevels, *m.FolderLevel, same)
		}
	case domain.EntityRule:
		if m.Rule == nil {
			return missing
		}
		if del {
			remove(&snap.Rules, func(x *domain.Rule) bool { return x.ID == m.Rule.ID })
		} else {
			put(&snap.Rules, *m.Rule, func(a, b *domain.Rule) bool { return a.ID == b.ID })
		}
	case domain.EntitySetting:
		if m.Setting == nil {
			return missing
		}
		if del {
			remove(&snap.Settings, func(x *domain.Setting) bool { return x.Key == m.Setting.Key })
		} else {
			put(&snap.Settings, *m.Setting, func(a, b *domain.Setting) bool { return a.Key == b.Key })
		}
	default:
		return fmt.Errorf("unknown entity %q", m.Entity)
	}
	return nil
}

// deleteUser cascades to the user's memberships and project grants.
func deleteUser(snap *domain.Snapshot, id string) {
	remove(&snap.Users, func(x *domain.User) bool { return x.ID == id })
	remove(&snap.Memberships, func(x *domain.Membership) bool { return x.UserID == id })
	remove(&snap.ProjectGrants, func(x *domain.ProjectGrant) bool {
		return x.SubjectKind == domain.SubjectUser && x.SubjectID == id
	})
}

// deleteGroup cascades to the group's memberships (its members', users
// and groups, and its own in other groups), project grants, domain
// grants, folder levels and rules.
func deleteGroup(snap *domain.Snapshot, id string) {
	remove(&snap.Groups, func(x *domain.Group) bool { return x.ID == id })
	remove(&snap.Memberships, func(x *domain.Membership) bool { return x.GroupID == id })
	remove(&snap.GroupMemberships, func(x *domain.GroupMembership) bool { return x.GroupID == id || x.MemberGroupID == id })
	remove(&snap.ProjectGrants, func(x *domain.ProjectGrant) bool {
		return x.SubjectKind == domain.SubjectGroup && x.SubjectID == id
	})
	remove(&snap.DomainGrants, func(x *domain.DomainGrant) bool { return x.GroupID == id })
	remove(&snap.FolderLevels, func(x *domain.FolderLevel) bool { return x.GroupID == id })
	remove(&snap.Rules, func(x *domain.Rule) bool { return x.GroupID == id })
}

// deleteProject cascades to the project's groups (with their cascades) and
// every grant on it; its folders stay, with ProjectID cleared.
func deleteProject(snap *domain.Snapshot, id string) {
	remove(&snap.Projects, func(x *domain.Project) bool { return x.ID == id })
	var groups []string
	for _, g := range snap.Groups {
		if g.Scope == domain.ScopeProject && g.ProjectID == id {
			groups = append(groups, g.ID)
		}
	}
	for _, g := range groups {
		deleteGroup(snap, g)
	}
	remove(&snap.ProjectGrants, func(x *domain.ProjectGrant) bool { return x.ProjectID == id })
	for i := range snap.Folders {
		if snap.Folders[i].ProjectID == id {
			snap.Folders[i].ProjectID = ""
		}
	}
}

// deleteFolder cascades to the folder's whole subtree and the levels set on
// any folder of it.
func deleteFolder(snap *domain.Snapshot, id string) {
	doomed := map[string]bool{id: true}
	for grew := true; grew; {
		grew = false
		for _, f := range snap.Folders {
			if !doomed[f.ID] && f.ParentID != "" && doomed[f.ParentID] {
				doomed[f.ID] = true
				grew = true
			}
		}
	}
	remove(&snap.Folders, func(x *domain.Folder) bool { return doomed[x.ID] })
	remove(&snap.FolderLevels, func(x *domain.FolderLevel) bool { return doomed[x.FolderID] })
}

// Clone returns a deep copy of snap, sharing no slice, map or pointer with
// it, so that one copy can be changed or handed to another evaluator.
func Clone(snap *domain.Snapshot) *domain.Snapshot {
	c := *snap
	c.Users = cloneAll(snap.Users)
	c.Projects = cloneAll(snap.Projects)
	c.Groups = cloneAll(snap.Groups)
	c.Memberships = cloneAll(snap.Memberships)
	c.GroupMemberships = cloneAll(snap.GroupMemberships)
	c.Roles = cloneAll(snap.Roles)
	c.ProjectGrants = cloneAll(snap.ProjectGrants)
	c.DomainGrants = cloneAll(snap.DomainGrants)
	c.FolderTypes = cloneAll(snap.FolderTypes)
	c.Folders = cloneAll(snap.Folders)
	c.FolderLevels = cloneAll(snap.FolderLevels)
	c.Rules = cloneAll(snap.Rules)
	c.Settings = cloneAll(snap.Settings)
	return &c
}

func cloneAll[T any](s []T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = deepCopy(v)
	}
	return out
}

// deepCopy copies one domain object with its slices, maps and pointers.
func deepCopy[T any](v T) T {
	switch x := any(&v).(type) {
	case *domain.Group:
		x.SystemPermissions = slices.Clone(x.SystemPermissions)
		x.DefaultProjectPermissions = slices.Clone(x.DefaultProjectPermissions)
	case *domain.Membership:
		if x.ExpiresAt != nil {
			t := *x.ExpiresAt
			x.ExpiresAt = &t
		}
	case *domain.GroupMembership:
		if x.ExpiresAt != nil {
			t := *x.ExpiresAt
			x.ExpiresAt = &t
		}
	case *domain.Role:
		x.Permissions = slices.Clone(x.Permissions)
	case *domain.ProjectGrant:
		x.Permissions = slices.Clone(x.Permissions)
	case *domain.FolderType:
		x.Contexts = slices.Clone(x.Contexts)
		x.Properties = slices.Clone(x.Properties)
	case *domain.Folder:
		x.Properties = maps.Clone(x.Properties)
	case *domain.Rule:
		x.Criteria = slices.Clone(x.Criteria)
		for i := range x.Criteria {
			x.Criteria[i].Values = slices.Clone(x.Criteria[i].Values)
		}
		if x.Grants != nil {
			g := make(map[string][]string, len(x.Grants))
			for k, acts := range x.Grants {
				g[k] = slices.Clone(acts)
			}
			x.Grants = g
		}
	case *domain.User, *domain.Project, *domain.DomainGrant, *domain.FolderLevel, *domain.Setting:
		// no reference fields
	default:
		panic(fmt.Sprintf("reference: deepCopy of %T", v))
	}
	return v
}
