package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/store"
)

// demoDB is where `serve --demo` keeps its data unless --db says
// otherwise, so a user's real gatehouse.db is never touched.
const demoDB = "gatehouse-demo.db"

// demoDefaults applies --demo's defaults: its own database file unless
// --db or GATEHOUSE_DB names one, and the documented administrator
// password unless GATEHOUSE_ADMIN_PASSWORD sets one.
func demoDefaults(cmd *cobra.Command, cfg *serveConfig, getenv func(string) string) {
	if !cmd.Flags().Changed("db") && getenv("GATEHOUSE_DB") == "" {
		cfg.db = demoDB
	}
	if cfg.adminPassword == "" {
		cfg.adminPassword = demo.AdminPassword
	}
}

// adminPasswordSource names, for bootstrap's log, where the initial
// administrator's password came from: the environment, or the demo's
// documented default when --demo supplied it.
func (cfg serveConfig) adminPasswordSource() string {
	if cfg.demo && cfg.adminPassword == demo.AdminPassword {
		return "the demo's documented password (docs/demo.md)"
	}
	return "the password in GATEHOUSE_ADMIN_PASSWORD"
}

// demoInspect runs before bootstrap: it says whether the demo is to be
// loaded (a fresh database), and refuses a database holding other data.
func demoInspect(ctx context.Context, cfg serveConfig, st store.Reader) (load bool, err error) {
	if !cfg.demo {
		return false, nil
	}
	state, err := demo.Inspect(ctx, st)
	if err != nil {
		return false, fmt.Errorf("--demo: %w", err)
	}
	if state == demo.Foreign {
		return false, fmt.Errorf("--demo: the database %s already holds data that is not the demo's; give --demo a new --db file (default %s) or start without --demo",
			redactDSN(cfg.db), demoDB)
	}
	return state == demo.Fresh, nil
}

// demoLoad loads the demo after bootstrap when demoInspect said so.
func demoLoad(ctx context.Context, st store.Store, load bool, log *slog.Logger) error {
	if !load {
		return nil
	}
	start := time.Now()
	res, err := demo.Load(ctx, st, demo.Options{})
	if err != nil {
		return fmt.Errorf("--demo: loading the demo data: %w (remove the database file and start again)", err)
	}
	log.Info("demo data loaded", "users", res.Users, "groups", res.Groups, "projects", res.Projects,
		"folders", res.Folders, "memberships", res.Memberships, "revision", res.Revision, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// demoAnnounce logs the URL and the demo sign-ins once the server is
// ready (docs/demo.md).
func demoAnnounce(cfg serveConfig, url string, log *slog.Logger) {
	if !cfg.demo {
		return
	}
	log.Info("demo ready: open "+url+" and sign in with one of the demo logins (docs/demo.md)", "url", url)
	for _, l := range demo.Logins {
		user, pw := l.Username, l.Password
		if l.Password == demo.AdminPassword {
			// The administrator is bootstrap's: GATEHOUSE_ADMIN_USER and
			// GATEHOUSE_ADMIN_PASSWORD still apply, and a password of the
			// user's own choosing is not written to the log.
			user = cfg.adminUser
			if cfg.adminPassword != demo.AdminPassword {
				pw = "(the one in GATEHOUSE_ADMIN_PASSWORD)"
			}
		}
		log.Info("demo login", "username", user, "password", pw, "who", l.Role)
	}
}
