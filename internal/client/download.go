package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Download sends a GET to path (under /api/v1) and streams a 2xx answer's
// body to w as it arrives, without holding it (the replica snapshot). It
// returns the answer's headers; a non-2xx answer is an *Error.
func (c *Client) Download(ctx context.Context, path string, query url.Values, w io.Writer) (http.Header, error) {
	target := strings.TrimSuffix(c.base.String(), "/") + "/api/v1" + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("User-Agent", c.ua)
	if tok := c.Token(); tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	c.noteRevision(res.Header)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		return res.Header, decodeError(res, raw)
	}
	if _, err := io.Copy(w, res.Body); err != nil {
		return res.Header, fmt.Errorf("GET %s: reading the answer: %w", path, err)
	}
	return res.Header, nil
}
