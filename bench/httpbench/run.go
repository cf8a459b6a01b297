package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/benchdb"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// report is everything one run measured.
type report struct {
	Size       string     `json:"size"`
	GoVersion  string     `json:"go_version"`
	CPUs       int        `json:"cpus"`
	StartedAt  time.Time  `json:"started_at"`
	Databases  []dbReport `json:"databases"`
	DurationNS int64      `json:"duration_ns"`
}

type dbReport struct {
	DB         string        `json:"db"`
	Users      int           `json:"users"`
	Members    int           `json:"memberships"`
	Folders    int           `json:"folders"`
	SeedTime   time.Duration `json:"seed_ns"`
	Check      []result      `json:"check"`   // POST /api/v1/check, bearer token
	Trivial    []result      `json:"trivial"` // the trivial endpoint, same concurrencies
	BestCheck  result        `json:"best_check"`
	BestTriv   result        `json:"best_trivial"`
	Ratio      float64       `json:"ratio"`     // best check / best trivial req/s
	Anonymous  []result      `json:"anonymous"` // check without credentials (Public about itself)
	BestAnon   result        `json:"best_anonymous"`
	AnonRatio  float64       `json:"anonymous_ratio"` // best anonymous / best trivial req/s
	Batch      []result      `json:"batch"`           // POST /api/v1/check/batch; per_second counts batches
	BatchSize  int           `json:"batch_size"`
	BestChecks float64       `json:"best_batch_checks_per_second"`
	Adds       []result      `json:"adds"` // POST /groups/{id}/members, one user per request
	// Floor is the -floor comparison: the gatehouse binary against the
	// floor process (then Check, Trivial and Anonymous are empty).
	Floor []floorPoint `json:"floor,omitempty"`
	// BinaryBatch is the -floor run's batch comparison of two or more
	// binaries in turns.
	BinaryBatch []batchPoint `json:"binary_batch,omitempty"`
}

const benchPassword = "httpbench-Secret-1"

// run measures every database in cfg and prints the report to out as it
// goes.
func run(ctx context.Context, cfg config, out io.Writer) (*report, error) {
	start := time.Now()
	rep := &report{Size: cfg.size, GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), StartedAt: start.UTC()}
	fmt.Fprintf(out, "httpbench: size %s, %s, %d CPUs, %v per load point\n", cfg.size, rep.GoVersion, rep.CPUs, cfg.dur)
	for _, db := range cfg.dbs {
		r, err := runDB(ctx, cfg, db, out)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", db, err)
		}
		rep.Databases = append(rep.Databases, *r)
	}
	rep.DurationNS = int64(time.Since(start))
	fmt.Fprintf(out, "done in %v\n", time.Since(start).Round(time.Second))
	return rep, nil
}

// openDB opens a new database of kind db and returns it with its DSN
// (what `gatehouse serve --db` takes) and a func that closes and drops it.
func openDB(ctx context.Context, cfg config, db string) (store.Store, string, func(), error) {
	if db == "sqlite" {
		dir, err := os.MkdirTemp("", "httpbench")
		if err != nil {
			return nil, "", nil, err
		}
		dsn := dir + "/gatehouse.db"
		st, err := sqlite.Open(ctx, dsn)
		if err != nil {
			os.RemoveAll(dir)
			return nil, "", nil, err
		}
		return st, dsn, func() { st.Close(); os.RemoveAll(dir) }, nil
	}
	dsn, drop := cfg.pgDSN, func() {}
	if dsn == "" {
		var err error
		if dsn, drop, err = benchdb.Scratch(ctx, cfg.pgServer); err != nil {
			return nil, "", nil, err
		}
	}
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		drop()
		return nil, "", nil, err
	}
	return st, dsn, func() { st.Close(); drop() }, nil
}

