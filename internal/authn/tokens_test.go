package authn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

func TestCreateAndUseAPIToken(t *testing.T) {
	e := newEnv(t)
	u := e.user("tina", "pw", cheap)
	me := e.login("tina", "pw").Identity
	me.RemoteAddr = "192.0.2.5"
	exp := e.clock.now().Add(48 * time.Hour)
	nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "  scim bridge ", Permissions: []string{domain.PermScimProvision}, ExpiresAt: &exp})
	e.must(err)
	if !strings.HasPrefix(nt.Secret, "gh_") || len(nt.Secret) != tokenLen || !wellFormedToken(nt.Secret) {
		t.Errorf("token secret %q: want gh_, %d characters and a good checksum", nt.Secret, tokenLen)
	}
	if nt.Token.Name != "scim bridge" || nt.Token.UserID != u.ID || !nt.Token.ExpiresAt.Equal(exp) {
		t.Errorf("token = %+v, want name trimmed, user %s, expiry %v", nt.Token, u.ID, exp)
	}
	id, err := e.a.AuthenticateToken(e.ctx, nt.Secret)
	e.must(err)
	if id.UserID != u.ID || id.TokenID != nt.Token.ID || !id.Limited() || !id.Allows(domain.PermScimProvision) || id.Allows(domain.PermUsersEdit) {
		t.Errorf("AuthenticateToken = %+v, want tina via token %s limited to scim.provision", id, nt.Token.ID)
	}
	// The audit record: who, which token, the token's JSON without any secret.
	evs := e.audit(ActionTokenCreate)
	if len(evs) != 1 {
		t.Fatalf("%d %s records, want 1", len(evs), ActionTokenCreate)
	}
	ev := evs[0]
	if ev.ActorID != u.ID || ev.TargetKind != "api_token" || ev.TargetID != nt.Token.ID || ev.Outcome != domain.OutcomeSuccess || ev.RemoteAddr != "192.0.2.5" {
		t.Errorf("create audit = %+v, want success by %s on api_token %s from 192.0.2.5", ev, u.ID, nt.Token.ID)
	}
	if s := string(ev.After); strings.Contains(s, nt.Secret[3:20]) || strings.Contains(s, HashSecret(nt.Secret)) || !strings.Contains(s, "scim bridge") {
		t.Errorf("create audit After = %s, want the token's fields and neither its secret nor its hash", s)
	}

	// Listing never shows a secret or hash.
	list, err := e.a.ListTokens(e.ctx, me, "")
	e.must(err)
	if len(list) != 1 || list[0].TokenHash != "" || list[0].ID != nt.Token.ID {
		t.Errorf("ListTokens = %+v, want the one token without its hash", list)
	}
	js, _ := json.Marshal(list)
	if strings.Contains(string(js), HashSecret(nt.Secret)) {
		t.Errorf("the token list's JSON holds the hash")
	}

	// Revoke: refused afterwards, audited once.
	e.must(e.a.RevokeToken(e.ctx, me, nt.Token.ID))
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	wantUnauth(t, "revoked token", err)
	e.must(e.a.RevokeToken(e.ctx, me, nt.Token.ID))
	evs = e.audit(ActionTokenRevoke)
	if len(evs) != 1 || evs[0].ActorID != u.ID || evs[0].TargetID != nt.Token.ID || len(evs[0].Before) == 0 {
		t.Errorf("revoke audit = %+v, want one by %s on %s with the token before", evs, u.ID, nt.Token.ID)
	}
}

func TestAPITokenRefusals(t *testing.T) {
	e := newEnv(t)
	u := e.user("tess", "pw", cheap)
	me := e.login("tess", "pw").Identity
	exp := e.clock.now().Add(time.Hour)
	expiring, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "short", ExpiresAt: &exp})
	e.must(err)
	forever, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "forever"})
	e.must(err)
	if _, err := e.a.AuthenticateToken(e.ctx, expiring.Secret); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	flip := []byte(forever.Secret)
	flip[10] ^= 1 // a typo: the checksum catches it
	cases := []struct {
		name   string
		secret string
		before func()
	}{
		{"empty", "", nil},
		{"a session secret", newSessionSecret(), nil},
		{"no prefix", forever.Secret[3:], nil},
		{"bad checksum", string(flip), nil},
		{"unknown but well-formed", newTokenSecret(), nil},
		{"expired", expiring.Secret, func() { e.clock.advance(time.Hour) }},
		{"R11 disabled user", forever.Secret, func() { e.setStatus(u.ID, domain.UserDisabled) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before()
			}
			_, err := e.a.AuthenticateToken(e.ctx, c.secret)
			wantUnauth(t, "AuthenticateToken", err)
		})
	}
}

