package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/local"
)

// localChecks counts the checks a replica answered itself and those it
// sent to the server.
type localChecks struct{ local, server atomic.Int64 }

func (c *localChecks) Checked(isLocal, _ bool) {
	if isLocal {
		c.local.Add(1)
	} else {
		c.server.Add(1)
	}
}
func (c *localChecks) Applied(int, time.Duration)            {}
func (c *localChecks) Reloaded(string, time.Duration, error) {}

// TestDocServerLocalMode: with -local, the document server answers its
// checks and folder lists from a local replica (the token also holds
// replica.read): the same answers, a write's revision honoured through
// X-Gatehouse-At-Least, and no check sent to the server.
func TestDocServerLocalMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gh := startGatehouse(t)
	adm, _ := admin(t, ctx, gh.URL)
	var tok struct{ Secret string }
	must(t)(adm.Do(ctx, "POST", "/tokens", map[string]any{"name": "docserver-local", "permissions": []string{"users.view", "files.admin", "replica.read"}}, &tok))
	alice := create(t, ctx, adm, "/users", map[string]string{"username": "alice"})
	create(t, ctx, adm, "/users", map[string]string{"username": "carol"})
	writers := groupOf(t, ctx, adm, "Writers", alice)

	app, err := gatehouse.New(gh.URL, gatehouse.WithToken(tok.Secret))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	counts := &localChecks{}
	rep, err := local.New(ctx, app, local.Options{NotReady: local.AskServer, Behind: local.AskServer, Metrics: counts})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	s, err := newServer(ctx, Config{Gatehouse: app, Root: "docserver", Folders: []string{"reports"}, Store: newMemStore(),
		Local: rep, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ds := httptest.NewServer(s.Handler())
	defer ds.Close()
	aliceC, carolC := docClient{t, ds.URL, "alice"}, docClient{t, ds.URL, "carol"}
	reports, _, err := s.folderID(ctx, "reports")
	if err != nil {
		t.Fatal(err)
	}
	rev := must(t)(adm.Do(ctx, "PUT", "/folders/"+reports+"/levels/"+writers, map[string]string{"level": "upload"}, nil))
	a := aliceC.want(201, "PUT", "/docs/reports/q1", "draft", rev)
	if a.revision() < rev {
		t.Errorf("the write was decided at revision %d, before the level set at %d", a.revision(), rev)
	}
	aliceC.want(200, "GET", "/docs/reports/q1", "", 0, "draft")
	aliceC.want(200, "GET", "/folders", "", 0, `"reports"`)
	carolC.want(403, "GET", "/docs/reports/q1", "", 0)
	carolC.want(200, "GET", "/folders", "", 0, `{"folders":[]}`)
	if counts.local.Load() < 3 || counts.server.Load() != 0 {
		t.Errorf("%d checks answered locally, %d by the server; want every one local", counts.local.Load(), counts.server.Load())
	}
}
