package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/api/console"
	"github.com/gatehouse/gatehouse/internal/api/health"
	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/api/scim"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth"
	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/webhook"
)

type serveConfig struct {
	db              string
	listen          string
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
	adminUser       string
	adminPassword   string
	tlsCert         string // with tlsKey: serve HTTPS (tls.go)
	tlsKey          string
	secureCookies   bool // behind a proxy that terminates TLS: cookies Secure, HSTS sent
	// Replicas (docs/operations.md, Replica flags).
	pollInterval time.Duration
	readyMaxLag  time.Duration
	reloadAfter  int64
	drainDelay   time.Duration
	// changesRetention prunes the change log (0 keeps it all).
	changesRetention time.Duration
	metrics          bool
	envErrs          []error // malformed GATEHOUSE_* values, reported as usage errors
	demo             bool    // --demo: the demo data set (demo.go)
	demoFresh        bool    // set by serve: the database is new, load the demo

	webhooks webhookConfig // webhooks.go

	// adminPasswordMin is the shortest password of a member of
	// Administrators (password.Policy.AdminMinLen).
	adminPasswordMin int64

	// oidcConfig is the OpenID Connect providers' file (oidc.go); oidc
	// and oidcSecrets what serve read from it.
	oidcConfig  string
	oidc        oidcauth.Config
	oidcSecrets map[string]string
	getenv      func(string) string
	// Nested groups (docs/decisions.md, Nested groups).
	nestingMaxDepth      int64
	nestInAdministrators bool
}

func newServeCmd(getenv func(string) string) *cobra.Command {
	cfg := serveConfig{adminUser: envOr(getenv, "GATEHOUSE_ADMIN_USER", "admin"), adminPassword: getenv("GATEHOUSE_ADMIN_PASSWORD"), getenv: getenv}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server",
		Long: "Run the Gatehouse server. With no flags it keeps its data in gatehouse.db in the\n" +
			"working directory and listens on 127.0.0.1:8080. On first start it creates the\n" +
			"built-in groups and roles and an initial administrator (GATEHOUSE_ADMIN_USER,\n" +
			"default admin; password from GATEHOUSE_ADMIN_PASSWORD, else generated and logged once).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cfg.checkReplicaFlags(); err != nil {
				return err
			}
			if err := cfg.loadOIDC(); err != nil {
				return err
			}
			if cfg.demo {
				demoDefaults(cmd, &cfg, getenv)
			}
			return serve(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	dbFlag(f, &cfg.db, getenv)
	f.StringVar(&cfg.listen, "listen", envOr(getenv, "GATEHOUSE_LISTEN", "127.0.0.1:8080"), "address to listen on, host:port (env GATEHOUSE_LISTEN)")
	f.StringVar(&cfg.logFormat, "log-format", envOr(getenv, "GATEHOUSE_LOG_FORMAT", "text"), "log format: text or json (env GATEHOUSE_LOG_FORMAT)")
	f.StringVar(&cfg.logLevel, "log-level", envOr(getenv, "GATEHOUSE_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env GATEHOUSE_LOG_LEVEL)")
	f.StringVar(&cfg.tlsCert, "tls-cert", getenv("GATEHOUSE_TLS_CERT"), "serve HTTPS with this PEM certificate chain; needs --tls-key (env GATEHOUSE_TLS_CERT)")
	f.StringVar(&cfg.tlsKey, "tls-key", getenv("GATEHOUSE_TLS_KEY"), "the PEM private key of --tls-cert (env GATEHOUSE_TLS_KEY)")
	f.BoolVar(&cfg.secureCookies, "secure-cookies", cfg.envBool(getenv, "GATEHOUSE_SECURE_COOKIES", false),
		"behind a proxy that terminates TLS: mark cookies Secure and send HSTS although requests arrive over plain HTTP (env GATEHOUSE_SECURE_COOKIES)")
	f.BoolVar(&cfg.demo, "demo", false, "load the demo data set (docs/demo.md) into a new database; default --db "+demoDB)
	f.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests finish on SIGINT/SIGTERM")
	f.DurationVar(&cfg.pollInterval, "poll-interval", cfg.envDuration(getenv, "GATEHOUSE_POLL_INTERVAL", 500*time.Millisecond),
		"how often to read the database's revision when no change notification came (env GATEHOUSE_POLL_INTERVAL)")
	f.DurationVar(&cfg.readyMaxLag, "ready-max-lag", cfg.envDuration(getenv, "GATEHOUSE_READY_MAX_LAG", 10*time.Second),
		"/readyz answers 503 while the engine has been behind the database longer than this; 0 disables (env GATEHOUSE_READY_MAX_LAG)")
	f.Int64Var(&cfg.reloadAfter, "reload-after", cfg.envInt(getenv, "GATEHOUSE_RELOAD_AFTER", service.DefaultReloadAfter),
		"reload a snapshot instead of reading the change log when more than this many revisions behind; 0 never (env GATEHOUSE_RELOAD_AFTER)")
	f.DurationVar(&cfg.drainDelay, "drain-delay", cfg.envDuration(getenv, "GATEHOUSE_DRAIN_DELAY", 0),
		"on SIGTERM, how long /readyz answers 503 before the server stops accepting requests (env GATEHOUSE_DRAIN_DELAY)")
	f.DurationVar(&cfg.changesRetention, "changes-retention", cfg.envDuration(getenv, "GATEHOUSE_CHANGES_RETENTION", 0),
		"delete change-log rows older than this (the change feed then answers 410 for them); 0 keeps them all (env GATEHOUSE_CHANGES_RETENTION)")
	f.BoolVar(&cfg.metrics, "metrics", cfg.envBool(getenv, "GATEHOUSE_METRICS", true),
		"serve Prometheus metrics at /metrics, unauthenticated (env GATEHOUSE_METRICS)")
	f.Int64Var(&cfg.adminPasswordMin, "admin-password-min-length", cfg.envInt(getenv, "GATEHOUSE_ADMIN_PASSWORD_MIN_LENGTH", password.DefaultMinLen),
		"shortest password, in characters, of a member of Administrators; everyone else needs 8 (env GATEHOUSE_ADMIN_PASSWORD_MIN_LENGTH)")
	cfg.webhookFlags(f, getenv)
	f.StringVar(&cfg.oidcConfig, "oidc-config", getenv("GATEHOUSE_OIDC_CONFIG"),
		"YAML file of OpenID Connect providers and sign-in settings (docs/authentication.md); none by default (env GATEHOUSE_OIDC_CONFIG)")
	f.Int64Var(&cfg.nestingMaxDepth, "nesting-max-depth", cfg.envInt(getenv, "GATEHOUSE_NESTING_MAX_DEPTH", service.DefaultNestingDepth),
		"longest chain of group memberships nested groups may form (env GATEHOUSE_NESTING_MAX_DEPTH)")
	f.BoolVar(&cfg.nestInAdministrators, "nest-in-administrators", cfg.envBool(getenv, "GATEHOUSE_NEST_IN_ADMINISTRATORS", false),
		"let groups be members of Administrators; R3's lock-out check then counts their members (env GATEHOUSE_NEST_IN_ADMINISTRATORS)")
	return cmd
}

func (c *serveConfig) envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	v := getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q: want a duration such as 500ms or 10s", key, v))
		return def
	}
	return d
}

