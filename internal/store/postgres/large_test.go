package postgres

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/sqlstore/sqltest"
)

func TestSnapshotSpeed(t *testing.T) {
	db := openTemp(t, OpenOptions{})
	sqltest.SnapshotSpeed(t, db, func(ctx context.Context, q string) error {
		_, err := db.Pool().Exec(ctx, q)
		return err
	})
}
