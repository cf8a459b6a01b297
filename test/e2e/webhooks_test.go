package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// Webhooks through the real binary (docs/integrating.md, "Webhooks"): a
// receiver on loopback (a range the server is told to allow) that fails
// and times out at random; every change is delivered at least once and in
// revision order per subscription, across a SIGKILL on SQLite and with
// three replicas on PostgreSQL, from one replica at a time.

// hookFlags make retries quick and allow the loopback receiver.
var hookFlags = []string{"--webhook-allow-http", "--webhook-allow-net", "127.0.0.0/8,::1/128",
	"--webhook-timeout", "500ms", "--webhook-min-backoff", "20ms", "--webhook-max-backoff", "200ms",
	"--webhook-max-attempts", "3", "--webhook-lease", "3s"}

// receiver is a webhook endpoint that verifies every signature with the
// SDK and fails or hangs at random. It keeps, per subscription, the
// bodies it acknowledged in arrival order, and notes two deliveries of
// one subscription in flight at once.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	fail    float64 // share answered 500
	hang    float64 // share held past the server's timeout
	delay   time.Duration
	mu      sync.Mutex
	secrets map[string]string
	acked   map[string][]gatehouse.WebhookDelivery
	inBody  map[string]int // deliveries in flight per subscription
	overlap int
	bad     []string
	last    []byte // the last acknowledged body and its signature
	lastSig string
	rnd     *rand.Rand
}

func newReceiver(t *testing.T, fail, hang float64, delay time.Duration) *receiver {
	r := &receiver{t: t, fail: fail, hang: hang, delay: delay, secrets: map[string]string{},
		acked: map[string][]gatehouse.WebhookDelivery{}, inBody: map[string]int{}, rnd: rand.New(rand.NewPCG(1, 2))}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("Gatehouse-Webhook-Id")
	r.mu.Lock()
	secret := r.secrets[id]
	r.inBody[id]++
	if r.inBody[id] > 1 {
		r.overlap++
	}
	roll := r.rnd.Float64()
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inBody[id]--
		r.mu.Unlock()
	}()
	if err := gatehouse.VerifyWebhook(secret, req.Header.Get(gatehouse.SignatureHeader), body); err != nil {
		r.note("delivery to %s refused by the verifier: %v", id, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	time.Sleep(r.delay)
	switch {
	case roll < r.fail:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case roll < r.fail+r.hang:
		time.Sleep(time.Second) // past --webhook-timeout: never acknowledged
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var d gatehouse.WebhookDelivery
	if err := json.Unmarshal(body, &d); err != nil {
		r.note("a body that is not a delivery: %v", err)
		return
	}
	if want := fmt.Sprintf("%s:", id); !strings.HasPrefix(req.Header.Get(gatehouse.IdempotencyHeader), want) {
		r.note("idempotency key %q, want it to start with %q", req.Header.Get(gatehouse.IdempotencyHeader), want)
	}
	r.mu.Lock()
	if d.Type == "changes" {
		r.acked[id] = append(r.acked[id], d)
	}
	r.last, r.lastSig = body, req.Header.Get(gatehouse.SignatureHeader)
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, fmt.Sprintf(format, args...))
}

// processed is what a receiver that drops revisions it already has sees
// of a subscription, in order: each revision once.
func (r *receiver) processed(id string) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	last := int64(0)
	for _, d := range r.acked[id] {
		for _, ch := range d.Changes {
			if ch.Revision > last {
				out = append(out, ch.Revision)
				last = ch.Revision
			}
		}
	}
	return out
}

// ordered checks that each acknowledged body is in revision order and
// continues where the receiver stands: a redelivery starts at or before
// the next revision it lacks, never after it (no gap).
func (r *receiver) ordered(t *testing.T, id string, expected []int64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	pos := 0 // index in expected of the next revision the receiver lacks
	for i, d := range r.acked[id] {
		for j := 1; j < len(d.Changes); j++ {
			if d.Changes[j].Revision <= d.Changes[j-1].Revision {
				t.Fatalf("delivery %d of %s is not in revision order: %d after %d", i, id, d.Changes[j].Revision, d.Changes[j-1].Revision)
			}
		}
		for _, ch := range d.Changes {
			if pos < len(expected) && ch.Revision > expected[pos] {
				t.Fatalf("delivery %d of %s skipped revision %d (it carries %d first)", i, id, expected[pos], ch.Revision)
			}
			for pos < len(expected) && expected[pos] <= ch.Revision {
				pos++
			}
		}
	}
}