func (c *serveConfig) envInt(getenv func(string) string, key string, def int64) int64 {
	v := getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q: want a whole number", key, v))
		return def
	}
	return n
}

func (c *serveConfig) envBool(getenv func(string) string, key string, def bool) bool {
	v := getenv(key)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q: want true or false", key, v))
		return def
	}
	return b
}

// checkReplicaFlags reports malformed environment values and flags out of
// range as usage errors.
func (c *serveConfig) checkReplicaFlags() error {
	errs := c.envErrs
	if c.pollInterval <= 0 {
		errs = append(errs, fmt.Errorf("--poll-interval %v: want a positive duration such as 500ms", c.pollInterval))
	}
	if c.readyMaxLag < 0 {
		errs = append(errs, fmt.Errorf("--ready-max-lag %v: want 0 (no bound) or a positive duration", c.readyMaxLag))
	}
	if c.reloadAfter < 0 {
		errs = append(errs, fmt.Errorf("--reload-after %d: want 0 (never) or a positive number of revisions", c.reloadAfter))
	}
	if c.changesRetention < 0 {
		errs = append(errs, fmt.Errorf("--changes-retention %v: want 0 (keep all) or a positive duration", c.changesRetention))
	}
	if c.drainDelay < 0 {
		errs = append(errs, fmt.Errorf("--drain-delay %v: want 0 or a positive duration", c.drainDelay))
	}
	if c.nestingMaxDepth < 1 || c.nestingMaxDepth > 100 {
		errs = append(errs, fmt.Errorf("--nesting-max-depth %d: want 1 to 100", c.nestingMaxDepth))
	}
	if c.adminPasswordMin < password.DefaultMinLen || c.adminPasswordMin > password.MaxChars {
		errs = append(errs, fmt.Errorf("--admin-password-min-length %d: want %d to %d characters", c.adminPasswordMin, password.DefaultMinLen, password.MaxChars))
	}
	_, werrs := c.webhooks.policy()
	errs = append(errs, werrs...)
	if len(errs) > 0 {
		return usageError{errors.Join(errs...)}
	}
	return nil
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
	// Unreadable or mismatched TLS files fail before anything else starts.
	tlsConfig, err := loadTLS(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return err
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
	if cfg.demoFresh, err = demoInspect(ctx, cfg, st); err != nil {
		return err
	}

	// Metrics, when on, count the store's failures too: the service and
	// the follower go through the observed store.
	var m *metrics.Metrics
	var obsStore store.Store = st
	instrument := func(api string, h http.Handler) http.Handler { return h }
	if cfg.metrics {
		m = metrics.New()
		obsStore = m.ObserveStore(st)
		instrument = m.Instrument
	}

	// The listener and the health endpoints serve before the engine
	// loads (which takes a while on a large database): /healthz is 200,
	// /readyz 503 "loading", and the APIs answer 503 until it is done.
	var followerReady atomic.Pointer[service.Follower]
	var app atomic.Pointer[http.Handler]
	mux := http.NewServeMux()
	h := health.New()
	h.AddCheck("store", obsStore.Ping)
	h.AddCheck("engine", health.EngineCheck(func() health.Follower {
		if f := followerReady.Load(); f != nil {
			return f
		}
		return nil
	}, cfg.readyMaxLag))
	hm := http.NewServeMux()
	h.Register(hm)
	mux.Handle("GET /healthz", instrument("health", hm))
	mux.Handle("GET /readyz", instrument("health", hm))
	if m != nil {
		// Unauthenticated, like /healthz: see docs/operations.md, Metrics,
		// for keeping it private.
		mux.Handle("GET /metrics", instrument("metrics", m.Handler()))
	}
	appOr503 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := app.Load(); a != nil {
			(*a).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"title":"Service Unavailable","status":503,"kind":"unavailable","detail":"the server is starting: the permission engine is loading; retry shortly"}`+"\n")
	})
	mux.Handle("/", appOr503)

	srv := &http.Server{
		Handler:           securityHeaders(hotRoutes(appOr503, mux), tlsConfig != nil || cfg.secureCookies),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		// The certificate is in srv.TLSConfig; ServeTLS also enables HTTP/2.
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	url := scheme + "://" + ln.Addr().String() + "/"
	// "listening" comes first, with health endpoints only; "gatehouse
	// serving" once the APIs answer.
	log.Info("listening; loading the permission engine", "url", url)
	// shutdown drains: /readyz turns 503 at once, the load balancer gets
	// --drain-delay to notice, then requests in flight get
	// --shutdown-timeout to finish.
	shutdown := func() error {
		h.SetDraining()
		log.Info("draining: /readyz answers 503", "drain_delay", cfg.drainDelay)
		time.Sleep(cfg.drainDelay)
		log.Info("shutting down: letting requests finish", "timeout", cfg.shutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}

	svc, follower, appHandler, err := loadApp(ctx, obsStore, cfg, log, m, instrument)
	if err != nil {
		if ctx.Err() != nil { // stopped while loading
			return shutdown()
		}
		_ = srv.Close()
		return err
	}
	app.Store(&appHandler)
	followerReady.Store(follower)
	// The rows read to build the engine are garbage now (on a large
	// directory the load peaks at some 1.6 times the resident size it
	// leaves: 300 MB against 185 for a million memberships); without this
	// the process would keep those pages until the runtime's scavenger
	// returned them, minutes later.
	debug.FreeOSMemory()
	if m != nil {
		m.Follow(follower)
	}

	// Follow the change log: woken by PostgreSQL's notifications, and
	// polling in any case (SQLite has no notifications: a single-node
	// server is its own only writer, so polling finds nothing new).
	fctx, stopFollowing := context.WithCancel(context.Background())
	defer stopFollowing()
	ro := service.RunOptions{PollInterval: cfg.pollInterval, ReloadAfter: cfg.reloadAfter, Log: log}
	if ro.ReloadAfter == 0 {
		ro.ReloadAfter = -1 // --reload-after 0: never reload for lag
	}
	if m != nil {
		ro.Observer = m
	}
	var listener *postgres.Listener
	if pg, ok := st.(*postgres.DB); ok {
		listener = pg.Listen(fctx, postgres.ListenOptions{Log: log})
		ro.Wake = listener.C
	}
	following := make(chan struct{})
	go func() {
		defer close(following)
		_ = follower.Run(fctx, ro)
	}()
	pruning := make(chan struct{})
	go func() {
		defer close(pruning)
		if cfg.changesRetention > 0 {
			svc.PruneChangesEvery(fctx, cfg.changesRetention, log)
		}
	}()
	outbound, _ := cfg.webhooks.policy()
	delivering := startWebhooks(fctx, cfg, obsStore, svc, webhook.NewSender(outbound), m, log)
	log.Info("gatehouse serving", "url", url, "version", versionString(), "revision", follower.Revision())
	demoAnnounce(cfg, url, log)

	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
		serveErr = shutdown()
	}
	stopFollowing()
	<-following
	<-pruning
	<-delivering
	if listener != nil {
		listener.Wait()
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

// loadApp bootstraps the database if it is new, loads the engine and
// builds the REST, SCIM and console handlers over it.
func loadApp(ctx context.Context, st store.Store, cfg serveConfig, log *slog.Logger, m *metrics.Metrics,
	instrument func(string, http.Handler) http.Handler) (*service.Service, *service.Follower, http.Handler, error) {
	policy := password.Policy{AdminMinLen: int(cfg.adminPasswordMin)}
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{
		AdminUsername: cfg.adminUser, AdminPassword: cfg.adminPassword, PasswordPolicy: policy, PasswordSource: cfg.adminPasswordSource(), Log: log,
	}); err != nil {
		return nil, nil, nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := demoLoad(ctx, st, cfg.demoFresh, log); err != nil {
		return nil, nil, nil, err
	}

	// The cursor key is the database's, so that replicas accept each
	// other's cursors (docs/api.md, Lists).
	cursorKey, err := service.CursorKey(ctx, st)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cursor key: %w", err)
	}
	follower, err := service.NewFollower(ctx, st)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("loading the permission engine: %w", err)
	}
	svc, err := service.New(ctx, st, service.Options{PasswordPolicy: policy, Follower: follower,
		Nesting: service.NestingOptions{MaxDepth: int(cfg.nestingMaxDepth), InAdministrators: cfg.nestInAdministrators}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("loading the permission engine: %w", err)
	}
	outbound, _ := cfg.webhooks.policy() // checked with the flags
	svc.SetWebhookSender(webhook.NewSender(outbound))
	log.Info("engine loaded", "revision", follower.Revision())
	providers, accessTokens := cfg.oidcProviders(log)
	ao := authn.Options{Logger: log,
		// The service decides who may manage another user's tokens (R22:
		// minting a token for a user is acting on them).
		MayManageTokens: svc.MayManageTokens,
		// The service decides whether an unlinked access token may act
		// as the user its claim names (never the break-glass admin).
		MayActByName:   svc.MayActByName,
		PasswordSignIn: cfg.oidc.PasswordSignIn, BreakGlass: cfg.oidc.BreakGlass}
	if accessTokens != nil {
		ao.AccessTokens = accessTokens
	}
	authenticator, err := authn.New(st, ao)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("authentication: %w", err)
	}
	// Sessions that ended (signed out, expired, revoked) more than a day
	// ago are deleted now and every hour, until the server stops.
	go authenticator.PruneEvery(ctx, time.Hour)
	ha := httpauth.New(authenticator, httpauth.Options{SecureCookies: cfg.secureCookies})
	ro := rest.Options{Log: log, Version: versionString(), Sessions: authenticator, Cookies: ha, CursorKey: cursorKey, Streams: ctx}
	if m != nil {
		ro.Checks = m
	}
	api := rest.New(svc, ha, ro)

	mux := http.NewServeMux()
	restHandler := instrument("rest", api)
	mux.Handle(rest.Prefix+"/", restHandler)
	// SCIM 2.0 for identity providers: bearer API tokens only (see docs/scim.md).
	mux.Handle(scim.Prefix+"/", instrument("scim", scim.New(svc, ha, scim.Options{Log: log})))
	// The console: a stale cookie sends the browser to the sign-in page
	// rather than to a 401 document.
	con, err := console.New(svc, authenticator, httpauth.New(authenticator, httpauth.Options{AnonymousOnStaleCookie: true, SecureCookies: cfg.secureCookies}),
		console.Options{Log: log, SecureCookies: cfg.secureCookies, OIDC: providers})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("console: %w", err)
	}
	mux.Handle("/", instrument("console", con))
	return svc, follower, hotRoutes(restHandler, mux), nil
}

// hotRoutes hands the API's hot requests (rest.IsHot: the checks) to hot
// and every other request to mux, whose routing by path would choose hot
// for them: its matching and the allocation of its match cost a check
// about 1 µs of the ~50 µs of CPU a request costs the server
// (docs/benchmarks.md, "The server's own work per check").
func hotRoutes(hot, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest.IsHot(r) {
			hot.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
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
