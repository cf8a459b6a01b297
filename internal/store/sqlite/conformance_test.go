package sqlite

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, OpenOptions{}) })
}

func TestLargeSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100,000 users and 1,000,000 memberships; skipped with -short")
	}
	storetest.RunLarge(t, func(t *testing.T) store.Store { return openTemp(t, OpenOptions{}) })
}
