package service

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// FuzzParseSubject: a subject field is "user:<id>", "username:<name>",
// "anonymous" or empty for the caller; anything else is an invalid-input
// error naming the field.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"", "anonymous", "user:u1", "user:", "USER:x", "group:g", "user:../x", "\xff", "username:alice", "username:ME", "username: "} {
		f.Add(s)
	}
	caller := domain.Principal{UserID: "me"}
	f.Fuzz(func(t *testing.T, s string) {
		sub, self, username, err := parseSubject(caller, s)
		if err != nil {
			fs := domain.FieldsOf(err)
			if !domain.Is(err, domain.KindInvalid) || len(fs) != 1 || fs[0].Field != "subject" {
				t.Fatalf("%q: %v is not an invalid input naming subject", s, err)
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
