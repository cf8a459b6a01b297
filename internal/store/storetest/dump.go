package storetest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// PopulateForDump writes a little of everything a dump must carry into s:
// every entity, memberships with and without expiry, a folder tree whose
// children have ids that sort before their parents' (so a restore must
// order them), a password hash, an API token, a session (which a dump
// leaves out), a refused attempt's audit record and several revisions.
// The cross-backend test uses it too.
func PopulateForDump(t testing.TB, s store.Store) {
	t.Helper()
	expiry := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, r := range domain.BuiltinRoles() {
			if err := tx.CreateRole(ctx, &r); err != nil {
				return err
			}
		}
		for _, g := range domain.BuiltinGroups() {
			if err := tx.CreateGroup(ctx, &g); err != nil {
				return err
			}
		}
		return tx.PutSetting(ctx, &domain.Setting{Key: "bootstrapped", Value: "admin"})
	})
	u1, u2 := newUser("dump-u1"), newUser("Dump-ü2 \"quoted\"")
	u2.ShowPersonalInfo = true
	p := &domain.Project{Name: "dump-p", MembershipMode: domain.ModeExclusive, Description: "line one\nline two"}
	g := newSystemGroup("dump-g")
	g.SystemPermissions = []string{domain.PermGroupsView}
	g.ExternalID = "Entra-Group \"7\"" // a dump carries it (migration 00004)
	ft := newFolderType("dump-type")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateUser(ctx, u1), tx.CreateUser(ctx, u2), tx.CreateProject(ctx, p),
			tx.CreateGroup(ctx, g), tx.CreateFolderType(ctx, ft)} {
			if err != nil {
				return err
			}
		}
		if err := tx.SetPasswordHash(ctx, u1.ID, "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"); err != nil {
			return err
		}
		pg := newProjectGroup("dump-pg", p.ID)
		if err := tx.CreateGroup(ctx, pg); err != nil {
			return err
		}
		if err := tx.PutMembership(ctx, &domain.Membership{GroupID: pg.ID, UserID: u2.ID, ExpiresAt: &expiry}); err != nil {
			return err
		}
		// Ids chosen so that a child sorts before its parent.
		root := &domain.Folder{ID: "f-9", Name: "root", TypeID: ft.ID, Properties: map[string]string{"study": "S1"}, ProjectID: p.ID}
		mid := &domain.Folder{ID: "f-5", Name: "mid", ParentID: root.ID, TypeID: ft.ID}
		leaf := &domain.Folder{ID: "f-1", Name: "leaf", ParentID: mid.ID, TypeID: ft.ID, Properties: map[string]string{"site": "x"}}
		for _, f := range []*domain.Folder{root, mid, leaf} {
			if err := tx.CreateFolder(ctx, f); err != nil {
				return err
			}
		}
		return equipGroup(ctx, tx, g, p, []*domain.User{u1, u2}, []*domain.Folder{root, leaf}, ft.ID)
	})
	if _, err := s.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateSession(ctx, newSession(u1.ID, "dump-session", time.Now())); err != nil {
			return err
		}
		return tx.CreateAPIToken(ctx, &domain.APIToken{TokenHash: secretHash("dump-token"), UserID: u1.ID, Name: "ci",
			Permissions: []string{domain.PermUsersView}, ExpiresAt: &expiry})
	}); err != nil {
		t.Fatalf("creating a session and a token: %v", err)
	}
	if _, err := s.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: u2.ID, ActorName: u2.Username, Action: "group.delete",
			TargetKind: "group", TargetID: g.ID, Outcome: domain.OutcomeDenied, Detail: "lacks groups.delete", RemoteAddr: "192.0.2.1"})
	}); err != nil {
		t.Fatalf("auditing a refusal: %v", err)
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMembership(ctx, g.ID, u1.ID) })
}

