package service_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// The kernel's invariants (R3, R22), checked by random exploration: random
// worlds, random sequences of every kind of write, by random callers
// (administrators, delegated administrators with random checkboxes and
// roles, project moderators, limited API tokens). After each step, with
// the reference evaluator (not the engine, not the kernel):
//
//   - no escalation: every permission any user gained or lost on a
//     resource that existed before and after is held by the caller (or
//     the caller holds server.manage); a deleted user held nothing the
//     caller lacks;
//   - no lock-out: an active user holds server.manage at every later
//     instant;
//   - a refused write left the revision where it was, and a permission
//     refusal wrote a denied audit record;
//   - the engine answers as the reference does.
var (
	propWorlds = flag.Int("kernel.worlds", 0, "worlds the kernel property test explores (0: 200, or 8 with -short)")
	propSteps  = flag.Int("kernel.steps", 100, "writes per world in the kernel property test")
	propSeed   = flag.Uint64("kernel.seed", 0, "first seed of the kernel property test (0: from the clock)")
	propFor    = flag.Duration("kernel.for", 0, "explore new worlds for this long instead (a soak: go test -run TestR22R3KernelProperty ./internal/service -kernel.for 1h)")
)

func TestR22R3KernelProperty(t *testing.T) {
	worlds := *propWorlds
	if worlds == 0 {
		worlds = 200
		if testing.Short() {
			worlds = 8
		}
	}
	seed := *propSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	var ops, refused, denied int
	deadline := time.Now().Add(*propFor)
	for w := 0; w < worlds || *propFor > 0 && time.Now().Before(deadline); w++ {
		ws := seed + uint64(w)
		pw := newPropWorld(t, ws)
		for i := 0; i < *propSteps; i++ {
			ok, why := pw.step()
			ops++
			if !ok {
				refused++
				if domain.Is(why, domain.KindForbidden) || domain.Is(why, domain.KindNotFound) {
					denied++
				}
			}
			if t.Failed() {
				t.Fatalf("world seed %d (rerun: go test ./internal/service -run TestR22R3KernelProperty -kernel.seed %d -kernel.worlds 1), step %d", ws, ws, i)
			}
		}
	}
	if *propFor > 0 {
		worlds = int(ops / *propSteps)
	}
	line := fmt.Sprintf("kernel property: %d worlds, %d writes by random callers (%d refused, %d of them denied), no escalation, no lock-out, engine = reference", worlds, ops, refused, denied)
	t.Log(line)
	if !testing.Short() {
		testfigures.Record(t, line)
	}
}

type propWorld struct {
	t      *testing.T
	ctx    context.Context
	rng    *rand.Rand
	st     store.Store
	svc    *service.Service
	now    time.Time
	admin  service.Caller
	users  []string // ids, the baseline user excluded
	base   string   // a user in no group: what every user holds (Everyone, Public)
	groups []domain.Group
	projs  []domain.Project
	types  []domain.FolderType
	folds  []domain.Folder
	roles  []string
	calls  []service.Caller
	// last is the state the previous step left, reused as this step's
	// "before" when the clock did not move.
	last *observed
}

type observed struct {
	snap *domain.Snapshot
	ref  *reference.Evaluator
	h    holdings
}

func (pw *propWorld) observe() *observed {
	snap, ref := pw.snapshot()
	return &observed{snap: snap, ref: ref, h: pw.holdings(snap, ref)}
}

var propSysKeys = []string{domain.PermUsersView, domain.PermUsersEdit, domain.PermUsersDelete, domain.PermGroupsView,
	domain.PermGroupsEdit, domain.PermGroupsMembers, domain.PermGroupsDelete, domain.PermRolesView, domain.PermRolesEdit,
	domain.PermFilesAdmin, domain.PermAuditView, domain.PermProjectCreate, domain.PermRolesAssignAdmin, domain.PermServerManage}

