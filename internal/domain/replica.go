package domain

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// The replica snapshot encoding (docs/api.md, "Replica snapshot"): the
// permission-relevant state at one revision, written by the server as it
// reads the store and read back by an application's local replica
// (pkg/gatehouse/local). It lives here, beside Snapshot, because both
// sides need it and the domain is the one package they share.
//
// Layout, version 2: the magic "GHREPL", uvarint version, varint
// revision; then records, each an entity tag byte and the entity's fields;
// then the end tag 0 and the uvarint number of records, so a stream cut
// anywhere fails to decode instead of yielding a smaller state. Strings
// are uvarint k: 0 introduces a new string (uvarint length, bytes) that
// joins a table, k > 0 repeats table entry k-1; ids, which memberships
// repeat a million times, cost a few bytes each after their first use.
//
// Only what the engine evaluates is written: ids, memberships of users
// and of groups (nested groups) with their expiries, grants, roles, the folder tree with its levels, folder types,
// properties and rules, projects and their modes, and the names of
// groups, roles, rules, projects, folders and folder types that
// explanations cite. No username, email, display name, external id,
// description or timestamp: a user is an id, a status, an individual
// role and the show_personal_info preference (R18).

// ReplicaVersion is the version of the replica snapshot encoding.
// Version 2 added the record of a group's membership in another group
// (nested groups): a reader of version 1 would fail on its tag anyway,
// and the version names the cause instead of an unknown tag.
const ReplicaVersion = 2

// ReplicaContentType is the media type of a replica snapshot.
const ReplicaContentType = "application/vnd.gatehouse.replica"

const replicaMagic = "GHREPL"

// Decoding bounds: a hostile or corrupt stream fails instead of making
// the reader allocate without limit.
const (
	maxReplicaString = 1 << 16
	maxReplicaList   = 1 << 16
	// maxReplicaTable bounds the string table on both sides: past it new
	// strings are written in full and not remembered, which bounds the
	// server's memory per snapshot by the table, not by the data set.
	maxReplicaTable = 1 << 22
)

// Record tags, one per entity.
const (
	tagEnd byte = iota
	tagUser
	tagProject
	tagGroup
	tagMembership
	tagRole
	tagProjectGrant
	tagDomainGrant
	tagFolderType
	tagFolder
	tagFolderLevel
	tagRule
	tagGroupMembership // version 2
)

// ErrReplicaSnapshot wraps every decoding failure of a replica snapshot.
var ErrReplicaSnapshot = errors.New("replica snapshot")

// ReplicaEncoder writes a replica snapshot. Put each object with Put,
// then Close; the writer is not closed.
type ReplicaEncoder struct {
	w     *bufio.Writer
	table map[string]uint64
	n     uint64
	buf   [binary.MaxVarintLen64]byte
	err   error
}

// NewReplicaEncoder writes the header of a snapshot at revision.
func NewReplicaEncoder(w io.Writer, revision int64) *ReplicaEncoder {
	e := &ReplicaEncoder{w: bufio.NewWriterSize(w, 64<<10), table: map[string]uint64{}}
	_, e.err = e.w.WriteString(replicaMagic)
	e.uvarint(ReplicaVersion)
	e.varint(revision)
	return e
}

func (e *ReplicaEncoder) uvarint(x uint64) {
	if e.err == nil {
		_, e.err = e.w.Write(binary.AppendUvarint(e.buf[:0], x))
	}
}

func (e *ReplicaEncoder) varint(x int64) {
	if e.err == nil {
		_, e.err = e.w.Write(binary.AppendVarint(e.buf[:0], x))
	}
}

func (e *ReplicaEncoder) bool(b bool) {
	if b {
		e.uvarint(1)
	} else {
		e.uvarint(0)
	}
}

func (e *ReplicaEncoder) str(s string) {
	if k, ok := e.table[s]; ok {
		e.uvarint(k)
		return
	}
	e.uvarint(0)
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
	if len(e.table) < maxReplicaTable {
		e.table[s] = uint64(len(e.table)) + 1
	}
}

func (e *ReplicaEncoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *ReplicaEncoder) tag(t byte) {
	if e.err == nil {
		e.err = e.w.WriteByte(t)
	}
	e.n++
}

