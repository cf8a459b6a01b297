// Package authn owns who a caller is: local passwords (subpackage password,
// argon2id), sign-in sessions, API tokens, and the throttling of repeated
// failed sign-ins. It turns a session secret or an API token into an
// Identity (a domain.Principal, plus which session or token it came
// through and the token's permission limit); it decides nothing about what
// the caller may do, which is the service's job.
//
// Secrets are 32 random bytes. Only their SHA-256 is stored, so a copy of
// the database signs no one in. Sign-ins (successful or not), sign-outs,
// revocations and token creation are audited in the same transaction as
// their write (R29); marking a session or token as used is housekeeping,
// written at most once a minute per session or token and not audited.
//
// The package has no HTTP in it; internal/authn/httpauth turns requests
// into identities and sets the session cookie, for the API and the console
// alike. See docs/authentication.md for the numbers.
package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Store is what authn needs of the store; store.Store has it all.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (domain.Change, error)
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetUserByUsername(ctx context.Context, username string) (domain.User, error)
	GetSessionByHash(ctx context.Context, tokenHash string) (domain.Session, error)
	GetAPIToken(ctx context.Context, id string) (domain.APIToken, error)
	GetAPITokenByHash(ctx context.Context, tokenHash string) (domain.APIToken, error)
	ListAPITokens(ctx context.Context, userID string) ([]domain.APIToken, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
	PruneSessions(ctx context.Context, before time.Time) (int, error)
	GetOIDCLink(ctx context.Context, issuer, subject string) (domain.OIDCLink, error)
	ListOIDCLinks(ctx context.Context, userID string) ([]domain.OIDCLink, error)
}

// Defaults of Options.
const (
	DefaultIdleTimeout   = 12 * time.Hour
	DefaultLifetime      = 7 * 24 * time.Hour
	DefaultTouchInterval = time.Minute
)

// Options configure an Authenticator. The zero value is the defaults.
type Options struct {
	// Now is the clock that decides expiry; tests pass a fake one.
	Now func() time.Time
	// IdleTimeout ends a session not used for that long (default 12 h).
	IdleTimeout time.Duration
	// Lifetime ends a session that long after sign-in, however busy it
	// is (default 7 days).
	Lifetime time.Duration
	// TouchInterval is how stale a session's LastSeenAt or a token's
	// LastUsedAt may get before a request writes it again (default one
	// minute): the idle timeout is then exact to within that, and a busy
	// client costs one write a minute, not one per request.
	TouchInterval time.Duration
	// PasswordParams are the argon2id costs new hashes get; a stored hash
	// with other costs is rehashed at the next sign-in (default
	// password.Default).
	PasswordParams *password.Params
	// UserThrottle and AddrThrottle override the throttling policies;
	// zero fields take DefaultUserThrottle's and DefaultAddrThrottle's.
	UserThrottle, AddrThrottle ThrottlePolicy
	// MaxConcurrentHashes bounds how many argon2id computations run at
	// once (default GOMAXPROCS): each takes 64 MiB with the default costs,
	// so a burst of sign-ins must queue rather than exhaust memory.
	MaxConcurrentHashes int
	// MayManageTokens says whether actor may create, list and revoke
	// the API tokens of another user (userID): nil, or the refusal
	// (KindForbidden naming what is missing, or KindNotFound for a user
	// the actor may not see). Nil function: only one's own. The service
	// supplies it (service.MayManageTokens).
	MayManageTokens func(ctx context.Context, actor Identity, userID string) error
	// TokenCacheTTL is how long a verified API token is trusted without a
	// database read (default DefaultTokenCacheTTL; negative: never).
	TokenCacheTTL time.Duration
	// PasswordSignIn is who may sign in with a password (oidcauth's
	// PasswordEveryone, the default; PasswordLocalOnly: not users linked
	// to an OpenID Connect provider; PasswordBreakGlass: only the
	// usernames of BreakGlass).
	PasswordSignIn string
	BreakGlass     []string
	// MayActByName says whether a JWT access token whose (issuer,
	// subject) is linked to no user may act as userID, the user its
	// username claim names: nil, or the refusal. The service supplies it
	// (service.MayActByName: not the break-glass administrator, not a
	// user linked to another account of the issuer). Nil function: such a
	// token is refused; only linked tokens act.
	MayActByName func(ctx context.Context, issuer, userID string) error
	// AccessTokens, when set, lets AuthenticateToken accept a JWT access
	// token of the configured issuer and audience.
	AccessTokens AccessTokenVerifier
	// Logger receives what the caller cannot be told (a malformed stored
	// hash, a failed housekeeping write); default slog.Default().
	Logger *slog.Logger
}

