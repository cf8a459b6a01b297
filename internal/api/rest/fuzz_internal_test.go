package rest

import (
	"errors"
	"net/http"
	"strings"
	"testing"

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
