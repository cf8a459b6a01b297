package rest

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// These fuzz targets feed the REST API's own parsers directly, faster than
// FuzzDecode's round trips through HTTP: the check decoders, If-Match and
// subject strings. Seed corpora: testdata/fuzz/<target>.

// FuzzCheckDecode: the strict decoders of /check and /check/batch never
// panic; they accept or answer a 4xx problem naming where the fault is.
func FuzzCheckDecode(f *testing.F) {
	for _, s := range []string{
		`{"permission":"users.view","resource":"system"}`,
		`{"subject":"user:x","permission":"root.read","resource":"folder:f","at_least":3,"wait_ms":0}`,
		`{"checks":[{"permission":"a","resource":"system"}],"at_least":-1}`,
		`{"checks":[]}`, `{"permission":1}`, `{"permission":"a","resource":"system"} {}`, `{"nope":1}`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, decode := range []func([]byte) error{
			func(b []byte) error { var r api.CheckRequest; return decodeCheck(b, &r) },
			func(b []byte) error { var r api.BatchCheckRequest; return decodeBatch(b, &r) },
		} {
			err := decode(b)
			if err == nil {
				continue
			}
			var p *Problem
			if !errors.As(err, &p) || p.Status < 400 || p.Status >= 500 {
				t.Fatalf("%q: %v is not a 4xx problem", b, err)
			}
			if p.Status == http.StatusUnprocessableEntity && len(p.Errors) == 0 {
				t.Fatalf("%q: 422 without a location: %+v", b, p)
			}
		}
	})
}

// FuzzIfMatch: an If-Match header is a version, absent, or a 400 naming
// the header.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"3"`, `W/"3"`, "*", "", `"-1"`, `"0"`, `"99999999999999999999"`, `"a"`, `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ifMatch(s)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status != http.StatusBadRequest || len(p.Errors) == 0 || p.Errors[0].Location != "header.If-Match" {
				t.Fatalf("%q: %v is not a 400 naming If-Match", s, err)
			}
			return
		}
		if v < 0 || (v == 0 && strings.TrimSpace(s) != "" && strings.TrimSpace(s) != "*") {
			t.Fatalf("%q: accepted as version %d", s, v)
		}
	})
}

// FuzzParseSubject: a subject field is "user:<id>", "username:<name>",
// "anonymous" or empty for the caller; anything else is an invalid-input
// error naming the field.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"", "anonymous", "user:u1", "user:", "USER:x", "group:g", "user:../x", "\xff", "username:alice", "username:ME", "username: "} {
		f.Add(s)
	}
	a := &API{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	caller := domain.Principal{UserID: "me"}
	f.Fuzz(func(t *testing.T, s string) {
		sub, self, username, err := a.parseSubject(caller, s, "subject")
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Errors[0].Location, "subject") {
				t.Fatalf("%q: %v is not a 422 naming subject", s, err)
			}
			return
		}
		switch {
		case s == "" && (sub.UserID != "me" || !self):
			t.Fatalf("empty subject is %+v, self %v; want the caller", sub, self)
		case s == "anonymous" && sub.UserID != "":
			t.Fatalf("anonymous is %+v", sub)
		case strings.HasPrefix(s, "user:") && sub.UserID != strings.TrimPrefix(s, "user:"):
			t.Fatalf("%q is %+v", s, sub)
		case strings.HasPrefix(s, "username:") && (self || username != strings.TrimSpace(strings.TrimPrefix(s, "username:"))):
			t.Fatalf("%q: self %v, username %q; want the name left to resolve", s, self, username)
		}
	})
}
