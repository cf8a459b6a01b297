package authn

import (
	"context"
	"crypto/sha256"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// verifiedToken makes a user and an API token of theirs, and
// authenticates it once, so that the cache holds it; it returns the
// token and the user's identity.
func (e *env) verifiedToken(username string) (NewToken, Identity) {
	e.t.Helper()
	e.user(username, "pw", cheap)
	me := e.login(username, "pw").Identity
	nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "checks"})
	e.must(err)
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	e.must(err)
	return nt, me
}

// revokeElsewhere revokes a token straight in the database, as another
// replica would: this Authenticator is not told.
func (e *env) revokeElsewhere(tokenID string) {
	e.t.Helper()
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAPIToken(ctx, tokenID) })
	e.must(err)
}

func TestVerifiedTokensAreTrustedForTheCacheTTL(t *testing.T) {
	e := newEnv(t)
	nt, _ := e.verifiedToken("tina")
	e.revokeElsewhere(nt.Token.ID)
	if _, err := e.a.AuthenticateToken(e.ctx, nt.Secret); err != nil {
		t.Errorf("within the cache TTL a verified token is trusted without a read, got %v", err)
	}
	e.clock.advance(DefaultTokenCacheTTL)
	_, err := e.a.AuthenticateToken(e.ctx, nt.Secret)
	wantUnauth(t, "a token revoked elsewhere, after the TTL", err)
}

func TestRevokingHereStopsATokenAtOnce(t *testing.T) {
	e := newEnv(t)
	nt, me := e.verifiedToken("tim")
	e.must(e.a.RevokeToken(e.ctx, me, nt.Token.ID))
	_, err := e.a.AuthenticateToken(e.ctx, nt.Secret)
	wantUnauth(t, "a token revoked on this server", err)
}

func TestTokenCacheCanBeTurnedOff(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TokenCacheTTL = -1 })
	nt, _ := e.verifiedToken("tod")
	e.revokeElsewhere(nt.Token.ID)
	_, err := e.a.AuthenticateToken(e.ctx, nt.Secret)
	wantUnauth(t, "without the cache, a token revoked elsewhere", err)
}

func TestCachedTokenStillExpiresOnTime(t *testing.T) {
	e := newEnv(t)
	e.user("tia", "pw", cheap)
	me := e.login("tia", "pw").Identity
	exp := e.clock.now().Add(2 * time.Second)
	nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "short", ExpiresAt: &exp})
	e.must(err)
	if _, err := e.a.AuthenticateToken(e.ctx, nt.Secret); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(2 * time.Second)
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	wantUnauth(t, "a cached token past its own expiry", err)
}

func TestTokenCacheKeepsEveryTokenInUse(t *testing.T) {
	e := newEnv(t)
	e.user("tara", "pw", cheap)
	me := e.login("tara", "pw").Identity
	var secrets, ids []string
	for _, name := range []string{"first", "second"} {
		nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: name})
		e.must(err)
		if _, err := e.a.AuthenticateToken(e.ctx, nt.Secret); err != nil {
			t.Fatal(err)
		}
		secrets, ids = append(secrets, nt.Secret), append(ids, nt.Token.ID)
	}
	for _, id := range ids {
		e.revokeElsewhere(id)
	}
	for i, s := range secrets {
		if _, err := e.a.AuthenticateToken(e.ctx, s); err != nil {
			t.Errorf("token %d: within the TTL every verified token is trusted from the cache, got %v", i, err)
		}
	}
}

func TestTokenCacheStartsOverWhenFull(t *testing.T) {
	c := &tokenCache{ttl: time.Minute}
	now := time.Now()
	for i := range maxCachedTokens + 1 {
		c.put(sha256.Sum256([]byte(strconv.Itoa(i))), Identity{TokenID: strconv.Itoa(i)}, nil, now)
		if len(c.m) > maxCachedTokens {
			t.Fatalf("after %d puts the cache holds %d tokens, more than %d", i+1, len(c.m), maxCachedTokens)
		}
	}
	if _, ok := c.get(sha256.Sum256([]byte(strconv.Itoa(maxCachedTokens))), now); !ok || len(c.m) != 1 {
		t.Errorf("the put that found the cache full should start it over with that token alone; %d held", len(c.m))
	}
}

// TestCachedTokenIsOnlyItsOwnSecret: the cache, asked before the
// secret's form is checked, answers for the exact secret it verified and
// nothing else (one character changed, the same with its checksum
// broken, a prefix, a longer string), and answers it without allocating.
func TestCachedTokenIsOnlyItsOwnSecret(t *testing.T) {
	e := newEnv(t)
	nt, _ := e.verifiedToken("tess")
	s := nt.Secret
	flip := func(i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, other := range map[string]string{
		"a character of the body changed": flip(len(TokenPrefix) + 3),
		"its checksum changed":            flip(len(s) - 1),
		"its prefix alone":                s[:len(s)-1],
		"a character more":                s + "A",
	} {
		_, err := e.a.AuthenticateToken(e.ctx, other)
		wantUnauth(t, name, err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := e.a.AuthenticateToken(e.ctx, s); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a cached token costs %v allocations, want 0", n)
	}
}
