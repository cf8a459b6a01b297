package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// scrape fetches the text exposition through the real handler.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics = %d", rec.Code)
	}
	return rec.Body.String()
}

// value returns the value of the sample whose line starts with series
// (name and labels exactly as exposed), or -1 when absent.
func value(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

func TestExposition(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := metrics.New()
	st := m.ObserveStore(db)
	f, err := service.NewFollower(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	m.Follow(f)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = f.Run(rctx, service.RunOptions{PollInterval: 5 * time.Millisecond, Observer: m})
	}()

	before := scrape(t, m)
	if v := value(before, "gatehouse_engine_revision"); v != 0 {
		t.Errorf("engine revision on an empty database = %v, want 0", v)
	}

	// A write by another writer: the follower's poll applies it.
	res, err := service.Bootstrap(ctx, db, service.BootstrapOptions{AdminPassword: "correct horse battery", PasswordParams: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	// The follower reports an apply just after the engine moved: wait for both.
	for (f.Revision() < res.Revision || value(scrape(t, m), "gatehouse_change_apply_duration_seconds_count") < 1) &&
		time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	m.ObserveCheck(engine.KindProject, true, 3*time.Microsecond)
	m.ObserveCheck(engine.KindSystem, false, 3*time.Microsecond)
	m.StoreError(domain.E("test", domain.KindUnavailable, io.ErrUnexpectedEOF))
	m.StoreError(domain.E("test", domain.KindNotFound, io.EOF)) // an answer, not a failure
	h := m.Instrument("rest", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/x", nil))

	after := scrape(t, m)
	for _, name := range []string{
		"gatehouse_checks_total", "gatehouse_check_duration_seconds", "gatehouse_engine_revision",
		"gatehouse_store_revision", "gatehouse_replication_lag_revisions", "gatehouse_replication_lag_seconds",
		"gatehouse_change_apply_duration_seconds", "gatehouse_snapshot_reloads_total",
		"gatehouse_store_errors_total", "gatehouse_http_requests_total", "gatehouse_http_request_duration_seconds",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(after, "# TYPE "+name+" ") {
			t.Errorf("metric %s is not exposed", name)
		}
	}
	want := map[string]float64{
		"gatehouse_engine_revision":                                          float64(res.Revision),
		"gatehouse_store_revision":                                           float64(res.Revision),
		"gatehouse_replication_lag_revisions":                                0,
		`gatehouse_checks_total{allowed="true",kind="project"}`:              1,
		`gatehouse_checks_total{allowed="false",kind="system"}`:              1,
		`gatehouse_checks_total{allowed="true",kind="folder"}`:               0,
		"gatehouse_check_duration_seconds_count":                             2,
		`gatehouse_store_errors_total{kind="unavailable"}`:                   1,
		`gatehouse_store_errors_total{kind="other"}`:                         0,
		`gatehouse_http_requests_total{api="rest",code="418",method="post"}`: 1,
		`gatehouse_http_request_duration_seconds_count{api="rest"}`:          1,
		`gatehouse_snapshot_reloads_total{reason="gap"}`:                     0,
	}
	for series, v := range want {
		if got := value(after, series); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	if got := value(after, "gatehouse_change_apply_duration_seconds_count"); got < 1 {
		t.Errorf("change apply count = %v, want at least 1 after the follower applied the bootstrap", got)
	}
}

// Recording a check allocates nothing: it is on every check's path.
func TestObserveCheckAllocatesNothing(t *testing.T) {
	m := metrics.New()
	if n := testing.AllocsPerRun(100, func() { m.ObserveCheck(engine.KindFolder, true, time.Microsecond) }); n != 0 {
		t.Errorf("ObserveCheck allocates %v times per call, want 0", n)
	}
}

// TestBatchChecksAreCountedWhenDone: a batch's checks appear in the
// counters and the histogram, in the buckets Prometheus's own histogram
// puts them in (an upper bound inclusive), once done is called, and not
// before; single checks and batches add up.
func TestBatchChecksAreCountedWhenDone(t *testing.T) {
	m := metrics.New()
	m.ObserveCheck(engine.KindFolder, true, 500*time.Nanosecond)
	observe, done := m.ObserveBatch()
	observe(engine.KindFolder, true, time.Microsecond)            // on the first bound
	observe(engine.KindFolder, false, 1001*time.Nanosecond)       // just above it
	observe(engine.KindProject, true, 4*time.Microsecond)         // on the second
	observe(engine.KindSystem, false, 300*time.Millisecond)       // above every bound
	observe(engine.ResourceKind("bogus"), true, time.Microsecond) // counted as other
	if got := value(scrape(t, m), "gatehouse_check_duration_seconds_count"); got != 1 {
		t.Errorf("before done: %v checks counted, want the single one", got)
	}
	done()
	text := scrape(t, m)
	for series, want := range map[string]float64{
		`gatehouse_checks_total{allowed="true",kind="folder"}`:   2,
		`gatehouse_checks_total{allowed="false",kind="folder"}`:  1,
		`gatehouse_checks_total{allowed="true",kind="project"}`:  1,
		`gatehouse_checks_total{allowed="false",kind="system"}`:  1,
		`gatehouse_checks_total{allowed="true",kind="other"}`:    1,
		`gatehouse_checks_total{allowed="true",kind="domain"}`:   0,
		`gatehouse_check_duration_seconds_bucket{le="1e-06"}`:    3,
		`gatehouse_check_duration_seconds_bucket{le="4e-06"}`:    5,
		`gatehouse_check_duration_seconds_bucket{le="0.262144"}`: 5,
		`gatehouse_check_duration_seconds_bucket{le="+Inf"}`:     6,
		"gatehouse_check_duration_seconds_count":                 6,
		"gatehouse_check_duration_seconds_sum":                   (500 + 1000 + 1001 + 4000 + 300e6 + 1000) / 1e9,
	} {
		if got := value(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	observe, done = m.ObserveBatch()
	if n := testing.AllocsPerRun(100, func() { observe(engine.KindFolder, true, time.Microsecond) }); n != 0 {
		t.Errorf("observing a batch's check allocates %v times, want 0", n)
	}
	done()
	if got := value(scrape(t, m), "gatehouse_check_duration_seconds_count"); got != 6+101 {
		t.Errorf("after a second batch: %v checks, want %d", got, 6+101)
	}
}

func BenchmarkObserveCheck(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveCheck(engine.KindProject, true, 2*time.Microsecond)
	}
}

// failingStream is a store whose StreamSnapshot fails with err before it
// hands anything over, or, with err nil, hands one object over.
type failingStream struct {
	store.Store
	err error
}

func (f failingStream) StreamSnapshot(_ context.Context, start func(int64, string) error, put func(*domain.Mutation) error) error {
	if f.err != nil {
		return f.err
	}
	if err := start(1, ""); err != nil {
		return err
	}
	return put(&domain.Mutation{User: &domain.User{ID: "u1"}})
}

// TestObservedStreamCountsTheStoresFailuresOnly: a snapshot stream that
// the database fails is a store error; one that the consumer ends (an
// index refusing an object, a replica that went away) is not.
func TestObservedStreamCountsTheStoresFailuresOnly(t *testing.T) {
	ctx := context.Background()
	m := metrics.New()
	down := domain.E("test", domain.KindUnavailable, io.ErrUnexpectedEOF)
	if err := m.ObserveStore(failingStream{err: down}).StreamSnapshot(ctx, nil, nil); !errors.Is(err, down) {
		t.Fatalf("the store's failure: %v, want it returned", err)
	}
	refused := domain.E("test", domain.KindOther, errors.New("the consumer refused"))
	st := m.ObserveStore(failingStream{})
	if err := st.StreamSnapshot(ctx, func(int64, string) error { return nil }, func(*domain.Mutation) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("the consumer's error: %v, want it returned", err)
	}
	if err := st.StreamSnapshot(ctx, func(int64, string) error { return refused }, nil); !errors.Is(err, refused) {
		t.Fatalf("the consumer's error at start: %v, want it returned", err)
	}
	after := scrape(t, m)
	for series, want := range map[string]float64{
		`gatehouse_store_errors_total{kind="unavailable"}`: 1,
		`gatehouse_store_errors_total{kind="other"}`:       0,
	} {
		if got := value(after, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}
