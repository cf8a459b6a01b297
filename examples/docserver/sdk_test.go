package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// TestSDKAgainstGatehouse walks every query of pkg/gatehouse against the
// real server: the wire format its types decode, and its typed errors for
// the server's real refusals.
func TestSDKAgainstGatehouse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gh := startGatehouse(t)
	adm, limited := admin(t, ctx, gh.URL)

	alice := create(t, ctx, adm, "/users", map[string]string{"username": "alice"})
	bob := create(t, ctx, adm, "/users", map[string]string{"username": "bob"})
	readers := groupOf(t, ctx, adm, "Readers", alice)
	images := create(t, ctx, adm, "/folders", map[string]string{"name": "images"})
	gallery := create(t, ctx, adm, "/folders", map[string]string{"name": "gallery", "parent_id": images})
	rev := must(t)(adm.Do(ctx, "PUT", "/folders/"+images+"/levels/"+readers, map[string]string{"level": "download"}, nil))

	app, err := gatehouse.New(gh.URL, gatehouse.WithToken(limited), gatehouse.WithRetries(1, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	// Check, with the level's revision: inherited by gallery.
	d, err := app.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "root.download",
		Resource: gatehouse.Folder(gallery), Consistency: gatehouse.AtLeast(rev)})
	if err != nil || !d.Allowed || d.Revision < rev {
		t.Errorf("alice root.download on gallery = %+v, %v; want allowed at revision >= %d", d, err, rev)
	}
	d, err = app.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(bob), Permission: "root.read", Resource: gatehouse.Folder(gallery)})
	if err != nil || d.Allowed {
		t.Errorf("bob root.read on gallery = %+v, %v; want denied", d, err)
	}

	// BatchCheck: in order, one revision, a faulty item on its own.
	b, err := app.BatchCheck(ctx, gatehouse.BatchCheckRequest{Checks: []gatehouse.CheckRequest{
		{Subject: gatehouse.User(alice), Permission: "root.read", Resource: gatehouse.Folder(images)},
		{Subject: gatehouse.User(alice), Permission: "root.edit", Resource: gatehouse.Folder(images)},
		{Subject: gatehouse.Anonymous, Permission: "root.read", Resource: gatehouse.Folder(images)},
		{Subject: gatehouse.User(alice), Permission: "root.fly", Resource: gatehouse.Folder(images)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := []bool{b.Results[0].Allowed, b.Results[1].Allowed, b.Results[2].Allowed, b.Results[3].Allowed}
	if !slices.Equal(got, []bool{true, false, false, false}) || b.Revision < rev {
		t.Errorf("batch = %v at %d", got, b.Revision)
	}
	if e := b.Results[3].Err; !gatehouse.IsInvalid(e) || len(e.Fields) == 0 || e.Fields[0].Location != "body.checks[3].permission" {
		t.Errorf("the unknown permission's item error = %+v, want a 422 at body.checks[3].permission", e)
	}

	// Explain names the level inherited from images.
	x, err := app.Explain(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "root.read", Resource: gatehouse.Folder(gallery)})
	if err != nil || !x.Allowed || len(x.Paths) == 0 || x.Paths[0].Via != "folder_level" || x.Paths[0].FolderID != images || x.Paths[0].GroupName != "Readers" {
		t.Errorf("Explain = %+v, %v; want the Readers level on images", x, err)
	}
	x, err = app.Explain(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(bob), Permission: "root.read", Resource: gatehouse.Folder(gallery)})
	if err != nil || x.Allowed || len(x.Considered) == 0 {
		t.Errorf("Explain of a deny = %+v, %v; want what was considered", x, err)
	}

	// The lists.
	rl, err := app.ListResources(ctx, gatehouse.ResourcesQuery{Subject: gatehouse.User(alice), Permission: "root.read", Kind: "folder", Under: images})
	slices.Sort(rl.IDs)
	want := []string{images, gallery}
	slices.Sort(want)
	if err != nil || !slices.Equal(rl.IDs, want) {
		t.Errorf("ListResources = %+v, %v; want %v", rl, err, want)
	}
	sl, err := app.ListSubjects(ctx, gatehouse.SubjectsQuery{Permission: "root.read", Resource: gatehouse.Folder(gallery)})
	if err != nil || sl.Anonymous || !slices.ContainsFunc(sl.Users, func(u gatehouse.SubjectGrant) bool {
		return u.UserID == alice && u.Username == "alice" && slices.Contains(u.Groups, readers)
	}) {
		t.Errorf("ListSubjects = %+v, %v; want alice through Readers", sl, err)
	}
	ep, err := app.Effective(ctx, gatehouse.EffectiveQuery{Subject: gatehouse.User(alice), Resource: gatehouse.Folder(gallery)})
	if err != nil || !slices.Contains(ep.Permissions, "root.download") || slices.Contains(ep.Permissions, "root.edit") {
		t.Errorf("Effective = %+v, %v; want root.download without root.edit", ep, err)
	}

	// The server's refusals, typed.
	_, err = app.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "root.fly", Resource: gatehouse.Folder(gallery)})
	var e *gatehouse.Error
	if !errors.As(err, &e) || !gatehouse.IsInvalid(err) || e.Kind != "invalid" || len(e.Fields) == 0 || e.Fields[0].Location != "body.permission" {
		t.Errorf("an unknown permission = %#v, want a 422 naming body.permission", err)
	}
	if _, err = app.Check(ctx, gatehouse.CheckRequest{Permission: "root.read", Subject: gatehouse.User(alice),
		Resource: gatehouse.Folder("00000000-0000-7000-8000-00000000dead")}); !gatehouse.IsNotFound(err) {
		t.Errorf("an unknown folder = %v, want a 404", err)
	}
	stranger, _ := gatehouse.New(gh.URL, gatehouse.WithToken("gh_"+strings.Repeat("x", 49)))
	if _, err = stranger.Check(ctx, gatehouse.CheckRequest{Permission: "root.read", Resource: gatehouse.Folder(gallery)}); !gatehouse.IsUnauthenticated(err) {
		t.Errorf("a bad token = %v, want a 401", err)
	}
	// Anonymous may ask about itself, not about others.
	anon, _ := gatehouse.New(gh.URL)
	if d, err := anon.Check(ctx, gatehouse.CheckRequest{Permission: "root.read", Resource: gatehouse.Folder(gallery)}); err != nil || d.Allowed {
		t.Errorf("anonymous about itself = %+v, %v; want a denial", d, err)
	}
	if _, err = anon.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "root.read", Resource: gatehouse.Folder(gallery)}); err == nil || gatehouse.IsUnavailable(err) {
		t.Errorf("anonymous asking about alice = %v, want a refusal", err)
	}
	// A revision the server does not have: 503 with the one it has,
	// at once with a negative Wait.
	start := time.Now()
	_, err = app.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "root.read", Resource: gatehouse.Folder(gallery),
		Consistency: gatehouse.Consistency{AtLeast: rev + 1000, Wait: -1}})
	if !errors.As(err, &e) || !gatehouse.IsUnavailable(err) || e.Status != 503 || e.Revision < rev || e.Revision >= rev+1000 {
		t.Errorf("at_least in the future = %#v, want a 503 with the server's revision", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("an at_least with no wait took %v", el)
	}

	// The server stops: unavailable, with no answer (Status 0), after
	// the one retry asked for.
	stopGatehouse(t, gh)
	_, err = app.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "root.read", Resource: gatehouse.Folder(gallery)})
	if !errors.As(err, &e) || !gatehouse.IsUnavailable(err) || e.Status != 0 {
		t.Errorf("a stopped server = %#v, want unavailable with status 0", err)
	}
}

