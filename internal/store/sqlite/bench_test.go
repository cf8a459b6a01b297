package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// BenchmarkBulkWrite measures the write path the large imports use: one
// transaction of 100 users with 10 memberships each, with and without
// prepared statements.
func BenchmarkBulkWrite(b *testing.B) {
	for _, prep := range []bool{true, false} {
		b.Run(fmt.Sprintf("prepared=%v", prep), func(b *testing.B) {
			prepareStatements = prep
			defer func() { prepareStatements = true }()
			db, err := Open(context.Background(), b.TempDir()+"/bench.db")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			groups := make([]string, 10)
			write := func(fn func(tx store.Tx) error) {
				if _, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					if err := fn(tx); err != nil {
						return err
					}
					return tx.Audit(ctx, &domain.AuditEvent{ActorName: "bench", Action: "bench", Outcome: domain.OutcomeSuccess})
				}); err != nil {
					b.Fatal(err)
				}
			}
			write(func(tx store.Tx) error {
				for i := range groups {
					g := &domain.Group{Name: fmt.Sprintf("g%d", i), Scope: domain.ScopeSystem}
					if err := tx.CreateGroup(ctx, g); err != nil {
						return err
					}
					groups[i] = g.ID
				}
				return nil
			})
			n := 0
			b.ResetTimer()
			for b.Loop() {
				write(func(tx store.Tx) error {
					for range 100 {
						n++
						u := &domain.User{Username: fmt.Sprintf("u%d", n), Status: domain.UserActive, Source: domain.SourceLocal}
						if err := tx.CreateUser(ctx, u); err != nil {
							return err
						}
						for _, g := range groups {
							if err := tx.PutMembership(ctx, &domain.Membership{GroupID: g, UserID: u.ID}); err != nil {
								return err
							}
						}
					}
					return nil
				})
			}
			b.ReportMetric(float64(b.N*1100)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
