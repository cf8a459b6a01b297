package e2e

// Several gatehouse replicas on one PostgreSQL database (issue 7): reading
// your writes with a consistency token on another replica, convergence
// without one, concurrent writers on every replica, a replica killed with
// SIGKILL, and PostgreSQL restarted under running replicas. Every test
// runs the real binary over loopback HTTP and is bounded in time; the
// concurrent-writer phases run 8 s with -short (CI) and 30 s without.
//
// These tests are deliberately not parallel: they measure convergence
// times, and the machine has two cores.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// TestR20ReplicasReadYourWrites writes on one replica and checks, with the
// write's revision as at_least, on the two others, round-robin: the answer
// must always reflect the write. Then it measures, for writes without a
// token, how long until every replica answers the new result, and asserts
// each write converged within 1 s.
func TestR20ReplicasReadYourWrites(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	rs := startReplicas(t, 3, dsn)
	token := replicaToken(t, rs[0])
	cs := make([]*rclient, len(rs))
	for i, r := range rs {
		cs[i] = newRClient(r, token)
	}
	f := newFixture(t, cs[0], 6, 24)
	ctx := context.Background()

	// member[u][g]: the model of the memberships this test toggles. The
	// fixture's group g gives project.read on project g%3, so a user may
	// read project p when they are in any group g with g%3 == p.
	member := make([][]bool, len(f.users))
	for u := range member {
		member[u] = make([]bool, len(f.groups))
	}
	toggle := func(c *rclient, u, g int) int64 {
		t.Helper()
		var a answer
		if member[u][g] {
			a = c.must(t, "POST", "/groups/"+f.groups[g]+"/members/remove", obj{"user_ids": []string{f.users[u]}}, 200)
		} else {
			a = c.must(t, "POST", "/groups/"+f.groups[g]+"/members", obj{"members": []obj{{"user_id": f.users[u]}}}, 200)
		}
		member[u][g] = !member[u][g]
		rev := a.revision()
		if rev <= 0 || a.header.Get("X-Gatehouse-Revision") == "" {
			t.Fatalf("a write on replica %s answered without its revision (body and X-Gatehouse-Revision): %s %v", c.r.name, a, a.header)
		}
		return rev
	}
	readable := func(u, p int) bool {
		for g := p; g < len(f.groups); g += 3 {
			if member[u][g] {
				return true
			}
		}
		return false
	}

	// Phase 1: read your writes on another replica, with the token.
	const tokenRounds = 200
	var last int64
	for i := 0; i < tokenRounds; i++ {
		w := i % len(cs)
		u, g := i%len(f.users), (i*7)%len(f.groups)
		rev := toggle(cs[w], u, g)
		if rev <= last {
			t.Fatalf("write %d answered revision %d, not after the previous write's %d", i, rev, last)
		}
		last = rev
		p := g % 3
		for _, o := range []int{(w + 1) % len(cs), (w + 2) % len(cs)} {
			got, at, err := cs[o].check(ctx, "user:"+f.users[u], "project.read", "project:"+f.projects[p], rev)
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			if got != readable(u, p) || at < rev {
				t.Fatalf("round %d: wrote on %s at revision %d, then checked on %s with at_least: allowed=%v at revision %d, want allowed=%v at >= %d",
					i, rs[w].name, rev, rs[o].name, got, at, readable(u, p), rev)
			}
		}
	}
	t.Logf("read-your-writes: %d writes round-robin over 3 replicas, each checked with its token on the 2 others: all consistent", tokenRounds)

	// Phase 2: convergence without a token. The writing replica applies
	// its own commit at once; the time measured is until the last of the
	// three answers the new result.
	rounds := 100
	var conv []time.Duration
	for i := 0; i < rounds; i++ {
		w := i % len(cs)
		u, g := (i*5+3)%len(f.users), (i*11+1)%len(f.groups)
		rev := toggle(cs[w], u, g)
		acked := time.Now()
		p := g % 3
		want := readable(u, p)
		pending := map[int]bool{0: true, 1: true, 2: true}
		var took time.Duration
		for len(pending) > 0 {
			if time.Since(acked) > 5*time.Second {
				t.Fatalf("write %d (revision %d on %s) had not reached replicas %v without a token after 5s: is the change log followed (NOTIFY and polling)?",
					i, rev, rs[w].name, keys(pending))
			}
			for o := range pending {
				got, at, err := cs[o].check(ctx, "user:"+f.users[u], "project.read", "project:"+f.projects[p], 0)
				if err != nil {
					t.Fatal(err)
				}
				if at >= rev {
					if got != want {
						t.Fatalf("replica %s at revision %d answers %v for a change written at %d, want %v", rs[o].name, at, got, rev, want)
					}
					delete(pending, o)
					took = time.Since(acked)
				}
			}
			if len(pending) > 0 {
				time.Sleep(time.Millisecond)
			}
		}
		conv = append(conv, took)
	}
	sort.Slice(conv, func(i, j int) bool { return conv[i] < conv[j] })
	testfigures.Record(t, fmt.Sprintf("replicas: %d writes checked with their token on the other replicas, all consistent; convergence without a token over %d writes: p50 %v, p99 %v, max %v",
		tokenRounds, rounds, percentile(conv, 50), percentile(conv, 99), conv[len(conv)-1]))
	if max := conv[len(conv)-1]; max > time.Second {
		n := sort.Search(len(conv), func(i int) bool { return conv[i] > time.Second })
		t.Errorf("%d of %d writes took longer than 1s to reach every replica (max %v)", len(conv)-n, len(conv), max)
	}
}