// subscribe creates a subscription to the receiver and registers its
// secret.
func (r *receiver) subscribe(c *client, name string, filter obj) string {
	c.t.Helper()
	h := c.call("POST", "/webhooks", obj{"name": name, "url": r.srv.URL + "/" + name, "filter": filter}, 201)
	id, secret := str(c.t, h, "id"), str(c.t, h, "secret")
	r.mu.Lock()
	r.secrets[id] = secret
	r.mu.Unlock()
	return id
}

// expectedRevisions are the revisions after `after` the feed keeps for a
// filter, read as the administrator.
func expectedRevisions(c *client, after int64, query string) []int64 {
	c.t.Helper()
	var out []int64
	for {
		p := c.feed(fmt.Sprintf("after=%d&limit=1000&%s", after, query))
		for _, ch := range p.Changes {
			out = append(out, ch.Revision)
		}
		if p.Next == after {
			return out
		}
		after = p.Next
	}
}

// waitDelivered waits until the receiver has processed every expected
// revision of the subscription.
func (r *receiver) waitDelivered(t *testing.T, id string, expected []int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := r.processed(id)
		if equalRevs(got, expected) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription %s: processed %d of %d revisions after %v (first missing %v)", id, len(got), len(expected), within, firstMissing(got, expected))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func equalRevs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstMissing(got, want []int64) any {
	have := map[int64]bool{}
	for _, g := range got {
		have[g] = true
	}
	for _, w := range want {
		if !have[w] {
			return w
		}
	}
	return "none (extra revisions)"
}

// writeUsersAndGroups commits n users and n/2 groups, interleaved, a
// pause apart (so deliveries go on while they commit).
func writeUsersAndGroups(c *client, prefix string, n int, pause time.Duration) {
	c.t.Helper()
	for i := range n {
		time.Sleep(pause)
		c.create("/users", obj{"username": fmt.Sprintf("%s-u%03d", prefix, i), "email": fmt.Sprintf("%s%d@hospital.example", prefix, i)})
		if i%2 == 0 {
			c.create("/groups", obj{"name": fmt.Sprintf("%s-g%03d", prefix, i), "scope": "system"})
		}
	}
}

// TestWebhooksDeliverEveryChangeInOrder: a receiver that fails a fifth of
// the deliveries and lets a tenth time out still gets every change of
// each subscription, in order; the delivery log, the failing mark and
// redelivery are visible over the API.
func TestWebhooksDeliverEveryChangeInOrder(t *testing.T) {
	base := startStory(t, hookFlags...)
	admin := adminClient(t, base)
	recv := newReceiver(t, 0.3, 0.1, 0)
	start := admin.revisionNow()
	users := recv.subscribe(admin, "users", obj{"entity": "user"})
	groups := recv.subscribe(admin, "groups", obj{"action": "group.create"})
	writeUsersAndGroups(admin, "a", 120, 25*time.Millisecond)
	wantUsers := expectedRevisions(admin, start, "entity=user")
	wantGroups := expectedRevisions(admin, start, "action=group.create")
	if len(wantUsers) != 120 || len(wantGroups) != 60 {
		t.Fatalf("the feed keeps %d user and %d group changes, want 120 and 60", len(wantUsers), len(wantGroups))
	}
	recv.waitDelivered(t, users, wantUsers, 90*time.Second)
	recv.waitDelivered(t, groups, wantGroups, 90*time.Second)
	recv.ordered(t, users, wantUsers)
	recv.ordered(t, groups, wantGroups)
	if len(recv.bad) > 0 {
		t.Errorf("receiver: %v", recv.bad)
	}
	log := admin.call("GET", "/webhooks/"+users+"/deliveries?limit=500", nil, 200)
	failed, ok := 0, 0
	for _, e := range log["items"].([]any) {
		if e.(obj)["ok"] == true {
			ok++
		} else {
			failed++
		}
	}
	if ok == 0 || failed == 0 {
		t.Errorf("the delivery log should show both acknowledged and failed attempts: %d ok, %d failed", ok, failed)
	}
	// Redeliver from the first user's revision: everything comes again.
	before := len(recv.acked[users])
	admin.call("POST", "/webhooks/"+users+"/redeliver", obj{"from": wantUsers[0]}, 200)
	deadline := time.Now().Add(60 * time.Second)
	for {
		recv.mu.Lock()
		again := recv.acked[users][before:]
		recv.mu.Unlock()
		seen := map[int64]bool{}
		for _, d := range again {
			for _, ch := range d.Changes {
				seen[ch.Revision] = true
			}
		}
		if len(seen) >= len(wantUsers) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after redeliver from %d: %d of %d revisions sent again", wantUsers[0], len(seen), len(wantUsers))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The cursor moves once the server has the receiver's answer.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st := admin.call("GET", "/webhooks/"+users, nil, 200)["state"].(obj)
		if st["cursor"].(float64) >= float64(wantUsers[len(wantUsers)-1]) && st["failing"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery state after redelivery: %v, want the cursor at %d at least", st, wantUsers[len(wantUsers)-1])
		}
	}
}

