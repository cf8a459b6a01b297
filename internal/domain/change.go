package domain

import "time"

// Entity names a kind of stored object in the change log.
type Entity string

// The entities a Mutation can carry.
const (
	EntityUser       Entity = "user"
	EntityProject    Entity = "project"
	EntityGroup      Entity = "group"
	EntityMembership Entity = "membership"
	// EntityGroupMembership is a group as a member of another group.
	EntityGroupMembership Entity = "group_membership"
	EntityRole            Entity = "role"
	EntityProjectGrant    Entity = "project_grant"
	EntityDomainGrant     Entity = "domain_grant"
	EntityFolderType      Entity = "folder_type"
	EntityFolder          Entity = "folder"
	EntityFolderLevel     Entity = "folder_level"
	EntityRule            Entity = "rule"
	EntitySetting         Entity = "setting"
)

// Op is what a mutation did to its entity.
type Op string

// Mutation operations. A put creates or replaces the whole object; a delete
// removes it, and with it everything that depends on it (see Cascades).
const (
	OpPut    Op = "put"
	OpDelete Op = "delete"
)

// Mutation is one change to one object. Exactly one of the entity pointers
// is set, matching Entity. For OpPut it holds the object as stored after the
// write; for OpDelete it holds the object as it was (at least its key).
//
// Cascades: a delete mutation implies the deletes below, which the store
// performs and which are NOT listed as mutations of their own, so that a
// reader of the change log (the engine) must perform them too:
//
//   - user: its memberships and its project grants;
//   - group: its memberships, its group memberships (both those naming it
//     as the containing group and those naming it as the member), its
//     project grants, domain grants, folder levels and rules;
//   - project: its project-scope groups (with their cascades) and every
//     project grant on it; folders of the project keep existing with their
//     ProjectID cleared;
//   - folder: its whole subtree, and the folder levels on every folder of it;
//   - role, folder type: refused while still referenced (KindConflict), so
//     they cascade nothing.
type Mutation struct {
	Op         Op          `json:"op"`
	Entity     Entity      `json:"entity"`
	User       *User       `json:"user,omitempty"`
	Project    *Project    `json:"project,omitempty"`
	Group      *Group      `json:"group,omitempty"`
	Membership *Membership `json:"membership,omitempty"`
	// GroupMembership is set for EntityGroupMembership.
	GroupMembership *GroupMembership `json:"group_membership,omitempty"`
	Role            *Role            `json:"role,omitempty"`
	ProjectGrant    *ProjectGrant    `json:"project_grant,omitempty"`
	DomainGrant     *DomainGrant     `json:"domain_grant,omitempty"`
	FolderType      *FolderType      `json:"folder_type,omitempty"`
	Folder          *Folder          `json:"folder,omitempty"`
	FolderLevel     *FolderLevel     `json:"folder_level,omitempty"`
	Rule            *Rule            `json:"rule,omitempty"`
	Setting         *Setting         `json:"setting,omitempty"`
}

// Change is one committed write transaction: everything it changed, under
// one revision. Revisions strictly increase in commit order with no gaps,
// so a reader that has applied revision N has applied every change up to N.
type Change struct {
	Revision  int64      `json:"revision"`
	At        time.Time  `json:"at"`
	ActorID   string     `json:"actor_id,omitempty"`
	Mutations []Mutation `json:"mutations"`
}

// Snapshot is everything the engine needs, read at one revision in one
// consistent read. Users carry no password hash.
type Snapshot struct {
	Revision    int64
	Users       []User
	Projects    []Project
	Groups      []Group
	Memberships []Membership
	// GroupMemberships are the nested groups' edges (member group → group).
	GroupMemberships []GroupMembership
	Roles            []Role
	ProjectGrants    []ProjectGrant
	DomainGrants     []DomainGrant
	FolderTypes      []FolderType
	Folders          []Folder
	FolderLevels     []FolderLevel
	Rules            []Rule
	Settings         []Setting
}

// Detach points m at a copy of its object, so that m stays valid when the
// object it pointed to is reused (as a decoder reuses one per kind). The
// copy is shallow: its strings, slices and maps are the original's.
func (m *Mutation) Detach() {
	switch {
	case m.User != nil:
		m.User = copyOf(m.User)
	case m.Project != nil:
		m.Project = copyOf(m.Project)
	case m.Group != nil:
		m.Group = copyOf(m.Group)
	case m.Membership != nil:
		m.Membership = copyOf(m.Membership)
	case m.GroupMembership != nil:
		m.GroupMembership = copyOf(m.GroupMembership)
	case m.Role != nil:
		m.Role = copyOf(m.Role)
	case m.ProjectGrant != nil:
		m.ProjectGrant = copyOf(m.ProjectGrant)
	case m.DomainGrant != nil:
		m.DomainGrant = copyOf(m.DomainGrant)
	case m.FolderType != nil:
		m.FolderType = copyOf(m.FolderType)
	case m.Folder != nil:
		m.Folder = copyOf(m.Folder)
	case m.FolderLevel != nil:
		m.FolderLevel = copyOf(m.FolderLevel)
	case m.Rule != nil:
		m.Rule = copyOf(m.Rule)
	case m.Setting != nil:
		m.Setting = copyOf(m.Setting)
	}
}

func copyOf[T any](x *T) *T {
	c := *x
	return &c
}