func keys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// workload is the concurrent writers' traffic and what they were told
// succeeded. Writer r toggles memberships of the users it owns (index ≡ r
// mod writers) in every group, so two writers edit the same group's
// members at once but never the same pair; sets its group r's rights in
// each project; and adds rules to its group r. What it was told is the
// state it checks afterwards: an answered write (2xx) must be in the
// database; a refused one (4xx/5xx) must not; a write whose answer never
// came (the replica was killed) is unknown and not checked.
type workload struct {
	f       *fixture
	writers int
	probe   []string // probe[r]: a user who is only in group r, to see group r's rights

	mu      sync.Mutex
	state   map[[2]int]int8 // (user, group) → 1 member, 0 not, -1 unknown
	rights  map[[2]int]int8 // (writer, project) → 1 read+write, 0 read only, -1 unknown
	rules   []string        // acknowledged rule ids
	counts  map[string]int
	refused []string // unexpected refusals
}

func newWorkload(t *testing.T, c *rclient, f *fixture, writers int) *workload {
	t.Helper()
	w := &workload{f: f, writers: writers, state: map[[2]int]int8{}, rights: map[[2]int]int8{}, counts: map[string]int{}}
	for r := 0; r < writers; r++ {
		name := fmt.Sprintf("probe%d", r)
		u := str(t, c.must(t, "POST", "/users", obj{"username": name, "password": name + "-Secret-1", "email": name + "@example.org"}, 201).obj(), "id")
		c.must(t, "POST", "/groups/"+f.groups[r]+"/members", obj{"members": []obj{{"user_id": u}}}, 200)
		w.probe = append(w.probe, u)
	}
	return w
}

func (w *workload) count(what string) {
	w.mu.Lock()
	w.counts[what]++
	w.mu.Unlock()
}

// outcome records one write's answer and returns 1 when it was applied, 0
// when refused, -1 when unknown.
func (w *workload) outcome(what string, a answer, err error) int8 {
	switch {
	case err != nil && isTransport(err):
		w.count(what + " unanswered")
		return -1
	case err != nil:
		w.mu.Lock()
		w.refused = append(w.refused, fmt.Sprintf("%s: %v", what, err))
		w.mu.Unlock()
		return -1
	case a.code/100 == 2:
		w.count(what)
		return 1
	default:
		w.mu.Lock()
		w.refused = append(w.refused, fmt.Sprintf("%s: %s", what, a))
		w.mu.Unlock()
		return 0
	}
}

