package authn

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// revokeElsewhere revokes a token straight in the database, as another
// replica would: this Authenticator is not told.
func (e *env) revokeElsewhere(tokenID string) {
	e.t.Helper()
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAPIToken(ctx, tokenID) })
	e.must(err)
}

func TestVerifiedTokensAreTrustedForTheCacheTTL(t *testing.T) {
	e := newEnv(t)
	e.user("tina", "pw", cheap)
	me := e.login("tina", "pw").Identity
	nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "checks"})
	e.must(err)
	if _, err := e.a.AuthenticateToken(e.ctx, nt.Secret); err != nil {
		t.Fatal(err)
	}
	e.revokeElsewhere(nt.Token.ID)
	if _, err := e.a.AuthenticateToken(e.ctx, nt.Secret); err != nil {
		t.Errorf("within the cache TTL a verified token is trusted without a read, got %v", err)
	}
	e.clock.advance(DefaultTokenCacheTTL)
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	wantUnauth(t, "a token revoked elsewhere, after the TTL", err)
}

func TestRevokingHereStopsATokenAtOnce(t *testing.T) {
	e := newEnv(t)
	e.user("tim", "pw", cheap)
	me := e.login("tim", "pw").Identity
	nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "checks"})
	e.must(err)
	if _, err := e.a.AuthenticateToken(e.ctx, nt.Secret); err != nil {
		t.Fatal(err)
	}
	e.must(e.a.RevokeToken(e.ctx, me, nt.Token.ID))
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
	wantUnauth(t, "a token revoked on this server", err)
}

func TestTokenCacheCanBeTurnedOff(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TokenCacheTTL = -1 })
	e.user("tod", "pw", cheap)
	me := e.login("tod", "pw").Identity
	nt, err := e.a.CreateToken(e.ctx, me, TokenRequest{Name: "checks"})
	e.must(err)
	if _, err := e.a.AuthenticateToken(e.ctx, nt.Secret); err != nil {
		t.Fatal(err)
	}
	e.revokeElsewhere(nt.Token.ID)
	_, err = e.a.AuthenticateToken(e.ctx, nt.Secret)
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