// TestWebhookSignaturesRefuseReplayAndAlteration: a delivery the
// receiver accepted verifies once; replayed later or with one byte
// changed, the SDK's verifier refuses it.
func TestWebhookSignaturesRefuseReplayAndAlteration(t *testing.T) {
	base := startStory(t, hookFlags...)
	admin := adminClient(t, base)
	recv := newReceiver(t, 0, 0, 0)
	id := recv.subscribe(admin, "sig", obj{})
	p := admin.call("POST", "/webhooks/"+id+"/ping", nil, 200)
	if p["ok"] != true || p["ping"] != true {
		t.Fatalf("ping: %s", jsonString(p))
	}
	recv.mu.Lock()
	body, sig, secret := recv.last, recv.lastSig, recv.secrets[id]
	recv.mu.Unlock()
	v := gatehouse.WebhookVerifier{Secrets: []string{secret}}
	if err := v.Verify(sig, body); err != nil {
		t.Fatalf("the captured ping does not verify: %v", err)
	}
	later := gatehouse.WebhookVerifier{Secrets: []string{secret}, Now: func() time.Time { return time.Now().Add(10 * time.Minute) }}
	if err := later.Verify(sig, body); err == nil {
		t.Errorf("the ping replayed ten minutes later was accepted")
	}
	altered := []byte(strings.Replace(string(body), `"ping"`, `"pong"`, 1))
	if err := v.Verify(sig, altered); err == nil {
		t.Errorf("an altered body was accepted")
	}
}

// TestWebhookOutboundPolicy: URLs the policy forbids are refused with the
// field named; a name resolving to loopback is refused when delivering
// (the dialer checks the resolved address), on a server that allows no
// internal range.
func TestWebhookOutboundPolicy(t *testing.T) {
	base := startStory(t, "--webhook-allow-http")
	admin := adminClient(t, base)
	for _, u := range []string{"http://127.0.0.1:9/x", "http://[::1]:9/x", "http://169.254.169.254/latest", "http://10.0.0.8/x",
		"http://192.168.0.1/x", "http://[fd00::1]/x", "http://user:pw@hooks.example.org/x", "ftp://hooks.example.org/x"} {
		p := admin.problem("POST", "/webhooks", obj{"name": "x", "url": u}, 422)
		if !strings.Contains(jsonString(p), "body.url") {
			t.Errorf("%s: the problem does not name body.url: %s", u, jsonString(p))
		}
	}
	recv := newReceiver(t, 0, 0, 0)
	port := recv.srv.URL[strings.LastIndex(recv.srv.URL, ":"):]
	h := admin.call("POST", "/webhooks", obj{"name": "rebind", "url": "http://localhost" + port + "/x"}, 201)
	p := admin.call("POST", "/webhooks/"+str(t, h, "id")+"/ping", nil, 200)
	if p["ok"] != false || !strings.Contains(fmt.Sprint(p["error"]), "refused by the outbound policy") {
		t.Errorf("a ping to a name resolving to loopback: %s, want refused by the policy", jsonString(p))
	}
	admin.problem("POST", "/webhooks", obj{"name": "y", "url": "https://hooks.example.org/x", "filter": obj{"entity": "planet"}}, 422, "filter.entity")
	noHooks := admin.limitedToken("changes.read")
	noHooks.problem("GET", "/webhooks", nil, 403, "webhooks.manage")
}