// run is writer r's loop on replica client c until ctx ends.
func (w *workload) run(ctx context.Context, r int, c *rclient) {
	rng := rand.New(rand.NewPCG(uint64(r), 7))
	f := w.f
	for i := 0; ctx.Err() == nil; i++ {
		var res int8
		switch i % 4 {
		case 0, 1: // toggle a membership
			u := rng.IntN(len(f.users)/w.writers)*w.writers + r
			g := rng.IntN(len(f.groups))
			k := [2]int{u, g}
			w.mu.Lock()
			cur := w.state[k]
			w.mu.Unlock()
			var a answer
			var err error
			if cur == 1 {
				a, err = c.do(ctx, "POST", "/groups/"+f.groups[g]+"/members/remove", obj{"user_ids": []string{f.users[u]}})
			} else {
				a, err = c.do(ctx, "POST", "/groups/"+f.groups[g]+"/members", obj{"members": []obj{{"user_id": f.users[u]}}})
			}
			if ctx.Err() != nil {
				// Cancelled at the end of the run: the answer is unknown.
				w.mu.Lock()
				w.state[k] = -1
				w.mu.Unlock()
				return
			}
			res = w.outcome("membership", a, err)
			switch res {
			case 1:
				w.mu.Lock()
				w.state[k] = map[bool]int8{true: 0, false: 1}[cur == 1]
				w.mu.Unlock()
			case -1:
				w.mu.Lock()
				w.state[k] = -1
				w.mu.Unlock()
			}
		case 2: // set group r's rights in a project
			p := rng.IntN(len(f.projects))
			write := rng.IntN(2) == 1
			perms := []string{"project.read"}
			if write {
				perms = append(perms, "project.write")
			}
			a, err := c.do(ctx, "PUT", "/groups/"+f.groups[r]+"/projects/"+f.projects[p], obj{"permissions": perms})
			k := [2]int{r, p}
			if ctx.Err() != nil {
				w.mu.Lock()
				w.rights[k] = -1
				w.mu.Unlock()
				return
			}
			res = w.outcome("grant", a, err)
			switch res {
			case 1:
				w.mu.Lock()
				w.rights[k] = map[bool]int8{true: 1, false: 0}[write]
				w.mu.Unlock()
			case -1:
				w.mu.Lock()
				w.rights[k] = -1
				w.mu.Unlock()
			}
		case 3: // add a rule to group r
			a, err := c.do(ctx, "POST", "/groups/"+f.groups[r]+"/rules", obj{"name": fmt.Sprintf("rule %d of writer %d", i, r),
				"criteria": []obj{{"folder_type_id": f.ftype, "property": "site", "operator": "eq", "value": fmt.Sprintf("s%d", rng.IntN(3))}},
				"grants":   obj{"data": []string{"read"}}})
			if ctx.Err() != nil {
				return
			}
			if res = w.outcome("rule", a, err); res == 1 {
				w.mu.Lock()
				w.rules = append(w.rules, str0(a.obj(), "id"))
				w.mu.Unlock()
			}
		}
		if res < 0 && ctx.Err() == nil {
			// The replica did not answer (it is being killed): do not spin.
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func str0(o obj, k string) string { s, _ := o[k].(string); return s }

// verify fails the test unless every write the writers were told
// succeeded is in the database (members list), in the engine (the probe
// users' rights) and readable (rules), asking replica c at revision rev.
func (w *workload) verify(t *testing.T, c *rclient, rev int64) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.refused {
		t.Errorf("a write was refused: %s", r)
	}
	f := w.f
	lost, checked := 0, 0
	for g := range f.groups {
		in := members(t, c, f.groups[g])
		for u := range f.users {
			s, ok := w.state[[2]int{u, g}]
			if !ok || s < 0 {
				continue
			}
			checked++
			if in[f.users[u]] != (s == 1) {
				lost++
				if lost <= 5 {
					t.Errorf("user %d in group %d: the last acknowledged write made the membership %v, the database has %v", u, g, s == 1, in[f.users[u]])
				}
			}
		}
	}
	for k, s := range w.rights {
		if s < 0 {
			continue
		}
		checked++
		got, _, err := c.check(context.Background(), "user:"+w.probe[k[0]], "project.write", "project:"+f.projects[k[1]], rev)
		if err != nil {
			t.Fatal(err)
		}
		if got != (s == 1) {
			lost++
			t.Errorf("group %d in project %d: the last acknowledged write set project.write=%v, the engine answers %v", k[0], k[1], s == 1, got)
		}
	}
	for _, id := range w.rules {
		checked++
		if a, err := c.do(context.Background(), "GET", "/rules/"+id, nil); err != nil || a.code != 200 {
			lost++
			t.Errorf("acknowledged rule %s: GET /rules/%s = %v %v", id, id, a, err)
		}
	}
	testfigures.Record(t, fmt.Sprintf("replicas %s: writes answered %v; %d acknowledged outcomes checked, %d lost", t.Name(), w.counts, checked, lost))
	if w.counts["membership"] == 0 || w.counts["grant"] == 0 || w.counts["rule"] == 0 {
		t.Errorf("the writers did not write every kind of change: %v", w.counts)
	}
}

// contest edits one group from two replicas at once with the same
// If-Match, round after round, until ctx ends: exactly one of each pair
// must win, the other get 412 (or 409); the group's description must end
// as the last winner wrote it.
type contest struct {
	rounds, conflicts int
	lastWinner        string
	errs              []string
}

func (ct *contest) run(ctx context.Context, cs []*rclient, group string) {
	for i := 0; ctx.Err() == nil; i++ {
		a, b := cs[i%len(cs)], cs[(i+1)%len(cs)]
		g, err := a.do(ctx, "GET", "/groups/"+group, nil)
		if ctx.Err() != nil {
			return
		}
		if err != nil || g.code != 200 {
			ct.errs = append(ct.errs, fmt.Sprintf("round %d: GET the group: %v %v", i, g, err))
			continue
		}
		etag := g.header.Get("ETag")
		descs := [2]string{fmt.Sprintf("round %d by %s", i, a.r.name), fmt.Sprintf("round %d by %s", i, b.r.name)}
		var res [2]answer
		var errs [2]error
		var wg sync.WaitGroup
		for j, c := range []*rclient{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Not ctx: a round once started is finished, so its
				// outcome is known.
				res[j], errs[j] = c.do(context.Background(), "PATCH", "/groups/"+group, obj{"description": descs[j]}, "If-Match", etag)
			}()
		}
		wg.Wait()
		ct.rounds++
		wins := 0
		for j := range res {
			switch {
			case errs[j] != nil:
				ct.errs = append(ct.errs, fmt.Sprintf("round %d: %v", i, errs[j]))
			case res[j].code == 200:
				wins++
				ct.lastWinner = descs[j]
			case res[j].code == 412 || res[j].code == 409:
				ct.conflicts++
			default:
				ct.errs = append(ct.errs, fmt.Sprintf("round %d: PATCH with If-Match %s: %s", i, etag, res[j]))
			}
		}
		if wins != 1 {
			ct.errs = append(ct.errs, fmt.Sprintf("round %d: %d of two concurrent edits with If-Match %s succeeded, want exactly one: %s | %s", i, wins, etag, res[0], res[1]))
		}
	}
}

// writeFor runs one workload writer per replica (and optionally the
// If-Match contest) for d, with during called once after d/3 (nil for
// none) while they write.
func writeFor(w *workload, cs []*rclient, contestGroup string, d time.Duration, during func()) *contest {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for r, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx, r, c) }()
	}
	ct := &contest{}
	if contestGroup != "" {
		wg.Add(1)
		go func() { defer wg.Done(); ct.run(ctx, cs, contestGroup) }()
	}
	if during != nil {
		select {
		case <-time.After(d / 3):
			during()
		case <-ctx.Done():
		}
	}
	wg.Wait()
	return ct
}

