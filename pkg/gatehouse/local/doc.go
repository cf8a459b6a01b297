// Package local is the local mode of the Go SDK: a replica of Gatehouse's
// permission engine inside the application, answering Check, BatchCheck,
// ListResources and Explain in process, without a round trip, on a state
// it can prove (docs/integrating.md, "Local mode").
//
// New loads the replica snapshot (GET /api/v1/replica/snapshot) into the
// same engine the server runs, then follows the change feed (GET
// /api/v1/changes), applying every change in revision order. Every answer
// carries the revision it was computed on, and is exactly the answer the
// server gives at that revision. When the replica cannot prove its state
// (a revision missing from the feed, a 410 because it fell behind the
// server's retention, a change it cannot decode or apply) it reloads a
// snapshot, and until then it is not ready: it fails closed or asks the
// server, as Options say. A check with AtLeast(rev) waits, bounded, until
// the replica has applied rev, then asks the server or fails closed.
//
//	gh, _ := gatehouse.New(url, gatehouse.WithToken(token)) // the token's user holds replica.read
//	rep, err := local.New(ctx, gh, local.Options{NotReady: local.AskServer})
//	if err != nil { ... }
//	defer rep.Close()
//	d, err := rep.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User(id), Permission: "root.read", Resource: gatehouse.Folder(f)})
//
// The package imports Gatehouse's engine and domain (pure, standard
// library only packages of this module), so an application builds the
// very evaluator the server runs instead of a copy of it.
package local