func TestTokenTouchedAtMostOncePerInterval(t *testing.T) {
	// A use recorded without trouble tells the log nothing: only a failed
	// write of LastUsedAt is worth a warning.
	var logged bytes.Buffer
	e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logged, nil)) })
	defer func() {
		if logged.Len() > 0 {
			t.Errorf("uses of a token logged %q, want nothing", logged.String())
		}
	}()
	e.user("tom", "pw", cheap)
	me := e.login("tom", "pw").Identity
	nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "t"})
	e.must(err)
	used := func() *time.Time {
		k, err := e.st.GetAPIToken(e.ctx, nt.Token.ID)
		e.must(err)
		return k.LastUsedAt
	}
	if used() != nil {
		t.Fatalf("a new token has LastUsedAt set")
	}
	t0 := e.clock.now()
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	e.must(err)
	if u := used(); u == nil || !u.Equal(t0) {
		t.Errorf("LastUsedAt after first use = %v, want %v", u, t0)
	}
	e.clock.advance(30 * time.Second)
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	e.must(err)
	if u := used(); !u.Equal(t0) {
		t.Errorf("LastUsedAt after a use 30 s later = %v, want unchanged %v", u, t0)
	}
	e.clock.advance(30 * time.Second)
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	e.must(err)
	if u := used(); !u.Equal(t0.Add(time.Minute)) {
		t.Errorf("LastUsedAt after a use a minute later = %v, want %v", u, t0.Add(time.Minute))
	}
}

func TestCreateTokenValidation(t *testing.T) {
	e := newEnv(t)
	e.user("val", "pw", cheap)
	me := e.login("val", "pw").Identity
	past := e.clock.now().Add(-time.Second)
	cases := []struct {
		name  string
		req   TokenRequest
		field string
	}{
		{"no name", TokenRequest{Name: "  "}, "name"},
		{"long name", TokenRequest{Name: strings.Repeat("n", 101)}, "name"},
		{"unknown permission", TokenRequest{Name: "x", Permissions: []string{"launch.missiles"}}, "permissions[0]"},
		{"project permission", TokenRequest{Name: "x", Permissions: []string{domain.PermUsersView, domain.PermProjectRead}}, "permissions[1]"},
		{"twice", TokenRequest{Name: "x", Permissions: []string{domain.PermUsersView, domain.PermUsersView}}, "permissions[1]"},
		{"expiry in the past", TokenRequest{Name: "x", ExpiresAt: &past}, "expires_at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.a.CreateToken(e.ctx, me, c.req)
			if !domain.Is(err, domain.KindInvalid) {
				t.Fatalf("CreateToken = %v, want kind invalid", err)
			}
			fs := domain.FieldsOf(err)
			if len(fs) != 1 || fs[0].Field != c.field {
				t.Errorf("fields = %v, want one on %s", fs, c.field)
			}
		})
	}
	// The limit is inclusive: 100 characters (not bytes) are a name.
	if _, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: strings.Repeat("ñ", 100)}); err != nil {
		t.Errorf("CreateToken with a name of 100 characters: %v, want it made", err)
	}
	_, err := e.a.CreateToken(e.ctx, Anonymous("192.0.2.1"), TokenRequest{Name: "x"})
	wantUnauth(t, "CreateToken by anonymous", err)
}

// TestLimitedTokenCannotEscalate: a token limited to some permissions can
// only make tokens limited to some of those, and revoke only such tokens.
func TestLimitedTokenCannotEscalate(t *testing.T) {
	e := newEnv(t)
	e.user("lim", "pw", cheap)
	me := e.login("lim", "pw").Identity
	limited, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "scim", Permissions: []string{domain.PermScimProvision, domain.PermUsersView}})
	e.must(err)
	full, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "full"})
	e.must(err)
	via, err := e.a.AuthenticateToken(e.ctx, limited.Secret)
	e.must(err)
	for _, req := range []TokenRequest{
		{Name: "unlimited"},
		{Name: "wider", Permissions: []string{domain.PermScimProvision, domain.PermUsersEdit}},
	} {
		if _, err := e.a.CreateToken(e.ctx, via, req); !domain.Is(err, domain.KindInvalid) {
			t.Errorf("a limited token creating %q: %v, want kind invalid", req.Name, err)
		}
	}
	narrower, err := e.a.CreateToken(e.ctx, via, TokenRequest{Name: "narrower", Permissions: []string{domain.PermUsersView}})
	e.must(err)
	if err := e.a.RevokeToken(e.ctx, via, full.Token.ID); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("a limited token revoking an unlimited one: %v, want kind not_found", err)
	}
	e.must(e.a.RevokeToken(e.ctx, via, narrower.Token.ID))
}