// writePhase is how long the concurrent writers run: 30 s as the issue
// asks, 8 s in -short mode (CI).
func writePhase() time.Duration {
	if testing.Short() {
		return 8 * time.Second
	}
	return 30 * time.Second
}

// TestReplicasConcurrentWriters runs writers on all three replicas at once
// (memberships, rights, rules, and concurrent If-Match edits of one group
// from two replicas), then checks that every acknowledged write is
// present and that every replica answers exactly as a replica freshly
// built from the database.
func TestReplicasConcurrentWriters(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	rs := startReplicas(t, 3, dsn)
	token := replicaToken(t, rs[0])
	cs := make([]*rclient, len(rs))
	for i, r := range rs {
		cs[i] = newRClient(r, token)
	}
	f := newFixture(t, cs[0], 6, 30)
	w := newWorkload(t, cs[0], f, len(cs))
	contested := str(t, cs[0].must(t, "POST", "/groups", obj{"name": "contested", "scope": "system"}, 201).obj(), "id")

	d := writePhase()
	ct := writeFor(w, cs, contested, d, nil)
	for _, e := range ct.errs {
		t.Error(e)
	}
	if ct.rounds == 0 || ct.conflicts == 0 {
		t.Errorf("the If-Match contest ran %d rounds with %d refusals: it did not exercise concurrent edits", ct.rounds, ct.conflicts)
	}
	t.Logf("concurrent writers for %v on 3 replicas; If-Match contest: %d rounds, each one winner and %d refusals (412/409)", d, ct.rounds, ct.conflicts)
	got := cs[1].must(t, "GET", "/groups/"+contested, nil, 200).obj()["description"]
	if got != ct.lastWinner {
		t.Errorf("the contested group's description is %q, want the last winner's %q", got, ct.lastWinner)
	}

	agree(t, dsn, rs, token, f)
	w.verify(t, cs[2], 0)
}