// Put writes one object: the entity pointer of a put mutation. A setting
// or a mutation without its object is skipped (no setting changes an
// answer of the engine).
func (e *ReplicaEncoder) Put(m *Mutation) error {
	switch {
	case m.User != nil:
		u := m.User
		e.tag(tagUser)
		e.str(u.ID)
		e.str(string(u.Status))
		e.str(u.SystemRoleID)
		e.bool(u.ShowPersonalInfo)
	case m.Project != nil:
		e.tag(tagProject)
		e.str(m.Project.ID)
		e.str(m.Project.Name)
		e.str(string(m.Project.MembershipMode))
	case m.Group != nil:
		g := m.Group
		e.tag(tagGroup)
		e.str(g.ID)
		e.str(g.Name)
		e.str(string(g.Scope))
		e.str(g.ProjectID)
		e.str(string(g.Builtin))
		e.str(g.SystemRoleID)
		e.strs(g.SystemPermissions)
	case m.Membership != nil:
		e.putMembership(m.Membership)
	case m.GroupMembership != nil:
		e.tag(tagGroupMembership)
		e.str(m.GroupMembership.GroupID)
		e.str(m.GroupMembership.MemberGroupID)
		e.expiry(m.GroupMembership.ExpiresAt)
	case m.Role != nil:
		e.tag(tagRole)
		e.str(m.Role.ID)
		e.str(m.Role.Name)
		e.str(string(m.Role.Scope))
		e.strs(m.Role.Permissions)
	case m.ProjectGrant != nil:
		g := m.ProjectGrant
		e.tag(tagProjectGrant)
		e.str(g.ProjectID)
		e.str(string(g.SubjectKind))
		e.str(g.SubjectID)
		e.str(g.RoleID)
		e.strs(g.Permissions)
	case m.DomainGrant != nil:
		e.tag(tagDomainGrant)
		e.str(m.DomainGrant.GroupID)
		e.str(m.DomainGrant.Domain)
	case m.FolderType != nil:
		e.tag(tagFolderType)
		e.str(m.FolderType.ID)
		e.str(m.FolderType.Name)
		e.strs(m.FolderType.Contexts)
		e.strs(m.FolderType.Properties)
	case m.Folder != nil:
		e.putFolder(m.Folder)
	case m.FolderLevel != nil:
		e.tag(tagFolderLevel)
		e.str(m.FolderLevel.FolderID)
		e.str(m.FolderLevel.GroupID)
		e.uvarint(uint64(m.FolderLevel.Level))
	case m.Rule != nil:
		e.putRule(m.Rule)
	}
	return e.err
}

func (e *ReplicaEncoder) putMembership(m *Membership) {
	e.tag(tagMembership)
	e.str(m.GroupID)
	e.str(m.UserID)
	e.expiry(m.ExpiresAt)
}

// expiry writes an optional expiry: a flag, then seconds and nanoseconds
// (UnixNano overflows past the year 2262).
func (e *ReplicaEncoder) expiry(at *time.Time) {
	e.bool(at != nil)
	if at != nil {
		e.varint(at.Unix())
		e.uvarint(uint64(at.Nanosecond()))
	}
}

func (e *ReplicaEncoder) putFolder(f *Folder) {
	e.tag(tagFolder)
	e.str(f.ID)
	e.str(f.ParentID)
	e.str(f.Name)
	e.str(f.TypeID)
	e.str(f.ProjectID)
	keys := slices.Sorted(maps.Keys(f.Properties))
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(f.Properties[k])
	}
}

func (e *ReplicaEncoder) putRule(r *Rule) {
	e.tag(tagRule)
	e.str(r.ID)
	e.str(r.GroupID)
	e.str(r.Name)
	e.uvarint(uint64(len(r.Criteria)))
	for _, c := range r.Criteria {
		e.str(c.FolderTypeID)
		e.str(c.Property)
		e.str(string(c.Operator))
		e.str(c.Value)
		e.strs(c.Values)
	}
	ctxs := slices.Sorted(maps.Keys(r.Grants))
	e.uvarint(uint64(len(ctxs)))
	for _, c := range ctxs {
		e.str(c)
		e.strs(r.Grants[c])
	}
}

