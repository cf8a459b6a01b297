package rest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// A handler that runs longer than huma's body read timeout keeps its
// request's context. The edge reads the body first, which starts
// net/http's background read of the connection; huma's read deadline,
// set afterwards, used to fire in that read and cancel the context (a
// sign-in queued for a hashing slot under load answered 503 "context
// canceled"). The client going away still cancels it.
func TestSlowHandlerKeepsItsContext(t *testing.T) {
	type in struct {
		Body *struct {
			Name string `json:"name"`
		} `required:"false"`
	}
	type out struct{ Body string }
	mux := http.NewServeMux()
	h := humago.New(mux, huma.DefaultConfig("t", "1"))
	h.UseMiddleware((&API{}).edge)
	huma.Register(h, publicOp(huma.Operation{Method: http.MethodPost, Path: "/slow", BodyReadTimeout: 100 * time.Millisecond}),
		func(ctx context.Context, _ *in) (*out, error) {
			select {
			case <-ctx.Done():
				return &out{Body: "cancelled: " + ctx.Err().Error()}, nil
			case <-time.After(400 * time.Millisecond):
				return &out{Body: "kept"}, nil
			}
		})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// With a body, and without one (net/http's background read starts
	// at once then).
	for _, body := range []string{`{"name":"x"}`, ``} {
		resp, err := http.Post(srv.URL+"/slow", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(b)); got != `"kept"` {
			t.Errorf("body %q: answer %s, want \"kept\"", body, got)
		}
	}
}