// TestReplicaKilledCatchesUp kills one of three replicas with SIGKILL
// while all three take writes, restarts it while the others keep
// writing, and checks that it catches up and agrees with a fresh build,
// and that no acknowledged write is lost.
func TestReplicaKilledCatchesUp(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	rs := startReplicas(t, 3, dsn)
	token := replicaToken(t, rs[0])
	cs := make([]*rclient, len(rs))
	for i, r := range rs {
		cs[i] = newRClient(r, token)
	}
	f := newFixture(t, cs[0], 6, 30)
	w := newWorkload(t, cs[0], f, len(cs))

	d := writePhase()
	victim := rs[2]
	var restarted time.Time
	writeFor(w, cs, "", d, func() {
		victim.kill(t)
		t.Logf("replica %s killed with SIGKILL after %v of writes", victim.name, d/3)
		time.Sleep(d / 6)
		victim.restart(t)
		restarted = time.Now()
		t.Logf("replica %s restarted", victim.name)
	})
	if restarted.IsZero() {
		t.Fatal("the replica was not killed and restarted during the writes")
	}
	if w.counts["membership unanswered"]+w.counts["grant unanswered"]+w.counts["rule unanswered"] == 0 {
		t.Logf("no write to the killed replica was in flight at the kill (the writers retried against it while it was down)")
	}
	agree(t, dsn, rs, token, f)
	w.verify(t, cs[0], 0)
}