func runDB(ctx context.Context, cfg config, db string, out io.Writer) (*dbReport, error) {
	sz := enginegen.Small()
	if cfg.size == "large" {
		sz = enginegen.Large()
	}
	d := enginegen.Generate(1, sz)
	// Users for the membership adds: new, in no group yet, so each add is
	// a real change whatever the data set's size.
	nAdds := cfg.adds * len(cfg.addConc)
	addUsers := make([]string, nAdds)
	for i := range addUsers {
		u := domain.User{ID: domain.NewID(), Username: "bench-add-" + strconv.Itoa(i), Status: domain.UserActive, Source: domain.SourceLocal}
		d.Snapshot.Users = append(d.Snapshot.Users, u)
		addUsers[i] = u.ID
	}

	st, dsn, closeDB, err := openDB(ctx, cfg, db)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	r := &dbReport{DB: db, Users: len(d.Snapshot.Users), Members: len(d.Snapshot.Memberships), Folders: len(d.Snapshot.Folders), BatchSize: cfg.batchSize}
	t0 := time.Now()
	srv, err := startServer(ctx, st, benchPassword, func() error { return seed(ctx, st, d) })
	if err != nil {
		return nil, err
	}
	defer srv.close()
	r.SeedTime = time.Since(t0)
	fmt.Fprintf(out, "\n== %s: %d users, %d memberships, %d folders seeded and loaded in %v\n", db, r.Users, r.Members, r.Folders,
		r.SeedTime.Round(100*time.Millisecond))

	api := srv.url + "/api/v1"
	token, err := signIn(ctx, api)
	if err != nil {
		return nil, err
	}
	checks := sampleChecks(d, 4096, cfg.uniform)
	bodies, anonBodies := make([][]byte, len(checks)), make([][]byte, len(checks))
	for i, c := range checks {
		bodies[i], _ = json.Marshal(c)
		c.Subject = "" // Public asking about itself: no credentials read
		anonBodies[i], _ = json.Marshal(c)
	}

	// The batches draw checks of their own, batchesDrawn batches' worth,
	// none repeated: eight batches cycling over the 4,096 checks above
	// would be answered from the CPU's caches after the first pass.
	batchChecks := sampleChecks(d, batchesDrawn*cfg.batchSize, cfg.uniform)
	var batches [][]byte
	for k := 0; k < batchesDrawn; k++ {
		items := batchChecks[k*cfg.batchSize : (k+1)*cfg.batchSize]
		b, _ := json.Marshal(map[string]any{"checks": items})
		batches = append(batches, b)
	}

	if cfg.floor {
		if r.Floor, r.BinaryBatch, err = floorCompare(ctx, cfg, dsn, token, bodies, batches, out); err != nil {
			return nil, err
		}
	} else if err := sweep(ctx, cfg, srv.url, token, bodies, anonBodies, r, out); err != nil {
		return nil, err
	}

	fmt.Fprintf(out, "batch check (POST /api/v1/check/batch, %d checks per call):\n", cfg.batchSize)
	for _, c := range cfg.batchConc {
		rbs, err := compare(ctx, []target{{url: api + "/check/batch", token: token, bodies: batches}}, c, 1, cfg.warmup, cfg.dur)
		if err != nil {
			return nil, err
		}
		rb := rbs[0]
		r.Batch = append(r.Batch, rb)
		cps := rb.PerSecond * float64(cfg.batchSize)
		r.BestChecks = max(r.BestChecks, cps)
		fmt.Fprintf(out, "  %s = %.0f checks/s\n", rb, cps)
	}

	group, err := createGroup(ctx, api, token)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "membership adds (POST /api/v1/groups/{id}/members, one user per request, %d per point):\n", cfg.adds)
	for k, c := range cfg.addConc {
		adds := make([][]byte, cfg.adds)
		for i := range adds {
			adds[i], _ = json.Marshal(map[string]any{"members": []map[string]string{{"user_id": addUsers[k*cfg.adds+i]}}})
		}
		ra, err := once(ctx, api+"/groups/"+group+"/members", token, adds, c)
		if err != nil {
			return nil, err
		}
		r.Adds = append(r.Adds, ra)
		fmt.Fprintf(out, "  %s (target >= 1000/s on SQLite)\n", ra)
	}
	// The adds must have reached the engine: the last user added is in.
	last := len(addUsers) - 1
	if err := expectMember(ctx, api, token, group, "bench-add-"+strconv.Itoa(last), addUsers[last]); err != nil {
		return nil, err
	}
	return r, nil
}

