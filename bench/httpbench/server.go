package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// trivialPath is the baseline endpoint: the same server, listener, mux
// and http.Server settings as the API, decoding the same JSON as
// POST /api/v1/check and answering a constant. It is what the check
// endpoint's throughput is compared with.
const trivialPath = "/trivial/check"

// server is the Gatehouse HTTP stack of cmd/gatehouse/serve.go, run in
// this process on a loopback listener. It is assembled here rather than
// by starting the binary so that the data set can be seeded through the
// store first and one process measures every figure; the wiring is the
// same (service, authn, httpauth, rest, http.Server timeouts).
type server struct {
	url  string
	svc  *service.Service
	srv  *http.Server
	done chan error
}

// startServer bootstraps st (the initial administrator with password),
// calls load to seed it, then builds the engine and serves the API and the
// trivial endpoint on 127.0.0.1.
func startServer(ctx context.Context, st store.Store, password string, load func() error) (*server, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{AdminUsername: "admin", AdminPassword: password, Log: quiet}); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := load(); err != nil {
		return nil, fmt.Errorf("seeding: %w", err)
	}
	svc, err := service.New(ctx, st, service.Options{})
	if err != nil {
		return nil, fmt.Errorf("loading the engine: %w", err)
	}
	authenticator, err := authn.New(st, authn.Options{Logger: quiet,
		MayManageTokens: svc.MayManageTokens})
	if err != nil {
		return nil, err
	}
	ha := httpauth.New(authenticator, httpauth.Options{})
	api := rest.New(svc, ha, rest.Options{Log: quiet, Version: "bench", Sessions: authenticator, Cookies: ha})
	mux := http.NewServeMux()
	mux.Handle(rest.Prefix+"/", api)
	mux.HandleFunc("POST "+trivialPath, trivialCheck)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + ln.Addr().String(), svc: svc, done: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
			ErrorLog: slog.NewLogLogger(quiet.Handler(), slog.LevelWarn)}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.done
}

// checkRequest has the fields of the API's CheckRequest.
type checkRequest struct {
	Subject    string `json:"subject,omitempty"`
	Permission string `json:"permission"`
	Resource   string `json:"resource"`
	AtLeast    int64  `json:"at_least,omitempty"`
	WaitMS     *int   `json:"wait_ms,omitempty"`
}

var trivialAnswer = []byte(`{"allowed":true,"revision":1}` + "\n")

// trivialCheck decodes a check request as strictly as the API does
// (unknown fields refused, required fields present, body bounded) and
// answers a constant.
func trivialCheck(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	var req checkRequest
	if err := dec.Decode(&req); err != nil || req.Permission == "" || req.Resource == "" {
		http.Error(w, "bad request", http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(trivialAnswer)
}
