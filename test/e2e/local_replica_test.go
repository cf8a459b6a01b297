package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/local"
)

// The local replica (pkg/gatehouse/local) answers exactly as the server
// does at the same revision: random worlds, random writes through the
// real binary, the same random questions asked of both.

// world is what the random writes pick from.
type world struct {
	t        *testing.T
	admin    *client
	r        *rand.Rand
	users    []string
	groups   []string
	projects []string
	folders  []string
	rules    []string
	typeID   string
	soon     time.Time // the instant the "soon" memberships expire
	// allowed and denied count the server's answers compared, so that a
	// run proves both.
	allowed, denied int
	// nested counts the groups nested by the writes, to prove some were.
	nested int
}

var (
	worldLevels   = []string{"none", "view", "download", "edit", "upload", "delete", "create_folder", "delete_folder"}
	worldPhases   = []string{"1", "2", "3"}
	worldSysPerms = []string{"users.view", "groups.view", "audit.view", "files.admin", "project.create", "personal_info.view"}
	worldProjPerm = [][]string{{"project.read"}, {"project.read", "project.write"}, {"project.moderate"}, {}}
	worldDomains  = []string{"alpha", "beta"}
	worldActions  = []string{"read", "edit", "delete"}
)

func (w *world) pick(s []string) string { return s[w.r.IntN(len(s))] }

// try sends a random write; a refusal (an exclusive project's conflict,
// a rule that no longer fits) changes nothing and is fine.
func (w *world) try(method, path string, body any) (int, obj) {
	w.t.Helper()
	code, _, b := w.admin.raw(method, path, body)
	var o obj
	if code < 300 && len(b) > 0 {
		_ = json.Unmarshal(b, &o)
	}
	return code, o
}

// build makes a random world of a few users, groups, projects, folders
// (one folder type with a data context and a phase property), levels and
// rules.
func (w *world) build() {
	w.typeID = str(w.t, w.admin.call("POST", "/folder-types", obj{"name": "Study", "contexts": []string{"root", "data"}, "properties": []string{"phase"}}, 201), "id")
	for i := range 8 {
		w.users = append(w.users, w.admin.user(fmt.Sprintf("u%d", i), "a long enough password 1"))
	}
	for i := range 2 {
		mode := []string{"multiple", "exclusive"}[i]
		w.projects = append(w.projects, w.admin.create("/projects", obj{"name": fmt.Sprintf("P%d", i), "membership_mode": mode}))
	}
	for i := range 5 {
		w.groups = append(w.groups, w.admin.create("/groups", obj{"name": fmt.Sprintf("G%d", i), "scope": "system"}))
	}
	w.groups = append(w.groups, w.admin.create("/groups", obj{"name": "PG", "scope": "project", "project_id": w.projects[0]}))
	for i := range 10 {
		body := obj{"name": fmt.Sprintf("f%d", i), "type_id": w.typeID, "properties": map[string]string{"phase": w.pick(worldPhases)}}
		if i > 0 {
			body["parent_id"] = w.folders[w.r.IntN(len(w.folders))]
		}
		w.folders = append(w.folders, w.admin.create("/folders", body))
	}
	for range 40 {
		w.write()
	}
}

// write makes one random write.
func (w *world) write() {
	switch w.r.IntN(14) {
	case 0, 1, 2:
		w.try("POST", "/groups/"+w.pick(w.groups)+"/members", obj{"members": []obj{w.expiring(obj{"user_id": w.pick(w.users)})}})
	case 3:
		w.try("DELETE", "/groups/"+w.pick(w.groups)+"/members/"+w.pick(w.users), nil)
	case 4:
		w.try("PUT", "/folders/"+w.pick(w.folders)+"/levels/"+w.pick(w.groups), obj{"level": w.pick(worldLevels)})
	case 5:
		// A folder move (refused when it would make a cycle).
		w.try("PATCH", "/folders/"+w.pick(w.folders), obj{"parent_id": w.pick(w.folders)})
	case 6:
		w.try("PATCH", "/folders/"+w.pick(w.folders), obj{"properties": map[string]string{"phase": w.pick(worldPhases)}})
	case 7:
		w.ruleWrite()
	case 8:
		w.try("PUT", "/groups/"+w.pick(w.groups[:5])+"/system-grants", obj{"system_permissions": []string{w.pick(worldSysPerms)}})
	case 9:
		p := w.pick(w.projects)
		if w.r.IntN(2) == 0 {
			w.try("PUT", "/users/"+w.pick(w.users)+"/projects/"+p, obj{"permissions": worldProjPerm[w.r.IntN(len(worldProjPerm))]})
		} else {
			g := w.pick(w.groups[:5])
			w.try("POST", "/groups/"+g+"/projects/import", obj{"project_ids": []string{p}})
			w.try("PUT", "/groups/"+g+"/projects/"+p, obj{"permissions": worldProjPerm[w.r.IntN(len(worldProjPerm))]})
		}
	case 10:
		w.try("PUT", "/users/"+w.pick(w.users)+"/status", obj{"status": []string{"active", "disabled"}[w.r.IntN(2)]})
	case 11:
		w.try("PUT", "/groups/"+w.pick(w.groups[:5])+"/domains", obj{"domains": []string{w.pick(worldDomains)}})
	case 12:
		// A group nested in another (refused when it would make a cycle,
		// cross the scope rules or the exclusive project's rule).
		if code, _ := w.try("POST", "/groups/"+w.pick(w.groups)+"/group-members", obj{"groups": []obj{w.expiring(obj{"group_id": w.pick(w.groups)})}}); code == 200 {
			w.nested++
		}
	case 13:
		w.try("POST", "/groups/"+w.pick(w.groups)+"/group-members/remove", obj{"group_ids": []string{w.pick(w.groups)}})
	}
}

