package crash

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
	"github.com/gatehouse/gatehouse/internal/testfigures"
	"github.com/gatehouse/gatehouse/internal/testserver"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	wire "github.com/gatehouse/gatehouse/pkg/gatehouse/api"
	"github.com/jackc/pgx/v5"
)

// nClients is how many clients write at once.
const nClients = 4

// restartBound is the generous bound on restart → /readyz 200.
const restartBound = 20 * time.Second

func TestCrashSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	runCrash(t, "sqlite", []string{"--db", path}, func(ctx context.Context) (store.Store, error) {
		return sqlite.Open(ctx, path)
	})
}

func TestCrashPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	runCrash(t, "postgres", []string{"--db", dsn}, func(ctx context.Context) (store.Store, error) {
		if err := settle(ctx, dsn); err != nil {
			return nil, err
		}
		return postgres.Open(ctx, dsn)
	})
}

// settle waits until the killed server's PostgreSQL sessions are gone. A
// COMMIT the server had sent when it was killed still completes on the
// database side, moments later: verifying before then would read the
// database while that last write lands.
func settle(ctx context.Context, dsn string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d sessions of the killed server still open after 30s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// harness is one backend's run.
type harness struct {
	t       *testing.T
	dir     string
	open    func(context.Context) (store.Store, error)
	rng     *rand.Rand
	fx      *fixture
	token   string
	clients []*writer

	restarts                       []time.Duration
	unackedApplied, unackedDropped int
	checked                        int
	writeActions                   map[string]bool
	lastDB                         *dbState
	minLoad                        time.Duration // added to the random time before a kill
}

// newHarness starts the server on a new database, creates the fixture and
// the clients.
func newHarness(t *testing.T, args []string, open func(context.Context) (store.Store, error), sd int64) (*harness, *testserver.Server) {
	h := &harness{t: t, dir: t.TempDir(), open: open,
		rng: rand.New(rand.NewPCG(uint64(sd), 0x9e3779b9)), writeActions: map[string]bool{}}
	srv, _ := start(t, h.dir, args...)
	h.setup(context.Background(), srv)
	for i := range nClients {
		h.clients = append(h.clients, &writer{id: i, rng: rand.New(rand.NewPCG(uint64(sd), uint64(i+1))),
			fx: h.fx, model: model{}, owned: map[string]bool{}})
	}
	return h, srv
}

func runCrash(t *testing.T, name string, args []string, open func(context.Context) (store.Store, error)) {
	sd := seed()
	n := kills()
	t.Logf("crash %s: seed %d (repeat with -seed %d), %d kills", name, sd, sd, n)
	ctx := context.Background()
	began := time.Now()
	h, srv := newHarness(t, args, open, sd)
	for k := 0; k < n; k++ {
		h.load(ctx, srv)
		h.checkLog(srv)
		srv.Kill()
		killed := srv
		for _, p := range h.verifyDB(ctx, k+1) {
			t.Error(p)
		}
		var took time.Duration
		srv, took = start(t, h.dir, args...)
		h.restarts = append(h.restarts, took)
		if took > restartBound {
			t.Errorf("restart %d: /readyz answered 200 after %s, want under %s", k+1, took, restartBound)
		}
		h.verifyServer(ctx, srv, k+1)
		if (k+1)%10 == 0 {
			t.Logf("crash %s: %d kills, revision %d, %s", name, k+1, h.lastDB.rev, time.Since(began).Round(time.Second))
		}
		if t.Failed() {
			t.Logf("log of the server killed:\n%s", killed.Log())
			t.Logf("log of the server restarted:\n%s", srv.Log())
			t.FailNow()
		}
	}
	stop(t, srv)

	acked := 0
	for _, c := range h.clients {
		acked += len(c.acks)
	}
	slices.Sort(h.restarts)
	q := func(f float64) float64 { return h.restarts[int(f*float64(len(h.restarts)-1))].Seconds() }
	t.Logf("crash %s: restart → /readyz 200: min %.2fs p10 %.2fs p50 %.2fs p90 %.2fs max %.2fs", name, q(0), q(0.1), q(0.5), q(0.9), q(1))
	line := fmt.Sprintf("crash %s: %d kills survived, %d acknowledged writes checked, %d unacknowledged checked (%d applied whole, %d absent whole), %d answers compared with the engine, restart p50 %.2fs max %.2fs",
		name, n, acked, h.unackedApplied+h.unackedDropped, h.unackedApplied, h.unackedDropped, h.checked, q(0.5), q(1))
	testfigures.Record(t, line)
}

// setup signs in, makes the API token the clients use, and creates the
// fixture: users, a folder type with contexts root and doc, six folders.
func (h *harness) setup(ctx context.Context, srv *testserver.Server) {
	t := h.t
	c, err := gatehouse.New(srv.URL, gatehouse.WithTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, "admin", adminPassword); err != nil {
		t.Fatalf("login: %v", err)
	}
	tok, err := c.CreateToken(ctx, wire.TokenRequest{Name: "crash"})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	h.token = tok.Secret
	c.SetToken(h.token)
	fx := &fixture{}
	for i := range 8 {
		u, err := c.CreateUser(ctx, wire.CreateUserRequest{Username: fmt.Sprintf("crash-user-%d", i)})
		if err != nil {
			t.Fatalf("creating a user: %v", err)
		}
		fx.users = append(fx.users, u.ID)
	}
	ft, err := c.CreateFolderType(ctx, wire.FolderTypeRequest{Name: "crash", Contexts: []string{"root", "doc"}, Properties: []string{"area"}})
	if err != nil {
		t.Fatalf("creating the folder type: %v", err)
	}
	fx.folderType = ft.ID
	areas := []string{"a", "b", "c"}
	for i, a := range areas {
		root, err := c.CreateFolder(ctx, wire.CreateFolderRequest{Name: "root " + a, TypeID: ft.ID, Properties: map[string]string{"area": a}})
		if err != nil {
			t.Fatalf("creating a folder: %v", err)
		}
		child, err := c.CreateFolder(ctx, wire.CreateFolderRequest{Name: "child", ParentID: root.ID, TypeID: ft.ID,
			Properties: map[string]string{"area": areas[(i+1)%3]}})
		if err != nil {
			t.Fatalf("creating a folder: %v", err)
		}
		fx.folders = append(fx.folders, root.ID, child.ID)
	}
	h.fx = fx
}

// load runs the clients against srv for a random while, then kills the
// server under them and waits until every client has seen it.
func (h *harness) load(ctx context.Context, srv *testserver.Server) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: nClients}
	defer tr.CloseIdleConnections()
	a := &api{base: srv.URL + "/api/v1", token: h.token, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for _, c := range h.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := c.run(ctx, a)
			mu.Lock()
			failures = append(failures, f...)
			mu.Unlock()
		}()
	}
	// The kill lands anywhere from the first requests to well into a run.
	time.Sleep(h.minLoad + time.Duration(50+h.rng.IntN(1200))*time.Millisecond)
	srv.Kill()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cancel()
		<-done
		h.t.Errorf("clients still running 30s after the kill")
	}
	for _, f := range failures {
		h.t.Error(f)
	}
}