// Authenticator signs users in and recognises them afterwards. It is safe
// for concurrent use.
type Authenticator struct {
	st        Store
	now       func() time.Time
	idle      time.Duration
	lifetime  time.Duration
	touch     time.Duration
	params    password.Params
	users     *throttle
	addrs     *throttle
	hashSlots chan struct{}
	mayManage func(ctx context.Context, actor Identity, userID string) error
	log       *slog.Logger
	// dummyHash is verified against when the username is unknown, so an
	// unknown username takes as long as a wrong password.
	dummyHash string
	// verifyPW is password.Verify; tests count its calls.
	verifyPW func(pw, hash string) error
	tokens   tokenCache
	// passwords is Options.PasswordSignIn; breakGlass its usernames, as
	// name keys.
	passwords  string
	breakGlass map[string]bool
	jwt        AccessTokenVerifier
	mayByName  func(ctx context.Context, issuer, userID string) error
}

// New returns an Authenticator over st. It computes one argon2id hash (the
// stand-in for unknown usernames), so it takes as long as one sign-in.
func New(st Store, o Options) (*Authenticator, error) {
	a := &Authenticator{
		st: st, now: time.Now, idle: DefaultIdleTimeout, lifetime: DefaultLifetime, touch: DefaultTouchInterval,
		params:    password.Default,
		users:     newThrottle(o.UserThrottle.withDefaults(DefaultUserThrottle)),
		addrs:     newThrottle(o.AddrThrottle.withDefaults(DefaultAddrThrottle)),
		mayManage: o.MayManageTokens,
		log:       o.Logger,
		verifyPW:  password.Verify,
		passwords: o.PasswordSignIn, breakGlass: map[string]bool{}, jwt: o.AccessTokens,
		mayByName: o.MayActByName,
	}
	for _, n := range o.BreakGlass {
		a.breakGlass[domain.NameKey(n)] = true
	}
	if o.Now != nil {
		a.now = o.Now
	}
	if o.IdleTimeout > 0 {
		a.idle = o.IdleTimeout
	}
	if o.Lifetime > 0 {
		a.lifetime = o.Lifetime
	}
	if o.TouchInterval > 0 {
		a.touch = o.TouchInterval
	}
	if o.PasswordParams != nil {
		a.params = *o.PasswordParams
	}
	a.tokens.ttl = DefaultTokenCacheTTL
	if o.TokenCacheTTL != 0 {
		a.tokens.ttl = o.TokenCacheTTL
	}
	n := o.MaxConcurrentHashes
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	a.hashSlots = make(chan struct{}, n)
	if a.log == nil {
		a.log = slog.Default()
	}
	var err error
	if a.dummyHash, err = password.Hash(randomText(16), a.params); err != nil {
		return nil, domain.E("authn.New", err)
	}
	return a, nil
}

// Identity is who a request acts as: a principal, and how it was
// recognised. The zero Identity is anonymous (R12: Public only).
type Identity struct {
	domain.Principal
	// SessionID is set when the request came with a session cookie.
	SessionID string `json:"session_id,omitempty"`
	// TokenID is set when the request came with an API token.
	TokenID string `json:"token_id,omitempty"`
}