// TestWebhookSurvivesSIGKILLOnSQLite: the delivering server is killed
// with SIGKILL while deliveries are in flight and started again on the
// same database: nothing is lost, and the order holds.
func TestWebhookSurvivesSIGKILLOnSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	r := startReplica(t, "S", db, hookFlags...)
	admin := newRClient(r, replicaToken(t, r))
	recv := newReceiver(t, 0.1, 0, 15*time.Millisecond)
	c := &client{t: t, base: r.base() + "/api/v1", token: admin.token, hc: &http.Client{Timeout: 30 * time.Second}}
	start := c.revisionNow()
	id := recv.subscribe(c, "crash", obj{"entity": "user"})
	writeUsersAndGroups(c, "k", 80, 0)
	for len(recv.processed(id)) < 10 {
		time.Sleep(10 * time.Millisecond)
	}
	r.kill(t) // mid-delivery: the receiver is slow, the backlog long
	r.restart(t)
	c.base = r.base() + "/api/v1"
	writeUsersAndGroups(c, "l", 20, 0)
	want := expectedRevisions(c, start, "entity=user")
	recv.waitDelivered(t, id, want, 90*time.Second)
	recv.ordered(t, id, want)
}

// TestWebhookThreeReplicasOnPostgres: three replicas deliver one
// subscription from one replica at a time (the receiver never sees two
// of its deliveries at once); one is SIGKILLed mid-way and nothing is
// lost.
func TestWebhookThreeReplicasOnPostgres(t *testing.T) {
	rs := startReplicas(t, 3, pgtest.NewDatabase(t), hookFlags...)
	token := replicaToken(t, rs[0])
	recv := newReceiver(t, 0.1, 0.05, 10*time.Millisecond)
	clients := make([]*client, len(rs))
	for i, r := range rs {
		clients[i] = &client{t: t, base: r.base() + "/api/v1", token: token, hc: &http.Client{Timeout: 30 * time.Second}}
	}
	start := clients[0].revisionNow()
	id := recv.subscribe(clients[0], "replicas", obj{"entity": "user"})
	for i := range 60 {
		clients[i%3].create("/users", obj{"username": fmt.Sprintf("r-%03d", i)})
	}
	// Kill the replica delivering the subscription, mid-delivery.
	deliverer := -1
	for deadline := time.Now().Add(30 * time.Second); deliverer < 0; time.Sleep(50 * time.Millisecond) {
		for i, r := range rs {
			if strings.Contains(r.log(), "this replica delivers the subscription") {
				deliverer = i
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no replica took the subscription's lease")
		}
	}
	rs[deliverer].kill(t)
	live := []*client{}
	for i, c := range clients {
		if i != deliverer {
			live = append(live, c)
		}
	}
	for i := range 60 {
		live[i%2].create("/users", obj{"username": fmt.Sprintf("s-%03d", i)})
	}
	want := expectedRevisions(live[0], start, "entity=user")
	if len(want) != 120 {
		t.Fatalf("the feed keeps %d user changes, want 120", len(want))
	}
	recv.waitDelivered(t, id, want, 120*time.Second)
	recv.ordered(t, id, want)
	if recv.overlap > 0 {
		t.Errorf("two deliveries of one subscription were in flight at once %d times", recv.overlap)
	}
	if len(recv.bad) > 0 {
		t.Errorf("receiver: %v", recv.bad)
	}
	took := 0
	for i, r := range rs {
		if i != deliverer && strings.Contains(r.log(), "this replica delivers the subscription") {
			took++
		}
	}
	if took == 0 {
		t.Errorf("no other replica took over the subscription after replica %s was killed", rs[deliverer].name)
	}
}

// TestWebhookFailingMarkAndMetric: a receiver that fails every delivery
// marks its subscription failing after --webhook-max-attempts tries, with
// the last error, and gatehouse_webhooks_failing counts it; once the
// receiver recovers, the next delivery clears the mark.
func TestWebhookFailingMarkAndMetric(t *testing.T) {
	s := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}, hookFlags...)
	admin := adminClient(t, s.URL+"/api/v1")
	recv := newReceiver(t, 1, 0, 0)
	id := recv.subscribe(admin, "down", obj{"entity": "user"})
	admin.create("/users", obj{"username": "while-down"})
	state := func() obj { return admin.call("GET", "/webhooks/"+id, nil, 200)["state"].(obj) }
	failingMetric := func() float64 {
		_, body := get(t, s.URL+"/metrics")
		v, _ := metric(body, "gatehouse_webhooks_failing")
		return v
	}
	for deadline := time.Now().Add(30 * time.Second); state()["failing"] != true || failingMetric() != 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after failed tries: state %v, gatehouse_webhooks_failing %v; want failing and 1", state(), failingMetric())
		}
	}
	if st := state(); !strings.Contains(fmt.Sprint(st["last_error"]), "tries failed") || !strings.Contains(fmt.Sprint(st["last_error"]), "500") {
		t.Errorf("last_error %q, want the tries and the receiver's status", st["last_error"])
	}
	recv.mu.Lock()
	recv.fail = 0
	recv.mu.Unlock()
	for deadline := time.Now().Add(30 * time.Second); state()["failing"] != false || failingMetric() != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the receiver recovered: state %v, gatehouse_webhooks_failing %v", state(), failingMetric())
		}
	}
	if got := recv.processed(id); len(got) != 1 {
		t.Errorf("processed %v, want the one user change", got)
	}
}

