package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
)

// Two replicas (two services, each with its own pool) on one PostgreSQL
// database: concurrent edits of one group carrying the same version
// (If-Match) never both succeed, so no update is lost; the loser gets
// KindConflict, and both engines end at the same revision.
func TestR20TwoReplicasNoLostUpdate(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	if _, err := service.Bootstrap(ctx, a, service.BootstrapOptions{AdminPassword: "pw-admin-123", PasswordParams: &cheap, Log: quiet}); err != nil {
		t.Fatal(err)
	}
	var svcs [2]*service.Service
	for i, db := range []*postgres.DB{a, b} {
		s, err := service.New(ctx, db, service.Options{PasswordParams: &cheap})
		if err != nil {
			t.Fatal(err)
		}
		svcs[i] = s
	}
	u, err := a.GetUserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin := service.Caller{UserID: u.ID, Username: u.Username}
	g, _, err := svcs[0].CreateGroup(ctx, admin, domain.Group{Name: "Editors", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}

	version := g.Version
	const rounds = 10
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		got := make([]domain.Group, 2)
		for i := range svcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := fmt.Sprintf("round %d by replica %d", round, i)
				got[i], _, errs[i] = svcs[i].UpdateGroup(ctx, admin, g.ID, service.GroupUpdate{Description: &d, Version: version})
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: both replicas updated version %d: a lost update", round, version)
				}
				winner = i
			case !domain.Is(err, domain.KindConflict):
				t.Fatalf("round %d: replica %d: %v, want success or kind conflict", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: neither replica updated version %d: %v", round, version, errs)
		}
		stored, err := b.GetGroup(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("round %d by replica %d", round, winner); stored.Description != want || stored.Version != got[winner].Version {
			t.Fatalf("round %d: stored %q v%d, want the winner's %q v%d", round, stored.Description, stored.Version, want, got[winner].Version)
		}
		version = stored.Version
	}
	head, err := a.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range svcs {
		if err := s.Follower().CatchUp(ctx, head); err != nil {
			t.Fatal(err)
		}
		if s.Follower().Revision() != head {
			t.Errorf("replica %d at revision %d, want %d", i, s.Follower().Revision(), head)
		}
	}
}