// SameContents fails the test unless got holds what want holds, as far as
// the store's readers can tell: snapshot, revision, change log, audit log,
// password hashes and API tokens. Sessions are not compared (a dump leaves
// them out).
func SameContents(t testing.TB, got, want store.Store) {
	t.Helper()
	ctx := context.Background()
	gs, err := got.LoadSnapshot(ctx)
	noErr(t, err, "LoadSnapshot of the restored store")
	ws, err := want.LoadSnapshot(ctx)
	noErr(t, err, "LoadSnapshot of the source store")
	if d := diff(gs, ws, snapshotOrder); d != "" {
		t.Errorf("restored snapshot differs from the source (-source +restored):\n%s", d)
	}
	if g, w := revision(t, got), revision(t, want); g != w {
		t.Errorf("restored revision = %d, want %d", g, w)
	}
	if d := diff(changesSince(t, got, 0), changesSince(t, want, 0)); d != "" {
		t.Errorf("restored change log differs (-source +restored):\n%s", d)
	}
	if d := diff(allAudit(t, got, store.AuditQuery{}), allAudit(t, want, store.AuditQuery{})); d != "" {
		t.Errorf("restored audit log differs (-source +restored):\n%s", d)
	}
	for _, u := range ws.Users {
		gu, err := got.GetUser(ctx, u.ID)
		noErr(t, err, "GetUser "+u.Username+" in the restored store")
		wu, err := want.GetUser(ctx, u.ID)
		noErr(t, err, "GetUser "+u.Username+" in the source store")
		if gu.PasswordHash != wu.PasswordHash {
			t.Errorf("user %s: restored password hash %q, want %q", u.Username, gu.PasswordHash, wu.PasswordHash)
		}
		gt, err := got.ListAPITokens(ctx, u.ID)
		noErr(t, err, "ListAPITokens in the restored store")
		wt, err := want.ListAPITokens(ctx, u.ID)
		noErr(t, err, "ListAPITokens in the source store")
		if d := diff(gt, wt); d != "" {
			t.Errorf("user %s: restored API tokens differ (-source +restored):\n%s", u.Username, d)
		}
		for i := range gt {
			if gt[i].TokenHash != wt[i].TokenHash {
				t.Errorf("token %s: restored hash differs", gt[i].ID)
			}
		}
	}
}

