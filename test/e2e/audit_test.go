package e2e

import (
	"bufio"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to tamper with the database as an attacker with file access would
)

// exported is one line of `gatehouse audit export`.
type exported struct {
	Seq        int64  `json:"seq"`
	ID         string `json:"id"`
	Revision   int64  `json:"revision"`
	At         string `json:"at"`
	ActorID    string `json:"actor_id"`
	ActorName  string `json:"actor_name"`
	Action     string `json:"action"`
	TargetKind string `json:"target_kind"`
	TargetID   string `json:"target_id"`
	Outcome    string `json:"outcome"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Detail     string `json:"detail"`
	RemoteAddr string `json:"remote_addr"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

// outsideHash recomputes a record's hash from its export line alone, the
// way docs/audit.md tells an outside tool to: SHA-256 over the netstrings
// of the fields in order.
func outsideHash(r exported) string {
	var b strings.Builder
	for _, f := range []string{"gatehouse.audit.v1", strconv.FormatInt(r.Seq, 10), r.PrevHash, r.ID, strconv.FormatInt(r.Revision, 10),
		r.At, r.ActorID, r.ActorName, r.Action, r.TargetKind, r.TargetID, r.Outcome, r.Before, r.After, r.Detail, r.RemoteAddr} {
		fmt.Fprintf(&b, "%d:%s,", len(f), f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func parseExport(t *testing.T, out string) []exported {
	t.Helper()
	var recs []exported
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r exported
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q is not JSON: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestR29AuditChainCommands drives the real binary: writes over REST, then
// `gatehouse audit verify`, `export` (re-verified here from the JSON lines
// alone), a direct edit of the SQLite file that verify must catch and
// name, and `prune`, after which the chain still verifies.
func TestR29AuditChainCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gatehouse.db")
	srv := start(t, dir, []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}, "--db", db)
	c := adminClient(t, srv.URL+"/api/v1")
	for i := range 3 {
		c.create("/groups", obj{"name": fmt.Sprintf("Audited %d", i), "scope": "system", "description": `<script>alert("x")</script>, 3:x,`})
	}
	anonymous(t, srv.URL+"/api/v1").raw("POST", "/groups", obj{"name": "refused", "scope": "system"}) // a refusal is audited too

	code, out, stderr := runCmd(t, dir, "audit", "verify", "--db", db)
	verifyOut := out
	if code != 0 || !strings.HasPrefix(out, "OK: ") || !strings.Contains(out, "chain head ") {
		t.Fatalf("audit verify on a live server's database: exit %d, stdout %q, stderr %q; want exit 0 and OK: N records, chain head ...", code, out, stderr)
	}
	if v := c.call("GET", "/audit/verify", nil, 200); v["ok"] != true || v["head_hash"] == "" || !strings.Contains(out, v["head_hash"].(string)) {
		t.Errorf("GET /api/v1/audit/verify = %v, want ok and the head the command printed (%s)", v, out)
	}
	if code, _, _ := anonymous(t, srv.URL+"/api/v1").raw("GET", "/audit/verify", nil); code != 401 && code != 403 {
		t.Errorf("GET /api/v1/audit/verify anonymously = %d, want 401 or 403", code)
	}

	// Export, both to stdout and to a file, and verify the chain from the
	// JSON lines alone.
	code, out, stderr = runCmd(t, dir, "audit", "export", "--db", db)
	if code != 0 {
		t.Fatalf("audit export: exit %d, stderr %s", code, stderr)
	}
	recs := parseExport(t, out)
	if len(recs) < 6 {
		t.Fatalf("audit export gave %d records, want at least 6 (bootstrap, token, sign-in, 3 groups)", len(recs))
	}
	prev := strings.Repeat("0", 64)
	actions := map[string]bool{}
	for i, r := range recs {
		if r.Seq != int64(i+1) || r.PrevHash != prev || outsideHash(r) != r.Hash {
			t.Errorf("exported record %d (%s): seq %d, prev %s, hash %s; want seq %d, prev %s, hash %s", i, r.ID, r.Seq, r.PrevHash, r.Hash, i+1, prev, outsideHash(r))
		}
		prev = r.Hash
		actions[r.Action+"/"+r.Outcome] = true
	}
	if !actions["group.create/success"] {
		t.Errorf("export lacks a successful group.create record: %v", actions)
	}
	file := filepath.Join(dir, "audit.jsonl")
	if code, _, stderr := runCmd(t, dir, "audit", "export", "--db", db, "--output", file, "--since", recs[1].At); code != 0 {
		t.Fatalf("audit export --output: exit %d, stderr %s", code, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseExport(t, string(b)); len(got) == 0 || got[0].Seq < 2 {
		t.Errorf("audit export --since %s wrote %d records starting at %v, want records from position 2 on", recs[1].At, len(got), got)
	}
	for _, bad := range [][]string{{"--since", "yesterday"}, {"--since", "2026-02-01", "--until", "2026-01-01"}} {
		if code, _, stderr := runCmd(t, dir, append([]string{"audit", "export", "--db", db}, bad...)...); code != 2 || !strings.Contains(stderr, "--since") {
			t.Errorf("audit export %v: exit %d, stderr %q; want exit 2 naming --since", bad, code, stderr)
		}
	}

	// Tamper: change one field of the third record directly in the file.
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE audit SET detail = 'nothing happened' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCmd(t, dir, "audit", "verify", "--db", db)
	if code != 1 || !strings.HasPrefix(out, "BROKEN: ") || !strings.Contains(out, recs[2].ID) || !strings.Contains(out, "position: 3") ||
		!strings.Contains(out, recs[2].At) || !strings.Contains(out, "expected: hash ") || !strings.Contains(out, "found:    hash "+recs[2].Hash) {
		t.Fatalf("audit verify after editing record 3: exit %d, stdout %q, stderr %q; want exit 1 naming record %s at position 3, its time, and expected vs found hash", code, out, stderr, recs[2].ID)
	}
	t.Logf("verify caught the edit:\n%s", out)
	v := c.call("GET", "/audit/verify", nil, 200)
	if brk, _ := v["break"].(map[string]any); v["ok"] != false || brk == nil || brk["id"] != recs[2].ID || brk["seq"] != float64(3) {
		t.Errorf("GET /api/v1/audit/verify after the edit = %v, want ok false and a break naming %s at position 3", v, recs[2].ID)
	}
	if _, err := raw.Exec(`UPDATE audit SET detail = ? WHERE seq = 3`, recs[2].Detail); err != nil {
		t.Fatal(err)
	}
	// A rewrite: an attacker who knows the scheme edits record 3 and
	// recomputes every hash after it and the head. The chain verifies by
	// itself, but no longer holds the head recorded earlier.
	headRE := regexp.MustCompile(`chain head (\d+) ([0-9a-f]{64})`)
	m := headRE.FindStringSubmatch(verifyOut)
	if m == nil {
		t.Fatalf("no chain head in %q", verifyOut)
	}
	recorded := m[1] + ":" + m[2]
	_, out, _ = runCmd(t, dir, "audit", "export", "--db", db)
	chain := parseExport(t, out)
	chain[2].Detail = "rewritten"
	for i := 2; i < len(chain); i++ {
		chain[i].PrevHash = chain[i-1].Hash
		chain[i].Hash = outsideHash(chain[i])
		if _, err := raw.Exec(`UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?`, chain[i].Detail, chain[i].PrevHash, chain[i].Hash, chain[i].Seq); err != nil {
			t.Fatal(err)
		}
	}
	last := chain[len(chain)-1]
	if _, err := raw.Exec(`UPDATE audit_chain SET head_seq = ?, head_hash = ?`, last.Seq, last.Hash); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCmd(t, dir, "audit", "verify", "--db", db); code != 0 {
		t.Fatalf("audit verify after a consistent rewrite: exit %d, %s; want 0 (the rewrite is self-consistent)", code, out)
	}
	code, out, _ = runCmd(t, dir, "audit", "verify", "--db", db, "--head", recorded)
	if code != 1 || !strings.Contains(out, "no longer holds the recorded head") || !strings.Contains(out, "position: "+m[1]) {
		t.Fatalf("audit verify --head %s after a rewrite: exit %d, stdout %q; want exit 1 saying the recorded head is gone", recorded, code, out)
	}
	if code, out, stderr := runCmd(t, dir, "audit", "verify", "--db", db, "--head", "x:y"); code != 2 || !strings.Contains(stderr, "--head") {
		t.Errorf("audit verify --head x:y: exit %d, %s %s; want 2 naming --head", code, out, stderr)
	}
	// Delete a record: verify names the one after the gap.
	if _, err := raw.Exec(`DELETE FROM audit WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, dir, "audit", "verify", "--db", db)
	if code != 1 || !strings.Contains(out, "missing") || !strings.Contains(out, recs[4].ID) {
		t.Fatalf("audit verify after deleting record 4 (%s): exit %d, stdout %q; want exit 1 naming record %s after the gap", recs[3].ID, code, out, recs[4].ID)
	}
	raw.Close()

	// Pruning, on a fresh database with an intact chain.
	srv.Stop(t)
	dir2 := t.TempDir()
	db2 := filepath.Join(dir2, "gatehouse.db")
	srv2 := start(t, dir2, []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}, "--db", db2)
	c2 := adminClient(t, srv2.URL+"/api/v1")
	c2.create("/groups", obj{"name": "Before the cut", "scope": "system"})
	time.Sleep(10 * time.Millisecond)
	cut := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(10 * time.Millisecond)
	c2.create("/groups", obj{"name": "After the cut", "scope": "system"})
	code, out, stderr = runCmd(t, dir2, "audit", "export", "--db", db2)
	if code != 0 {
		t.Fatalf("audit export: %s", stderr)
	}
	before := parseExport(t, out)
	code, out, stderr = runCmd(t, dir2, "audit", "prune", "--db", db2, "--before", cut)
	if code != 0 || !strings.HasPrefix(out, "pruned ") {
		t.Fatalf("audit prune --before %s: exit %d, stdout %q, stderr %q", cut, code, out, stderr)
	}
	code, out, stderr = runCmd(t, dir2, "audit", "verify", "--db", db2)
	if code != 0 || !strings.Contains(out, "anchored after pruned position ") {
		t.Fatalf("audit verify after pruning: exit %d, stdout %q, stderr %q; want OK with the anchor", code, out, stderr)
	}
	// The server keeps appending after the anchor, and the pruning itself
	// is in the log.
	c2.create("/groups", obj{"name": "After the prune", "scope": "system"})
	if code, out, _ := runCmd(t, dir2, "audit", "verify", "--db", db2); code != 0 {
		t.Fatalf("audit verify after a write following the prune: exit %d, %s", code, out)
	}
	c2.wantAudit("action=audit.prune", obj{"action": "audit.prune", "outcome": "success"})
	_, out, _ = runCmd(t, dir2, "audit", "export", "--db", db2)
	after := parseExport(t, out)
	if len(after) >= len(before) || after[0].Action == before[0].Action && after[0].ID == before[0].ID {
		t.Errorf("after pruning, export has %d records starting with %s, before %d starting with %s; want the old ones gone", len(after), after[0].Action, len(before), before[0].Action)
	}
	for _, bad := range [][]string{{}, {"--keep", "90d", "--before", "2026-01-01"}, {"--keep", "-1h"}, {"--before", "soon"}} {
		if code, _, stderr := runCmd(t, dir2, append([]string{"audit", "prune", "--db", db2}, bad...)...); code != 2 {
			t.Errorf("audit prune %v: exit %d (stderr %q), want 2", bad, code, stderr)
		}
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if code, _, stderr := runCmd(t, dir2, "audit", "prune", "--db", db2, "--before", future); code != 1 || !strings.Contains(stderr, "future") {
		t.Errorf("audit prune --before %s: exit %d, stderr %q; want 1 and a message about the future", future, code, stderr)
	}
	srv2.Stop(t)
}
