package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/metrics"
)

// fakeWriter is a connection's writer that records what reaches it and
// accepts any status (net/http panics on some), with the optional
// methods a server's writer has.
type fakeWriter struct {
	h         http.Header
	codes     []int
	body      strings.Builder
	flushed   int
	readFrom  int
	deadlines int
}

func newFakeWriter() *fakeWriter                       { return &fakeWriter{h: http.Header{}} }
func (w *fakeWriter) Header() http.Header              { return w.h }
func (w *fakeWriter) WriteHeader(code int)             { w.codes = append(w.codes, code) }
func (w *fakeWriter) Write(b []byte) (int, error)      { return w.body.Write(b) }
func (w *fakeWriter) Flush()                           { w.flushed++ }
func (w *fakeWriter) SetWriteDeadline(time.Time) error { w.deadlines++; return nil }
func (w *fakeWriter) ReadFrom(r io.Reader) (int64, error) {
	w.readFrom++
	return io.Copy(&w.body, r)
}

// nopWriter is a connection's writer that keeps nothing, for counting
// allocations.
type nopWriter struct{ h http.Header }

func (w nopWriter) Header() http.Header         { return w.h }
func (w nopWriter) WriteHeader(int)             {}
func (w nopWriter) Write(b []byte) (int, error) { return len(b), nil }

// httpSeries returns the gatehouse_http_requests_total lines of the
// exposition of reg, as "labels value".
func httpSeries(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var lines []string
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if s, ok := strings.CutPrefix(l, "gatehouse_http_requests_total{"); ok {
			lines = append(lines, s)
		}
	}
	return lines
}

// TestInstrumentCountsEachResponseUnderItsStatus: the status a response
// is counted under is the one the client got: the first final status
// written, 200 for a body, a flush or nothing, "unknown" outside
// 100–599; every write reaches the connection's writer.
func TestInstrumentCountsEachResponseUnderItsStatus(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(w http.ResponseWriter)
		code  string
	}{
		{"nothing written", func(w http.ResponseWriter) {}, "200"},
		{"a body", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "x") }, "200"},
		{"created", func(w http.ResponseWriter) { w.WriteHeader(201) }, "201"},
		{"a teapot with a body", func(w http.ResponseWriter) { w.WriteHeader(418); _, _ = io.WriteString(w, "x") }, "418"},
		{"early hints, then no content", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(204) }, "204"},
		{"a superfluous second status", func(w http.ResponseWriter) { w.WriteHeader(500); w.WriteHeader(200) }, "500"},
		{"switching protocols", func(w http.ResponseWriter) { w.WriteHeader(101) }, "101"},
		{"a flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, "200"},
		{"a copy", func(w http.ResponseWriter) { _, _ = io.Copy(w, strings.NewReader("xyz")) }, "200"},
		{"ok, then a superfluous error", func(w http.ResponseWriter) { w.WriteHeader(200); w.WriteHeader(500) }, "200"},
		{"continue alone", func(w http.ResponseWriter) { w.WriteHeader(100) }, "200"}, // net/http then answers 200
		{"continue, then a body", func(w http.ResponseWriter) { w.WriteHeader(100); _, _ = io.WriteString(w, "x") }, "200"},
		{"the last status there is", func(w http.ResponseWriter) { w.WriteHeader(599) }, "599"},
		{"a status over 599", func(w http.ResponseWriter) { w.WriteHeader(600) }, "unknown"},
		{"a status under 100", func(w http.ResponseWriter) { w.WriteHeader(99) }, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.New()
			fw, want := newFakeWriter(), newFakeWriter()
			tc.serve(want)
			m.Instrument("scim", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.serve(w) })).
				ServeHTTP(fw, httptest.NewRequest("PUT", "/scim/v2/Users/1", nil))
			got := httpSeries(t, m.Registry())
			if line := `api="scim",code="` + tc.code + `",method="put"} 1`; len(got) != 1 || got[0] != line {
				t.Errorf("counted %q, want [%q]", got, line)
			}
			if s := scrape(t, m); value(s, `gatehouse_http_request_duration_seconds_count{api="scim"}`) != 1 {
				t.Errorf("duration count = %v, want 1", value(s, `gatehouse_http_request_duration_seconds_count{api="scim"}`))
			}
			if fw.body.String() != want.body.String() || !slices.Equal(fw.codes, want.codes) || fw.flushed != want.flushed || fw.readFrom != want.readFrom {
				t.Errorf("the connection got codes %v, body %q, %d flushes, %d ReadFrom; want %v, %q, %d, %d",
					fw.codes, fw.body.String(), fw.flushed, fw.readFrom, want.codes, want.body.String(), want.flushed, want.readFrom)
			}
		})
	}
}

