package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fixed ids of the demo (internal/demo, docs/demo.md).
const (
	demoStaffPhotos = "0000de00-0000-7000-8000-000000000403"
	demoAdminOnly   = "0000de00-0000-7000-8000-000000000404"
	demoPublic2024  = "0000de00-0000-7000-8000-000000000405"
	demoGRT001      = "0000de00-0000-7000-8000-000000000415"
	demoGRT002      = "0000de00-0000-7000-8000-000000000416"
	demoLungCT      = "0000de00-0000-7000-8000-000000000101"
)

// demoAnswers checks the documented demo stories over HTTP, signed in
// with the documented demo logins.
func demoAnswers(t *testing.T, base string) {
	t.Helper()
	user := login(t, base, "user", "demo-user")
	user.check("", "root.read", "folder:"+demoStaffPhotos, true)
	user.check("", "root.read", "folder:"+demoAdminOnly, false)
	anonymous(t, base).check("", "root.read", "folder:"+demoPublic2024, true)
	sci := login(t, base, "scientist", "demo-scientist")
	sci.check("", "data.read", "folder:"+demoGRT001, true)
	sci.check("", "data.read", "folder:"+demoGRT002, false)
	rad := login(t, base, "radiologist", "demo-radiologist")
	rad.check("", "project.write", "project:"+demoLungCT, true)
	admin := login(t, base, "admin", "demo-admin")
	admin.check("", "root.read", "folder:"+demoAdminOnly, true)
}

func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, nil, "--demo")
	// The logins follow the "gatehouse serving" line start waits for.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.Log(), "username=user password=demo-user") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	log := s.Log()
	for _, want := range []string{`msg="demo data loaded"`, `username=admin password=demo-admin`, `username=user password=demo-user`, `msg="demo ready: open ` + s.URL,
		`msg="initial administrator created with the demo's documented password (docs/demo.md)" username=admin`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "given to the server") || strings.Contains(log, "GATEHOUSE_ADMIN_PASSWORD") {
		t.Errorf("the demo, given no password, says one was given:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse-demo.db")); err != nil {
		t.Errorf("--demo did not use gatehouse-demo.db: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err == nil {
		t.Errorf("--demo created gatehouse.db, which is a user's real data file")
	}
	demoAnswers(t, s.URL+"/api/v1")
	s.Stop(t)

	// A restart finds the demo loaded: no second load, same answers.
	s = start(t, dir, nil, "--demo")
	if strings.Contains(s.Log(), "demo data loaded") {
		t.Errorf("the restart loaded the demo again:\n%s", s.Log())
	}
	demoAnswers(t, s.URL+"/api/v1")
	s.Stop(t)

	// A database with other data is refused, in one line, untouched.
	other := start(t, dir, []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}, "--db", "real.db")
	other.Stop(t)
	code, _, stderr := runCmd(t, dir, "serve", "--demo", "--db", "real.db", "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "not the demo's") || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
		t.Errorf("serve --demo on a non-demo database: status %d, stderr %q; want status 1 and one error line", code, stderr)
	}
}