// Close writes the end of the snapshot and flushes it.
func (e *ReplicaEncoder) Close() error {
	if e.err == nil {
		e.err = e.w.WriteByte(tagEnd)
	}
	e.uvarint(e.n)
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

// EncodeReplicaSnapshot writes a whole snapshot held in memory, in the
// order the server streams one (referenced objects first). Settings are
// left out.
func EncodeReplicaSnapshot(w io.Writer, s *Snapshot) error {
	e := NewReplicaEncoder(w, s.Revision)
	putAll(e, s.Roles, func(x *Role) Mutation { return Mutation{Role: x} })
	putAll(e, s.FolderTypes, func(x *FolderType) Mutation { return Mutation{FolderType: x} })
	putAll(e, s.Projects, func(x *Project) Mutation { return Mutation{Project: x} })
	putAll(e, s.Groups, func(x *Group) Mutation { return Mutation{Group: x} })
	putAll(e, s.Users, func(x *User) Mutation { return Mutation{User: x} })
	putAll(e, s.Memberships, func(x *Membership) Mutation { return Mutation{Membership: x} })
	putAll(e, s.GroupMemberships, func(x *GroupMembership) Mutation { return Mutation{GroupMembership: x} })
	putAll(e, s.ProjectGrants, func(x *ProjectGrant) Mutation { return Mutation{ProjectGrant: x} })
	putAll(e, s.DomainGrants, func(x *DomainGrant) Mutation { return Mutation{DomainGrant: x} })
	putAll(e, s.Folders, func(x *Folder) Mutation { return Mutation{Folder: x} })
	putAll(e, s.FolderLevels, func(x *FolderLevel) Mutation { return Mutation{FolderLevel: x} })
	putAll(e, s.Rules, func(x *Rule) Mutation { return Mutation{Rule: x} })
	return e.Close() // the first error of a Put sticks and is Close's
}

func putAll[T any](e *ReplicaEncoder, xs []T, as func(*T) Mutation) {
	for i := range xs {
		m := as(&xs[i])
		_ = e.Put(&m)
	}
}

// replicaDecoder reads a snapshot; the first error sticks.
type replicaDecoder struct {
	r     *bufio.Reader
	table []string
	err   error
}

func (d *replicaDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrReplicaSnapshot, fmt.Sprintf(format, args...))
	}
}

func (d *replicaDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail("cut short or corrupt: %v", err)
	}
	return x
}

// varint reads what binary.AppendVarint wrote: a zig-zag uvarint.
func (d *replicaDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *replicaDecoder) bool() bool {
	switch d.uvarint() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("a flag is neither 0 nor 1")
	return false
}

func (d *replicaDecoder) str() string {
	k := d.uvarint()
	if d.err != nil {
		return ""
	}
	if k > 0 {
		if k > uint64(len(d.table)) {
			d.fail("string reference %d past the table of %d", k, len(d.table))
			return ""
		}
		return d.table[k-1]
	}
	n := d.uvarint()
	if n > maxReplicaString {
		d.fail("a string of %d bytes", n)
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil && d.err == nil {
		d.fail("cut short in a string: %v", err)
		return ""
	}
	s := string(b)
	if len(d.table) < maxReplicaTable {
		d.table = append(d.table, s)
	}
	return s
}

func (d *replicaDecoder) count() int {
	n := d.uvarint()
	if n > maxReplicaList {
		d.fail("a list of %d items", n)
		return 0
	}
	return int(n)
}

func (d *replicaDecoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, d.str())
	}
	return out
}