// sweep measures the in-process single check, with a bearer token and
// without credentials, against the in-process trivial endpoint.
func sweep(ctx context.Context, cfg config, base, token string, bodies, anonBodies [][]byte, r *dbReport, out io.Writer) error {
	api := base + "/api/v1"
	fmt.Fprintf(out, "single check (POST /api/v1/check) with a bearer token, without credentials, and the trivial endpoint;\n"+
		"closed loop, taking turns in %d rounds per point:\n", cfg.rounds)
	for _, c := range cfg.conc {
		rs, err := compare(ctx, []target{{url: api + "/check", token: token, bodies: bodies},
			{url: api + "/check", bodies: anonBodies}, {url: base + trivialPath, bodies: bodies}}, c, cfg.rounds, cfg.warmup, cfg.dur)
		if err != nil {
			return err
		}
		rc, ra, rt := rs[0], rs[1], rs[2]
		r.Check, r.Anonymous, r.Trivial = append(r.Check, rc), append(r.Anonymous, ra), append(r.Trivial, rt)
		fmt.Fprintf(out, "  check     %s\n  anonymous %s\n  trivial   %s\n", rc, ra, rt)
		if rc.PerSecond > r.BestCheck.PerSecond {
			r.BestCheck = rc
		}
		if rt.PerSecond > r.BestTriv.PerSecond {
			r.BestTriv = rt
		}
		if ra.PerSecond > r.BestAnon.PerSecond {
			r.BestAnon = ra
		}
	}
	r.Ratio = r.BestCheck.PerSecond / r.BestTriv.PerSecond
	r.AnonRatio = r.BestAnon.PerSecond / r.BestTriv.PerSecond
	fmt.Fprintf(out, "  best check %.0f/s at c=%d, best trivial %.0f/s at c=%d: ratio %.0f%% (target >= 80%%)\n",
		r.BestCheck.PerSecond, r.BestCheck.Concurrency, r.BestTriv.PerSecond, r.BestTriv.Concurrency, 100*r.Ratio)
	fmt.Fprintf(out, "  best check without credentials %.0f/s at c=%d: ratio %.0f%%\n",
		r.BestAnon.PerSecond, r.BestAnon.Concurrency, 100*r.AnonRatio)
	return nil
}

// batchesDrawn is how many distinct batches a batch load point cycles
// over.
const batchesDrawn = 64

// sampleChecks draws n checks a calling application would make: typical
// users (several memberships, no admin rights), or with uniform users
// drawn over the whole data set, asking root.read on folders of every
// depth and project.read on projects, about 3 to 1.
func sampleChecks(d *enginegen.Data, n int, uniform bool) []checkRequest {
	r := rand.New(rand.NewPCG(2, 3))
	folders := d.AllFolders()
	projects := d.Snapshot.Projects
	users := d.TypicalUsers
	if uniform {
		users = d.UniformUsers(2, n)
	}
	out := make([]checkRequest, n)
	for i := range out {
		u := users[r.IntN(len(users))]
		if i%4 == 3 && len(projects) > 0 {
			out[i] = checkRequest{Subject: "user:" + u, Permission: domain.PermProjectRead, Resource: "project:" + projects[r.IntN(len(projects))].ID}
		} else {
			out[i] = checkRequest{Subject: "user:" + u, Permission: "root.read", Resource: "folder:" + folders[r.IntN(len(folders))]}
		}
	}
	return out
}

// signIn signs in as the administrator and makes an API token, as a
// calling application would be set up.
func signIn(ctx context.Context, api string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if _, err := post(ctx, c, api+"/login", "", map[string]string{"username": "admin", "password": benchPassword}, 200); err != nil {
		return "", err
	}
	var tok struct {
		Secret string `json:"secret"`
	}
	b, err := post(ctx, c, api+"/tokens", "", map[string]string{"name": "httpbench"}, 201)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.Secret == "" {
		return "", fmt.Errorf("POST /tokens: no secret in %s", b)
	}
	return tok.Secret, nil
}

func createGroup(ctx context.Context, api, token string) (string, error) {
	b, err := post(ctx, http.DefaultClient, api+"/groups", token,
		map[string]string{"name": "httpbench adds " + strconv.FormatInt(time.Now().UnixNano(), 36), "scope": "system"}, 201)
	if err != nil {
		return "", err
	}
	var g struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &g); err != nil || g.ID == "" {
		return "", fmt.Errorf("POST /groups: no id in %s", b)
	}
	return g.ID, nil
}

// expectMember fails unless the user is listed among the group's members.
func expectMember(ctx context.Context, api, token, group, username, user string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", api+"/groups/"+group+"/members?search="+username, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET members: %d %s", resp.StatusCode, body)
	}
	if !bytes.Contains(body, []byte(user)) {
		return fmt.Errorf("the last user added (%s) is not among the group's members", user)
	}
	return nil
}

// post sends a JSON POST and returns the body; want 0 accepts any status.
func post(ctx context.Context, c *http.Client, url, token string, body any, want int) ([]byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if want != 0 && resp.StatusCode != want {
		return nil, fmt.Errorf("POST %s: %d, want %d: %s", url, resp.StatusCode, want, rb)
	}
	return rb, nil
}
