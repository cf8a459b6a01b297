// Package client is a typed Go client of Gatehouse's REST API (/api/v1),
// used by the gatehouse command line and by end-to-end tests, and usable
// by any Go program: it needs only the standard library and the plain
// data types of internal/domain, never the server's code.
//
// A Client authenticates with an API token (Options.Token, sent as
// Authorization: Bearer) or, without one, with the session cookie that
// Login obtains and keeps in its cookie jar. Every method takes a context.
// A refusal from the server comes back as an *Error holding the RFC 9457
// problem document: status, title, detail and the fields at fault.
//
// The client remembers the highest revision the server has answered with
// (Revision): pass it as AtLeast to a check made right after a write, on
// any replica, to read your own write (R20).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultServer is where a server listens when started without --listen.
const DefaultServer = "http://127.0.0.1:8080"

// revisionHeader carries the revision an answer was computed on or a
// write committed at.
const revisionHeader = "X-Gatehouse-Revision"

// maxResponse bounds how much of an answer is read: the largest list page
// is far below it, and a misbehaving server must not exhaust memory.
const maxResponse = 64 << 20

// Options configure a Client.
type Options struct {
	// Token is an API token (gh_…). Empty: the client is anonymous until
	// Login, after which it uses the session cookie.
	Token string
	// HTTPClient sends the requests. Nil: a client of its own with a
	// cookie jar, so that Login's session is kept. One passed here
	// without a Jar gets none: sessions then do not work with it.
	HTTPClient *http.Client
	// UserAgent is sent with every request (default "gatehouse-client").
	UserAgent string
}

// Client calls one Gatehouse server. It is safe for concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
	ua   string
	rev  atomic.Int64

	mu    sync.Mutex
	token string
}

// New returns a client of the server at baseURL (for example
// http://127.0.0.1:8080; a trailing /api/v1 is accepted too).
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want an http:// or https:// URL such as %s", baseURL, DefaultServer)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1")
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, hc: opts.HTTPClient, ua: opts.UserAgent, token: strings.TrimSpace(opts.Token)}
	if c.hc == nil {
		jar, _ := cookiejar.New(nil) // never fails without options
		c.hc = &http.Client{Jar: jar}
	}
	if c.ua == "" {
		c.ua = "gatehouse-client"
	}
	return c, nil
}

// BaseURL is the server's URL, without /api/v1.
func (c *Client) BaseURL() string { return c.base.String() }

// SetToken switches the client to an API token ("" to go back to the
// session, if any).
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.token = strings.TrimSpace(token)
	c.mu.Unlock()
}

// Token is the API token the client sends, if any.
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// Revision is the highest revision the server has answered this client
// with: use it as AtLeast to see your own writes.
func (c *Client) Revision() int64 { return c.rev.Load() }

func (c *Client) noteRevision(h http.Header) {
	n, err := strconv.ParseInt(h.Get(revisionHeader), 10, 64)
	if err != nil {
		return
	}
	for {
		old := c.rev.Load()
		if n <= old || c.rev.CompareAndSwap(old, n) {
			return
		}
	}
}

// request is one call: method and path under /api/v1, query, JSON body,
// extra headers.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	header http.Header
}

// do sends req and decodes a 2xx JSON answer into out (nil: discard). It
// returns the answer's headers (for ETag, Set-Cookie). A non-2xx answer is
// an *Error.
func (c *Client) do(ctx context.Context, req request, out any) (http.Header, error) {
	// The path's ids are escaped by the caller (seg), so the URL is built
	// as text rather than through url.URL's decoded Path.
	target := strings.TrimSuffix(c.base.String(), "/") + "/api/v1" + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Accept", "application/json, application/problem+json")
	hr.Header.Set("User-Agent", c.ua)
	if tok := c.Token(); tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, vs := range req.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	c.noteRevision(res.Header)
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return res.Header, fmt.Errorf("%s %s: reading the answer: %w", req.method, req.path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.Header, decodeError(res, raw)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.Header, fmt.Errorf("%s %s: the answer is not the JSON expected: %w", req.method, req.path, err)
		}
	}
	return res.Header, nil
}

// seg escapes one path segment (an id).
func seg(s string) string { return url.PathEscape(s) }

// ifMatch is the If-Match header of a write conditional on version (none
// when version is 0). The server's ETags are the object versions.
func ifMatch(version int64) http.Header {
	if version <= 0 {
		return nil
	}
	return http.Header{"If-Match": {ETag(version)}}
}

// ETag is the entity tag of an object version, as the server sends it.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