// Anonymous returns the identity of a request without credentials from
// remoteAddr.
func Anonymous(remoteAddr string) Identity {
	return Identity{Principal: domain.Principal{RemoteAddr: remoteAddr}}
}

// Allows reports whether the token limit lets the identity use system
// permission key (always true without a limit). It does not say whether
// the user holds key: the engine does.
func (id Identity) Allows(key string) bool {
	return !id.Limited() || slices.Contains(id.Limit, key)
}

// ThrottledError says sign-ins are refused for a while. It is the cause of
// a KindUnauthenticated error; transports answer 429 with Retry-After.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again in %d seconds", int((e.RetryAfter+time.Second-1)/time.Second))
}

// RetryAfterOf returns how long err says to wait before signing in again
// (0 when err is not a throttling refusal).
func RetryAfterOf(err error) time.Duration {
	var te *ThrottledError
	if errors.As(err, &te) {
		return te.RetryAfter
	}
	return 0
}

// The messages a caller is told: never which part of the credentials was
// wrong, nor whether an account exists or is disabled.
var (
	errBadLogin   = errors.New("invalid username or password")
	errBadSession = errors.New("not signed in: the session is unknown, signed out or expired")
	errBadToken   = errors.New("invalid, revoked or expired API token")
)

func unauthenticated(op string, cause error) error {
	return domain.E(op, domain.KindUnauthenticated, cause)
}

// Secrets.

// TokenPrefix starts every API token, so that secret scanners (and
// people) recognise one in a log or a repository.
const TokenPrefix = "gh_"

const (
	secretBytes   = 32
	sessionLen    = 43 // base64url of 32 bytes, unpadded
	tokenBodyLen  = 43
	tokenCheckLen = 6 // base64url of a 4-byte CRC-32
	tokenLen      = len(TokenPrefix) + tokenBodyLen + tokenCheckLen
)

var b64 = base64.RawURLEncoding

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error on the supported platforms
	// (it crashes the program instead, Go 1.24+).
	_, _ = rand.Read(b)
	return b
}

func randomText(n int) string { return b64.EncodeToString(randomBytes(n)) }

// newSessionSecret returns a session secret: 32 random bytes, base64url.
func newSessionSecret() string { return randomText(secretBytes) }

// newTokenSecret returns an API token: the prefix, 32 random bytes and a
// CRC-32 of them, base64url. The checksum lets a scanner, and
// AuthenticateToken, tell a real token from a look-alike without a
// database lookup; it adds nothing to the secret's strength.
func newTokenSecret() string {
	body := randomBytes(secretBytes)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(body))
	return TokenPrefix + b64.EncodeToString(body) + b64.EncodeToString(sum[:])
}

// wellFormedSession reports whether s looks like a session secret.
func wellFormedSession(s string) bool {
	if len(s) != sessionLen {
		return false
	}
	b, err := b64.DecodeString(s)
	return err == nil && len(b) == secretBytes
}

// wellFormedToken reports whether s looks like an API token with a good
// checksum.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	rest := s[len(TokenPrefix):]
	body, err := b64.DecodeString(rest[:tokenBodyLen])
	if err != nil || len(body) != secretBytes {
		return false
	}
	sum, err := b64.DecodeString(rest[tokenBodyLen:])
	return err == nil && len(sum) == 4 && binary.BigEndian.Uint32(sum) == crc32.ChecksumIEEE(body)
}

// HashSecret is what the store keeps of a secret: its SHA-256 in lower-case
// hex. A secret has 256 random bits, so a fast hash is enough: there is
// nothing to brute-force.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// cleanText makes attacker-supplied text (an unknown username, a user
// agent) safe to keep: control characters dropped, at most n bytes, cut at
// a character boundary.
func cleanText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// acquireHash waits for one of the argon2id slots.
func (a *Authenticator) acquireHash(ctx context.Context) error {
	select {
	case a.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return domain.E("authn.Login", domain.KindUnavailable, ctx.Err())
	}
}

func (a *Authenticator) releaseHash() { <-a.hashSlots }
