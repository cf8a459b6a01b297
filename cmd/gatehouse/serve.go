package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/api/console"
	"github.com/gatehouse/gatehouse/internal/api/health"
	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/api/scim"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/service"
)

type serveConfig struct {
	db              string
	listen          string
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
	adminUser       string
	adminPassword   string
}

func newServeCmd(getenv func(string) string) *cobra.Command {
	cfg := serveConfig{adminUser: envOr(getenv, "GATEHOUSE_ADMIN_USER", "admin"), adminPassword: getenv("GATEHOUSE_ADMIN_PASSWORD")}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server",
		Long: "Run the Gatehouse server. With no flags it keeps its data in gatehouse.db in the\n" +
			"working directory and listens on 127.0.0.1:8080. On first start it creates the\n" +
			"built-in groups and roles and an initial administrator (GATEHOUSE_ADMIN_USER,\n" +
			"default admin; password from GATEHOUSE_ADMIN_PASSWORD, else generated and logged once).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	dbFlag(f, &cfg.db, getenv)
	f.StringVar(&cfg.listen, "listen", envOr(getenv, "GATEHOUSE_LISTEN", "127.0.0.1:8080"), "address to listen on, host:port (env GATEHOUSE_LISTEN)")
	f.StringVar(&cfg.logFormat, "log-format", envOr(getenv, "GATEHOUSE_LOG_FORMAT", "text"), "log format: text or json (env GATEHOUSE_LOG_FORMAT)")
	f.StringVar(&cfg.logLevel, "log-level", envOr(getenv, "GATEHOUSE_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env GATEHOUSE_LOG_LEVEL)")
	f.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests finish on SIGINT/SIGTERM")
	return cmd
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", format)}
}

func serve(ctx context.Context, cfg serveConfig, logw io.Writer) error {
	log, err := newLogger(logw, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return usageError{fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080", cfg.listen)}
	}
	// Listen before opening the database so a taken port fails fast,
	// before any migration runs.
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.listen, err)
	}
	defer ln.Close()

	st, err := openStore(ctx, cfg.db, true)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("database ready", "db", redactDSN(cfg.db))

	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{
		AdminUsername: cfg.adminUser, AdminPassword: cfg.adminPassword, Log: log,
	}); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}

	svc, err := service.New(ctx, st, service.Options{})
	if err != nil {
		return fmt.Errorf("loading the permission engine: %w", err)
	}
	log.Info("engine loaded", "revision", svc.Follower().Revision())
	authenticator, err := authn.New(st, authn.Options{Logger: log,
		// users.edit (within a token's limit) manages other users' tokens.
		MayManageTokens: func(ctx context.Context, actor authn.Identity, userID string) bool {
			if !actor.Allows(domain.PermUsersEdit) {
				return false
			}
			d, err := svc.Engine().Check(engine.Subject{UserID: actor.UserID}, domain.PermUsersEdit,
				engine.Resource{Kind: engine.KindSystem}, time.Now())
			return err == nil && d.Allowed
		}})
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}
	ha := httpauth.New(authenticator, httpauth.Options{})
	api := rest.New(svc, ha, rest.Options{Log: log, Version: versionString(), Sessions: authenticator, Cookies: ha})

	mux := http.NewServeMux()
	h := health.New()
	h.AddCheck("store", st.Ping)
	// The engine is loaded once service.New returns; ready also means it
	// can still follow the change log.
	h.AddCheck("engine", func(ctx context.Context) error { return svc.Follower().CatchUp(ctx, 0) })
	h.Register(mux)
	mux.Handle(rest.Prefix+"/", api)
	// SCIM 2.0 for identity providers: bearer API tokens only (see docs/scim.md).
	mux.Handle(scim.Prefix+"/", scim.New(svc, ha, scim.Options{Log: log}))
	// The console: a stale cookie sends the browser to the sign-in page
	// rather than to a 401 document.
	con, err := console.New(svc, authenticator, httpauth.New(authenticator, httpauth.Options{AnonymousOnStaleCookie: true}), console.Options{Log: log})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	mux.Handle("/", con)

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("gatehouse serving", "url", "http://"+ln.Addr().String()+"/", "version", versionString())

	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: letting requests finish", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// redactDSN hides a password in a postgres:// URL so it never reaches a log.
func redactDSN(dsn string) string {
	if !isPostgres(dsn) {
		return dsn
	}
	scheme, rest, _ := strings.Cut(dsn, "://")
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return dsn
	}
	userinfo := rest[:at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return scheme + "://" + user + ":xxxxx@" + rest[at+1:]
	}
	return dsn
}
