// Package health serves the liveness and readiness endpoints that process
// supervisors and load balancers poll: /healthz says the process is up,
// /readyz says it can serve (store reachable and migrated, the engine
// loaded and not too far behind the database, not draining, and whatever
// else the server registers).
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Check reports an error when a dependency is not ready.
type Check func(ctx context.Context) error

// Handler serves /healthz and /readyz.
type Handler struct {
	mu     sync.RWMutex
	checks []namedCheck
	// Timeout bounds the readiness checks of one request.
	Timeout  time.Duration
	draining atomic.Bool
}

// SetDraining makes /readyz answer 503 "draining" from now on, without
// running the checks: the server is shutting down, and the load balancer
// should send new requests elsewhere while it finishes those in flight.
func (h *Handler) SetDraining() { h.draining.Store(true) }

// Follower is what EngineCheck reads: how far the engine is behind the
// database. *service.Follower is one.
type Follower interface {
	Lag() (revisions int64, behind time.Duration)
}

// ErrLoading is the engine check's answer while the engine loads.
var ErrLoading = errors.New("loading the permission engine")

// EngineCheck is ready when the engine is loaded (follower returns
// non-nil) and has not been behind the head revision it knows for more
// than maxLag (0 disables the bound).
func EngineCheck(follower func() Follower, maxLag time.Duration) Check {
	return func(context.Context) error {
		f := follower()
		if f == nil {
			return ErrLoading
		}
		if n, d := f.Lag(); maxLag > 0 && d > maxLag {
			return fmt.Errorf("%d revisions behind the database for %v (more than --ready-max-lag %v)", n, d.Round(time.Millisecond), maxLag)
		}
		return nil
	}
}

type namedCheck struct {
	name  string
	check Check
}

// New returns a Handler with no readiness checks yet.
func New() *Handler { return &Handler{Timeout: 2 * time.Second} }

// AddCheck registers a readiness check under a name shown in /readyz.
func (h *Handler) AddCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks = append(h.checks, namedCheck{name, c})
}

// Register mounts /healthz and /readyz on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
}

type status struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	write(w, http.StatusOK, status{Status: "ok"})
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	if h.draining.Load() {
		write(w, http.StatusServiceUnavailable, status{Status: "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.Timeout)
	defer cancel()
	h.mu.RLock()
	checks := h.checks
	h.mu.RUnlock()
	res := status{Status: "ok", Checks: map[string]string{}}
	code := http.StatusOK
	for _, c := range checks {
		if err := c.check(ctx); err != nil {
			res.Checks[c.name] = err.Error()
			res.Status = "unavailable"
			code = http.StatusServiceUnavailable
		} else {
			res.Checks[c.name] = "ok"
		}
	}
	write(w, code, res)
}

func write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
