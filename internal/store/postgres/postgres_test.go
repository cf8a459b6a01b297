package postgres

import (
	"bytes"
	"context"
	"strconv"
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

// Listeners (replicas following the database) are told the revision of
// every commit, and of a restore, which writes the dump's revision at once
// without a change of its own.
func TestNotifyOnCommitAndRestore(t *testing.T) {
	src := openTemp(t, OpenOptions{})
	storetest.PopulateForDump(t, src)
	var dump bytes.Buffer
	h, err := src.Dump(context.Background(), &dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		write func(ctx context.Context, db *DB) error
		want  int64
	}{
		{"commit", func(ctx context.Context, db *DB) error {
			_, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.PutSetting(ctx, &domain.Setting{Key: "k", Value: "v"}); err != nil {
					return err
				}
				return tx.Audit(ctx, &domain.AuditEvent{ActorName: "t", Action: "setting.put", Outcome: domain.OutcomeSuccess})
			})
			return err
		}, 1},
		{"restore", func(ctx context.Context, db *DB) error {
			_, err := db.Restore(ctx, bytes.NewReader(dump.Bytes()))
			return err
		}, h.Revision},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openTemp(t, OpenOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := db.Pool().Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
				t.Fatal(err)
			}
			if err := c.write(ctx, db); err != nil {
				t.Fatal(err)
			}
			n, err := conn.Conn().WaitForNotification(ctx)
			if err != nil {
				t.Fatalf("no notification after a %s: %v", c.name, err)
			}
			if want := strconv.FormatInt(c.want, 10); n.Channel != NotifyChannel || n.Payload != want {
				t.Fatalf("notification = %s %q, want %s %q", n.Channel, n.Payload, NotifyChannel, want)
			}
		})
	}
}
