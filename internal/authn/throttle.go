package authn

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// ThrottlePolicy is how one throttle treats repeated failed sign-ins for
// one key (a username, or a client address).
//
// Failures count until Window has passed since the last one and since the
// end of its lock; then the key starts afresh. The Threshold-th failure within
// that time locks the key for Base, and every further failure doubles the
// lock, up to Max. While locked, sign-ins for the key are refused at once,
// without looking at the password, so a locked key costs the server
// nothing and an attacker learns nothing. At most MaxKeys keys are
// tracked, so memory stays bounded whatever the attacker sends.
type ThrottlePolicy struct {
	Threshold int
	Window    time.Duration
	Base      time.Duration
	Max       time.Duration
	MaxKeys   int
}

// DefaultUserThrottle throttles one username: 5 failures within 15
// minutes lock it for 30 s, then 1, 2, 4, 8 minutes, then 15 minutes for
// each further failure. A steady guesser thus gets about 100 guesses a day
// at one username. An account can be locked by someone guessing at it, but
// only for minutes at a time, never for good.
var DefaultUserThrottle = ThrottlePolicy{Threshold: 5, Window: 15 * time.Minute, Base: 30 * time.Second, Max: 15 * time.Minute, MaxKeys: 10000}

// DefaultAddrThrottle throttles one client address (an IPv4 address or an
// IPv6 /64): it is more lenient, 20 failures within 15 minutes, since
// offices and schools share one address behind NAT, and catches one host
// trying many usernames (password spraying), which the username throttle
// cannot see.
var DefaultAddrThrottle = ThrottlePolicy{Threshold: 20, Window: 15 * time.Minute, Base: 30 * time.Second, Max: 15 * time.Minute, MaxKeys: 10000}

func (p ThrottlePolicy) withDefaults(d ThrottlePolicy) ThrottlePolicy {
	if p.Threshold <= 0 {
		p.Threshold = d.Threshold
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Max < p.Base {
		p.Max = p.Base
	}
	if p.MaxKeys <= 0 {
		p.MaxKeys = d.MaxKeys
	}
	return p
}

// throttle counts failures per key in memory. Each replica throttles on
// its own: a shared database row per failure would turn a password-guessing
// flood into a write flood.
type throttle struct {
	p  ThrottlePolicy
	mu sync.Mutex
	m  map[string]*strikes
}

type strikes struct {
	fails int
	last  time.Time // the last failure
	until time.Time // locked until then
}

func newThrottle(p ThrottlePolicy) *throttle {
	return &throttle{p: p, m: map[string]*strikes{}}
}

// stale reports whether s no longer matters at now: a whole window has
// passed since its last failure and since its lock ended. Counting from
// the lock's end matters: were the count forgotten as the lock ends, an
// attacker would get Threshold fresh guesses after every lock.
func (t *throttle) stale(s *strikes, now time.Time) bool {
	ref := s.last
	if s.until.After(ref) {
		ref = s.until
	}
	return now.Sub(ref) >= t.p.Window
}

// wait returns how long key is still locked at now (0: not locked).
func (t *throttle) wait(key string, now time.Time) time.Duration {
	if key == "" {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	if !ok {
		return 0
	}
	if t.stale(s, now) {
		delete(t.m, key)
		return 0
	}
	if now.Before(s.until) {
		return s.until.Sub(now)
	}
	return 0
}

// fail records a failure for key at now and returns the lock it started
// (0 if none).
func (t *throttle) fail(key string, now time.Time) time.Duration {
	if key == "" {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	if ok && t.stale(s, now) {
		ok = false
	}
	if !ok {
		t.makeRoom(now)
		s = &strikes{}
		t.m[key] = s
	}
	s.fails++
	s.last = now
	if s.fails < t.p.Threshold {
		return 0
	}
	lock := t.p.Base
	for i := s.fails - t.p.Threshold; i > 0 && lock < t.p.Max; i-- {
		lock *= 2
	}
	lock = min(lock, t.p.Max)
	s.until = now.Add(lock)
	return lock
}

// reset forgets key's failures (a successful sign-in).
func (t *throttle) reset(key string) {
	if key == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

// makeRoom keeps the map under MaxKeys: first it drops the stale entries,
// then, if every entry still matters (a flood of distinct keys), the one
// whose last failure is oldest. Called with mu held; O(n) only when full.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.m) < t.p.MaxKeys {
		return
	}
	for k, s := range t.m {
		if t.stale(s, now) {
			delete(t.m, k)
		}
	}
	for len(t.m) >= t.p.MaxKeys {
		var oldest string
		var at time.Time
		for k, s := range t.m {
			if oldest == "" || s.last.Before(at) {
				oldest, at = k, s.last
			}
		}
		delete(t.m, oldest)
	}
}

// len returns the number of keys tracked (for tests).
func (t *throttle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// addrKey is the throttling key of a client address: the IP without the
// port, an IPv6 address reduced to its /64 (one host usually owns a whole
// /64, so it could otherwise rotate through addresses), "" when remoteAddr
// is empty (no address throttling then).
func addrKey(remoteAddr string) string {
	if remoteAddr == "" {
		return ""
	}
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		// Not an IP (a Unix socket, a test): throttle the text as given,
		// bounded in length like usernames.
		return truncate(host, maxKeyLen)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// maxKeyLen bounds a throttle key, so that long junk usernames cannot make
// the throttle's memory grow beyond MaxKeys short strings.
const maxKeyLen = 256

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