// TestWebhooksAsConfiguration: export writes subscriptions with the name
// of an environment variable for the secret, never the secret; apply
// creates one from a file with the secret read from that variable, and
// deliveries are signed with it.
func TestWebhooksAsConfiguration(t *testing.T) {
	base := startStory(t, hookFlags...)
	admin := adminClient(t, base)
	recv := newReceiver(t, 0, 0, 0)
	admin.call("POST", "/webhooks", obj{"name": "Cache feed", "url": recv.srv.URL + "/c", "secret": "cache-secret-0123456789",
		"filter": obj{"entity": "membership"}}, 201)
	out := admin.mustGatehouseCLI("export")
	if !strings.Contains(out, "secret_env: GATEHOUSE_WEBHOOK_SECRET_CACHE_FEED") || strings.Contains(out, "cache-secret") {
		t.Fatalf("export should name the secret's variable, never the secret:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "hooks.yaml")
	cfg := out + "  - name: SIEM\n    url: " + recv.srv.URL + "/s\n    secret_env: SIEM_SECRET\n    filter: {action: user.create}\n"
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := admin.gatehouseCLI("apply", "-f", file); err == nil || !strings.Contains(stderr, "SIEM_SECRET") {
		t.Errorf("apply without the secret's variable set: %v %s, want a refusal naming SIEM_SECRET", err, stderr)
	}
	t.Setenv("SIEM_SECRET", "siem-secret-0123456789")
	admin.mustGatehouseCLI("apply", "-f", file)
	var siem string
	for _, h := range admin.call("GET", "/webhooks", nil, 200)["items"].([]any) {
		if h.(obj)["name"] == "SIEM" {
			siem = h.(obj)["id"].(string)
		}
	}
	if siem == "" {
		t.Fatal("apply did not create the SIEM subscription")
	}
	recv.mu.Lock()
	recv.secrets[siem] = "siem-secret-0123456789"
	recv.mu.Unlock()
	if p := admin.call("POST", "/webhooks/"+siem+"/ping", nil, 200); p["ok"] != true {
		t.Errorf("a ping signed with the secret from SIEM_SECRET: %s", jsonString(p))
	}
	if plan := admin.mustGatehouseCLI("apply", "-f", file, "--dry-run"); !strings.Contains(plan, "No changes") {
		t.Errorf("applying the same file again changes something:\n%s", plan)
	}
}

// TestWebhookConsole walks the console's webhook pages in Chromium: create
// (the secret shown once), a test ping acknowledged by the receiver and
// logged, redeliver from a revision; the screenshots are kept.
func TestWebhookConsole(t *testing.T) {
	base := startStory(t, hookFlags...)
	root := strings.TrimSuffix(base, "/api/v1")
	recv := newReceiver(t, 0, 0, 0)
	b := newUIBrowser(t, root)
	b.signIn("admin", adminPassword)
	b.open("/admin/webhooks", "webhooks empty")
	b.loads("new webhook", chromedp.Click(byID("new-webhook")))
	b.fill(byID("webhook-name"), "Cache")
	b.fill(byID("webhook-url"), recv.srv.URL+"/hook")
	b.choose(byID("webhook-entity"), "membership")
	b.submit(byID("save-webhook"), "webhook created")
	b.wantText(byID("webhook-secret"), "whsec_")
	secret := b.text(chromedp.CSS("#webhook-secret code"))
	admin := adminClient(t, base)
	id := str(t, admin.call("GET", "/webhooks", nil, 200)["items"].([]any)[0].(obj), "id")
	recv.mu.Lock()
	recv.secrets[id] = strings.TrimSpace(secret)
	recv.mu.Unlock()
	b.submit(byID("ping-webhook"), "ping acknowledged")
	b.wantFlash("Test delivery acknowledged")
	b.wantText(byID("deliveries"), "ping", "ok")
	b.fill(byID("redeliver-from"), "1")
	b.submit(byID("redeliver-webhook"), "redelivered")
	b.wantFlash("from revision 1")
	b.open("/admin/webhooks", "webhooks list")
	b.wantText(byID("webhooks"), "Cache", recv.srv.URL)
	if len(recv.bad) > 0 {
		t.Errorf("receiver: %v", recv.bad)
	}
}

// TestWebhookLatencyAt100WritesPerSecond: for docs/benchmarks.md, the
// time from a write's request (an upper bound of its commit) to the
// receipt of its change by a webhook receiver, 300 writes at 100
// writes/s, every one delivered once and in order (the receiver never
// fails here).
func TestWebhookLatencyAt100WritesPerSecond(t *testing.T) {
	base := startStory(t, hookFlags...)
	admin := adminClient(t, base)
	recv := newReceiver(t, 0, 0, 0)
	var mu sync.Mutex
	received := map[int64]time.Time{}
	inner := recv.srv.Config.Handler
	recv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(r.Body)
		var d gatehouse.WebhookDelivery
		if json.Unmarshal(body, &d) == nil {
			mu.Lock()
			for _, ch := range d.Changes {
				if _, seen := received[ch.Revision]; !seen {
					received[ch.Revision] = now
				}
			}
			mu.Unlock()
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		inner.ServeHTTP(w, r)
	})
	id := recv.subscribe(admin, "latency", obj{"entity": "group"})
	time.Sleep(3 * time.Second) // the worker picks the subscription up
	const writes = 300
	start := admin.revisionNow()
	sent := make([]time.Time, writes)
	tick := time.NewTicker(10 * time.Millisecond)
	for i := range writes {
		<-tick.C
		sent[i] = time.Now()
		admin.create("/groups", obj{"name": fmt.Sprintf("L %d", i), "scope": "system"})
	}
	tick.Stop()
	want := expectedRevisions(admin, start, "entity=group")
	if len(want) != writes || want[0] != start+1 || want[writes-1] != start+writes {
		t.Fatalf("the writes are not revisions %d..%d: %v", start+1, start+writes, want)
	}
	recv.waitDelivered(t, id, want, 60*time.Second)
	recv.ordered(t, id, want)
	lat := make([]time.Duration, 0, writes)
	mu.Lock()
	for i := range writes {
		lat = append(lat, received[start+1+int64(i)].Sub(sent[i]))
	}
	mu.Unlock()
	slices.Sort(lat)
	t.Logf("write request to webhook receipt at 100 writes/s: p50 %v, p99 %v, max %v (%d changes, %d deliveries)",
		lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1], len(lat), len(recv.acked[id]))
}
