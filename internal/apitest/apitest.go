// Package apitest starts a real Gatehouse API over a temporary SQLite
// database, for the tests of the Go client (pkg/gatehouse) and of the command line: the
// handler, the service, the authentication are the server's own, only the
// password hashing costs are cheap. It is a test helper: the client itself
// never imports the server's code.
package apitest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
	"github.com/gatehouse/gatehouse/internal/webhook"
)

// The initial administrator's credentials.
const (
	AdminUser     = "admin"
	AdminPassword = "pw-admin-123"
)

// cheap keeps argon2id fast in tests; the real costs are password.Default.
var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Server is a running API.
type Server struct {
	URL     string // the base URL, without /api/v1
	Store   store.Store
	Service *service.Service
	AdminID string
}

// New starts a server for the test; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{AdminUsername: AdminUser, AdminPassword: AdminPassword, PasswordParams: &cheap, Log: quiet}); err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, st, service.Options{PasswordParams: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	// Webhooks may reach a receiver the test runs on loopback.
	svc.SetWebhookSender(webhook.NewSender(webhook.Policy{AllowHTTP: true,
		AllowedNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}))
	au, err := authn.New(st, authn.Options{PasswordParams: &cheap, Logger: quiet,
		MayManageTokens: svc.MayManageTokens})
	if err != nil {
		t.Fatal(err)
	}
	ha := httpauth.New(au, httpauth.Options{})
	api := rest.New(svc, ha, rest.Options{Log: quiet, Sessions: au, Cookies: ha})
	mux := http.NewServeMux()
	mux.Handle(rest.Prefix+"/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	admin, err := st.GetUserByUsername(ctx, AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{URL: srv.URL, Store: st, Service: svc, AdminID: admin.ID}
}
