package service_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// cheap keeps bootstrap tests fast; production uses password.Default.
var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func backends(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "g.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"postgres": func(t *testing.T) store.Store {
			db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
}

var pwRE = regexp.MustCompile(`password=(\S+)`)

func TestBootstrapIsIdempotentAndPrintsThePasswordOnce(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			opts := service.BootstrapOptions{Log: log, PasswordParams: &cheap}

			res, err := service.Bootstrap(ctx, st, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Created || res.AdminUsername != "admin" || len(res.GeneratedPassword) != 24 {
				t.Fatalf("first bootstrap = %+v, want created admin with a generated password", res)
			}
			m := pwRE.FindAllStringSubmatch(logs.String(), -1)
			if len(m) != 1 || m[0][1] != res.GeneratedPassword {
				t.Fatalf("log shows the password %d times, want once: %s", len(m), logs.String())
			}
			rev, _ := st.Revision(ctx)

			// Restart: nothing changes, nothing is logged.
			logs.Reset()
			res2, err := service.Bootstrap(ctx, st, opts)
			if err != nil || res2.Created {
				t.Fatalf("second bootstrap = %+v, %v; want nothing done", res2, err)
			}
			if logs.Len() != 0 {
				t.Errorf("second bootstrap logged: %s", logs.String())
			}
			if rev2, _ := st.Revision(ctx); rev2 != rev {
				t.Errorf("revision moved from %d to %d on restart", rev, rev2)
			}

			// What the first start created, in one change.
			changes, err := st.ReadChanges(ctx, 0, 0)
			if err != nil || len(changes) != 1 {
				t.Fatalf("ReadChanges = %d changes, %v; want bootstrap as one change", len(changes), err)
			}
			admin, err := st.GetUserByUsername(ctx, "ADMIN")
			if err != nil {
				t.Fatal(err)
			}
			if err := password.Verify(res.GeneratedPassword, admin.PasswordHash); err != nil {
				t.Errorf("the logged password does not verify: %v", err)
			}
			if _, err := st.GetMembership(ctx, domain.GroupAdministratorsID, admin.ID); err != nil {
				t.Errorf("admin is not in Administrators: %v", err)
			}
			for _, g := range domain.BuiltinGroups() {
				got, err := st.GetGroup(ctx, g.ID)
				if err != nil || got.Builtin != g.Builtin {
					t.Errorf("built-in group %s: %+v, %v", g.Name, got, err)
				}
			}
			for _, r := range domain.BuiltinRoles() {
				if _, err := st.GetRole(ctx, r.ID); err != nil {
					t.Errorf("built-in role %s: %v", r.Name, err)
				}
			}
			ft, err := st.GetFolderType(ctx, domain.FolderTypeFolderID)
			if err != nil || !ft.HasContext(domain.ContextRoot) {
				t.Errorf("folder type: %+v, %v", ft, err)
			}
			audit, err := st.ListAudit(ctx, store.AuditQuery{Action: "system.bootstrap"})
			if err != nil || len(audit.Items) != 1 {
				t.Errorf("bootstrap audit records: %d, %v; want 1", len(audit.Items), err)
			}
			snap, err := st.LoadSnapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(mustJSON(t, changes)), admin.PasswordHash) {
				t.Error("the password hash is in the change log")
			}
			if len(snap.Users) != 1 || snap.Users[0].PasswordHash != "" {
				t.Errorf("snapshot users = %+v; want the admin without a password hash", snap.Users)
			}
		})
	}
}

func TestBootstrapWithGivenPasswordLogsNoSecret(t *testing.T) {
	st := backends(t)["sqlite"](t)
	var logs bytes.Buffer
	res, err := service.Bootstrap(context.Background(), st, service.BootstrapOptions{
		AdminUsername: "root", AdminPassword: "s3cret-Passw0rd", PasswordParams: &cheap,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil || !res.Created || res.GeneratedPassword != "" || res.AdminUsername != "root" {
		t.Fatalf("Bootstrap = %+v, %v", res, err)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("log contains the given password: %s", logs.String())
	}
	u, err := st.GetUserByUsername(context.Background(), "root")
	if err != nil || password.Verify("s3cret-Passw0rd", u.PasswordHash) != nil {
		t.Errorf("root cannot sign in with the given password: %v", err)
	}
}

func TestBootstrapRejectsBadAdminUsername(t *testing.T) {
	st := backends(t)["sqlite"](t)
	_, err := service.Bootstrap(context.Background(), st, service.BootstrapOptions{AdminUsername: "a\tb", PasswordParams: &cheap})
	if !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), "GATEHOUSE_ADMIN_USER") {
		t.Fatalf("err = %v, want invalid naming GATEHOUSE_ADMIN_USER", err)
	}
	if rev, _ := st.Revision(context.Background()); rev != 0 {
		t.Errorf("a refused bootstrap wrote revision %d", rev)
	}
}

// GATEHOUSE_ADMIN_PASSWORD meets the password rules for a member of
// Administrators; a generated one is long enough for any minimum.
func TestBootstrapRejectsWeakAdminPassword(t *testing.T) {
	for pw, want := range map[string]string{"short": "at least 12", "password1234": "most common", "demo-admin": "at least 12", "admin\x00-password-x": "NUL"} {
		st := backends(t)["sqlite"](t)
		_, err := service.Bootstrap(context.Background(), st, service.BootstrapOptions{AdminPassword: pw, PasswordParams: &cheap,
			PasswordPolicy: password.Policy{AdminMinLen: 12}})
		if !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), "GATEHOUSE_ADMIN_PASSWORD") || !strings.Contains(err.Error(), want) {
			t.Errorf("password %q: err = %v, want invalid naming GATEHOUSE_ADMIN_PASSWORD and %q", pw, err, want)
		}
		if rev, _ := st.Revision(context.Background()); rev != 0 {
			t.Errorf("a refused bootstrap wrote revision %d", rev)
		}
	}
	st := backends(t)["sqlite"](t)
	res, err := service.Bootstrap(context.Background(), st, service.BootstrapOptions{PasswordParams: &cheap, PasswordPolicy: password.Policy{AdminMinLen: 40},
		Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	if err != nil || len([]rune(res.GeneratedPassword)) < 40 {
		t.Errorf("generated password %d characters, %v; want 40 or more", len(res.GeneratedPassword), err)
	}
}

// Replicas starting together on one PostgreSQL: exactly one bootstraps.
func TestBootstrapConcurrentReplicas(t *testing.T) {
	open := backends(t)["postgres"]
	st := open(t)
	var wg sync.WaitGroup
	results := make([]service.BootstrapResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = service.Bootstrap(context.Background(), st, service.BootstrapOptions{
				PasswordParams: &cheap, Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
		}(i)
	}
	wg.Wait()
	created := 0
	for i := range results {
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
		}
		if results[i].Created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d replicas bootstrapped, want exactly 1", created)
	}
}
