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
// order the server streams one (Snapshot.Puts). Settings are left out.
func EncodeReplicaSnapshot(w io.Writer, s *Snapshot) error {
	e := NewReplicaEncoder(w, s.Revision)
	_ = s.Puts(e.Put)
	return e.Close() // the first error of a Put sticks and is Close's
}

// Puts hands each object of s to put as a put mutation, referenced
// objects before those referring to them, in the order the store streams
// a snapshot (sqlstore StreamSnapshot) and the engine's builder expects:
// roles, folder types, projects, groups, users, memberships, group
// memberships, project grants, domain grants, folders, folder levels,
// rules. Settings are left out. The objects are s's own; the mutation
// pointing to them is reused, so put must not keep it. The first error of
// put ends the walk and is returned.
func (s *Snapshot) Puts(put func(*Mutation) error) error {
	w := &putWalk{put: put}
	putAll(w, s.Roles, func(x *Role) Mutation { return Mutation{Entity: EntityRole, Role: x} })
	putAll(w, s.FolderTypes, func(x *FolderType) Mutation { return Mutation{Entity: EntityFolderType, FolderType: x} })
	putAll(w, s.Projects, func(x *Project) Mutation { return Mutation{Entity: EntityProject, Project: x} })
	putAll(w, s.Groups, func(x *Group) Mutation { return Mutation{Entity: EntityGroup, Group: x} })
	putAll(w, s.Users, func(x *User) Mutation { return Mutation{Entity: EntityUser, User: x} })
	putAll(w, s.Memberships, func(x *Membership) Mutation { return Mutation{Entity: EntityMembership, Membership: x} })
	putAll(w, s.GroupMemberships, func(x *GroupMembership) Mutation {
		return Mutation{Entity: EntityGroupMembership, GroupMembership: x}
	})
	putAll(w, s.ProjectGrants, func(x *ProjectGrant) Mutation { return Mutation{Entity: EntityProjectGrant, ProjectGrant: x} })
	putAll(w, s.DomainGrants, func(x *DomainGrant) Mutation { return Mutation{Entity: EntityDomainGrant, DomainGrant: x} })
	putAll(w, s.Folders, func(x *Folder) Mutation { return Mutation{Entity: EntityFolder, Folder: x} })
	putAll(w, s.FolderLevels, func(x *FolderLevel) Mutation { return Mutation{Entity: EntityFolderLevel, FolderLevel: x} })
	putAll(w, s.Rules, func(x *Rule) Mutation { return Mutation{Entity: EntityRule, Rule: x} })
	return w.err
}

// putWalk is Puts in progress; its first error stops it.
type putWalk struct {
	put func(*Mutation) error
	err error
}

// putAll reuses one mutation for the whole table: put may not keep it,
// and a million memberships then cost no allocation.
func putAll[T any](w *putWalk, xs []T, as func(*T) Mutation) {
	m := new(Mutation)
	for i := 0; i < len(xs) && w.err == nil; i++ {
		*m = as(&xs[i])
		m.Op = OpPut
		w.err = w.put(m)
	}
}

// replicaDecoder reads a snapshot; the first error sticks.
type replicaDecoder struct {
	r     *bufio.Reader
	table []string
	err   error
	m     Mutation      // the mutation handed to put, reused
	rec   replicaRecord // the objects it points to, reused
	keys  ReplicaKeys   // the table keys of the record's ids
	last  uint32        // the table key of the last string read, 0 if none
}

// ReplicaKeys name a decoded record's ids by their entry in the
// snapshot's string table (1 for its first string; 0 for none: a string
// past the table's bound). One key is always the same string, so a
// reader that resolved an id once may resolve it again by an array index
// instead of hashing the string (issue 22: a million memberships name
// two ids each). Only the ids of the large tables are keyed.
type ReplicaKeys struct {
	ID          uint32 // a user's or a group's own id
	Group, User uint32 // a membership's group and user
}

