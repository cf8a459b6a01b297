package metrics

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ObserveStore returns st with the failures of its transactions, snapshot
// and log reads, revision reads and pings counted in
// gatehouse_store_errors_total. The other methods pass through uncounted:
// they fail the same way when the database does, and these are the ones
// every replica calls all the time.
func (m *Metrics) ObserveStore(st store.Store) store.Store { return &observedStore{st, m} }

type observedStore struct {
	store.Store
	m *Metrics
}

// Unwrap returns the observed store, so that the backend's optional
// interfaces (store.AuditChain) stay reachable through the wrapper.
func (s *observedStore) Unwrap() store.Store { return s.Store }

func (s *observedStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (domain.Change, error) {
	var fnErr error
	c, err := s.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		fnErr = fn(ctx, tx)
		return fnErr
	})
	// What fn returned is the caller's answer (a version conflict, a
	// refusal), unless the database failed under it.
	if err != nil && (fnErr == nil || domain.KindOf(err) != domain.KindConflict) {
		s.m.StoreError(err)
	}
	return c, err
}

func (s *observedStore) LoadSnapshot(ctx context.Context) (*domain.Snapshot, error) {
	snap, err := s.Store.LoadSnapshot(ctx)
	s.m.StoreError(err)
	return snap, err
}

// StreamSnapshot is observed as LoadSnapshot is (the follower builds its
// engine from it). An error of start or put is the caller's (an index
// that refused an object, a replica that went away) and is not counted.
func (s *observedStore) StreamSnapshot(ctx context.Context, start func(int64, string) error, put func(*domain.Mutation) error) error {
	var callerErr error
	err := s.Store.StreamSnapshot(ctx, func(revision int64, mark string) error {
		callerErr = start(revision, mark)
		return callerErr
	}, func(m *domain.Mutation) error {
		callerErr = put(m)
		return callerErr
	})
	if callerErr == nil {
		s.m.StoreError(err)
	}
	return err
}

func (s *observedStore) ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	c, err := s.Store.ReadChanges(ctx, since, limit)
	s.m.StoreError(err)
	return c, err
}

func (s *observedStore) Revision(ctx context.Context) (int64, error) {
	r, err := s.Store.Revision(ctx)
	s.m.StoreError(err)
	return r, err
}

func (s *observedStore) Ping(ctx context.Context) error {
	err := s.Store.Ping(ctx)
	s.m.StoreError(err)
	return err
}

func (s *observedStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	err := s.Store.TouchSession(ctx, id, at)
	s.m.StoreError(err)
	return err
}
