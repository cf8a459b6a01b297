package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
)

// capture keeps the last successful answer to an operation the running
// command declares, so that --json prints the API's JSON as the server
// sent it, not the client's decoding of it re-encoded (which would drop
// what the client's types do not hold). Lookups of names on the way are
// other operations, or fail (a name tried as an id answers 404), and are
// not kept.
type capture struct {
	base http.RoundTripper
	ops  []string

	mu  sync.Mutex
	raw []byte
}

// maxCaptured matches the client's own bound on an answer.
const maxCaptured = 64 << 20

// httpClient returns hc (nil: a default one) sending through the capture,
// with hc's cookie jar or a new one (login's session needs one).
func (c *capture) httpClient(hc *http.Client) *http.Client {
	if hc == nil {
		jar, _ := cookiejar.New(nil) // never fails without options
		hc = &http.Client{Jar: jar}
	}
	out := *hc
	c.base = hc.Transport
	if c.base == nil {
		c.base = http.DefaultTransport
	}
	out.Transport = c
	return &out
}

// RoundTrip sends req and keeps the answer when it is one to keep.
func (c *capture) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.base.RoundTrip(req)
	if err != nil || res.StatusCode < 200 || res.StatusCode > 299 || !declares(c.ops, req.Method, req.URL.EscapedPath()) {
		return res, err
	}
	if ct := res.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
		return res, nil // a download (the replica snapshot) streams on; --json prints the command's summary
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxCaptured))
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	c.mu.Lock()
	c.raw = body
	c.mu.Unlock()
	return res, nil
}

// answer is the kept JSON; nil when there is none (or it is empty, as a
// 204's: the command's own summary is printed then).
func (c *capture) answer() []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(bytes.TrimSpace(c.raw)) == 0 {
		return nil
	}
	return c.raw
}

// declares says whether the request is one of ops ("METHOD /api/v1/…",
// a "{…}" segment standing for any one segment).
func declares(ops []string, method, path string) bool {
	segs := strings.Split(path, "/")
	for _, op := range ops {
		m, tmpl, _ := strings.Cut(op, " ")
		if m == method && segmentsMatch(strings.Split(tmpl, "/"), segs) {
			return true
		}
	}
	return false
}

func segmentsMatch(tmpl, segs []string) bool {
	if len(tmpl) != len(segs) {
		return false
	}
	for i, t := range tmpl {
		if !strings.HasPrefix(t, "{") && t != segs[i] {
			return false
		}
	}
	return true
}
