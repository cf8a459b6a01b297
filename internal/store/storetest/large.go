package storetest

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Sizes of the large snapshot.
const (
	largeUsers          = 100_000
	largeGroups         = 1_000
	largeGroupsPerUser  = 10 // 1,000,000 memberships, 1,000 per group
	largeWritesPerTx    = 10_000
	largeUsersPerTx     = largeWritesPerTx / (1 + largeGroupsPerUser)
	largeMembershipsAll = largeUsers * largeGroupsPerUser
)

// largeGroupsOf returns the indexes of the groups user i belongs to: ten
// distinct groups, so that every group has exactly 1,000 members.
func largeGroupsOf(i int) []int {
	out := make([]int, largeGroupsPerUser)
	for k := range out {
		out[k] = (i + k*(largeGroups/largeGroupsPerUser)) % largeGroups
	}
	return out
}

// RunLarge writes 100,000 users and 1,000,000 memberships in 1,000 groups,
// in transactions of about 10,000 writes, then loads a snapshot and checks
// its counts and a sample. It logs the time to write and to load. It is
// slow: call it from a test named TestLargeSnapshot that skips under
// testing.Short().
func RunLarge(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)

	start := time.Now()
	groupIDs := make([]string, largeGroups)
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range groupIDs {
			g := newSystemGroup(fmt.Sprintf("group-%04d", i))
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			groupIDs[i] = g.ID
		}
		return nil
	})
	userIDs := make([]string, largeUsers)
	txs := 1
	for first := 0; first < largeUsers; first += largeUsersPerTx {
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			for i := first; i < min(first+largeUsersPerTx, largeUsers); i++ {
				u := &domain.User{Username: fmt.Sprintf("user-%06d", i), Email: fmt.Sprintf("user-%06d@example.org", i),
					DisplayName: fmt.Sprintf("User %d", i), Status: domain.UserActive, Source: domain.SourceLocal}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				userIDs[i] = u.ID
				for _, g := range largeGroupsOf(i) {
					if err := tx.PutMembership(ctx, &domain.Membership{GroupID: groupIDs[g], UserID: u.ID}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		txs++
	}
	t.Logf("wrote %d users, %d groups and %d memberships in %d transactions in %v",
		largeUsers, largeGroups, largeMembershipsAll, txs, time.Since(start).Round(time.Millisecond))

	rev := revision(t, s)
	if rev != int64(txs) {
		t.Errorf("Revision after %d transactions = %d, want %d", txs, rev, txs)
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	snap, err := s.LoadSnapshot(ctx)
	noErr(t, err, "LoadSnapshot")
	elapsed := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("LoadSnapshot of %d users and %d memberships took %v (%.0f MB allocated)",
		len(snap.Users), len(snap.Memberships), elapsed.Round(time.Millisecond), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))

	if snap.Revision != rev {
		t.Errorf("snapshot revision = %d, want %d (Revision())", snap.Revision, rev)
	}
	if len(snap.Users) != largeUsers || len(snap.Groups) != largeGroups || len(snap.Memberships) != largeMembershipsAll {
		t.Fatalf("snapshot holds %d users, %d groups and %d memberships; want %d, %d and %d",
			len(snap.Users), len(snap.Groups), len(snap.Memberships), largeUsers, largeGroups, largeMembershipsAll)
	}
	groupIndex := make(map[string]int, largeGroups)
	for i, id := range groupIDs {
		groupIndex[id] = i
	}
	perGroup := make([]int, largeGroups)
	sample := map[string]int{userIDs[0]: 0, userIDs[12_345]: 12_345, userIDs[largeUsers-1]: largeUsers - 1}
	sampleGroups := map[string]map[int]bool{}
	for _, m := range snap.Memberships {
		gi, ok := groupIndex[m.GroupID]
		if !ok {
			t.Fatalf("snapshot membership of unknown group %s", m.GroupID)
		}
		perGroup[gi]++
		if _, ok := sample[m.UserID]; ok {
			if sampleGroups[m.UserID] == nil {
				sampleGroups[m.UserID] = map[int]bool{}
			}
			sampleGroups[m.UserID][gi] = true
		}
	}
	for gi, n := range perGroup {
		if n != largeMembershipsAll/largeGroups {
			t.Errorf("snapshot: group %d has %d members, want %d", gi, n, largeMembershipsAll/largeGroups)
			break
		}
	}
	for id, i := range sample {
		want := largeGroupsOf(i)
		got := sampleGroups[id]
		if len(got) != len(want) {
			t.Errorf("snapshot: user %d is in %d groups, want %d", i, len(got), len(want))
		}
		for _, g := range want {
			if !got[g] {
				t.Errorf("snapshot: user %d is not in group %d, want it", i, g)
			}
		}
		ms, err := s.ListUserMemberships(ctx, id)
		noErr(t, err, "ListUserMemberships")
		if len(ms) != len(want) {
			t.Errorf("ListUserMemberships(user %d) = %d memberships, want %d", i, len(ms), len(want))
		}
	}
	byID := make(map[string]domain.User, 3)
	for _, u := range snap.Users {
		if _, ok := sample[u.ID]; ok {
			byID[u.ID] = u
		}
	}
	for id, i := range sample {
		if u := byID[id]; u.Username != fmt.Sprintf("user-%06d", i) || u.Version != 1 {
			t.Errorf("snapshot: user %d = %q version %d, want user-%06d version 1", i, u.Username, u.Version, i)
		}
	}
}
