package engine_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	. "github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
)

// A batch's prefetches (Prefetcher) read ahead of the check answered,
// each check once, and must change no answer, whatever the checks name: users and folders
// that exist, were deleted or never did, anonymous, ids longer than an
// index slot holds, every kind of resource, and a batch shorter than the
// distances. Run with -race (the race stage of make test), checkptr
// holds every prefetched address inside the slot or list it is in: a
// size one line too long fails there.
func TestPrefetcherChangesNoAnswer_R20(t *testing.T) {
	d := enginegen.Generate(3, enginegen.Small())
	e, err := New(d.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	// A user and a folder deleted: their slots stay, marked dead.
	gone := d.Snapshot.Users[5].ID
	goneFolder := d.AllFolders()[len(d.AllFolders())-1]
	// The folder deleted is a leaf (the last of the deepest level).
	if err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: []domain.Mutation{
		{Op: domain.OpDelete, Entity: domain.EntityUser, User: &domain.User{ID: gone}},
		{Op: domain.OpDelete, Entity: domain.EntityFolder, Folder: &domain.Folder{ID: goneFolder}},
	}}); err != nil {
		t.Fatal(err)
	}
	// A user in more groups than fit inline, and one with a membership
	// still to expire: checks read their memberships, and so do the
	// prefetches.
	many, expiring := d.Snapshot.Users[6].ID, d.Snapshot.Users[7].ID
	later := enginegen.Now.Add(time.Hour)
	var adds []domain.Mutation
	for _, g := range d.Snapshot.Groups[3:20] {
		adds = append(adds, domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership,
			Membership: &domain.Membership{GroupID: g.ID, UserID: many}})
	}
	adds = append(adds, domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership,
		Membership: &domain.Membership{GroupID: d.Snapshot.Groups[21].ID, UserID: expiring, ExpiresAt: &later}})
	if err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: adds}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 80)
	users := []string{"", gone, "no-such-user", long}
	for _, u := range d.Snapshot.Users {
		users = append(users, u.ID)
	}
	resources := []Resource{
		{Kind: KindSystem}, {Kind: KindDomain, ID: "example.org"}, {Kind: KindFolder, ID: goneFolder},
		{Kind: KindFolder, ID: "no-such-folder"}, {Kind: KindFolder, ID: long}, {Kind: KindProject, ID: long},
		{Kind: KindProject, ID: "no-such-project"}, {Kind: KindFolder, ID: ""},
	}
	for _, f := range d.AllFolders() {
		resources = append(resources, Resource{Kind: KindFolder, ID: f})
	}
	for _, p := range d.Snapshot.Projects {
		resources = append(resources, Resource{Kind: KindProject, ID: p.ID})
	}
	perm := map[ResourceKind]string{KindSystem: domain.PermUsersView, KindDomain: domain.PermDomainAccess,
		KindFolder: "root.read", KindProject: domain.PermProjectRead}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 3, 1000} {
		type item struct {
			s Subject
			r Resource
		}
		batch := make([]item, n)
		for i := range batch {
			batch[i] = item{Subject{UserID: users[r.IntN(len(users))]}, resources[r.IntN(len(resources))]}
		}
		asked := make([]int, n)
		at := func(j int) (Subject, Resource, bool) {
			asked[j]++
			return batch[j].s, batch[j].r, true
		}
		pf := e.Prefetcher()
		for i, it := range batch {
			want, wantErr := e.Check(it.s, perm[it.r.Kind], it.r, enginegen.Now)
			pf.Before(i, n, at)
			got, err := e.Check(it.s, perm[it.r.Kind], it.r, enginegen.Now)
			if got != want || (err == nil) != (wantErr == nil) {
				t.Fatalf("check %d of %d (%v on %v): %v, %v after the prefetches; %v, %v before", i, n, it.s, it.r, got, err, want, wantErr)
			}
		}
		for j, k := range asked {
			if k != 1 {
				t.Errorf("batch of %d: check %d read %d times by the prefetcher; want once", n, j, k)
			}
		}
	}
}
