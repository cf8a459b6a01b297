package local

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// errNoObject is a feed object without the state it needs.
var errNoObject = errors.New("the object's state is missing")

// decodeChange turns a change of the feed back into the change the
// server's engine applied: each object, put with its state after the
// write or deleted with its state before, as a mutation. Personal fields
// are dropped, so that a state reached through the feed is the state a
// snapshot would have loaded.
func decodeChange(fc gatehouse.Change) (domain.Change, error) {
	ch := domain.Change{Revision: fc.Revision, At: fc.At, ActorID: fc.ActorID, Mutations: make([]domain.Mutation, 0, len(fc.Objects))}
	for i, o := range fc.Objects {
		m, err := decodeObject(o)
		if err != nil {
			return domain.Change{}, fmt.Errorf("object %d (%s %s %s): %w", i, o.Op, o.Entity, o.ID, err)
		}
		ch.Mutations = append(ch.Mutations, m)
	}
	return ch, nil
}

func decodeObject(o gatehouse.ChangedObject) (domain.Mutation, error) {
	m := domain.Mutation{Op: domain.Op(o.Op), Entity: domain.Entity(o.Entity)}
	raw := o.After
	switch m.Op {
	case domain.OpPut:
	case domain.OpDelete:
		raw = o.Before
	default:
		return m, fmt.Errorf("unknown op %q", o.Op)
	}
	if len(raw) == 0 {
		return m, errNoObject
	}
	target, err := targetOf(&m)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(raw, target); err != nil {
		return m, err
	}
	if m.User != nil {
		u := m.User
		*u = domain.User{ID: u.ID, Username: u.ID, Status: u.Status, SystemRoleID: u.SystemRoleID, ShowPersonalInfo: u.ShowPersonalInfo}
	}
	return m, nil
}

// targetOf sets the mutation's entity pointer to a new object and
// returns it, to decode into. An entity it does not know is an error, so
// that the replica reloads a snapshot instead of skipping the object.
func targetOf(m *domain.Mutation) (any, error) {
	switch m.Entity {
	case domain.EntityUser:
		m.User = &domain.User{}
		return m.User, nil
	case domain.EntityProject:
		m.Project = &domain.Project{}
		return m.Project, nil
	case domain.EntityGroup:
		m.Group = &domain.Group{}
		return m.Group, nil
	case domain.EntityMembership:
		m.Membership = &domain.Membership{}
		return m.Membership, nil
	case domain.EntityGroupMembership:
		m.GroupMembership = &domain.GroupMembership{}
		return m.GroupMembership, nil
	case domain.EntityRole:
		m.Role = &domain.Role{}
		return m.Role, nil
	case domain.EntityProjectGrant:
		m.ProjectGrant = &domain.ProjectGrant{}
		return m.ProjectGrant, nil
	case domain.EntityDomainGrant:
		m.DomainGrant = &domain.DomainGrant{}
		return m.DomainGrant, nil
	case domain.EntityFolderType:
		m.FolderType = &domain.FolderType{}
		return m.FolderType, nil
	case domain.EntityFolder:
		m.Folder = &domain.Folder{}
		return m.Folder, nil
	case domain.EntityFolderLevel:
		m.FolderLevel = &domain.FolderLevel{}
		return m.FolderLevel, nil
	case domain.EntityRule:
		m.Rule = &domain.Rule{}
		return m.Rule, nil
	case domain.EntitySetting:
		m.Setting = &domain.Setting{}
		return m.Setting, nil
	}
	return nil, fmt.Errorf("unknown entity %q", m.Entity)
}