func testDump(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	src := newStore(t)
	PopulateForDump(t, src)
	var buf bytes.Buffer
	h, err := src.Dump(ctx, &buf)
	noErr(t, err, "Dump")
	if h.Revision != revision(t, src) || h.SchemaVersion < 2 || h.Tables["users"] != 2 || h.Tables["folders"] != 3 {
		t.Errorf("Dump header = %+v, want the source's revision, schema version >= 2, 2 users and 3 folders", h)
	}
	if _, ok := h.Tables["sessions"]; ok {
		t.Errorf("Dump header lists the sessions table; sessions are left out")
	}
	dump := buf.Bytes()
	checkDumpOrder(t, dump)

	t.Run("RoundTrip", func(t *testing.T) {
		dst := newStore(t)
		rh, err := dst.Restore(ctx, bytes.NewReader(dump))
		noErr(t, err, "Restore")
		if rh.Revision != h.Revision {
			t.Errorf("Restore header revision = %d, want %d", rh.Revision, h.Revision)
		}
		SameContents(t, dst, src)
		if _, err := dst.GetSessionByHash(ctx, secretHash("dump-session")); !domain.Is(err, domain.KindNotFound) {
			t.Errorf("session after restore: got %v, want KindNotFound (sessions are not dumped)", err)
		}
		// The restored store goes on where the source stopped.
		ch := mustWrite(t, dst, func(ctx context.Context, tx store.Tx) error {
			return tx.PutSetting(ctx, &domain.Setting{Key: "after", Value: "restore"})
		})
		if ch.Revision != h.Revision+1 {
			t.Errorf("first write after restore got revision %d, want %d", ch.Revision, h.Revision+1)
		}
		// A dump of the restored store is the same data again.
		var again bytes.Buffer
		_, err = dst.Dump(ctx, &again)
		noErr(t, err, "Dump of the restored store")
	})

	t.Run("ConsistentWhileWriting", func(t *testing.T) {
		// Each write adds a user and records the user count in a setting,
		// in one transaction: a dump taken while they run must hold
		// exactly as many users as its setting says.
		s := newStore(t)
		write := func(n int) error {
			_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateUser(ctx, newUser(fmt.Sprintf("busy-%04d", n))); err != nil {
					return err
				}
				if err := tx.PutSetting(ctx, &domain.Setting{Key: "users", Value: strconv.Itoa(n)}); err != nil {
					return err
				}
				return tx.Audit(ctx, auditEvent("storetest.busy"))
			})
			return err
		}
		for n := 1; n <= 50; n++ {
			noErr(t, write(n), "setup write")
		}
		stop, done := make(chan struct{}), make(chan error, 1)
		go func() {
			for n := 51; ; n++ {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if err := write(n); err != nil {
					done <- err
					return
				}
			}
		}()
		var dumps [][]byte
		for range 3 {
			var buf bytes.Buffer
			_, err := s.Dump(ctx, &buf)
			noErr(t, err, "Dump while writing")
			dumps = append(dumps, buf.Bytes())
		}
		close(stop)
		noErr(t, <-done, "a write beside the dumps")
		for i, d := range dumps {
			dst := newStore(t)
			h, err := dst.Restore(ctx, bytes.NewReader(d))
			noErr(t, err, "Restore")
			set, err := dst.GetSetting(ctx, "users")
			noErr(t, err, "GetSetting users")
			snap, err := dst.LoadSnapshot(ctx)
			noErr(t, err, "LoadSnapshot")
			if strconv.Itoa(len(snap.Users)) != set.Value || snap.Revision != h.Revision || h.Revision != int64(len(snap.Users)) {
				t.Errorf("dump %d: %d users, setting says %s, revision %d (header %d); want one consistent state",
					i, len(snap.Users), set.Value, snap.Revision, h.Revision)
			}
		}
	})

	t.Run("RefusesNonEmpty", func(t *testing.T) {
		dst := newStore(t)
		mustWrite(t, dst, func(ctx context.Context, tx store.Tx) error {
			return tx.PutSetting(ctx, &domain.Setting{Key: "mine", Value: "1"})
		})
		_, err := dst.Restore(ctx, bytes.NewReader(dump))
		wantKind(t, err, domain.KindConflict, "Restore into a database with data")
		if _, err := dst.GetSetting(ctx, "bootstrapped"); !domain.Is(err, domain.KindNotFound) {
			t.Errorf("after a refused restore the dump's setting is there (%v); want nothing written", err)
		}
	})

	t.Run("RefusesDamaged", func(t *testing.T) {
		lines := dumpLines(t, dump)
		cases := map[string][]string{
			"an edited row": func() []string {
				l := append([]string(nil), lines...)
				for i, s := range l {
					if strings.Contains(s, "dump-u1@example.org") {
						l[i] = strings.Replace(s, "dump-u1@example.org", "evil@example.org", 1)
					}
				}
				return l
			}(),
			"a truncated file": lines[:len(lines)-3],
			"no trailer":       lines[:len(lines)-1],
		}
		for name, l := range cases {
			dst := newStore(t)
			_, err := dst.Restore(ctx, bytes.NewReader(gzipLines(t, l)))
			wantKind(t, err, domain.KindInvalid, "Restore of "+name)
			if r := revision(t, dst); r != 0 {
				t.Errorf("Restore of %s: revision %d afterwards, want 0 (nothing written)", name, r)
			}
		}
		_, err := newStore(t).Restore(ctx, strings.NewReader("not a dump"))
		wantKind(t, err, domain.KindInvalid, "Restore of a file that is not gzip")
		// The refusal names the line at fault, counted from 1 as an
		// editor counts: the header is line 1, the first table line 2.
		stray := append([]string{lines[0], lines[1], "stray"}, lines[2:]...)
		_, err = newStore(t).Restore(ctx, bytes.NewReader(gzipLines(t, stray)))
		wantKind(t, err, domain.KindInvalid, "Restore of a dump with a stray line")
		if err != nil && !strings.Contains(err.Error(), "line 3 is neither") {
			t.Errorf("Restore of a dump with a stray third line: error %q does not name line 3", err)
		}
	})

	t.Run("RefusesATableWithRowsAtRevisionZero", func(t *testing.T) {
		// A refused attempt's audit record moves no revision: the target
		// is at revision 0 and still not empty, and the dump's own record
		// must not be written beside it.
		dst := newStore(t)
		if _, err := dst.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.Audit(ctx, &domain.AuditEvent{ActorName: "storetest", Action: "user.delete", Outcome: domain.OutcomeDenied})
		}); err != nil {
			t.Fatalf("auditing a refusal: %v", err)
		}
		if r := revision(t, dst); r != 0 {
			t.Fatalf("a refusal's audit record moved the revision to %d; the test needs 0", r)
		}
		_, err := dst.Restore(ctx, bytes.NewReader(dump))
		wantKind(t, err, domain.KindConflict, "Restore into a database with an audit record")
		if err != nil && !strings.Contains(err.Error(), "has rows") {
			t.Errorf("Restore into a database with an audit record: error %q does not name the table with rows", err)
		}
		if _, err := dst.GetSetting(ctx, "bootstrapped"); !domain.Is(err, domain.KindNotFound) {
			t.Errorf("after a refused restore the dump's setting is there (%v); want nothing written", err)
		}
	})

	t.Run("RoundTripOfTablesLargerThanABatch", func(t *testing.T) {
		// Restore writes several rows per INSERT, as many as keep the
		// statement under 30,000 parameters: 2,200 users of 17 columns
		// are two batches, and would be more parameters in one statement
		// than SQLite takes (32,766). 3,001 folders of 10 columns are two
		// batches too, and their ids put every child before the parent:
		// each batch must come after the batch holding its rows' parents,
		// since a foreign key is checked at the end of each statement.
		src := newStore(t)
		ft := newFolderType("many-type")
		mustWrite(t, src, func(ctx context.Context, tx store.Tx) error {
			for i := range 2200 {
				if err := tx.CreateUser(ctx, newUser(fmt.Sprintf("many-%04d", i))); err != nil {
					return err
				}
			}
			if err := tx.CreateFolderType(ctx, ft); err != nil {
				return err
			}
			root := &domain.Folder{ID: "z-root", Name: "root", TypeID: ft.ID}
			if err := tx.CreateFolder(ctx, root); err != nil {
				return err
			}
			for i := range 3001 {
				f := &domain.Folder{ID: fmt.Sprintf("a-%04d", i), Name: fmt.Sprintf("child %d", i), ParentID: root.ID, TypeID: ft.ID}
				if err := tx.CreateFolder(ctx, f); err != nil {
					return err
				}
			}
			return nil
		})
		var buf bytes.Buffer
		_, err := src.Dump(ctx, &buf)
		noErr(t, err, "Dump of 2,200 users and 3,002 folders")
		dst := newStore(t)
		_, err = dst.Restore(ctx, bytes.NewReader(buf.Bytes()))
		noErr(t, err, "Restore of 2,200 users and 3,002 folders")
		SameContents(t, dst, src)
	})

	t.Run("RefusesNewerSchema", func(t *testing.T) {
		lines := dumpLines(t, dump)
		var hdr map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &hdr); err != nil {
			t.Fatal(err)
		}
		hdr["schema_version"] = 999999
		b, _ := json.Marshal(hdr)
		lines[0] = string(b)
		lines = resum(lines)
		dst := newStore(t)
		_, err := dst.Restore(ctx, bytes.NewReader(gzipLines(t, lines)))
		wantKind(t, err, domain.KindInvalid, "Restore of a dump of a newer schema")
		if err != nil && !strings.Contains(err.Error(), "schema version 999999") {
			t.Errorf("Restore of a newer schema: error %q does not name the dump's schema version", err)
		}
	})
}