// BenchmarkSDKCheck measures a check through pkg/gatehouse against the
// real server (one shared client, keep-alive connections), one at a time
// and in batches of 100:
//
//	go test ./examples/docserver -run '^$' -bench SDK -benchtime 3s
func BenchmarkSDKCheck(b *testing.B) {
	ctx := context.Background()
	gh := startGatehouse(b)
	adm, limited := admin(b, ctx, gh.URL)
	alice := create(b, ctx, adm, "/users", map[string]string{"username": "alice"})
	images := create(b, ctx, adm, "/folders", map[string]string{"name": "images"})
	readers := groupOf(b, ctx, adm, "Readers", alice)
	must(b)(adm.Do(ctx, "PUT", "/folders/"+images+"/levels/"+readers, map[string]string{"level": "view"}, nil))
	app, err := gatehouse.New(gh.URL, gatehouse.WithToken(limited))
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	req := gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "root.read", Resource: gatehouse.Folder(images)}
	b.Run("check", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if d, err := app.Check(ctx, req); err != nil || !d.Allowed {
					b.Errorf("check = %+v, %v", d, err)
					return
				}
			}
		})
	})
	b.Run("batch100", func(b *testing.B) {
		batch := gatehouse.BatchCheckRequest{Checks: slices.Repeat([]gatehouse.CheckRequest{req}, 100)}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if d, err := app.BatchCheck(ctx, batch); err != nil || !d.AllAllowed() {
					b.Errorf("batch = %v", err)
					return
				}
			}
		})
	})
}
