package e2e

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDrainOnSIGTERM: on SIGTERM /readyz turns 503 "draining" at once,
// while a request already in flight still gets its whole answer; after
// --drain-delay the server stops and exits 0. /metrics is served on the
// main listener meanwhile.
func TestDrainOnSIGTERM(t *testing.T) {
	s := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=correct-horse-battery"}, "--drain-delay", "3s")
	if code, body := get(t, s.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz before SIGTERM = %d %s", code, body)
	}
	code, body := get(t, s.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{"gatehouse_engine_revision ", `gatehouse_http_requests_total{api="health",code="200",method="get"} 1`, "go_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// In flight across the signal: a check waiting (1.5 s) for a revision
	// that will never come.
	type answer struct {
		code int
		body string
		err  error
	}
	inflight := make(chan answer, 1)
	go func() {
		resp, err := http.Post(s.URL+"/api/v1/check", "application/json",
			strings.NewReader(`{"permission":"users.view","resource":"system","at_least":999999,"wait_ms":1500}`))
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- answer{resp.StatusCode, string(b), err}
	}()
	time.Sleep(200 * time.Millisecond) // let the request reach the server

	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2500 * time.Millisecond)
	for {
		code, body := get(t, s.URL+"/readyz")
		if code == 503 && strings.Contains(body, `"draining"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s after SIGTERM, want 503 draining during --drain-delay", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get(t, s.URL+"/healthz"); code != 200 {
		t.Errorf("/healthz while draining = %d, want 200 (the process is alive)", code)
	}

	a := <-inflight
	if a.err != nil || a.code != 503 || !strings.Contains(a.body, "not available yet") {
		t.Errorf("the request in flight got %d %q (err %v), want its whole 503 answer", a.code, a.body, a.err)
	}
	if exited, err := s.Wait(30 * time.Second); !exited {
		t.Fatalf("did not stop within 30s of SIGTERM\n%s", s.Log())
	} else if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.Log())
	}
	log := s.Log()
	for _, want := range []string{"draining", "msg=stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