// dumpLines decompresses a dump into its lines.
func dumpLines(t testing.TB, dump []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(dump))
	noErr(t, err, "gunzip the dump")
	b, err := io.ReadAll(zr)
	noErr(t, err, "gunzip the dump")
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func gzipLines(t testing.TB, lines []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, l := range lines {
		zw.Write([]byte(l + "\n"))
	}
	noErr(t, zw.Close(), "gzip")
	return buf.Bytes()
}

// resum replaces the trailer's checksum with that of the lines before it,
// as docs/backup.md describes it.
func resum(lines []string) []string {
	sum := sha256.New()
	for _, l := range lines[:len(lines)-1] {
		sum.Write([]byte(l + "\n"))
	}
	tr, _ := json.Marshal(map[string]any{"end": true, "sha256": hex.EncodeToString(sum.Sum(nil))})
	return append(lines[:len(lines)-1:len(lines)-1], string(tr))
}

// checkDumpOrder: tables are dumped, and so restored, referenced tables
// first (roles), then the tables the order does not list (audit_chain,
// oidc_links) after the listed ones (webhook_deliveries is the last), and
// gh_revision, which every migrated database already holds, last.
func checkDumpOrder(t *testing.T, dump []byte) {
	t.Helper()
	var tables []string
	for _, l := range dumpLines(t, dump) {
		if name, ok := strings.CutPrefix(l, `{"table":"`); ok {
			tables = append(tables, name[:strings.IndexByte(name, '"')])
		}
	}
	n := len(tables)
	listed, unlisted := slices.Index(tables, "webhook_deliveries"), slices.Index(tables, "audit_chain")
	if n < 3 || tables[0] != "roles" || tables[n-1] != "gh_revision" || listed < 0 || unlisted < listed {
		t.Errorf("dump's tables in order %v; want roles first, audit_chain after webhook_deliveries, gh_revision last", tables)
	}
}
