package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testRevisionInTx: inside a write transaction Revision is the revision
// the transaction builds on, and no other commit comes between it and the
// transaction's own (writers are serialized). The service relies on this
// to authorize against everything committed before its write.
func testRevisionInTx(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	u := domain.User{Username: "first", Status: domain.UserActive, Source: domain.SourceLocal}
	if _, err := createUserTx(ctx, s, &u, ""); err != nil {
		t.Fatal(err)
	}
	const writers = 6
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var seen int64
			ch, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				if seen, err = tx.Revision(ctx); err != nil {
					return err
				}
				u := domain.User{Username: fmt.Sprintf("writer%d", i), Status: domain.UserActive, Source: domain.SourceLocal}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				return tx.Audit(ctx, auditEvent("user.create"))
			})
			switch {
			case err != nil:
				errs <- err
			case ch.Revision != seen+1:
				errs <- fmt.Errorf("a transaction saw revision %d inside and committed %d: another commit came between", seen, ch.Revision)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if rev, err := s.Revision(ctx); err != nil || rev != writers+1 {
		t.Errorf("Revision() = %d, %v; want %d", rev, err, writers+1)
	}
}
