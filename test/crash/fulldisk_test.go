package crash

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
	"github.com/gatehouse/gatehouse/internal/testfigures"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	wire "github.com/gatehouse/gatehouse/pkg/gatehouse/api"
	"github.com/jackc/pgx/v5"
)

// TestFullDiskSQLite puts the SQLite database on a small tmpfs, fills the
// filesystem, and checks that writes are refused with 503 and a message
// saying the database is full, that reads and checks go on, that nothing
// acknowledged is lost, and that writes resume once space is freed. It
// needs root (to mount); elsewhere it is skipped with a message saying so.
func TestFullDiskSQLite(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "disk")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("the full-disk test mounts a size-limited tmpfs, which needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a size-limited tmpfs here (%v: %s)", err, out)
	}
	// Registered before the server starts, so it runs after the
	// server's own cleanup has killed it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	path := filepath.Join(mnt, "gatehouse.db")
	runFullDisk(t, "sqlite", dir, mnt, path, func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, path) })
}

// runFullDisk runs the full-disk story on a database (db: --db) whose
// files are on the size-limited filesystem mounted at mnt.
func runFullDisk(t *testing.T, name, dir, mnt, db string, open func(context.Context) (store.Store, error)) {
	srv, _ := start(t, dir, "--db", db)
	ctx := context.Background()
	c, err := gatehouse.New(srv.URL, gatehouse.WithTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, "admin", adminPassword); err != nil {
		t.Fatalf("login: %v", err)
	}
	tok, err := c.CreateToken(ctx, wire.TokenRequest{Name: "full"})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(tok.Secret)
	user, err := c.CreateUser(ctx, wire.CreateUserRequest{Username: "full-user"})
	if err != nil {
		t.Fatal(err)
	}
	a := &api{base: srv.URL + "/api/v1", token: tok.Secret, hc: &http.Client{Timeout: 30 * time.Second}}

	// Writes acknowledged before the disk fills, which must survive it.
	var acked []string
	for i := range 50 {
		g, err := c.CreateGroup(ctx, wire.CreateGroupRequest{Name: fmt.Sprintf("before %d", i), Scope: wire.ScopeSystem})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddMembers(ctx, g.ID, wire.MemberInput{UserID: user.ID}); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, g.ID)
	}

	// Fill the filesystem with a file, to the last block.
	filler := filepath.Join(mnt, "filler")
	fillDisk(t, filler)

	// Write until the database needs space it cannot get. Each group's
	// description is large, so that happens within a few hundred writes.
	desc := strings.Repeat("full disk ", 400)
	var refused []byte
	for i := 0; i < 5000 && refused == nil; i++ {
		id := domain.NewID()
		status, _, body, err := a.call(ctx, "POST", "/groups", map[string]any{"id": id, "scope": "system",
			"name": fmt.Sprintf("full %d", i), "description": desc})
		switch {
		case err != nil:
			t.Fatalf("write %d: %v\n%s", i, err, srv.Log())
		case status/100 == 2:
			acked = append(acked, id)
			if status, _, body, err := a.call(ctx, "POST", "/groups/"+id+"/members", map[string]any{"members": []any{map[string]any{"user_id": user.ID}}}); err != nil || status/100 != 2 {
				if status == http.StatusServiceUnavailable {
					refused = body
					break
				}
				t.Fatalf("adding a member: %d %s %v", status, body, err)
			}
		case status == http.StatusServiceUnavailable:
			refused = body
		default:
			t.Fatalf("write %d on a filling disk = %d %s, want 2xx or 503", i, status, body)
		}
	}
	if refused == nil {
		t.Fatalf("5000 writes fitted on a full 16 MiB filesystem")
	}
	var p struct {
		Status int    `json:"status"`
		Kind   string `json:"kind"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(refused, &p); err != nil || p.Status != 503 || p.Kind != "unavailable" || !strings.Contains(p.Detail, "the database is full") {
		t.Errorf("a write on a full disk answered %s, want a 503 problem of kind unavailable saying the database is full", refused)
	}
	t.Logf("the disk was full after %d acknowledged groups; the refusal: %s", len(acked), p.Detail)

	// Another write is refused the same way, quickly, as problem+json.
	// PostgreSQL may still fit one into space a failed write left in
	// pages it already has, so a write that fits is acknowledged (and
	// must be kept, below) and the next one tried.
	refusedIn := refuseAgain(t, a, desc, &acked)

	// Reads and checks go on: every acknowledged group is there.
	for _, id := range acked {
		if _, err := c.GetGroup(ctx, id); err != nil {
			t.Errorf("reading acknowledged group %s on the full disk: %v", id, err)
		}
	}
	if _, err := c.Check(ctx, gatehouse.CheckRequest{Subject: "user:" + user.ID, Permission: domain.PermUsersView, Resource: "system"}); err != nil {
		t.Errorf("a check on the full disk: %v", err)
	}
	if status, _, body, err := a.call(ctx, "GET", "/groups/"+acked[0]+"/members", nil); err != nil || status != 200 {
		t.Errorf("listing members on the full disk = %d %s %v", status, body, err)
	}

	// Space comes back: writes resume, without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	var resumed time.Duration
	var lastRev int64
	for {
		id := domain.NewID()
		status, rev, body, err := a.call(ctx, "POST", "/groups", map[string]any{"id": id, "scope": "system", "name": "after " + id})
		if err == nil && status/100 == 2 {
			acked = append(acked, id)
			lastRev = rev
			resumed = time.Since(freed)
			break
		}
		if time.Since(freed) > 20*time.Second {
			t.Fatalf("writes did not resume within 20s of freeing space: %d %s %v\n%s", status, body, err, srv.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop(t, srv)

	// Nothing acknowledged is lost, and the logs are whole.
	st, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range acked {
		if _, err := st.GetGroup(ctx, id); err != nil {
			t.Errorf("acknowledged group %s after the full disk: %v", id, err)
		}
	}
	d, err := readDB(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.rev != lastRev {
		t.Errorf("the database is at revision %d, the last write was acknowledged at %d: the refused writes left revisions behind", d.rev, lastRev)
	}
	for _, p := range d.logProblems(map[string]bool{"group.create": true, "group.member_add": true}) {
		t.Errorf("after the full disk: %s", p)
	}
	if strings.Contains(srv.Log(), "panic") {
		t.Errorf("the server logged a panic:\n%s", srv.Log())
	}
	line := fmt.Sprintf("full disk %s: %d acknowledged groups kept with their members, writes refused with 503 in %s while full, reads and checks served, writes resumed %.2fs after space was freed",
		name, len(acked), refusedIn.Round(time.Millisecond), resumed.Seconds())
	testfigures.Record(t, line)
}

// fillDisk writes path until the filesystem under it has no space left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{1 << 20, 4096} {
		buf := make([]byte, size)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the disk: %v", err)
				}
				break
			}
		}
	}
}

// TestFullDiskPostgres puts a PostgreSQL database in a tablespace on a
// small tmpfs and runs the same story: PostgreSQL's disk_full (SQLSTATE
// 53100) must be a 503 saying the database is full. It needs root and the
// PostgreSQL server on this machine (it must reach the tablespace's
// directory); elsewhere it is skipped with a message saying so.
func TestFullDiskPostgres(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the full-disk test mounts a size-limited tmpfs, which needs root")
	}
	server := pgtest.ServerDSN()
	if u, err := url.Parse(server); err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		t.Skip("the PostgreSQL server is not on this machine: it cannot see a tablespace mounted here")
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("no postgres system user here to own the tablespace directory")
	}
	// Under /tmp directly, not t.TempDir(), whose parents only root may
	// enter: the PostgreSQL server must reach the directory.
	mnt, err := os.MkdirTemp("", "gatehouse-pgfull")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(mnt) })
	if err := os.Chmod(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700,uid="+pgUser.Uid+",gid="+pgUser.Gid, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a size-limited tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	space := "gh_full_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE TABLESPACE "+space+" LOCATION '"+mnt+"'"); err != nil {
		t.Skipf("cannot create a tablespace on the tmpfs (%v)", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Errorf("dropping tablespace %s: %v", space, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP TABLESPACE IF EXISTS "+space); err != nil {
			t.Errorf("dropping tablespace %s: %v", space, err)
		}
	})
	dsn := pgtest.NewDatabase(t) // dropped before the tablespace (cleanups run last first)
	u, _ := url.Parse(dsn)
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+strings.TrimPrefix(u.Path, "/")+" SET TABLESPACE "+space); err != nil {
		t.Fatalf("moving the test database to the tablespace: %v", err)
	}
	runFullDisk(t, "postgres", t.TempDir(), mnt, dsn, func(ctx context.Context) (store.Store, error) { return postgres.Open(ctx, dsn) })
}

// refuseAgain writes groups on the full disk until one is refused, which
// must be a 503 problem+json saying the database is full, and returns how
// long that refusal took. Writes that still fit are added to acked.
func refuseAgain(t *testing.T, a *api, desc string, acked *[]string) time.Duration {
	t.Helper()
	for i := 0; i < 20; i++ {
		id := domain.NewID()
		req, _ := http.NewRequest("POST", a.base+"/groups", strings.NewReader(`{"id":"`+id+`","scope":"system","name":"one more `+fmt.Sprint(i)+`","description":"`+desc+`"}`))
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Content-Type", "application/json")
		began := time.Now()
		res, err := a.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(began)
		if res.StatusCode/100 == 2 {
			*acked = append(*acked, id)
			continue
		}
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(body), "the database is full") {
			t.Errorf("a further write on the full disk = %d %s %s, want 503 application/problem+json saying the database is full",
				res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		return took
	}
	t.Fatalf("20 more writes fitted on the full disk after one was refused")
	return 0
}