// replicaRecord holds one object of each kind: decoding a record
// overwrites its kind's, so a million memberships cost no allocation
// beyond their strings.
type replicaRecord struct {
	user            User
	project         Project
	group           Group
	membership      Membership
	groupMembership GroupMembership
	role            Role
	projectGrant    ProjectGrant
	domainGrant     DomainGrant
	folderType      FolderType
	folder          Folder
	folderLevel     FolderLevel
	rule            Rule
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

// str reads a string and notes its table key in d.last.
func (d *replicaDecoder) str() string {
	k := d.uvarint()
	d.last = 0
	if d.err != nil {
		return ""
	}
	if k > 0 {
		if k > uint64(len(d.table)) {
			d.fail("string reference %d past the table of %d", k, len(d.table))
			return ""
		}
		d.last = uint32(k)
		return d.table[k-1]
	}
	n := d.uvarint()
	if n > maxReplicaString {
		d.fail("a string of %d bytes", n)
		return ""
	}
	// Peek reads the bytes in place when the buffer holds them (it holds
	// 64 KiB, a string at most as much): one allocation, the string's.
	b, err := d.r.Peek(int(n))
	if err != nil {
		d.fail("cut short in a string: %v", err)
		return ""
	}
	s := string(b)
	_, _ = d.r.Discard(int(n))
	if len(d.table) < maxReplicaTable {
		d.table = append(d.table, s)
		d.last = uint32(len(d.table))
	}
	return s
}

// id reads a string and stores its table key in *key.
func (d *replicaDecoder) id(key *uint32) string {
	s := d.str()
	*key = d.last
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

// DecodeReplicaSnapshot reads a whole replica snapshot into memory. A
// stream that is cut short, corrupt, of another version or followed by
// anything fails with an error wrapping ErrReplicaSnapshot: a replica
// never loads part of a state.
func DecodeReplicaSnapshot(r io.Reader) (*Snapshot, error) {
	s := &Snapshot{}
	err := StreamReplicaSnapshot(r, func(rev int64) error { s.Revision = rev; return nil }, func(m *Mutation) error {
		s.Add(m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Add appends the object of a put mutation to s, by value (a streaming
// reader reuses its records), as Puts hands it over.
func (s *Snapshot) Add(m *Mutation) {
	switch {
	case m.User != nil:
		s.Users = append(s.Users, *m.User)
	case m.Project != nil:
		s.Projects = append(s.Projects, *m.Project)
	case m.Group != nil:
		s.Groups = append(s.Groups, *m.Group)
	case m.Membership != nil:
		s.Memberships = append(s.Memberships, *m.Membership)
	case m.GroupMembership != nil:
		s.GroupMemberships = append(s.GroupMemberships, *m.GroupMembership)
	case m.Role != nil:
		s.Roles = append(s.Roles, *m.Role)
	case m.ProjectGrant != nil:
		s.ProjectGrants = append(s.ProjectGrants, *m.ProjectGrant)
	case m.DomainGrant != nil:
		s.DomainGrants = append(s.DomainGrants, *m.DomainGrant)
	case m.FolderType != nil:
		s.FolderTypes = append(s.FolderTypes, *m.FolderType)
	case m.Folder != nil:
		s.Folders = append(s.Folders, *m.Folder)
	case m.FolderLevel != nil:
		s.FolderLevels = append(s.FolderLevels, *m.FolderLevel)
	case m.Rule != nil:
		s.Rules = append(s.Rules, *m.Rule)
	}
}

// StreamReplicaSnapshot reads a replica snapshot record by record, as
// sqlstore's StreamSnapshot reads the store: start gets the revision,
// then put gets each object as a put mutation in the order of the
// stream, so that a reader indexing as it reads never holds the whole
// snapshot. put must not keep the mutation nor the object it points to,
// which the decoder reuses for the next record of that kind; it may keep
// their strings, slices, maps and expiry, which are never reused. An error
// from start or put ends the read and is returned as it is. A stream cut
// short, corrupt, of another version or followed by anything fails with
// an error wrapping ErrReplicaSnapshot, possibly after put has seen
// records: a reader builds its state aside and discards it on any error.
func StreamReplicaSnapshot(r io.Reader, start func(revision int64) error, put func(*Mutation) error) error {
	return StreamReplicaSnapshotKeyed(r, start, func(m *Mutation, _ *ReplicaKeys) error { return put(m) })
}

// StreamReplicaSnapshotKeyed is StreamReplicaSnapshot handing put the
// string-table keys of each record's ids beside it (reused as the
// record is).
func StreamReplicaSnapshotKeyed(r io.Reader, start func(revision int64) error, put func(*Mutation, *ReplicaKeys) error) error {
	d := &replicaDecoder{r: bufio.NewReaderSize(r, 64<<10)}
	magic := make([]byte, len(replicaMagic))
	if _, err := io.ReadFull(d.r, magic); err != nil || string(magic) != replicaMagic {
		return fmt.Errorf("%w: not a Gatehouse replica snapshot", ErrReplicaSnapshot)
	}
	if v := d.uvarint(); d.err == nil && v != ReplicaVersion {
		return fmt.Errorf("%w: version %d, this reader knows %d", ErrReplicaSnapshot, v, ReplicaVersion)
	}
	rev := d.varint()
	if d.err != nil {
		return d.err
	}
	if err := start(rev); err != nil {
		return err
	}
	var n uint64
	for d.err == nil {
		t, err := d.r.ReadByte()
		if err != nil {
			d.fail("cut short before its end: %v", err)
			break
		}
		if t == tagEnd {
			d.end(n)
			break
		}
		n++
		if m := d.record(t); d.err == nil {
			if err := put(m, &d.keys); err != nil {
				return err
			}
		}
	}
	return d.err
}

// end checks the record count after the end tag, and that nothing follows.
func (d *replicaDecoder) end(n uint64) {
	if want := d.uvarint(); d.err == nil && want != n {
		d.fail("%d records read, %d written", n, want)
	}
	if _, err := d.r.ReadByte(); err != io.EOF && d.err == nil {
		d.fail("data after its end")
	}
}

// record reads one record of tag t into the decoder's record of that
// kind, and returns the put mutation pointing to it.
func (d *replicaDecoder) record(t byte) *Mutation {
	x, m, k := &d.rec, &d.m, &d.keys
	*m, *k = Mutation{Op: OpPut}, ReplicaKeys{}
	switch t {
	case tagUser:
		x.user = User{ID: d.id(&k.ID), Status: UserStatus(d.str()), SystemRoleID: d.str(), ShowPersonalInfo: d.bool()}
		m.Entity, m.User = EntityUser, &x.user
	case tagProject:
		x.project = Project{ID: d.str(), Name: d.str(), MembershipMode: MembershipMode(d.str())}
		m.Entity, m.Project = EntityProject, &x.project
	case tagGroup:
		x.group = Group{ID: d.id(&k.ID), Name: d.str(), Scope: Scope(d.str()), ProjectID: d.str(),
			Builtin: Builtin(d.str()), SystemRoleID: d.str(), SystemPermissions: d.strs()}
		m.Entity, m.Group = EntityGroup, &x.group
	case tagMembership:
		x.membership = Membership{GroupID: d.id(&k.Group), UserID: d.id(&k.User), ExpiresAt: d.expiry()}
		m.Entity, m.Membership = EntityMembership, &x.membership
	case tagGroupMembership:
		x.groupMembership = GroupMembership{GroupID: d.str(), MemberGroupID: d.str(), ExpiresAt: d.expiry()}
		m.Entity, m.GroupMembership = EntityGroupMembership, &x.groupMembership
	case tagRole:
		x.role = Role{ID: d.str(), Name: d.str(), Scope: Scope(d.str()), Permissions: d.strs()}
		m.Entity, m.Role = EntityRole, &x.role
	default:
		d.record2(t, m)
	}
	return m
}

// record2 is record for the other tags (split to keep functions short).
func (d *replicaDecoder) record2(t byte, m *Mutation) {
	x := &d.rec
	switch t {
	case tagProjectGrant:
		x.projectGrant = ProjectGrant{ProjectID: d.str(), SubjectKind: SubjectKind(d.str()),
			SubjectID: d.str(), RoleID: d.str(), Permissions: d.strs()}
		m.Entity, m.ProjectGrant = EntityProjectGrant, &x.projectGrant
	case tagDomainGrant:
		x.domainGrant = DomainGrant{GroupID: d.str(), Domain: d.str()}
		m.Entity, m.DomainGrant = EntityDomainGrant, &x.domainGrant
	case tagFolderType:
		x.folderType = FolderType{ID: d.str(), Name: d.str(), Contexts: d.strs(), Properties: d.strs()}
		m.Entity, m.FolderType = EntityFolderType, &x.folderType
	case tagFolder:
		x.folder = d.folder()
		m.Entity, m.Folder = EntityFolder, &x.folder
	case tagFolderLevel:
		x.folderLevel = FolderLevel{FolderID: d.str(), GroupID: d.str()}
		if l := d.uvarint(); l <= uint64(LevelDeleteFolder) {
			x.folderLevel.Level = Level(l)
		} else {
			d.fail("folder level %d", l)
		}
		m.Entity, m.FolderLevel = EntityFolderLevel, &x.folderLevel
	case tagRule:
		x.rule = d.rule()
		m.Entity, m.Rule = EntityRule, &x.rule
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
