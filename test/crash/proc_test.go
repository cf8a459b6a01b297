package crash

import (
	"flag"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testserver"
)

var (
	killsFlag = flag.Int("kills", 0, "SIGKILLs per backend (default 20, or GATEHOUSE_CRASH_KILLS; 200 with -long)")
	seedFlag  = flag.Int64("seed", 0, "random seed (default: GATEHOUSE_CRASH_SEED, else the clock); logged so a run can be repeated")
	longFlag  = flag.Bool("long", false, "a long run: 200 kills per backend unless -kills says otherwise")
)

// binary is the gatehouse binary built once by TestMain, without -race:
// the server under test runs at its real speed whatever flags the test
// process has.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	testserver.Main(m, "gatehouse-crash", &binary)
}

// kills is how many SIGKILLs each backend's run makes.
func kills() int {
	if *killsFlag > 0 {
		return *killsFlag
	}
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_CRASH_KILLS")); err == nil && n > 0 {
		return n
	}
	if *longFlag {
		return 200
	}
	return 20
}

// seed is the run's random seed.
func seed() int64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	if n, err := strconv.ParseInt(os.Getenv("GATEHOUSE_CRASH_SEED"), 10, 64); err == nil && n != 0 {
		return n
	}
	return time.Now().UnixNano()
}

// adminPassword is the initial administrator's password every run starts
// the binary with.
const adminPassword = "crash-Admin-Secret-1"

// logTail bounds the log kept per process: enough to show why a start
// failed, without holding every request line of a long run.
const logTail = 256 << 10

// start runs `gatehouse serve` with args in dir and returns once /readyz
// answers 200, with how long that took from the exec.
func start(t *testing.T, dir string, args ...string) (*testserver.Server, time.Duration) {
	t.Helper()
	began := time.Now()
	s := testserver.Start(t, testserver.Options{Binary: binary, Dir: dir, Args: args, LogLimit: logTail,
		Env: []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}})
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := hc.Get(s.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, time.Since(began)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gatehouse's /readyz did not answer 200 within 60s (last: %v)\n%s", err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the process with SIGTERM (a graceful shutdown); it fails the
// test, without ending it, when the process does not exit with status 0
// within 30 s (it is killed then).
func stop(t *testing.T, s *testserver.Server) {
	t.Helper()
	_ = s.Signal(syscall.SIGTERM)
	exited, err := s.Wait(30 * time.Second)
	switch {
	case !exited:
		t.Errorf("gatehouse did not stop within 30s of SIGTERM")
		s.Kill()
	case err != nil:
		t.Errorf("gatehouse exited with %v after SIGTERM\n%s", err, s.Log())
	}
}