// TestInstrumentLabelsMethodsAsPromhttp: the method label reads as
// promhttp's instrumentation, which the series were made by before,
// writes it, for its known methods in either case and anything else.
func TestInstrumentLabelsMethodsAsPromhttp(t *testing.T) {
	m := metrics.New()
	ref := prometheus.NewRegistry()
	refReqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_http_requests_total", Help: "x"}, []string{"code", "method", "api"})
	ref.MustRegister(refReqs)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) })
	ours := m.Instrument("rest", handler)
	theirs := promhttp.InstrumentHandlerCounter(refReqs.MustCurryWith(prometheus.Labels{"api": "rest"}), handler)
	for _, method := range []string{"GET", "get", "Get", "PUT", "put", "HEAD", "POST", "post", "DELETE", "CONNECT", "OPTIONS",
		"options", "NOTIFY", "TRACE", "PATCH", "patch", "PROPFIND", "GETS", "GE", "", "pOST"} {
		r := httptest.NewRequest("GET", "/api/v1/x", nil)
		r.Method = method
		ours.ServeHTTP(newFakeWriter(), r)
		theirs.ServeHTTP(newFakeWriter(), r)
	}
	got, want := httpSeries(t, m.Registry()), httpSeries(t, ref)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("series:\n%s\nwant (promhttp):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 11 { // ten known methods, and unknown
		t.Errorf("%d series, want 11: %q", len(got), got)
	}
}

// TestInstrumentKeepsTheConnectionsController: a handler's
// http.ResponseController reaches the connection's writer through the
// wrapper (the change feed sets its write deadline so).
func TestInstrumentKeepsTheConnectionsController(t *testing.T) {
	m := metrics.New()
	fw := newFakeWriter()
	m.Instrument("rest", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})).ServeHTTP(fw, httptest.NewRequest("GET", "/api/v1/changes", nil))
	if fw.deadlines != 1 || fw.flushed != 1 {
		t.Errorf("the connection got %d deadlines and %d flushes, want 1 and 1", fw.deadlines, fw.flushed)
	}
}

// TestInstrumentAllocatesOnlyItsWriter: counting a request allocates
// the status writer and nothing else once its series exists.
func TestInstrumentAllocatesOnlyItsWriter(t *testing.T) {
	m := metrics.New()
	h := m.Instrument("rest", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	r, w := httptest.NewRequest("POST", "/api/v1/check", nil), nopWriter{http.Header{}}
	h.ServeHTTP(w, r)
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n > 1 {
		t.Errorf("%v allocations a request, want at most 1", n)
	}
}

// BenchmarkInstrument counts and times a request; /promhttp is the
// instrumentation it replaced, for comparison.
func BenchmarkInstrument(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r", Help: "x"}, []string{"code", "method", "api"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "d", Help: "x"}, []string{"api"})
	api := prometheus.Labels{"api": "rest"}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"gatehouse", metrics.New().Instrument("rest", handler)},
		{"promhttp", promhttp.InstrumentHandlerCounter(reqs.MustCurryWith(api), promhttp.InstrumentHandlerDuration(dur.MustCurryWith(api), handler))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, w := httptest.NewRequest("POST", "/api/v1/check", nil), nopWriter{http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, r)
			}
		})
	}
}
