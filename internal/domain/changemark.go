package domain

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// ChangeMark identifies the change at a revision, so that a consumer of
// the change feed can tell the server which change it holds there
// (docs/integrating.md, "A restored database"). Revisions alone do not:
// a database restored from a backup takes new writes under the revision
// numbers it lost, so revision N may name two different changes. The
// mark hashes what the change-log row says about the write: its
// revision, commit time (to the microsecond, as stored), actor, and each
// mutation's op, entity and object id. Two histories that differ at N
// give different marks at N unless the same objects were written by the
// same actor at the same microsecond. The objects' contents are left out
// on purpose: they are re-encoded by each server version, and a mark
// must not change when the server is upgraded.
func ChangeMark(ch Change) string {
	h := sha256.New()
	var b [binary.MaxVarintLen64]byte
	num := func(x int64) { h.Write(binary.AppendVarint(b[:0], x)) }
	str := func(s string) { num(int64(len(s))); h.Write([]byte(s)) }
	num(ch.Revision)
	num(ch.At.UnixMicro())
	str(ch.ActorID)
	num(int64(len(ch.Mutations)))
	for _, m := range ch.Mutations {
		str(string(m.Op))
		str(string(m.Entity))
		str(m.ObjectID())
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// ObjectID names the mutation's object, as the change feed shows it;
// keys of several ids are joined with "/".
func (m Mutation) ObjectID() string {
	switch {
	case m.User != nil:
		return m.User.ID
	case m.Project != nil:
		return m.Project.ID
	case m.Group != nil:
		return m.Group.ID
	case m.Membership != nil:
		return m.Membership.GroupID + "/" + m.Membership.UserID
	case m.GroupMembership != nil:
		return m.GroupMembership.GroupID + "/" + m.GroupMembership.MemberGroupID
	case m.Role != nil:
		return m.Role.ID
	case m.ProjectGrant != nil:
		g := m.ProjectGrant
		return g.ProjectID + "/" + string(g.SubjectKind) + "/" + g.SubjectID
	case m.DomainGrant != nil:
		return m.DomainGrant.GroupID + "/" + m.DomainGrant.Domain
	case m.FolderType != nil:
		return m.FolderType.ID
	case m.Folder != nil:
		return m.Folder.ID
	case m.FolderLevel != nil:
		return m.FolderLevel.FolderID + "/" + m.FolderLevel.GroupID
	case m.Rule != nil:
		return m.Rule.ID
	case m.Setting != nil:
		return m.Setting.Key
	}
	return ""
}
