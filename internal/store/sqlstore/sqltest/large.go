package sqltest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// SnapshotSpeed fills db with 100,000 users in 1,000 groups (1,000,000
// memberships) by plain SQL through exec, much faster than the store's
// write path, then times LoadSnapshot three times. It runs only when
// GATEHOUSE_BENCH_LARGE=1, e.g.
//
//	GATEHOUSE_BENCH_LARGE=1 go test -run TestSnapshotSpeed -v ./internal/store/sqlite/
func SnapshotSpeed(t *testing.T, db store.Store, exec func(ctx context.Context, q string) error) {
	if os.Getenv("GATEHOUSE_BENCH_LARGE") != "1" {
		t.Skip("set GATEHOUSE_BENCH_LARGE=1 to run")
	}
	ctx := context.Background()
	now := time.Now().UnixMicro()
	const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) `
	for _, q := range []string{
		fmt.Sprintf(series+`INSERT INTO groups (id, name, name_key, description, scope, builtin, system_permissions, default_project_permissions, created_at, updated_at, version)
		 SELECT 'g' || i, 'group ' || i, 'group ' || i, '', 'system', '', 'null', 'null', %d, %d, 1 FROM n`, 1000, now, now),
		fmt.Sprintf(series+`INSERT INTO users (id, username, username_key, email, email_key, display_name, display_name_key, status, source, external_id, show_personal_info, created_at, updated_at, version)
		 SELECT 'u' || i, 'user-' || i, 'user-' || i, 'user-' || i || '@example.org', 'user-' || i || '@example.org', 'User ' || i, 'user ' || i, 'active', 'local', '', true, %d, %d, 1 FROM n`, 100000, now, now),
		fmt.Sprintf(series+`INSERT INTO memberships (group_id, user_id, created_at)
		 SELECT 'g' || (1 + (n.i + k.k * 100) %% 1000), 'u' || n.i, %d FROM n, (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
		   UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) k`, 100000, now),
		`ANALYZE`,
	} {
		if err := exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for range 3 {
		start := time.Now()
		s, err := db.LoadSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Users) != 100000 || len(s.Memberships) != 1000000 {
			t.Fatalf("snapshot holds %d users and %d memberships, want 100000 and 1000000", len(s.Users), len(s.Memberships))
		}
		t.Logf("LoadSnapshot: %d users, %d memberships in %v", len(s.Users), len(s.Memberships), time.Since(start).Round(time.Millisecond))
	}
}