// TestReplicasSurvivePostgresRestart stops a private PostgreSQL cluster
// under three serving replicas: writes fail with 503 naming the database,
// every replica reports /readyz 503, checks without a token keep being
// answered from memory; then PostgreSQL comes back and the replicas
// recover without a restart, follow new writes, and agree.
func TestReplicasSurvivePostgresRestart(t *testing.T) {
	cl := pgtest.NewCluster(t)
	dsn := cl.NewDatabase(t)
	rs := startReplicas(t, 3, dsn)
	token := replicaToken(t, rs[0])
	cs := make([]*rclient, len(rs))
	for i, r := range rs {
		cs[i] = newRClient(r, token)
	}
	f := newFixture(t, cs[0], 3, 9)
	ctx := context.Background()
	add := func(c *rclient, u, g int) (answer, error) {
		return c.do(ctx, "POST", "/groups/"+f.groups[g]+"/members", obj{"members": []obj{{"user_id": f.users[u]}}})
	}
	var before int64
	for i := 0; i < 6; i++ {
		a := cs[i%3].must(t, "POST", "/groups/"+f.groups[i%3]+"/members", obj{"members": []obj{{"user_id": f.users[i]}}}, 200)
		before = a.revision()
	}
	for _, c := range cs {
		waitRevision(t, c, f, before, 5*time.Second)
	}

	cl.Stop(t)
	outage := time.Now()
	t.Log("PostgreSQL stopped")
	for i, c := range cs {
		// A write must be refused with 503 (never succeed, never 500),
		// with a problem that says the database is the trouble.
		deadline := time.Now().Add(20 * time.Second)
		for {
			a, err := add(c, 6+i, i)
			if err != nil {
				t.Fatalf("replica %s: a write during the outage got no answer: %v", c.r.name, err)
			}
			if a.code/100 == 2 {
				t.Fatalf("replica %s: a write succeeded while PostgreSQL was down: %s", c.r.name, a)
			}
			if a.code == 503 {
				p := a.obj()
				detail := strings.ToLower(fmt.Sprint(p["detail"]))
				if p["kind"] != "unavailable" || !(strings.Contains(detail, "database") || strings.Contains(detail, "postgres")) {
					t.Errorf("replica %s: the 503 for a write during the outage does not say the database is unavailable: %s", c.r.name, a)
				}
				if i == 0 {
					t.Logf("a write during the outage: %s", a)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s: a write during the outage answered %s, want 503", c.r.name, a)
			}
			time.Sleep(100 * time.Millisecond)
		}
		waitStatus(t, c.r, "/readyz", 503, 20*time.Second)
		// Checks keep being answered from the engine in memory, at the
		// revision it has (asked anonymously: an API token must be
		// verified in the database once its 5 s cache entry expires); a
		// check that needs a newer revision is 503.
		anon := newRClient(c.r, "")
		if _, at, err := anon.check(ctx, "anonymous", "project.read", "project:"+f.projects[0], 0); err != nil || at < before {
			t.Errorf("replica %s: an anonymous check without a token during the outage: revision %d, %v; want an answer at >= %d", c.r.name, at, err, before)
		}
		a, err := c.do(ctx, "POST", "/check", obj{"subject": "user:" + f.users[0], "permission": "project.read",
			"resource": "project:" + f.projects[0], "at_least": before + 1000, "wait_ms": 300})
		if err != nil || a.code != 503 || a.revision() < before {
			t.Errorf("replica %s: a check with a future at_least during the outage = %v %v, want 503 with the revision it has", c.r.name, a, err)
		}
	}
	// Past the token cache's 5 s, a request with an API token cannot be
	// authenticated: it must be told the database is unavailable (503),
	// never that its token is bad (401) — a client would throw a good
	// token away.
	time.Sleep(time.Until(outage.Add(6 * time.Second)))
	for _, c := range cs {
		a, err := c.do(ctx, "POST", "/check", obj{"subject": "user:" + f.users[0], "permission": "project.read", "resource": "project:" + f.projects[0]})
		if err != nil || (a.code != 200 && a.code != 503) {
			t.Errorf("replica %s: a check with an API token 6s into the outage = %v %v, want 200 (answered from memory) or 503", c.r.name, a, err)
		} else if c == cs[0] {
			t.Logf("a check with an API token 6s into the outage: %s", a)
		}
	}

	cl.Start(t)
	t.Logf("PostgreSQL started again after %v", time.Since(outage).Round(time.Millisecond))
	recovered := time.Now()
	for _, c := range cs {
		waitStatus(t, c.r, "/readyz", 200, 60*time.Second)
	}
	t.Logf("every replica ready again %v after PostgreSQL came back", time.Since(recovered).Round(time.Millisecond))
	// Writes work again on every replica, without restarting any, and
	// the others follow them without a token.
	for i, c := range cs {
		var a answer
		deadline := time.Now().Add(30 * time.Second)
		for {
			var err error
			a, err = add(c, 6+i, i)
			if err == nil && a.code == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s: writes still fail 30s after PostgreSQL came back: %v %v", c.r.name, a, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, o := range cs {
			waitRevision(t, o, f, a.revision(), 10*time.Second)
		}
	}
	agree(t, dsn, rs, token, f)
	// The writes acknowledged before the outage are there.
	for i := 0; i < 6; i++ {
		if !members(t, cs[1], f.groups[i%3])[f.users[i]] {
			t.Errorf("user %d, added to group %d before the outage, is not a member after it", i, i%3)
		}
	}
}

// waitStatus polls GET path on r until it answers want, failing the test
// after within.
func waitStatus(t *testing.T, r *replica, path string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := tryGet(r.base() + path)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s: GET %s = %d %s for %v, want %d", r.name, path, code, body, within, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReplicaWritesBeyondPoolSize sends more concurrent writes to one
// replica on PostgreSQL than its connection pool holds (pgx's default:
// max(4, CPUs)); every one must be answered. It pins a deadlock found
// here: a write holding the revision lock brought its engine up to date
// over a second pool connection while the writers queued behind the lock
// held the rest of the pool. Writers now read the log through their own
// transaction (Follower.CatchUpWithin).
func TestReplicaWritesBeyondPoolSize(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	r := startReplica(t, "A", dsn)
	c := newRClient(r, replicaToken(t, r))
	const writers, each = 12, 5
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan string, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				a, err := c.do(ctx, "POST", "/users", obj{"username": fmt.Sprintf("w%02d-%d", w, i)})
				if err != nil || a.code != 201 {
					errs <- fmt.Sprintf("writer %d, user %d: %v %v", w, i, a, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for e := range errs {
		if n++; n <= 3 {
			t.Error(e)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d concurrent user creations failed", n, writers*each)
	}
}

// TestReplicasLostNotification cuts every replica's LISTEN connection
// (pg_terminate_backend, on this test's own database only) and writes at
// once: the change must still reach the other replica, through its
// catch-up on reconnection or its poll, within a bound well above
// --poll-interval (500 ms) — a lost notification delays, never loses.
func TestReplicasLostNotification(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	rs := startReplicas(t, 2, dsn)
	token := replicaToken(t, rs[0])
	a, b := newRClient(rs[0], token), newRClient(rs[1], token)
	f := newFixture(t, a, 3, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for round := 0; round < 3; round++ {
		var cut int
		err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`).Scan(&cut)
		if err != nil {
			t.Fatal(err)
		}
		if cut != 2 {
			t.Fatalf("round %d: cut %d LISTEN connections, want one per replica (2)", round, cut)
		}
		w := a.must(t, "POST", "/groups/"+f.groups[round]+"/members", obj{"members": []obj{{"user_id": f.users[round]}}}, 200)
		start := time.Now()
		waitRevision(t, b, f, w.revision(), 3*time.Second)
		t.Logf("round %d: with its LISTEN connection cut, replica B reached the write's revision %v after the write", round, time.Since(start).Round(time.Millisecond))
		// Let the listeners reconnect before cutting them again.
		time.Sleep(700 * time.Millisecond)
	}
}
