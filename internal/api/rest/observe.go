package rest

import (
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
	// ObserveBatch returns observe, which counts one check of a batch,
	// and done, which records the batch's checks at once: a batch's
	// thousand checks then update the shared counters once, not a
	// thousand times from every core.
	ObserveBatch() (observe func(kind service.ResourceKind, allowed bool, d time.Duration), done func())
}

type noObserver struct{}

func (noObserver) ObserveCheck(service.ResourceKind, bool, time.Duration) {}

func (noObserver) ObserveBatch() (func(service.ResourceKind, bool, time.Duration), func()) {
	return func(service.ResourceKind, bool, time.Duration) {}, func() {}
}

// revisionWriter gives every answer an X-Gatehouse-Revision header (R20)
// when its handler did not set one: the revision the engine is at as the
// answer is written (a write's handler sets the one its write committed).
// So a client can always tell which revision it was answered at, and use
// it as at_least on another replica.
type revisionWriter struct {
	http.ResponseWriter
	svc   *service.Service
	wrote bool
}

func (a *API) revisionWriter(w http.ResponseWriter) *revisionWriter {
	return &revisionWriter{ResponseWriter: w, svc: a.svc}
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
	h.Set(RevisionHeader, strconv.FormatInt(w.svc.Revision(), 10))
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