var propProjKeys = []string{domain.PermProjectRead, domain.PermProjectWrite, domain.PermProjectModerate}

func newPropWorld(t *testing.T, seed uint64) *propWorld {
	pw := &propWorld{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newEnvAt(t, func() time.Time { return pw.now })
	pw.ctx, pw.st, pw.svc, pw.admin = e.ctx, e.st, e.svc, e.admin
	pw.build()
	return pw
}

func (pw *propWorld) must(err error) {
	pw.t.Helper()
	if err != nil {
		pw.t.Fatal(err)
	}
}

func (pw *propWorld) pick(n int) int { return pw.rng.IntN(n) }

// subset picks keys at random, with what they require (R9) most of the
// time: a set missing a requirement is a refusal worth trying too.
func (pw *propWorld) subset(keys []string, p float64) []string {
	var out []string
	for _, k := range keys {
		if pw.rng.Float64() < p {
			out = append(out, k)
		}
	}
	if pw.rng.Float64() < 0.9 {
		for _, k := range slices.Clone(out) {
			if perm, ok := domain.LookupPermission(k); ok {
				out = append(out, perm.Requires...)
			}
		}
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// build makes a small random world as the administrator.
func (pw *propWorld) build() {
	s, ctx, adm := pw.svc, pw.ctx, pw.admin
	pw.roles = []string{"", domain.RoleSystemManagerID, domain.RoleSystemMemberID, domain.RoleITAdministratorID}
	r, _, err := s.CreateRole(ctx, adm, domain.Role{Name: "Custom", Scope: domain.ScopeSystem, Permissions: withRequirements(pw.subset(propSysKeys[:9], 0.4))})
	pw.must(err)
	pw.roles = append(pw.roles, r.ID)
	for i := 0; i < 2+pw.pick(2); i++ {
		mode := domain.ModeMultiple
		if i == 0 {
			mode = domain.ModeExclusive
		}
		p, _, err := s.CreateProject(ctx, adm, domain.Project{Name: fmt.Sprintf("P%d", i), MembershipMode: mode})
		pw.must(err)
		pw.projs = append(pw.projs, p)
	}
	base, _, err := s.CreateUser(ctx, adm, service.NewUser{Username: "baseline"})
	pw.must(err)
	pw.base = base.ID
	for i := 0; i < 6+pw.pick(4); i++ {
		u, _, err := s.CreateUser(ctx, adm, service.NewUser{Username: fmt.Sprintf("u%d", i), SystemRoleID: pw.roles[pw.pick(len(pw.roles)-1)]})
		pw.must(err)
		pw.users = append(pw.users, u.ID)
	}
	for _, id := range []string{domain.GroupAdministratorsID, domain.GroupEveryoneID, domain.GroupPublicID} {
		g, err := pw.st.GetGroup(ctx, id)
		pw.must(err)
		pw.groups = append(pw.groups, g)
	}
	for i := 0; i < 4+pw.pick(3); i++ {
		g := domain.Group{Name: fmt.Sprintf("G%d", i), Scope: domain.ScopeSystem, SystemPermissions: pw.subset(propSysKeys[:11], 0.3)}
		if i%3 == 2 {
			g = domain.Group{Name: fmt.Sprintf("G%d", i), Scope: domain.ScopeProject, ProjectID: pw.projs[pw.pick(len(pw.projs))].ID}
		}
		g.SystemPermissions = withRequirements(g.SystemPermissions)
		g, _, err := s.CreateGroup(ctx, adm, g)
		pw.must(err)
		pw.groups = append(pw.groups, g)
	}
	ft, _, err := s.CreateFolderType(ctx, adm, domain.FolderType{Name: "Study", Contexts: []string{domain.ContextRoot, "data"}, Properties: []string{"site"}})
	pw.must(err)
	pw.types = []domain.FolderType{{ID: domain.FolderTypeFolderID}, ft}
	for i := 0; i < 8; i++ {
		f := domain.Folder{Name: fmt.Sprintf("f%d", i), TypeID: pw.types[pw.pick(2)].ID}
		if i > 0 {
			f.ParentID = pw.folds[pw.pick(i)].ID
		}
		if f.TypeID == ft.ID {
			f.Properties = map[string]string{"site": []string{"a", "b"}[pw.pick(2)]}
		}
		f, _, err := s.CreateFolder(ctx, adm, f)
		pw.must(err)
		pw.folds = append(pw.folds, f)
	}
	// A random start: memberships, grants and levels, as the administrator.
	for i := 0; i < 25; i++ {
		_ = pw.randomWrite(adm) // refusals are part of a random start
	}
	// From now on the administrator is a target like anyone: the
	// exploration must find every way to lock the server out.
	pw.users = append(pw.users, adm.UserID)
	pw.callers()
}

// callers are the random administrators of the exploration: each user
// as themselves, some through limited tokens, and the administrator.
func (pw *propWorld) callers() {
	pw.calls = []service.Caller{pw.admin}
	for _, id := range pw.users {
		c := service.Caller{UserID: id, Username: id}
		pw.calls = append(pw.calls, c)
		if pw.rng.Float64() < 0.3 {
			c.Limit = pw.subset(propSysKeys, 0.4)
			if len(c.Limit) > 0 {
				pw.calls = append(pw.calls, c)
			}
		}
	}
}

func withRequirements(keys []string) []string {
	out := slices.Clone(keys)
	for _, k := range keys {
		if perm, ok := domain.LookupPermission(k); ok {
			out = append(out, perm.Requires...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (pw *propWorld) anyGroup() domain.Group  { return pw.groups[pw.pick(len(pw.groups))] }
func (pw *propWorld) anyUser() string         { return pw.users[pw.pick(len(pw.users))] }
func (pw *propWorld) anyProj() domain.Project { return pw.projs[pw.pick(len(pw.projs))] }
func (pw *propWorld) anyFolder() domain.Folder {
	return pw.folds[pw.pick(len(pw.folds))]
}

func (pw *propWorld) expiry() *time.Time {
	if pw.rng.Float64() < 0.5 {
		return nil
	}
	t := pw.now.Add(time.Duration(1+pw.pick(48)) * time.Hour)
	return &t
}

// randomWrite makes one random write as c and returns its error.
func (pw *propWorld) randomWrite(c service.Caller) error {
	s, ctx := pw.svc, pw.ctx
	switch pw.pick(17) {
	case 0, 1, 2:
		_, _, err := s.AddMembers(ctx, c, pw.anyGroup().ID, []service.MemberInput{{UserID: pw.anyUser(), ExpiresAt: pw.expiry()}})
		return err
	case 3:
		_, _, err := s.RemoveMembers(ctx, c, pw.anyGroup().ID, []string{pw.anyUser()})
		return err
	case 4:
		g := pw.anyGroup()
		_, _, err := s.SetGroupSystemGrants(ctx, c, g.ID, pw.roles[pw.pick(len(pw.roles))], pw.subset(propSysKeys, 0.25))
		return err
	case 5:
		_, _, err := s.SetGroupProjectRights(ctx, c, pw.anyGroup().ID, pw.anyProj().ID, "", pw.subset(propProjKeys, 0.5))
		return err
	case 6:
		_, _, err := s.SetUserProjectRights(ctx, c, pw.anyUser(), pw.anyProj().ID, "", pw.subset(propProjKeys, 0.5))
		return err
	case 7:
		return errOf(s.RemoveUserFromProject(ctx, c, pw.anyUser(), pw.anyProj().ID))
	case 8:
		_, _, err := s.SetGroupDomains(ctx, c, pw.anyGroup().ID, pw.subset([]string{"a.example", "b.example"}, 0.5))
		return err
	case 9:
		_, _, err := s.SetFolderLevel(ctx, c, pw.anyFolder().ID, pw.anyGroup().ID, domain.Level(pw.pick(int(domain.LevelDeleteFolder)+1)))
		return err
	case 10:
		return errOf(s.DeleteFolderLevel(ctx, c, pw.anyFolder().ID, pw.anyGroup().ID))
	case 11:
		_, _, err := s.CreateRule(ctx, c, domain.Rule{GroupID: pw.anyGroup().ID, Name: fmt.Sprintf("r%d", pw.pick(1000)),
			Criteria: []domain.Criterion{{FolderTypeID: pw.types[1].ID, Property: "site", Operator: domain.OpEq, Value: []string{"a", "b"}[pw.pick(2)]}},
			Grants:   map[string][]string{"data": pw.subset([]string{"read", "edit", "delete"}, 0.6)}})
		return err
	case 12:
		st := domain.UserActive
		if pw.rng.Float64() < 0.5 {
			st = domain.UserDisabled
		}
		_, _, err := s.SetUserStatus(ctx, c, pw.anyUser(), st)
		return err
	case 13:
		_, _, err := s.SetUserSystemRole(ctx, c, pw.anyUser(), pw.roles[pw.pick(len(pw.roles))])
		return err
	case 14:
		return errOf(s.SetPassword(ctx, c, pw.anyUser(), "a-new-pass-phrase"))
	case 15:
		f := pw.anyFolder()
		parent := pw.anyFolder().ID
		_, _, err := s.UpdateFolder(ctx, c, f.ID, service.FolderUpdate{ParentID: &parent})
		return err
	default:
		keys := pw.subset(propSysKeys, 0.3)
		_, _, err := s.UpdateRole(ctx, c, pw.roles[1+pw.pick(len(pw.roles)-1)], service.RoleUpdate{Permissions: &keys})
		return err
	}
}

// holdings is every permission of every user (and the baseline) on every
// resource, by the reference evaluator at now.
type holdings map[string]map[string][]string // user -> resource -> keys

func (pw *propWorld) snapshot() (*domain.Snapshot, *reference.Evaluator) {
	snap, err := pw.st.LoadSnapshot(pw.ctx)
	pw.must(err)
	return snap, reference.New(snap)
}

func resources(snap *domain.Snapshot) []engine.Resource {
	rs := []engine.Resource{{Kind: engine.KindSystem}, {Kind: engine.KindDomain, ID: "a.example"}, {Kind: engine.KindDomain, ID: "b.example"}}
	for _, p := range snap.Projects {
		rs = append(rs, engine.Resource{Kind: engine.KindProject, ID: p.ID})
	}
	for _, f := range snap.Folders {
		rs = append(rs, engine.Resource{Kind: engine.KindFolder, ID: f.ID})
	}
	return rs
}

func (pw *propWorld) holdings(snap *domain.Snapshot, ref *reference.Evaluator) holdings {
	h := holdings{}
	for _, u := range snap.Users {
		h[u.ID] = map[string][]string{}
		for _, r := range resources(snap) {
			keys, err := ref.EffectivePermissions(engine.Subject{UserID: u.ID}, r, pw.now)
			pw.must(err)
			h[u.ID][r.String()] = keys
		}
	}
	return h
}

// held is what caller c may grant or take away on r: its own holdings
// (within a token's limit, which holds system permissions only) and what
// every user holds anyway.
func held(h holdings, c service.Caller, base, r string) []string {
	own := h[c.UserID][r]
	if c.Limited() {
		own = nil
		if r == "system" {
			for _, k := range h[c.UserID][r] {
				if slices.Contains(domain.Close(c.Limit), k) {
					own = append(own, k)
				}
			}
		}
	}
	return append(slices.Clone(own), h[base][r]...)
}

func (pw *propWorld) step() (bool, error) {
	t := pw.t
	if pw.rng.Float64() < 0.2 {
		pw.now = pw.now.Add(time.Duration(pw.pick(12)) * time.Hour)
		pw.last = nil
	}
	c := pw.calls[pw.pick(len(pw.calls))]
	if pw.last == nil {
		pw.last = pw.observe()
	}
	b := pw.last
	snapB, before := b.snap, b.h
	lastAudit, _ := pw.newestAudit()
	err := pw.randomWrite(c)
	a := pw.observe()
	pw.last = a
	snapA, refA, after := a.snap, a.ref, a.h
	if err != nil {
		if snapA.Revision != snapB.Revision {
			t.Errorf("refused write (%v) moved the revision from %d to %d", err, snapB.Revision, snapA.Revision)
		}
		if id, outcome := pw.newestAudit(); domain.Is(err, domain.KindForbidden) && (id == lastAudit || outcome != domain.OutcomeDenied) {
			t.Errorf("refusal %v wrote no denied audit record", err)
		}
	}
	root := slices.Contains(held(before, c, pw.base, "system"), domain.PermServerManage) && !c.Limited() ||
		c.Limited() && slices.Contains(domain.Close(c.Limit), domain.PermServerManage) && slices.Contains(before[c.UserID]["system"], domain.PermServerManage)
	if !root && before[c.UserID] != nil {
		pw.noEscalation(c, before, after)
	}
	pw.noLockOut(refA)
	pw.engineAgrees(snapA, after)
	return err == nil, err
}

func (pw *propWorld) noEscalation(c service.Caller, before, after holdings) {
	for u, rs := range before {
		if u == pw.base {
			continue
		}
		for r, keysB := range rs {
			keysA, ok := after[u][r]
			if after[u] != nil && !ok {
				continue // the resource is gone
			}
			may := held(before, c, pw.base, r)
			for _, k := range symmetricKeys(keysB, keysA) {
				if !slices.Contains(may, k) {
					pw.t.Errorf("caller %s (limit %v) made user %s gain or lose %s on %s without holding it", c.UserID, c.Limit, u, k, r)
				}
			}
		}
	}
}

func symmetricKeys(a, b []string) []string {
	var out []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	for _, k := range b {
		if !slices.Contains(a, k) {
			out = append(out, k)
		}
	}
	return out
}

// noLockOut: an active user holds server.manage now and after every
// expiry in the data (far in the future).
func (pw *propWorld) noLockOut(ref *reference.Evaluator) {
	for _, at := range []time.Time{pw.now, pw.now.Add(100 * 365 * 24 * time.Hour)} {
		users, _, err := ref.ListSubjects(domain.PermServerManage, engine.Resource{Kind: engine.KindSystem}, at)
		pw.must(err)
		if len(users) == 0 {
			pw.t.Errorf("nobody holds %s at %s (R3)", domain.PermServerManage, at)
		}
	}
}

// engineAgrees compares the engine with the reference's holdings h of
// the same snapshot.
func (pw *propWorld) engineAgrees(snap *domain.Snapshot, h holdings) {
	eng := pw.svc.Engine()
	if eng.Revision() != snap.Revision {
		pw.t.Errorf("engine at revision %d, store at %d", eng.Revision(), snap.Revision)
		return
	}
	for _, u := range snap.Users {
		for _, r := range resources(snap) {
			want := h[u.ID][r.String()]
			got, err := eng.EffectivePermissions(engine.Subject{UserID: u.ID}, r, pw.now)
			if err != nil || !slices.Equal(want, got) {
				pw.t.Errorf("user %s on %s: engine %v (%v), reference %v", u.Username, r, got, err, want)
			}
		}
	}
}

// newestAudit is the id and outcome of the newest audit record.
func (pw *propWorld) newestAudit() (string, domain.Outcome) {
	p, err := pw.st.ListAudit(pw.ctx, store.AuditQuery{Limit: 1})
	pw.must(err)
	if len(p.Items) == 0 {
		return "", ""
	}
	return p.Items[0].ID, p.Items[0].Outcome
}
