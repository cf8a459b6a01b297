package console

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A missing static file, a directory and a path climbing out of /static/
// answer the console's HTML error page, never net/http's plain-text 404
// or a listing (found by test/hostile); a real file is still served.
func TestStaticNotFoundIsAnErrorPage(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/static/", "/static/nope.css", "/static/..%2f..%2fconsole.go", "/static/%2e%2e/templates/layout.html", "/static/%00"} {
		resp := e.do(t, "GET", p, nil)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(b), "There is no such file.") {
			t.Errorf("GET %s = %d %q: %.200s, want the 404 error page", p, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	resp := e.do(t, "GET", "/static/console.css", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("GET /static/console.css = %d %q, want 200 text/css", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
