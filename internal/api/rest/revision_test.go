package rest_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/service"
)

type countChecks struct {
	mu      sync.Mutex
	allowed map[engine.ResourceKind]int
	denied  map[engine.ResourceKind]int
}

func (c *countChecks) ObserveCheck(kind engine.ResourceKind, allowed bool, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if allowed {
		c.allowed[kind]++
	} else {
		c.denied[kind]++
	}
}

// ObserveBatch counts a batch's checks when it is done, as metrics do:
// a batch whose done is never called is not counted.
func (c *countChecks) ObserveBatch() (func(engine.ResourceKind, bool, time.Duration), func()) {
	var tally []struct {
		kind    engine.ResourceKind
		allowed bool
	}
	observe := func(kind engine.ResourceKind, allowed bool, _ time.Duration) {
		tally = append(tally, struct {
			kind    engine.ResourceKind
			allowed bool
		}{kind, allowed})
	}
	return observe, func() {
		for _, x := range tally {
			c.ObserveCheck(x.kind, x.allowed, 0)
		}
	}
}

// R20 across replicas: every answer says which revision it was answered
// at; a check with at_least a revision another replica committed reads it
// from the log at once; checks are reported to the observer.
func TestR20RevisionHeaderAndAtLeastFromAnotherReplica(t *testing.T) {
	e := newEnv(t)
	obs := &countChecks{allowed: map[engine.ResourceKind]int{}, denied: map[engine.ResourceKind]int{}}
	e.h = rest.New(e.svc, testAuth, rest.Options{Checks: obs})

	// A read from the store, not the engine, still says where the engine is.
	r := e.do(&e.admin, "GET", "/api/v1/users", nil).want(t, 200)
	if got, want := r.Header.Get(rest.RevisionHeader), strconv.FormatInt(e.svc.Revision(), 10); got != want {
		t.Errorf("GET /users revision header %q, want %q", got, want)
	}
	// So does an error answer.
	r = e.do(&e.admin, "GET", "/api/v1/users/nobody", nil).want(t, 404)
	if r.Header.Get(rest.RevisionHeader) == "" {
		t.Errorf("404 answer has no %s header", rest.RevisionHeader)
	}

	// Another replica: a second service over the same database, whose
	// follower this API's never hears from.
	other, err := service.New(e.ctx, e.st, service.Options{PasswordParams: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	mine := e.h
	e.h = rest.New(other, testAuth, rest.Options{})
	w := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Auditors", "scope": "system", "system_permissions": []string{"audit.view"}}).want(t, 201)
	e.h = mine
	rev := w.num("revision")
	if w.Header.Get(rest.RevisionHeader) != strconv.FormatInt(rev, 10) {
		t.Fatalf("write on the other replica: header %q, body revision %d", w.Header.Get(rest.RevisionHeader), rev)
	}
	if e.svc.Revision() >= rev {
		t.Fatalf("this replica is already at %d; the test needs it behind %d", e.svc.Revision(), rev)
	}
	c := e.do(&e.admin, "POST", "/api/v1/check", map[string]any{"permission": "audit.view", "resource": "system", "at_least": rev, "wait_ms": 5000}).want(t, 200)
	if c.num("revision") < rev || c.Header.Get(rest.RevisionHeader) != strconv.FormatInt(c.num("revision"), 10) {
		t.Errorf("check at_least %d answered at %d (header %q)", rev, c.num("revision"), c.Header.Get(rest.RevisionHeader))
	}
	e.do(&e.admin, "POST", "/api/v1/check/batch", map[string]any{"checks": []map[string]any{
		{"permission": "audit.view", "resource": "system"},
		{"subject": "anonymous", "permission": "audit.view", "resource": "system"},
	}}).want(t, 200)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.allowed[engine.KindSystem] != 2 || obs.denied[engine.KindSystem] != 1 {
		t.Errorf("observed allowed %v, denied %v; want 2 allowed and 1 denied on system", obs.allowed, obs.denied)
	}
}
