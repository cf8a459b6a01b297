package rest

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/service"
)

// CheckObserver is told about every check answered (single and batch
// items), for metrics. *metrics.Metrics is one. It is on the check path:
// it must be cheap and must not block.
type CheckObserver interface {
	ObserveCheck(kind service.ResourceKind, allowed bool, d time.Duration)
}

type noObserver struct{}

func (noObserver) ObserveCheck(service.ResourceKind, bool, time.Duration) {}

// revisionWriter gives every answer an X-Gatehouse-Revision header (R20)
// when its handler did not set one: the revision the request's writes
// committed, else the one the engine is at as the answer is written. So a
// client can always tell which revision it was answered at, and use it
// as at_least on another replica.
type revisionWriter struct {
	http.ResponseWriter
	ctx   context.Context
	svc   *service.Service
	wrote bool
}

func (a *API) revisionWriter(w http.ResponseWriter, ctx context.Context) *revisionWriter {
	return &revisionWriter{ResponseWriter: w, ctx: ctx, svc: a.svc}
}

func (w *revisionWriter) setHeader() {
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.Header()
	if h.Get(RevisionHeader) != "" {
		return
	}
	rev := service.CommittedRevision(w.ctx)
	if rev <= 0 {
		rev = w.svc.Revision()
	}
	h.Set(RevisionHeader, strconv.FormatInt(rev, 10))
}

func (w *revisionWriter) WriteHeader(code int) {
	w.setHeader()
	w.ResponseWriter.WriteHeader(code)
}

func (w *revisionWriter) Write(b []byte) (int, error) {
	w.setHeader()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *revisionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
