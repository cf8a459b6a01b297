package password

import (
	"strings"
	"testing"
)

// A password of exactly the minimum length is long enough, for a member
// and for an administrator; one character less is not.
func TestPolicyMinimumsAreInclusive(t *testing.T) {
	p := Policy{MinLen: 10, AdminMinLen: 14}
	for _, c := range []struct {
		pw    string
		admin bool
		ok    bool
	}{
		{"qz8Kv2mWp4", false, true}, {"qz8Kv2mWp", false, false},
		{"qz8Kv2mWp4Tnx7", true, true}, {"qz8Kv2mWp4Tnx", true, false},
	} {
		if err := p.Check(c.pw, "tim", c.admin); (err == nil) != c.ok {
			t.Errorf("Check(%d characters, admin %v) = %v, want ok %v", len(c.pw), c.admin, err, c.ok)
		}
	}
}

// An administrator is told of the administrators' minimum only when it
// is longer than everyone's.
func TestPolicyNamesTheAdministratorsMinimumOnlyWhenLonger(t *testing.T) {
	for _, c := range []struct {
		p        Policy
		mentions bool
	}{
		{Policy{MinLen: 10, AdminMinLen: 14}, true},
		{Policy{MinLen: 10, AdminMinLen: 10}, false},
		{Policy{MinLen: 10}, false},
	} {
		err := c.p.Check("qz8Kv2m", "tim", true)
		if err == nil || strings.Contains(err.Error(), "Administrators") != c.mentions {
			t.Errorf("%+v: %v, want the administrators named: %v", c.p, err, c.mentions)
		}
	}
}

// The default parameters are RFC 9106's second recommended option with
// one pass: 64 MiB, t=1, 4 lanes, written into every hash made with them.
func TestDefaultParamsAreWrittenIntoTheHash(t *testing.T) {
	h, err := Hash("qz8Kv2mWp4", Default)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, "$m=65536,t=1,p=4$") {
		t.Errorf("hash %s, want m=65536,t=1,p=4", h)
	}
}
