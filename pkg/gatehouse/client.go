package gatehouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// RevisionHeader is the response header in which Gatehouse states the
// revision an answer was computed on, or the revision a write committed at.
const RevisionHeader = "X-Gatehouse-Revision"

// Defaults of a Client.
const (
	// DefaultTimeout bounds one call, retries included (an AtLeast wait
	// is added to it).
	DefaultTimeout = 5 * time.Second
	// DefaultMaxBackoff bounds the pause between two retries.
	DefaultMaxBackoff = time.Second
	// MaxWait is the longest AtLeast wait the server accepts.
	MaxWait = 30 * time.Second
)

// maxResponse bounds how much of an answer is read, so that a
// misbehaving server or proxy cannot exhaust the application's memory.
const maxResponse = 32 << 20

// Client asks one Gatehouse server. Make one per server and share it: it
// is safe for concurrent use and reuses its connections.
type Client struct {
	base       string // scheme://host[/prefix]/api/v1, without a trailing slash
	token      atomic.Pointer[string]
	rev        atomic.Int64 // the highest revision answered
	hc         *http.Client
	timeout    time.Duration
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration
	userAgent  string
}

// Option configures a Client.
type Option func(*Client)

// WithToken makes the client authenticate with an API token (gh_…), sent
// as Authorization: Bearer. Without one, the client is anonymous and may
// only ask about itself and about anonymous requests.
func WithToken(token string) Option {
	return func(c *Client) { c.SetToken(token) }
}

// WithHTTPClient makes the client send its requests with hc instead of a
// client of its own. Its Timeout, if any, applies on top of WithTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithTimeout bounds each call, retries and backoff included
// (DefaultTimeout when not given; zero or negative means no bound beyond
// the caller's context). A call with AtLeast gets its Wait on top.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithRetries makes the read-only calls (Check, BatchCheck, Explain, the
// lists, and Do with GET) try up to n more times when Gatehouse is
// unavailable: no answer, or 502, 503 or 504. The first pause is backoff
// (default 50 ms), doubling each time with jitter, never more than
// DefaultMaxBackoff, and never past the call's timeout. A 503's
// Retry-After is honoured within the same bound. Other refusals (403,
// 404, 422, ...) are never retried: they would be answered the same.
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *Client) {
		c.retries = max(n, 0)
		if backoff > 0 {
			c.backoff = backoff
		}
	}
}

// WithUserAgent sets the User-Agent sent with each request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the Gatehouse server at baseURL, for example
// http://127.0.0.1:8080 (a trailing /api/v1 is accepted too).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gatehouse: base URL %q: want an http:// or https:// URL such as http://127.0.0.1:8080", baseURL)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1")
	c := &Client{
		base:       strings.TrimSuffix(u.String(), "/") + "/api/v1",
		timeout:    DefaultTimeout,
		backoff:    50 * time.Millisecond,
		maxBackoff: DefaultMaxBackoff,
		userAgent:  "gatehouse-go",
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		// The jar keeps the session cookie of Login.
		jar, _ := cookiejar.New(nil) // never fails without options
		c.hc = &http.Client{Transport: NewTransport(), Jar: jar}
	}
	return c, nil
}

// NewTransport is the http.Transport a Client uses unless given another:
// the standard library's defaults, with more idle connections kept per
// host (an application sends many concurrent checks to one server, and
// the default of 2 would open and close connections under load) and
// shorter connect and TLS handshake timeouts.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   3 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// SetToken switches the client to an API token ("" for none: anonymous,
// or the session of Login). It is safe to call while calls are made.
func (c *Client) SetToken(token string) {
	t := strings.TrimSpace(token)
	c.token.Store(&t)
}

// Token is the API token the client sends, if any.
func (c *Client) Token() string {
	if t := c.token.Load(); t != nil {
		return *t
	}
	return ""
}

// Revision is the highest revision the server has answered this client
// with: pass it as AtLeast to see your own writes on any replica (R20).
func (c *Client) Revision() int64 { return c.rev.Load() }

func (c *Client) noteRevision(n int64) {
	for {
		old := c.rev.Load()
		if n <= old || c.rev.CompareAndSwap(old, n) {
			return
		}
	}
}

// Close closes the client's idle connections. The client may still be
// used afterwards; it opens new ones.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// BaseURL is the URL of the server's API, ending in /api/v1.
func (c *Client) BaseURL() string { return c.base }

// call is one request to the API.
type call struct {
	method string
	path   string // under /api/v1, with its query
	body   any
	// readOnly calls may be retried, and are marked idempotent so that
	// net/http may resend them on a kept-alive connection the server
	// closed meanwhile.
	readOnly bool
	// wait is added to the call's timeout (an AtLeast wait).
	wait time.Duration
	// header holds extra request headers (If-Match).
	header http.Header
}

// Do sends a request to the API (path is under /api/v1, for example
// "/folders" or "/users?search=alice") with in as its JSON body (nil for
// none), decodes a JSON answer into out (nil to discard it), and returns
// the revision the server stated (0 when it stated none). It is the way
// to make the administrative calls this package has no method for, and
// to obtain a write's revision for a later AtLeast. Only GET requests are
// retried.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) (int64, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return c.do(ctx, call{method: method, path: path, body: in, readOnly: method == http.MethodGet}, out)
}

func (c *Client) do(ctx context.Context, cl call, out any) (int64, error) {
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return 0, fmt.Errorf("gatehouse: encoding the request: %w", err)
		}
		body = b
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout+cl.wait)
		defer cancel()
	}
	attempts := 1
	if cl.readOnly {
		attempts += c.retries
	}
	pause := c.backoff
	for i := 1; ; i++ {
		rev, err := c.once(ctx, cl, body, out)
		if err == nil || i >= attempts || !retryable(err) {
			return rev, err
		}
		d := pause
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > d {
			d = e.RetryAfter
		}
		d = min(d, c.maxBackoff)
		// Jitter spreads the retries of many application instances that
		// all saw the same outage.
		d = d/2 + rand.N(d/2+1)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return rev, err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return rev, err
		case <-t.C:
		}
		pause = min(pause*2, c.maxBackoff)
	}
}

// retryable: the server is unavailable, and the caller's context has not
// ended (a retry then would fail at once).
func retryable(err error) bool {
	var e *Error
	if !errors.As(err, &e) || !e.Unavailable() {
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, cl call, body []byte, out any) (int64, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.base+cl.path, rd)
	if err != nil {
		return 0, fmt.Errorf("gatehouse: %s %s: %w", cl.method, cl.path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	if cl.readOnly && cl.method != http.MethodGet {
		// A nil X-Idempotency-Key marks the POST of a check as safe to
		// resend without sending the header (net/http's documented
		// convention).
		req.Header["X-Idempotency-Key"] = nil
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, &Error{Kind: "unavailable", Method: cl.method, Path: cl.path, Err: err}
	}
	defer res.Body.Close()
	rev, _ := strconv.ParseInt(res.Header.Get(RevisionHeader), 10, 64)
	c.noteRevision(rev)
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return rev, &Error{Kind: "unavailable", Method: cl.method, Path: cl.path, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return rev, decodeError(cl, res, raw)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return rev, &Error{Status: res.StatusCode, Kind: "other", Method: cl.method, Path: cl.path,
				Err: fmt.Errorf("the answer is not the JSON expected: %w", err)}
		}
	}
	return rev, nil
}
