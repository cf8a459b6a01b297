package engine

import (
	"io"
	"runtime"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Builder builds an engine from objects handed over one at a time, as a
// snapshot streams them (sqlstore StreamSnapshot, domain
// StreamReplicaSnapshot), so that a reader indexing a large snapshot as
// it reads never holds it whole: the index is the only copy. New is a
// Builder fed from a snapshot in memory (domain.Snapshot.Puts), so there
// is one build path.
//
// The order is the stream's: an object comes after the objects it refers
// to (roles and folder types first, then projects, groups, users, what
// joins them, folders, folder levels, rules; Snapshot.Puts). Roles, folder
// types and a folder's parent may come later than what names them: they
// are resolved by Engine. An object put twice keeps its last put.
type Builder struct {
	b builder
	// parents are the folders whose parent had not come when they did,
	// linked by Engine.
	parents []folderParent
	// rulesByType lists the rules by the folder type of their first
	// criterion; Engine matches them to the folders.
	rulesByType map[int32][]int32
	// users and groups resolve the ids of a keyed stream (PutKeyed) by
	// their string-table key, an array index instead of a hash.
	users, groups byKey
	// membs are the memberships put, indexed at once by Engine, in
	// chunks: one slice growing to a million would copy itself as it grew.
	membs [][]stagedMemb
	err   error
	done  bool
}

// byKey holds, at a string-table key (domain.ReplicaKeys), the int of the
// object whose id is that key's string, plus one: 0 is unknown. In bulk
// nothing is deleted, so an int found here is live.
type byKey []int32

func (t *byKey) note(k uint32, i int32) {
	if k == 0 {
		return
	}
	if int(k) >= len(*t) {
		*t = append(*t, make([]int32, int(k)+1-len(*t))...)
	}
	(*t)[k] = i + 1
}

func (t byKey) get(k uint32) (int32, bool) {
	if int(k) < len(t) && t[k] > 0 {
		return t[k] - 1, true
	}
	return 0, false
}

// stagedMemb is a membership put in bulk: user ui in group g until exp.
type stagedMemb struct {
	u, g int32
	exp  int64
}

// noKeys are the keys of an object put without any.
var noKeys domain.ReplicaKeys

type folderParent struct {
	fi     int32
	parent string
}

// NewBuilder starts the index of a snapshot at revision.
func NewBuilder(revision int64) *Builder {
	const gen = 1
	s := &state{rev: revision}
	s.userIx, s.folderIx = newStrIndex[userHot](gen), newStrIndex[folderHot](gen)
	for _, ix := range []*strIndex[noVal]{&s.groupIx, &s.projectIx, &s.roleIx, &s.typeIx, &s.ruleIx} {
		*ix = newStrIndex[noVal](gen)
	}
	x := &Builder{b: builder{s: s, gen: gen, bulk: true, op: "engine.New"}, rulesByType: map[int32][]int32{}}
	x.b.reserveBuiltins()
	return x
}

// Put adds the object of a put mutation (its Op is not read; a mutation
// without an object, a setting, adds nothing). It keeps the object's
// strings, slices and maps but not the object itself, so a decoder may
// reuse it. The first error sticks: Put and Engine return it again.
func (x *Builder) Put(m *domain.Mutation) error {
	return x.PutKeyed(m, &noKeys)
}

// PutKeyed is Put with the string-table keys of the object's ids, as
// domain.StreamReplicaSnapshotKeyed hands them over: an id whose key was
// seen on an object put before is resolved by it.
func (x *Builder) PutKeyed(m *domain.Mutation, k *domain.ReplicaKeys) error {
	if x.err == nil && x.done {
		x.err = x.b.invalid("put after the engine was built")
	}
	if x.err == nil {
		x.err = x.put(m, k)
	}
	return x.err
}

func (x *Builder) put(m *domain.Mutation, k *domain.ReplicaKeys) error {
	b := &x.b
	switch {
	case m.Role != nil:
		b.putRole(m.Role)
	case m.FolderType != nil:
		b.putType(m.FolderType)
	case m.Project != nil:
		b.putProject(m.Project)
	case m.Group != nil:
		gi, err := b.putGroup(m.Group)
		if err == nil {
			x.groups.note(k.ID, gi)
		}
		return err
	case m.User != nil:
		x.users.note(k.ID, b.putUser(m.User))
	case m.Membership != nil:
		return x.putMembership(m.Membership, k)
	case m.GroupMembership != nil:
		return b.putGroupMembership(m.GroupMembership)
	case m.ProjectGrant != nil:
		return b.putProjectGrant(m.ProjectGrant)
	case m.DomainGrant != nil:
		return b.putDomainGrant(m.DomainGrant)
	case m.Folder != nil:
		x.putFolder(m.Folder)
	case m.FolderLevel != nil:
		return b.putFolderLevel(m.FolderLevel)
	case m.Rule != nil:
		return x.putRule(m.Rule)
	}
	return nil
}

// putMembership resolves the membership's ids by their keys where it can.
func (x *Builder) putMembership(m *domain.Membership, k *domain.ReplicaKeys) error {
	b := &x.b
	gi, ok := x.groups.get(k.Group)
	if !ok {
		if gi, ok = b.liveGroup(m.GroupID); !ok {
			return b.notFound("group", m.GroupID)
		}
	}
	ui, ok := x.users.get(k.User)
	if !ok {
		if ui, ok = b.liveUser(m.UserID); !ok {
			return b.notFound("user", m.UserID)
		}
	}
	if gi != gEveryone && gi != gPublic { // implicit members only (R4, R5)
		x.stage(stagedMemb{u: ui, g: gi, exp: expNanos(m.ExpiresAt)})
	}
	return nil
}

// stageChunk is how many memberships a chunk of Builder.membs holds.
const stageChunk = 1 << 14

func (x *Builder) stage(m stagedMemb) {
	if n := len(x.membs); n == 0 || len(x.membs[n-1]) == stageChunk {
		x.membs = append(x.membs, make([]stagedMemb, 0, stageChunk))
	}
	last := &x.membs[len(x.membs)-1]
	*last = append(*last, m)
}

// indexMemberships gives each user its groups and each group its members,
// from the memberships put, in their order (normalize then keeps the last
// put of a pair). Each list is counted first and allocated once at its
// size, and filled through a table of lists read in order of the ints:
// appending each membership to its user's and its group's record as it
// came grew a hundred thousand slices a few times each and read a user
// record out of cache per membership (issue 22: a third of a load). The
// members are added user by user, so each group's come sorted.
func (x *Builder) indexMemberships() error {
	b := &x.b
	groupsOf := sizedLists[memb](b.s.users.n, x.membs, func(m stagedMemb) int32 { return m.u })
	membersOf := sizedLists[int32](b.s.groups.n, x.membs, func(m stagedMemb) int32 { return m.g })
	for _, chunk := range x.membs {
		for _, m := range chunk {
			groupsOf[m.u] = append(groupsOf[m.u], memb{g: m.g, exp: m.exp})
		}
	}
	x.membs = nil
	for ui, gs := range groupsOf {
		for _, m := range gs {
			membersOf[m.g] = append(membersOf[m.g], int32(ui))
		}
	}
	// Only memberships add to these lists: they were empty.
	for ui, gs := range groupsOf {
		if gs != nil {
			b.s.users.get(int32(ui)).setGroups(gs)
		}
	}
	for gi, us := range membersOf {
		if us != nil {
			b.s.groups.get(int32(gi)).members = us
		}
	}
	return nil
}

// sizedLists returns n empty lists, list i with room for the memberships
// of ms whose key is i.
func sizedLists[T any](n int32, ms [][]stagedMemb, key func(stagedMemb) int32) [][]T {
	counts := make([]int32, n)
	for _, chunk := range ms {
		for _, m := range chunk {
			counts[key(m)]++
		}
	}
	lists := make([][]T, n)
	for i, c := range counts {
		if c > 0 {
			lists[i] = make([]T, 0, c)
		}
	}
	return lists
}

// putFolder indexes a folder and links it to its parent, or leaves that
// to Engine when the parent has not come yet. Engine refuses a cycle.
func (x *Builder) putFolder(f *domain.Folder) {
	b := &x.b
	fi := b.internFolder(f.ID)
	b.s.folders.set(b.gen, fi, b.newFolderRec(f))
	switch pi, ok := b.liveFolder(f.ParentID); {
	case ok:
		b.link(fi, pi)
	case f.ParentID != "":
		x.parents = append(x.parents, folderParent{fi: fi, parent: f.ParentID})
	}
}

// link makes pi the parent of fi (in bulk: Engine sorts the children).
func (b *builder) link(fi, pi int32) {
	b.s.folders.get(fi).parent = pi
	p := b.s.folders.get(pi)
	p.children = append(p.children, fi)
}

// putRule indexes a rule; Engine matches it to the folders.
func (x *Builder) putRule(r *domain.Rule) error {
	b := &x.b
	gi, ok := b.liveGroup(r.GroupID)
	if !ok {
		return b.notFound("group", r.GroupID)
	}
	ri := intern(b, &b.s.ruleIx, &b.s.rules, r.ID)
	rec := b.newRuleRec(r, gi)
	b.s.rules.set(b.gen, ri, rec)
	g := b.s.groups.get(gi)
	g.rules = append(g.rules, ri)
	if len(rec.criteria) > 0 {
		t := rec.criteria[0].typ
		x.rulesByType[t] = append(x.rulesByType[t], ri)
	}
	return nil
}

// Engine finishes the index: it links the folders to their parents
// (refusing a missing parent or a cycle), closes the nested groups,
// matches the rules to the folders and computes every folder's effective
// grants. The Builder is spent.
func (x *Builder) Engine() (*Engine, error) {
	if x.err == nil && x.done {
		x.err = x.b.invalid("engine already built")
	}
	x.done = true
	x.users, x.groups = nil, nil
	if x.err != nil {
		return nil, x.err
	}
	b := &x.b
	for _, step := range []func() error{x.indexMemberships, b.closeAll, x.linkFolders, x.matchRules} {
		if err := step(); err != nil {
			x.err = err
			return nil, err
		}
	}
	// A role put after a group holding it: the groups' system permissions
	// are computed once every role is in.
	for gi := range b.s.groups.n {
		b.refreshGsys(gi)
	}
	b.normalize()
	b.nestAllProjects()
	b.recomputeAll()
	b.syncUsers()
	e := &Engine{gen: b.gen}
	e.cur.Store(b.s)
	x.b.s = nil // the engine owns the state now
	return e, nil
}

// linkFolders links each folder to its parent and refuses a cycle, which
// would make every ancestor walk endless.
func (x *Builder) linkFolders() error {
	b := &x.b
	for _, fp := range x.parents {
		pi, ok := b.liveFolder(fp.parent)
		if !ok {
			return b.notFound("parent folder", fp.parent)
		}
		b.link(fp.fi, pi)
	}
	x.parents = nil
	const (
		unseen = iota
		onPath
		done
	)
	mark := make([]uint8, b.s.folders.n)
	var path []int32
	for fi := range b.s.folders.n {
		path = path[:0]
		for x := fi; x != none && mark[x] != done && b.s.folders.get(x) != nil; x = b.s.folders.get(x).parent {
			if mark[x] == onPath {
				return b.invalid("folder %q is its own ancestor", b.s.folders.get(x).id)
			}
			mark[x] = onPath
			path = append(path, x)
		}
		for _, x := range path {
			mark[x] = done
		}
	}
	return nil
}

// matchRules records which rules match each folder itself.
func (x *Builder) matchRules() error {
	b := &x.b
	for fi := range b.s.folders.n {
		f := b.s.folders.get(fi)
		if f == nil {
			continue
		}
		for _, ri := range x.rulesByType[f.typ] {
			r := b.s.rules.get(ri)
			if ruleMatches(r, f) {
				f.rules = append(f.rules, ruleRef{g: r.g, r: ri})
				r.matched = append(r.matched, fi)
			}
		}
	}
	x.rulesByType = nil
	return nil
}

// LoadReplicaSnapshot builds the engine of a replica snapshot (domain
// StreamReplicaSnapshot) as it decodes it: each record goes straight into
// a Builder, so the decoded snapshot is never held whole beside the index
// (issue 22: it doubled the peak memory of a local replica's load). The
// encoding carries no username: users are named by their id. A stream
// that fails part way builds nothing; its error wraps
// domain.ErrReplicaSnapshot, while an error of the index does not.
//
// It decodes and indexes on one goroutine: on two (as Load does) a large
// load took 10–15% less time and its peak was a few MB higher, and the
// replica's goal nearer its edge is memory (≤ 200 MB).
//
// Between the two it runs a garbage collection. Decoding leaves 30–45 MB
// of garbage on the large data set (the decoder's tables, the id tables'
// earlier sizes), which the heap's goal lets stand; the last pass (the
// folders' lists, the users' slots) then allocates ~40 MB more, and
// without the collection took them from the operating system: peak
// resident 197–204 MB, with it 179–183 MB, for one collection's ~25 ms of
// CPU once a load (docs/benchmarks.md, "The replica's load: one
// collection before the last pass").
func LoadReplicaSnapshot(r io.Reader) (*Engine, error) {
	var x *Builder
	err := domain.StreamReplicaSnapshotKeyed(r, func(rev int64) error {
		x = NewBuilder(rev)
		return nil
	}, func(m *domain.Mutation, k *domain.ReplicaKeys) error {
		if m.User != nil {
			m.User.Username = m.User.ID
		}
		return x.PutKeyed(m, k)
	})
	if err != nil {
		return nil, err
	}
	runtime.GC()
	return x.Engine()
}
