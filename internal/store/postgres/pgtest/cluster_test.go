package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
)

// TestCluster starts a private cluster, writes a row, stops the server
// (connections then fail), starts it on the same port and reads the row.
func TestCluster(t *testing.T) {
	c := pgtest.NewCluster(t)
	dsn := c.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	exec := func(sql string, args ...any) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql, args...)
		return err
	}
	if err := exec("CREATE TABLE t (v int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	c.Stop(t)
	if err := exec("SELECT 1"); err == nil {
		t.Fatal("a query succeeded while the cluster was stopped")
	}
	c.Start(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("after Start: %v\n%s", err, c.Log())
	}
	defer conn.Close(context.Background())
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM t").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after a restart the row reads %d, %v; want 42", v, err)
	}
}