// expiring gives a member row one of three expiries: none, "soon" (during
// the run) or in an hour.
func (w *world) expiring(m obj) obj {
	switch w.r.IntN(3) {
	case 0:
		m["expires_at"] = w.soon.Format(time.RFC3339Nano)
	case 1:
		m["expires_at"] = time.Now().Add(time.Hour).Format(time.RFC3339Nano)
	}
	return m
}

// ruleWrite adds a rule or changes one's criteria and matrix.
func (w *world) ruleWrite() {
	body := obj{"name": fmt.Sprintf("r%d", w.r.IntN(1000)),
		"criteria": []obj{{"folder_type_id": w.typeID, "property": "phase", "operator": "eq", "value": w.pick(worldPhases)}},
		"grants":   map[string][]string{w.pick([]string{"root", "data"}): {w.pick(worldActions)}}}
	if len(w.rules) > 0 && w.r.IntN(2) == 0 {
		w.try("PUT", "/rules/"+w.pick(w.rules), body)
		return
	}
	if code, o := w.try("POST", "/groups/"+w.pick(w.groups[:5])+"/rules", body); code == 201 {
		w.rules = append(w.rules, o["id"].(string))
	}
}

// questions are random checks over the world, with some that fail (an
// unknown user, a context the type lacks).
func (w *world) questions(n int) []gatehouse.CheckRequest {
	qs := make([]gatehouse.CheckRequest, n)
	for i := range qs {
		sub := gatehouse.User(w.pick(w.users))
		switch w.r.IntN(20) {
		case 0:
			sub = gatehouse.Anonymous
		case 1:
			sub = gatehouse.User("no-such-user")
		}
		var perm, res string
		switch w.r.IntN(4) {
		case 0:
			perm, res = w.pick(worldSysPerms), gatehouse.System
		case 1:
			perm, res = w.pick([]string{"project.read", "project.write", "project.moderate"}), gatehouse.Project(w.pick(w.projects))
		case 2:
			perm, res = "domain.access", gatehouse.Domain(w.pick(worldDomains))
		default:
			perm = w.pick([]string{"root", "data", "nope"}) + "." + w.pick(worldActions)
			res = gatehouse.Folder(w.pick(w.folders))
		}
		qs[i] = gatehouse.CheckRequest{Subject: sub, Permission: perm, Resource: res}
	}
	return qs
}

