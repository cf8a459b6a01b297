package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		code string
		want sqlstore.Class
	}{
		{"23505", sqlstore.ClassUnique},
		{"23503", sqlstore.ClassForeignKey},
		{"23514", sqlstore.ClassCheck},
		{"23502", sqlstore.ClassCheck},
		{"22021", sqlstore.ClassCheck},
		{"40001", sqlstore.ClassConflict},
		{"40P01", sqlstore.ClassConflict},
		{"08006", sqlstore.ClassUnavailable},
		{"57P01", sqlstore.ClassUnavailable},
		{"53300", sqlstore.ClassUnavailable},
		{"53100", sqlstore.ClassFull},
		{"53200", sqlstore.ClassUnavailable},
		{"57014", sqlstore.ClassCanceled},
		{"42P01", sqlstore.ClassOther},
	}
	for _, c := range cases {
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: c.code, Message: "unique violation"})
		if got := classify(err); got != c.want {
			t.Errorf("classify(SQLSTATE %s) = %v, want %v", c.code, got, c.want)
		}
	}
	if got := classify(errors.New("duplicate key value violates unique constraint")); got != sqlstore.ClassOther {
		t.Errorf("classify(message only) = %v, want ClassOther: kinds come from codes, never text", got)
	}
}
