package crash

import (
	"context"
	"database/sql"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// TestVerifierCatchesDamage makes sure the crash test would notice what it
// looks for: after one run of writes and a kill, copies of the SQLite
// database are damaged the ways a store that is not crash safe would be
// (a write's row lost, its change-log row lost, its audit record lost, its
// data kept without its change-log row), and the verification must report
// each; the undamaged database must pass.
func TestVerifierCatchesDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	openAt := func(p string) func(context.Context) (store.Store, error) {
		return func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, p) }
	}
	sd := seed()
	t.Logf("seed %d", sd)
	h, srv := newHarness(t, []string{"--db", path}, openAt(path), sd)
	ctx := context.Background()
	h.minLoad = time.Second // enough writes for every damage below to hit one
	h.load(ctx, srv)

	cases := []struct {
		name, sql string
		want      []string // one of these
	}{
		// Not a membership of a group a client's lost write touched: losing
		// that one can make the data what the lost write would have made,
		// which the verifier then reports as that write applied without its
		// change-log row (seed 1796666636787284140), not as this damage.
		{"a membership lost",
			`DELETE FROM memberships WHERE (group_id, user_id) IN (SELECT m.group_id, m.user_id FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.name LIKE 'crash c%' AND g.id NOT IN (` + sqlStrings(h.lostWriteGroups()) + `) LIMIT 1)`,
			[]string{"neither what its acknowledged writes made", "absent from the data but has change-log rows"}},
		{"a change-log row lost",
			`DELETE FROM changes WHERE revision = (SELECT max(revision) - 3 FROM changes)`,
			[]string{"has no change-log row"}},
		{"audit records lost",
			`DELETE FROM audit WHERE revision = (SELECT max(revision) - 3 FROM changes)`,
			[]string{"no successful audit record"}},
		{"data kept without its change-log row",
			`DELETE FROM changes WHERE revision = (SELECT max(revision) FROM changes); UPDATE gh_revision SET revision = revision - 1`,
			[]string{"past the last revision"}},
	}
	for _, c := range cases {
		dir := t.TempDir()
		cp := filepath.Join(dir, "crash.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			copyFile(t, path+suffix, cp+suffix)
		}
		db, err := sql.Open("sqlite", cp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, c.sql); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		db.Close()
		problems := h.clone(openAt(cp)).verifyDB(ctx, 1)
		if len(problems) == 0 {
			t.Errorf("%s: the verification found nothing wrong", c.name)
			continue
		}
		t.Logf("%s: %d problems reported, the first: %s", c.name, len(problems), problems[0])
		all := strings.Join(problems, "\n")
		if !slices.ContainsFunc(c.want, func(w string) bool { return strings.Contains(all, w) }) {
			t.Errorf("%s: the verification reported %q, want a problem saying one of %q", c.name, problems, c.want)
		}
	}
	if problems := h.verifyDB(ctx, 1); len(problems) > 0 {
		t.Errorf("the undamaged database fails verification: %q", problems)
	}
}

// lostWriteGroups are the groups the clients' lost (unacknowledged)
// writes touched.
func (h *harness) lostWriteGroups() []string {
	var ids []string
	for _, c := range h.clients {
		if c.inflight != nil {
			ids = append(ids, c.inflight.group)
		}
	}
	return ids
}

// sqlStrings is ss as a list of SQL string literals, for IN (…); an empty
// list is one empty string, which no id equals.
func sqlStrings(ss []string) string {
	if len(ss) == 0 {
		return "''"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

// clone is a copy of h with its own client states, verifying the database
// open opens.
func (h *harness) clone(open func(context.Context) (store.Store, error)) *harness {
	c := *h
	c.open = open
	c.writeActions = maps.Clone(h.writeActions)
	c.lastDB = nil // its own replay of the change log, from nothing
	c.clients = nil
	for _, w := range h.clients {
		x := *w
		x.model = w.model.clone()
		x.owned = maps.Clone(w.owned)
		c.clients = append(c.clients, &x)
	}
	return &c
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
