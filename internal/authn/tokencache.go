package authn

import (
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultTokenCacheTTL is how long a verified API token is trusted without
// reading the database again. Checks arrive thousands of times a second
// with the same token; two reads per request (the token, its user) cost
// more than the check itself. A token revoked on this server stops at
// once; one revoked through another replica stops within this time.
const DefaultTokenCacheTTL = 5 * time.Second

// maxCachedTokens bounds the cache's memory; when full it starts over,
// which costs one database read per token in use.
const maxCachedTokens = 10000

// tokenCache remembers recently verified tokens by the SHA-256 of their
// secret (as an array: a key that costs no allocation to look up).
type tokenCache struct {
	ttl time.Duration // <= 0: no caching
	mu  sync.RWMutex
	m   map[secretSum]cachedToken
}

// secretSum is the SHA-256 of a secret; HashSecret is its hex.
type secretSum = [sha256.Size]byte

type cachedToken struct {
	id        Identity
	expiresAt *time.Time // the token's own expiry
	until     time.Time  // when to verify against the database again
}

func (c *tokenCache) get(hash secretSum, now time.Time) (Identity, bool) {
	if c.ttl <= 0 {
		return Identity{}, false
	}
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) || (e.expiresAt != nil && !now.Before(*e.expiresAt)) {
		return Identity{}, false
	}
	return e.id, true
}

func (c *tokenCache) put(hash secretSum, id Identity, expiresAt *time.Time, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = make(map[secretSum]cachedToken)
	}
	c.m[hash] = cachedToken{id: id, expiresAt: expiresAt, until: now.Add(c.ttl)}
}

// forget drops a token (by id) so that revoking it on this server takes
// effect at once.
func (c *tokenCache) forget(tokenID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.id.TokenID == tokenID {
			delete(c.m, h)
		}
	}
}
