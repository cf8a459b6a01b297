package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// The command line is a client of the REST API through pkg/gatehouse,
// the one Go client: this file is how it makes one and how it words the
// client's errors.

// defaultServer is where a server listens when started without --listen.
const defaultServer = "http://127.0.0.1:8080"

// newClient is a client of server: with token, or anonymous until a
// Login (hc, nil for the client's own, keeps the session cookie in its
// jar). A command waits as long as the server takes (no timeout: ^C
// ends it) and is never retried.
func newClient(server, token string, hc *http.Client) (*gatehouse.Client, error) {
	c, err := gatehouse.New(server, gatehouse.WithToken(token), gatehouse.WithHTTPClient(hc),
		gatehouse.WithUserAgent("gatehouse-cli"), gatehouse.WithTimeout(0))
	if err != nil {
		return nil, fmt.Errorf("server %q: want an http:// or https:// URL such as %s", server, defaultServer)
	}
	return c, nil
}

// serverURL is the server's URL as the user gives it: without /api/v1.
func serverURL(c *gatehouse.Client) string {
	return strings.TrimSuffix(c.BaseURL(), "/api/v1")
}

// callAPI sends one request (path under /api/v1, its ids escaped) and
// returns the JSON answer as the server sent it: --json prints it, so that
// the output is the API's own, and the tables decode it.
func callAPI(ctx context.Context, c *gatehouse.Client, method, path string, query url.Values, body any) (json.RawMessage, error) {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var raw json.RawMessage
	_, err := c.Do(ctx, method, path, body, &raw)
	return raw, err
}

// explain turns an error into the one line the user reads: a server's
// refusal in the command line's words (refusal), an unreachable server
// with what to check.
func explain(c *gatehouse.Client, err error) error {
	if err == nil {
		return nil
	}
	var ge *gatehouse.Error
	if errors.As(err, &ge) && ge.Status != 0 {
		msg := strings.Replace(err.Error(), ge.Error(), refusal(ge), 1)
		if ge.Status == http.StatusUnauthorized {
			msg += "; run: gatehouse login"
		}
		return &refusalError{msg: msg, err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("cannot reach the server at %s (%v); is it running? (--server, GATEHOUSE_SERVER)", serverURL(c), ue.Err)
	}
	return err
}

// refusalError is a refusal worded for the command line, still carrying
// the client's *gatehouse.Error.
type refusalError struct {
	msg string
	err error
}

func (e *refusalError) Error() string { return e.msg }
func (e *refusalError) Unwrap() error { return e.err }

// refusal is one line for a server's refusal: the detail, then each field
// at fault with its location. Gatehouse's own details already repeat the
// fields' messages ("username: is required"): then the fields alone are
// shown, with their locations, so that nothing is said twice. The holders
// of a role, the wait asked for and the status follow.
func refusal(e *gatehouse.Error) string {
	var b strings.Builder
	head := e.Detail
	if head == "" {
		head = e.Title
	}
	if head == "" {
		head = http.StatusText(e.Status)
	}
	if len(e.Fields) == 0 || !detailRepeatsFields(e) {
		b.WriteString(head)
	}
	for i, f := range e.Fields {
		if b.Len() > 0 {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString("; ")
			}
		}
		if f.Location != "" {
			b.WriteString(f.Location + ": ")
		}
		b.WriteString(f.Message)
	}
	if len(e.Holders) > 0 {
		names := make([]string, len(e.Holders))
		for i, h := range e.Holders {
			names[i] = h.Kind + " " + h.Name
		}
		b.WriteString(" (held by " + strings.Join(names, ", ") + ")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return fmt.Sprintf("%s (%d %s)", b.String(), e.Status, http.StatusText(e.Status))
}

func detailRepeatsFields(e *gatehouse.Error) bool {
	for _, f := range e.Fields {
		if !strings.Contains(e.Detail, f.Message) {
			return false
		}
	}
	return true
}