// compare asks the same questions of the server and of the replica at
// revision rev and counts the differences.
func compare(t *testing.T, ctx context.Context, srv *gatehouse.Client, rep *local.Replica, w *world, rev int64) int {
	t.Helper()
	// Never compare across the instant the "soon" memberships expire:
	// the two answers are computed a few milliseconds apart.
	if d := time.Until(w.soon); d > -time.Second && d < 2*time.Second {
		time.Sleep(d + time.Second)
	}
	qs := w.questions(300)
	at := gatehouse.Consistency{AtLeast: rev, Wait: 5 * time.Second}
	want, err := srv.BatchCheck(ctx, gatehouse.BatchCheckRequest{Checks: qs, Consistency: at})
	if err != nil {
		t.Fatalf("server batch check: %v", err)
	}
	got, err := rep.BatchCheck(ctx, gatehouse.BatchCheckRequest{Checks: qs, Consistency: at})
	if err != nil {
		t.Fatalf("local batch check: %v", err)
	}
	if got.Revision != want.Revision {
		t.Fatalf("local answered at revision %d, the server at %d", got.Revision, want.Revision)
	}
	diffs := 0
	for i, q := range qs {
		g, wr := got.Results[i], want.Results[i]
		if wr.Allowed {
			w.allowed++
		} else {
			w.denied++
		}
		if g.Allowed != wr.Allowed || (g.Err == nil) != (wr.Err == nil) || (g.Err != nil && g.Err.Status != wr.Err.Status) {
			diffs++
			t.Errorf("revision %d: %s %s on %s: local %+v, server %+v", rev, q.Subject, q.Permission, q.Resource, g, wr)
		}
	}
	// One-by-one checks and lists agree too.
	for _, q := range qs[:20] {
		q.Consistency = at
		g, gerr := rep.Check(ctx, q)
		s, serr := srv.Check(ctx, q)
		if g != s || (gerr == nil) != (serr == nil) {
			diffs++
			t.Errorf("check %s %s on %s: local %+v %v, server %+v %v", q.Subject, q.Permission, q.Resource, g, gerr, s, serr)
		}
	}
	// Explanations: the same verdict, revision and grant paths (their
	// sentences differ where they name a user: by username on the server,
	// by id locally).
	for _, q := range qs[:10] {
		q.Consistency = at
		g, gerr := rep.Explain(ctx, q)
		s, serr := srv.Explain(ctx, q)
		if (gerr == nil) != (serr == nil) || g.Allowed != s.Allowed || g.Revision != s.Revision || fmt.Sprint(g.Paths) != fmt.Sprint(s.Paths) {
			diffs++
			t.Errorf("explain %s %s on %s: local %+v %v, server %+v %v", q.Subject, q.Permission, q.Resource, g, gerr, s, serr)
		}
	}
	for _, kind := range []string{"folder", "project", "domain"} {
		perm := map[string]string{"folder": "data.read", "project": "project.read", "domain": "domain.access"}[kind]
		q := gatehouse.ResourcesQuery{Subject: gatehouse.User(w.pick(w.users)), Permission: perm, Kind: kind, Consistency: at}
		g, gerr := rep.ListResources(ctx, q)
		s, serr := srv.ListResources(ctx, q)
		if gerr != nil || serr != nil || strings.Join(g.IDs, ",") != strings.Join(s.IDs, ",") || g.Revision != s.Revision {
			diffs++
			t.Errorf("resources %s %s: local %+v %v, server %+v %v", q.Subject, kind, g, gerr, s, serr)
		}
	}
	return diffs
}

// replicaClients makes the server's client (the admin's token, which may
// ask about anyone) and the replica's (a token limited to replica.read).
func replicaClients(t *testing.T, base string, admin *client) (srv, repc *gatehouse.Client) {
	t.Helper()
	root := strings.TrimSuffix(base, "/api/v1")
	srv, err := gatehouse.New(root, gatehouse.WithToken(admin.token))
	if err != nil {
		t.Fatal(err)
	}
	repc, err = gatehouse.New(root, gatehouse.WithToken(admin.limitedToken("replica.read").token))
	if err != nil {
		t.Fatal(err)
	}
	return srv, repc
}

// TestLocalReplicaAnswersAsTheServer: for a few random worlds, rounds of
// random writes (memberships of users and of groups, nested, with
// expiries, levels, folder moves and
// property changes, rules, grants, statuses) and after each the same 300
// random checks, 20 single checks, 10 explanations and three lists asked of the server
// and of a local replica at the same revision: no difference, also after
// the "soon" memberships expired.
func TestLocalReplicaAnswersAsTheServer(t *testing.T) {
	seeds := []uint64{1, 2}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			base := startStory(t)
			admin := adminClient(t, base)
			w := &world{t: t, admin: admin, r: rand.New(rand.NewPCG(seed, 22)), soon: time.Now().Add(time.Hour)}
			w.build()
			// The "soon" memberships of the writes below expire during the
			// run: some rounds compare before, some after.
			w.soon = time.Now().Add(10 * time.Second)
			srv, repc := replicaClients(t, base, admin)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			rep, err := local.New(ctx, repc, local.Options{PollWait: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer rep.Close()
			diffs, rounds := 0, 0
			round := func() {
				for range 15 {
					w.write()
				}
				diffs += compare(t, ctx, srv, rep, w, admin.revisionNow())
				rounds++
			}
			for rounds < 12 {
				round()
			}
			time.Sleep(time.Until(w.soon.Add(time.Second))) // every "soon" membership has expired
			for range 4 {
				round()
			}
			if diffs != 0 {
				t.Fatalf("%d differences between the server and the local replica", diffs)
			}
			if w.nested < 5 {
				t.Errorf("%d groups nested: too few to prove the replica follows nesting", w.nested)
			}
			if w.allowed < 100 || w.denied < 100 {
				t.Errorf("the server allowed %d and denied %d of the questions: too few of one to prove much", w.allowed, w.denied)
			}
			f := rep.Freshness()
			if !f.Ready || f.Reloads != 0 || f.Err != nil {
				t.Errorf("freshness after the run: %+v; want ready, no reload, no error", f)
			}
			t.Logf("seed %d: %d rounds, revision %d, %d groups nested, %d allowed and %d denied batch answers, 0 differences",
				seed, rounds, f.Revision, w.nested, w.allowed, w.denied)
		})
	}
}

