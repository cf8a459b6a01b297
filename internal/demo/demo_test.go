package demo

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// load bootstraps a fresh SQLite store as serve --demo does and loads the
// demo into it.
func load(t *testing.T) (store.Store, Result, time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if s, err := Inspect(ctx, st); err != nil || s != Fresh {
		t.Fatalf("Inspect of a new database = %v, %v; want Fresh", s, err)
	}
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{AdminPassword: AdminPassword, PasswordParams: &cheap,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatal(err)
	}
	if s, _ := Inspect(ctx, st); s != Foreign {
		t.Fatalf("Inspect of a bootstrapped database without the demo = %v, want Foreign", s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	res, err := Load(ctx, st, Options{Now: func() time.Time { return now }, PasswordParams: &cheap})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("demo loaded in %v: %+v", time.Since(start), res)
	return st, res, now
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	st, res, now := load(t)
	if s, err := Inspect(ctx, st); err != nil || s != Loaded {
		t.Fatalf("Inspect after Load = %v, %v; want Loaded", s, err)
	}
	if res.Users < NumGenerated || res.Groups < 15 || res.Projects != 5 || res.Folders < 14 {
		t.Errorf("Load wrote %+v, want at least %d users, 15 groups, 5 projects, 14 folders", res, NumGenerated)
	}
	f, err := service.NewFollower(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	e := f.Engine()
	if got := e.Revision(); got != res.Revision {
		t.Errorf("engine revision %d, want the demo's %d", got, res.Revision)
	}
	user := func(name string) engine.Subject {
		u, err := st.GetUserByUsername(ctx, name)
		if err != nil {
			t.Fatalf("demo user %s: %v", name, err)
		}
		return engine.Subject{UserID: u.ID}
	}
	folder := func(id string) engine.Resource { return engine.Resource{Kind: engine.KindFolder, ID: id} }
	project := func(id string) engine.Resource { return engine.Resource{Kind: engine.KindProject, ID: id} }
	system := engine.Resource{Kind: engine.KindSystem}
	anonymous := engine.Subject{}
	// The stories docs/demo.md tells, at the demo's clock and a day later.
	for _, c := range []struct {
		story   string
		subject engine.Subject
		perm    string
		res     engine.Resource
		want    bool
	}{
		{"a normal user can read the image library", user("user"), "root.read", folder(FolderStaffPhotos), true},
		{"a normal user can download from it", user("user"), "root.download", folder(FolderPublic2025), true},
		{"but not upload", user("user"), "root.create", folder(FolderStaffPhotos), false},
		{"nor read the admin-only folder (a nearer none overrides)", user("user"), "root.read", folder(FolderAdminOnly), false},
		{"the public sees the public gallery", anonymous, "root.read", folder(FolderPublic2024), true},
		{"but not the staff photos", anonymous, "root.read", folder(FolderStaffPhotos), false},
		{"an administrator reads the admin-only folder", user("admin"), "root.read", folder(FolderAdminOnly), true},
		{"the GRT study rule grants access", user("scientist"), "data.read", folder(FolderGRT001), true},
		{"and analysis.create there", user("scientist"), "analysis.create", folder(FolderGRT001), true},
		{"not on another portfolio", user("scientist"), "data.read", folder(FolderGRT002), false},
		{"not on another indication", user("scientist"), "data.read", folder(FolderONC003), false},
		{"the radiologist writes Lung CT", user("radiologist"), "project.write", project(ProjectLungCT), true},
		{"reads Liver MR only", user("radiologist"), "project.write", project(ProjectLiverMR), false},
		{"moderates Brain MR, so writes there (R8)", user("radiologist"), "project.write", project(ProjectBrainMR), true},
		{"reaches domain xyz-hosp", user("radiologist"), "domain.access", engine.Resource{Kind: engine.KindDomain, ID: "xyz-hosp"}, true},
		{"downloads volumes", user("radiologist"), "volume.download", system, true},
		{"the moderator moderates the clinical trial", user("moderator"), "project.moderate", project(ProjectClinical), true},
		{"the manager edits users", user("manager"), "users.edit", system, true},
		{"but not roles", user("manager"), "roles.edit", system, false},
		{"a normal user holds no system permission", user("user"), "users.view", system, false},
		{"a chest radiologist writes Lung CT through Radiologists (nested groups)", engine.Subject{UserID: ID(0x10000 + 200)}, "project.write", project(ProjectLungCT), true},
	} {
		d, err := e.Check(c.subject, c.perm, c.res, now.Add(time.Minute))
		if err != nil {
			t.Errorf("%s: Check(%s) error %v", c.story, c.perm, err)
			continue
		}
		if d.Allowed != c.want {
			t.Errorf("%s: Check(%s on %s) = %v, want %v", c.story, c.perm, c.res.ID, d.Allowed, c.want)
		}
	}

	// Expiring memberships: some ended before the load, some end within days.
	expired, soon := 0, 0
	for _, m := range mustSnapshot(t, st).Memberships {
		switch {
		case m.ExpiresAt == nil:
		case !m.ExpiresAt.After(now):
			expired++
		case m.ExpiresAt.Before(now.Add(8 * 24 * time.Hour)):
			soon++
		}
	}
	if expired < 5 || soon < 5 {
		t.Errorf("%d expired and %d soon-expiring memberships, want at least 5 of each", expired, soon)
	}
	// An expired research assistant reads nothing through the group (R6),
	// a current one does.
	ra := engine.Subject{UserID: ID(0x10000 + 40)}
	if d, _ := e.Check(ra, "project.read", project(ProjectBreastMG), now); d.Allowed {
		t.Errorf("a research assistant whose membership expired can read Breast MG")
	}
	ra = engine.Subject{UserID: ID(0x10000 + 45)}
	if d, _ := e.Check(ra, "project.read", project(ProjectBreastMG), now); !d.Allowed {
		t.Errorf("a research assistant whose membership runs three more days cannot read Breast MG")
	}
	if d, _ := e.Check(ra, "project.read", project(ProjectBreastMG), now.Add(4*24*time.Hour)); d.Allowed {
		t.Errorf("four days on, the research assistant can still read Breast MG (R6)")
	}

	// Every write went through the service and is audited as the administrator.
	page, err := st.ListAudit(ctx, store.AuditQuery{Action: "group.create", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) < 15 || page.Items[0].ActorName != "admin" {
		t.Errorf("audit holds %d group.create events (first by %q), want every demo group, by admin", len(page.Items), firstActor(page.Items))
	}
}

func TestLoadIsDeterministic(t *testing.T) {
	a, _, _ := load(t)
	b, _, _ := load(t)
	sa, sb := mustSnapshot(t, a), mustSnapshot(t, b)
	if len(sa.Users) != len(sb.Users) || len(sa.Memberships) != len(sb.Memberships) || len(sa.Folders) != len(sb.Folders) {
		t.Fatalf("two loads differ in size: %d/%d users, %d/%d memberships, %d/%d folders",
			len(sa.Users), len(sb.Users), len(sa.Memberships), len(sb.Memberships), len(sa.Folders), len(sb.Folders))
	}
	names := map[string]string{}
	for _, u := range sa.Users {
		names[u.ID] = u.Username
	}
	for _, u := range sb.Users {
		if u.Username != "admin" && names[u.ID] != u.Username {
			t.Errorf("user %s is %q in one load and %q in the other", u.ID, names[u.ID], u.Username)
		}
	}
}

func mustSnapshot(t *testing.T, st store.Store) *domain.Snapshot {
	t.Helper()
	s, err := st.LoadSnapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func firstActor(es []domain.AuditEvent) string {
	if len(es) == 0 {
		return ""
	}
	return es[0].ActorName
}
