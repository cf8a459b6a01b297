package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
)

// TestBackupRestoreToPostgres backs up a running SQLite server, restores
// the dump into a new PostgreSQL database and serves from it: same
// answers at the same revision (docs/backup.md).
func TestBackupRestoreToPostgres(t *testing.T) {
	dir := t.TempDir()
	dsn := pgtest.NewDatabase(t)
	src := start(t, dir, nil, "--demo")
	user := login(t, src.URL+"/api/v1", "user", "demo-user")
	before := user.call("POST", "/check", obj{"permission": "root.read", "resource": "folder:" + demoStaffPhotos}, 200)

	// Online: the server keeps running.
	code, stdout, stderr := runCmd(t, dir, "backup", "--db", "gatehouse-demo.db", "demo.gz")
	if code != 0 || !strings.Contains(stdout, "written to demo.gz") {
		t.Fatalf("backup: status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	user.check("", "root.read", "folder:"+demoStaffPhotos, true)
	src.Stop(t)

	code, stdout, stderr = runCmd(t, dir, "restore", "--db", dsn, "demo.gz")
	if code != 0 || !strings.Contains(stdout, "from a sqlite backup") {
		t.Fatalf("restore into PostgreSQL: status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The audit log's hash chain came along intact (docs/audit.md).
	code, stdout, stderr = runCmd(t, dir, "audit", "verify", "--db", dsn)
	if code != 0 || !strings.HasPrefix(stdout, "OK") {
		t.Errorf("audit verify on the restored database: status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// A second restore into the same, no longer empty, database is refused.
	code, _, stderr = runCmd(t, dir, "restore", "--db", dsn, "demo.gz")
	if code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("restore into a database with data: status %d, stderr %q; want status 1 naming it not empty", code, stderr)
	}

	// A damaged file is refused, and the SQLite file the command created
	// for it is gone again.
	if err := os.WriteFile(filepath.Join(dir, "junk.gz"), []byte("not a dump"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, dir, "restore", "--db", "new.db", "junk.gz")
	if code != 1 || !strings.Contains(stderr, "not a usable Gatehouse dump") {
		t.Errorf("restore of a damaged file: status %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); !os.IsNotExist(err) {
		t.Errorf("a failed restore left new.db behind (%v)", err)
	}

	dst := start(t, dir, nil, "--db", dsn)
	demoAnswers(t, dst.URL+"/api/v1")
	after := login(t, dst.URL+"/api/v1", "user", "demo-user").call("POST", "/check",
		obj{"permission": "root.read", "resource": "folder:" + demoStaffPhotos}, 200)
	if after["revision"] != before["revision"] || after["allowed"] != before["allowed"] {
		t.Errorf("after restore: check answered %v, before %v; want the same answer at the same revision", after, before)
	}
	// The audit log came along.
	admin := login(t, dst.URL+"/api/v1", "admin", "demo-admin")
	admin.wantAudit("action=system.demo_loaded", obj{"outcome": "success", "actor_name": "admin"})
	dst.Stop(t)
}
