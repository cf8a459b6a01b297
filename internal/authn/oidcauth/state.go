package oidcauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Pending is a sign-in between the redirect to the provider and the
// callback: what the callback must find again.
type Pending struct {
	Provider string
	Nonce    string
	Verifier string // the PKCE code verifier
	Next     string // the console page to go on to
	binding  [32]byte
	expires  time.Time
}

// States keeps pending sign-ins in memory, each usable once, for at most
// StateTTL, and only by the browser that started it: the state is bound to
// a random value in a cookie (the caller's), of which only a hash is kept.
// With several replicas, the callback must reach the replica that sent
// the browser to the provider (docs/authentication.md).
type States struct {
	mu  sync.Mutex
	m   map[string]Pending
	now func() time.Time
}

// Bounds of the pending sign-ins.
const (
	StateTTL   = 10 * time.Minute
	maxPending = 10000
)

// NewStates returns an empty store with the clock now (nil: time.Now).
func NewStates(now func() time.Time) *States {
	if now == nil {
		now = time.Now
	}
	return &States{m: map[string]Pending{}, now: now}
}

// Random returns 32 random bytes, base64url: states, nonces, verifiers
// and browser bindings.
func Random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start records a new sign-in with provider for the browser holding
// binding, and returns its state, whose nonce and PKCE verifier it makes.
func (s *States) Start(provider, next, binding string) (state string, p Pending) {
	p = Pending{Provider: provider, Nonce: Random(), Verifier: oauth2.GenerateVerifier(), Next: next,
		binding: sha256.Sum256([]byte(binding))}
	state = Random()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	p.expires = now.Add(StateTTL)
	if len(s.m) >= maxPending {
		s.sweep(now)
	}
	if len(s.m) >= maxPending {
		// A flood of sign-ins never finished: the oldest go first.
		s.dropOldest()
	}
	s.m[state] = p
	return state, p
}

// Take returns the sign-in of state and forgets it, whether or not the
// browser's binding matches: a state is used once. ok is false for an
// unknown, used or expired state, or another browser's.
func (s *States) Take(state, binding string) (Pending, bool) {
	s.mu.Lock()
	p, found := s.m[state]
	delete(s.m, state)
	s.mu.Unlock()
	if !found || s.now().After(p.expires) {
		return Pending{}, false
	}
	h := sha256.Sum256([]byte(binding))
	if subtle.ConstantTimeCompare(h[:], p.binding[:]) != 1 {
		return Pending{}, false
	}
	return p, true
}

func (s *States) sweep(now time.Time) {
	for k, p := range s.m {
		if now.After(p.expires) {
			delete(s.m, k)
		}
	}
}

func (s *States) dropOldest() {
	var oldest string
	var at time.Time
	for k, p := range s.m {
		if oldest == "" || p.expires.Before(at) {
			oldest, at = k, p.expires
		}
	}
	delete(s.m, oldest)
}