func TestOtherUsersTokens(t *testing.T) {
	cases := []struct {
		name    string
		manager bool // Options.MayManageTokens says yes
	}{{"without permission", false}, {"with permission", true}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) {
				o.MayManageTokens = func(ctx context.Context, actor Identity, userID string) error {
					if c.manager && actor.Username == "boss" {
						return nil
					}
					return domain.Errorf("test", domain.KindNotFound, "user %s not found", userID)
				}
			})
			owner := e.user("owner", "pw", cheap)
			e.user("boss", "pw", cheap)
			ownerID := e.login("owner", "pw").Identity
			boss := e.login("boss", "pw").Identity
			tok, err := e.a.CreateToken(e.ctx, ownerID, TokenRequest{Name: "own"})
			e.must(err)
			_, cerr := e.a.CreateToken(e.ctx, boss, TokenRequest{UserID: owner.ID, Name: "for owner"})
			_, lerr := e.a.ListTokens(e.ctx, boss, owner.ID)
			rerr := e.a.RevokeToken(e.ctx, boss, tok.Token.ID)
			// Refused, each names what it was asked about: the user, or
			// the token of a revocation; so do their audit records.
			for what, r := range map[string]struct {
				err        error
				notFound   string
				kind, id   string
				auditedFor string
			}{
				"create": {cerr, "user " + owner.ID + " not found", "user", owner.ID, ActionTokenCreate},
				"list":   {lerr, "user " + owner.ID + " not found", "", "", ""},
				"revoke": {rerr, "API token " + tok.Token.ID + " not found", "api_token", tok.Token.ID, ActionTokenRevoke},
			} {
				if c.manager && r.err != nil {
					t.Errorf("%s another user's token with permission: %v", what, r.err)
				}
				if c.manager {
					continue
				}
				if !domain.Is(r.err, domain.KindNotFound) || !strings.Contains(r.err.Error(), r.notFound) {
					t.Errorf("%s another user's token without permission: %v, want kind not_found saying %q", what, r.err, r.notFound)
				}
				if r.auditedFor == "" {
					continue // a read: no audit record
				}
				if evs := e.audit(r.auditedFor); len(evs) == 0 || evs[0].TargetKind != r.kind || evs[0].TargetID != r.id {
					t.Errorf("%s refused: audit %+v, want the newest on %s %s", what, evs, r.kind, r.id)
				}
			}
			var denied int
			for _, action := range []string{ActionTokenCreate, ActionTokenRevoke} {
				for _, ev := range e.audit(action) {
					if ev.Outcome == domain.OutcomeDenied {
						denied++
						if ev.ActorID != boss.UserID {
							t.Errorf("denied %s audit actor %q, want boss", action, ev.ActorID)
						}
					}
				}
			}
			if want := map[bool]int{false: 2, true: 0}[c.manager]; denied != want {
				t.Errorf("%d denied token audit records, want %d", denied, want)
			}
		})
	}
}

func TestTokenSecretFormat(t *testing.T) {
	seen := map[string]bool{}
	for i := range 200 {
		s := newTokenSecret()
		if !wellFormedToken(s) {
			t.Fatalf("newTokenSecret() = %q is not well-formed", s)
		}
		if seen[s] {
			t.Fatalf("token %d repeats", i)
		}
		seen[s] = true
	}
	for _, bad := range []string{"gh_", "gh_" + strings.Repeat("A", 49), "xx_" + newTokenSecret()[3:], newTokenSecret() + "A", fmt.Sprintf("gh_%s", strings.Repeat("*", 49))} {
		if wellFormedToken(bad) {
			t.Errorf("wellFormedToken(%q) = true", bad)
		}
	}
}
