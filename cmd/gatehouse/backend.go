package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// backend is a store that can also migrate its schema on demand.
type backend interface {
	store.Store
	Migrate(ctx context.Context) error
}

func dbFlag(f *pflag.FlagSet, dst *string, getenv func(string) string) {
	f.StringVar(dst, "db", envOr(getenv, "GATEHOUSE_DB", "gatehouse.db"),
		"database: a SQLite file path, or a postgres:// URL (env GATEHOUSE_DB)")
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openStore opens the backend the DSN names. With migrate, the schema is
// brought up to date first; serve does that, migrate does it explicitly.
func openStore(ctx context.Context, dsn string, migrate bool) (backend, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, usageError{fmt.Errorf("--db is empty: give a SQLite file path or a postgres:// URL")}
	}
	var (
		b   backend
		err error
	)
	if isPostgres(dsn) {
		b, err = postgres.OpenWith(ctx, dsn, postgres.OpenOptions{NoMigrate: !migrate})
	} else {
		b, err = sqlite.OpenWith(ctx, dsn, sqlite.OpenOptions{NoMigrate: !migrate})
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open database %s: %w", redactDSN(dsn), err)
	}
	return b, nil
}