// DecodeReplicaSnapshot reads a whole replica snapshot. A stream that is
// cut short, corrupt, of another version or followed by anything fails
// with an error wrapping ErrReplicaSnapshot: a replica never loads part of
// a state.
func DecodeReplicaSnapshot(r io.Reader) (*Snapshot, error) {
	d := &replicaDecoder{r: bufio.NewReaderSize(r, 64<<10)}
	magic := make([]byte, len(replicaMagic))
	if _, err := io.ReadFull(d.r, magic); err != nil || string(magic) != replicaMagic {
		return nil, fmt.Errorf("%w: not a Gatehouse replica snapshot", ErrReplicaSnapshot)
	}
	if v := d.uvarint(); d.err == nil && v != ReplicaVersion {
		return nil, fmt.Errorf("%w: version %d, this reader knows %d", ErrReplicaSnapshot, v, ReplicaVersion)
	}
	s := &Snapshot{Revision: d.varint()}
	var n uint64
	for d.err == nil {
		t, err := d.r.ReadByte()
		if err != nil {
			d.fail("cut short before its end: %v", err)
			break
		}
		if t == tagEnd {
			if want := d.uvarint(); d.err == nil && want != n {
				d.fail("%d records read, %d written", n, want)
			}
			if _, err := d.r.ReadByte(); err != io.EOF && d.err == nil {
				d.fail("data after its end")
			}
			break
		}
		n++
		d.record(t, s)
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// record reads one record of tag t into s.
func (d *replicaDecoder) record(t byte, s *Snapshot) {
	switch t {
	case tagUser:
		s.Users = append(s.Users, User{ID: d.str(), Status: UserStatus(d.str()), SystemRoleID: d.str(), ShowPersonalInfo: d.bool()})
	case tagProject:
		s.Projects = append(s.Projects, Project{ID: d.str(), Name: d.str(), MembershipMode: MembershipMode(d.str())})
	case tagGroup:
		s.Groups = append(s.Groups, Group{ID: d.str(), Name: d.str(), Scope: Scope(d.str()), ProjectID: d.str(),
			Builtin: Builtin(d.str()), SystemRoleID: d.str(), SystemPermissions: d.strs()})
	case tagMembership:
		s.Memberships = append(s.Memberships, Membership{GroupID: d.str(), UserID: d.str(), ExpiresAt: d.expiry()})
	case tagGroupMembership:
		s.GroupMemberships = append(s.GroupMemberships, GroupMembership{GroupID: d.str(), MemberGroupID: d.str(), ExpiresAt: d.expiry()})
	case tagRole:
		s.Roles = append(s.Roles, Role{ID: d.str(), Name: d.str(), Scope: Scope(d.str()), Permissions: d.strs()})
	case tagProjectGrant:
		s.ProjectGrants = append(s.ProjectGrants, ProjectGrant{ProjectID: d.str(), SubjectKind: SubjectKind(d.str()),
			SubjectID: d.str(), RoleID: d.str(), Permissions: d.strs()})
	case tagDomainGrant:
		s.DomainGrants = append(s.DomainGrants, DomainGrant{GroupID: d.str(), Domain: d.str()})
	case tagFolderType:
		s.FolderTypes = append(s.FolderTypes, FolderType{ID: d.str(), Name: d.str(), Contexts: d.strs(), Properties: d.strs()})
	case tagFolder:
		s.Folders = append(s.Folders, d.folder())
	case tagFolderLevel:
		fl := FolderLevel{FolderID: d.str(), GroupID: d.str()}
		if l := d.uvarint(); l <= uint64(LevelDeleteFolder) {
			fl.Level = Level(l)
		} else {
			d.fail("folder level %d", l)
		}
		s.FolderLevels = append(s.FolderLevels, fl)
	case tagRule:
		s.Rules = append(s.Rules, d.rule())
	default:
		d.fail("unknown record tag %d", t)
	}
}

// expiry reads what ReplicaEncoder.expiry wrote.
func (d *replicaDecoder) expiry() *time.Time {
	if !d.bool() {
		return nil
	}
	sec, ns := d.varint(), d.uvarint()
	if ns >= uint64(time.Second) {
		d.fail("an expiry's nanoseconds are %d", ns)
		return nil
	}
	at := time.Unix(sec, int64(ns)).UTC()
	return &at
}

func (d *replicaDecoder) folder() Folder {
	f := Folder{ID: d.str(), ParentID: d.str(), Name: d.str(), TypeID: d.str(), ProjectID: d.str()}
	if n := d.count(); n > 0 {
		f.Properties = make(map[string]string, n)
		for range n {
			k := d.str()
			f.Properties[k] = d.str()
		}
	}
	return f
}

func (d *replicaDecoder) rule() Rule {
	r := Rule{ID: d.str(), GroupID: d.str(), Name: d.str()}
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		r.Criteria = append(r.Criteria, Criterion{FolderTypeID: d.str(), Property: d.str(), Operator: Operator(d.str()),
			Value: d.str(), Values: d.strs()})
	}
	n = d.count()
	r.Grants = make(map[string][]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		c := d.str()
		r.Grants[c] = d.strs()
	}
	return r
}