// TestReplicaSnapshotEndpoint: the snapshot needs replica.read (403
// otherwise), a token limited to it is enough, and it carries no
// personal field.
func TestReplicaSnapshotEndpoint(t *testing.T) {
	base := startStory(t)
	admin := adminClient(t, base)
	admin.user("privacy", "a long enough password 1")
	admin.limitedToken("changes.read").problem("GET", "/replica/snapshot", nil, http.StatusForbidden, "replica.read")
	limited := admin.limitedToken("replica.read")
	code, h, b := limited.raw("GET", "/replica/snapshot", nil)
	if code != 200 || h.Get("Content-Type") != "application/vnd.gatehouse.replica" || h.Get("X-Gatehouse-Revision") == "" {
		t.Fatalf("GET /replica/snapshot: %d %v", code, h)
	}
	for _, personal := range []string{"privacy", "@example.org", "Privacy"} {
		if strings.Contains(string(b), personal) {
			t.Errorf("the snapshot holds %q", personal)
		}
	}
	// replica.read implies changes.read: the same token follows the feed.
	limited.feed("after=0&limit=1")
}

// TestLocalReplicaLag (GATEHOUSE_LOCAL_LAG=1; docs/benchmarks.md): four
// writers commit 100 membership changes per second for 10 s through the
// real server; for each, the time from the write's answer (when the
// application learns its revision) to the replica having applied it.
func TestLocalReplicaLag(t *testing.T) {
	if os.Getenv("GATEHOUSE_LOCAL_LAG") == "" {
		t.Skip("set GATEHOUSE_LOCAL_LAG=1 to measure the replica's lag under 100 writes/s")
	}
	base := startStory(t)
	admin := adminClient(t, base)
	w := &world{t: t, admin: admin, r: rand.New(rand.NewPCG(3, 22)), soon: time.Now().Add(time.Hour)}
	w.build()
	_, repc := replicaClients(t, base, admin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := local.New(ctx, repc, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	const writers, perSecond, run = 4, 100, 10 * time.Second
	var mu sync.Mutex
	var lags []time.Duration
	var wg sync.WaitGroup
	end := time.Now().Add(run)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second * writers / perSecond)
			defer tick.Stop()
			g, u := w.groups[i], w.users[i]
			for n := 0; time.Now().Before(end); n++ {
				<-tick.C
				path, body := "/groups/"+g+"/members", any(obj{"members": []obj{{"user_id": u}}})
				method := "POST"
				if n%2 == 1 {
					method, path, body = "DELETE", path+"/"+u, nil
				}
				code, h, _ := admin.raw(method, path, body)
				answered := time.Now()
				rev, _ := strconv.ParseInt(h.Get("X-Gatehouse-Revision"), 10, 64)
				if code >= 300 || rev == 0 {
					t.Errorf("%s %s: %d", method, path, code)
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := rep.WaitFor(ctx, rev); err == nil {
						mu.Lock()
						lags = append(lags, time.Since(answered))
						mu.Unlock()
					}
				}()
			}
		}()
	}
	wg.Wait()
	slices.Sort(lags)
	if len(lags) == 0 {
		t.Fatal("no write measured")
	}
	q := func(p int) time.Duration { return lags[min(len(lags)*p/100, len(lags)-1)] }
	t.Logf("%d writes in %v (%.0f/s): replica lag p50 %v, p99 %v, max %v; %d reloads",
		len(lags), run, float64(len(lags))/run.Seconds(), q(50), q(99), lags[len(lags)-1], rep.Freshness().Reloads)
}
