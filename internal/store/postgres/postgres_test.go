package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore/sqltest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func openTemp(t *testing.T, o OpenOptions) *DB {
	t.Helper()
	db, err := OpenWith(context.Background(), pgtest.NewDatabase(t), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQL(t *testing.T) {
	sqltest.Run(t,
		func(t *testing.T) sqltest.Backend { return openTemp(t, OpenOptions{}) },
		func(t *testing.T) sqltest.Backend { return openTemp(t, OpenOptions{NoMigrate: true}) })
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, OpenOptions{}) })
}

func TestOpenUnreachable(t *testing.T) {
	// Port 1 on loopback refuses at once.
	_, err := Open(context.Background(), "postgres://postgres:pw@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if !domain.Is(err, domain.KindUnavailable) {
		t.Fatalf("Open of an unreachable server = %v, want kind unavailable", err)
	}
	if got := err.Error(); contains(got, ":pw@") {
		t.Fatalf("the error shows the password: %s", got)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestLargeSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100,000 users and 1,000,000 memberships; skipped with -short")
	}
	storetest.RunLarge(t, func(t *testing.T) store.Store { return openTemp(t, OpenOptions{}) })
}

func TestNotifyOnCommit(t *testing.T) {
	db := openTemp(t, OpenOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if _, err := c.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		t.Fatal(err)
	}
	_, err = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutSetting(ctx, &domain.Setting{Key: "k", Value: "v"}); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "t", Action: "setting.put", Outcome: domain.OutcomeSuccess})
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Conn().WaitForNotification(ctx)
	if err != nil {
		t.Fatalf("no notification after a commit: %v", err)
	}
	if n.Channel != NotifyChannel || n.Payload != "1" {
		t.Fatalf("notification = %s %q, want %s \"1\"", n.Channel, n.Payload, NotifyChannel)
	}
}