// checkLog fails on a panic in the server's log.
func (h *harness) checkLog(srv *testserver.Server) {
	if l := srv.Log(); strings.Contains(l, "panic") {
		h.t.Errorf("the server logged a panic:\n%s", l)
	}
}

// verifyDB checks the database after kill k, with the server down, and
// returns what is wrong with it. It resolves each client's lost write:
// applied wholly, or not at all.
func (h *harness) verifyDB(ctx context.Context, k int) []string {
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("after kill %d: ", k)+fmt.Sprintf(format, args...))
	}
	st, err := h.open(ctx)
	if err != nil {
		fail("opening the database: %v", err)
		return problems
	}
	defer st.Close()
	var prev *engine.Engine
	if h.lastDB != nil && h.lastDB.replayErr == nil {
		prev = h.lastDB.replayed
	}
	d, err := readDB(ctx, st, prev)
	if err != nil {
		fail("reading the database: %v", err)
		return problems
	}

	// Every acknowledged write: its change-log row and its audit record
	// at the revision the server answered with.
	for _, c := range h.clients {
		for _, a := range c.acks {
			keys := opKeys(a.op)
			ch, ok := d.changes[a.revision]
			if !ok || !touches(ch, keys) {
				fail("acknowledged write %s at revision %d: no change-log row of it there", a.op, a.revision)
			}
			found := false
			for _, e := range d.audits[a.revision] {
				if e.Outcome == "success" && auditMentions(e, keys) {
					found = true
					h.writeActions[e.Action] = true
				}
			}
			if !found {
				fail("acknowledged write %s at revision %d: no audit record of it", a.op, a.revision)
			}
		}
	}
	for _, p := range d.logProblems(h.writeActions) {
		fail("%s", p)
	}

	// Each client's part of the data is what its acknowledged writes
	// made, plus its lost write wholly or not at all.
	for _, c := range h.clients {
		ids := maps.Clone(c.owned)
		if c.inflight != nil {
			maps.Copy(ids, opKeys(*c.inflight))
		}
		groupIDs := slices.Sorted(maps.Keys(ids))
		got, err := readModel(ctx, st, groupIDs)
		if err != nil {
			fail("reading client %d's data: %v", c.id, err)
			return problems
		}
		var later []int64
		for r := c.lastRev + 1; r <= d.rev; r++ {
			if touches(d.changes[r], ids) {
				later = append(later, r)
			}
		}
		auditLater := false
		for r := c.lastRev + 1; r <= d.rev; r++ {
			auditLater = auditLater || auditTouches(d.audits[r], ids)
		}
		switch {
		case got.equal(c.model):
			if len(later) > 0 || auditLater {
				fail("client %d's lost write %v is absent from the data but has change-log rows %v (audit records: %v)",
					c.id, c.inflight, later, auditLater)
			}
			if c.inflight != nil {
				h.unackedDropped++
			}
		case c.inflight != nil && got.equal(c.model.apply(*c.inflight)):
			if len(later) != 1 || !auditLater {
				fail("client %d's lost write %s is in the data, with change-log rows %v (want exactly one) and audit records: %v",
					c.id, c.inflight, later, auditLater)
			} else {
				c.lastRev = later[0]
			}
			c.model = c.model.apply(*c.inflight)
			maps.Copy(c.owned, opKeys(*c.inflight))
			h.unackedApplied++
		default:
			fail("client %d's data is neither what its acknowledged writes made nor that plus its lost write %v:%s",
				c.id, c.inflight, c.model.diff(got))
		}
		c.inflight = nil
	}

	// The change log replayed from nothing and the tables describe the
	// same permissions.
	for _, p := range compareEngines(d.replayed, d.loaded, h.fx, h.fx.queries()) {
		fail("the change log replayed and the tables disagree: %s", p)
	}
	h.lastDB = d
	return problems
}

// verifyServer compares the restarted server's answers with an engine
// built from the database.
func (h *harness) verifyServer(ctx context.Context, srv *testserver.Server, k int) {
	c, err := gatehouse.New(srv.URL, gatehouse.WithToken(h.token), gatehouse.WithTimeout(0))
	if err != nil {
		h.t.Fatal(err)
	}
	diffs, n, err := compareServer(ctx, c, h.lastDB.loaded, h.fx, h.fx.queries(), h.lastDB.rev)
	if err != nil {
		h.t.Fatalf("after restart %d: asking the server: %v", k, err)
	}
	h.checked += n
	for _, d := range diffs {
		h.t.Errorf("after restart %d: %s", k, d)
	}
}

// opKeys are the ids an op's rows hang off.
func opKeys(o op) map[string]bool {
	k := map[string]bool{o.group: true}
	if o.rule != "" {
		k[o.rule] = true
	}
	return k
}
