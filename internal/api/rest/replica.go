package rest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The replica snapshot (docs/api.md, "Replica snapshot"): GET
// /replica/snapshot streams the permission state at one revision for an
// application's local replica (pkg/gatehouse/local), which then follows
// GET /changes from that revision.

// snapshotWriteTime bounds how long one snapshot may take to send: the
// server's write timeout would cut a large one, and a reader too slow for
// this holds a database read open for too long.
const snapshotWriteTime = 10 * time.Minute

func (a *API) registerReplica() {
	o := op("get-replica-snapshot", http.MethodGet, "/replica/snapshot",
		"The permission state at one revision, for a local replica (replica.read)", "Replica")
	o.Description = "Streams " + domain.ReplicaContentType + " (version " + strconv.Itoa(domain.ReplicaVersion) + "; docs/api.md): ids, " +
		"memberships of users and of groups (nested groups) with expiries, grants, roles, folders with levels, types, properties and rules, projects and modes; " +
		"no usernames, emails or other personal fields. X-Gatehouse-Revision names its revision, " + api.ChangeMarkHeader + " the mark of the change at it: " +
		"follow GET /changes after it, with after_mark."
	o.Responses = map[string]*huma.Response{"200": {
		Description: "The snapshot, in the replica encoding.",
		Content:     map[string]*huma.MediaType{domain.ReplicaContentType: {Schema: &huma.Schema{Type: "string", Format: "binary"}}},
		Headers: map[string]*huma.Param{
			RevisionHeader:       {Description: "The revision of the snapshot.", Schema: &huma.Schema{Type: "integer"}},
			api.ChangeMarkHeader: {Description: "The mark of the change at that revision; absent when the change log no longer holds it.", Schema: &huma.Schema{Type: "string"}},
		},
	}}
	huma.Register(a.huma, o, a.replicaSnapshot)
}

// replicaSnapshot answers the snapshot as a stream: refusals (401, 403,
// 503) before any byte as problems, the snapshot after its revision is
// known. A failure midway cuts the stream short, which the reader
// notices (the encoding ends with a record count).
func (a *API) replicaSnapshot(ctx context.Context, _ *struct{}) (*huma.StreamResponse, error) {
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		_, w := humago.Unwrap(hc)
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(snapshotWriteTime))
		started := false
		err := a.svc.ReplicaSnapshot(ctx, caller(ctx), func(rev int64, mark string) (io.Writer, error) {
			started = true
			h := w.Header()
			if mark != "" {
				h.Set(api.ChangeMarkHeader, mark)
			}
			h.Set("Content-Type", domain.ReplicaContentType)
			h.Set("Cache-Control", "no-store")
			h.Set(RevisionHeader, strconv.FormatInt(rev, 10))
			w.WriteHeader(http.StatusOK)
			return w, nil
		})
		switch {
		case err == nil:
		case !started:
			var p *Problem
			if errors.As(a.problem(err), &p) {
				writeProblem(w, p)
			}
		case ctx.Err() == nil:
			a.log.Warn("replica snapshot cut short", "err", err)
		}
	}}, nil
}
