package authn

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

func TestThrottlePolicy(t *testing.T) {
	p := ThrottlePolicy{Threshold: 3, Window: 10 * time.Minute, Base: 30 * time.Second, Max: 2 * time.Minute, MaxKeys: 100}
	type step struct {
		at       time.Duration // since the start
		op       string        // "fail", "reset" or "wait"
		wantLock time.Duration // lock started by a fail, or the wait left
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"below the threshold nothing locks", []step{
			{0, "fail", 0}, {time.Second, "fail", 0}, {2 * time.Second, "wait", 0},
		}},
		{"the threshold locks for Base, then doubles to Max", []step{
			{0, "fail", 0}, {1 * time.Second, "fail", 0}, {2 * time.Second, "fail", 30 * time.Second},
			{12 * time.Second, "wait", 20 * time.Second},
			{32 * time.Second, "wait", 0},
			{32 * time.Second, "fail", time.Minute},
			{92 * time.Second, "fail", 2 * time.Minute},
			{212 * time.Second, "fail", 2 * time.Minute}, // capped
		}},
		{"failures older than the window are forgotten", []step{
			{0, "fail", 0}, {time.Second, "fail", 0},
			{time.Second + 10*time.Minute, "fail", 0},
			{time.Second + 10*time.Minute + time.Second, "fail", 0},
			{time.Second + 10*time.Minute + 2*time.Second, "fail", 30 * time.Second},
		}},
		{"the window counts from the end of the lock", []step{
			{0, "fail", 0}, {0, "fail", 0}, {0, "fail", 30 * time.Second},
			// 10 minutes after the failure but not after the lock's end:
			// still counted, so the next failure doubles.
			{10 * time.Minute, "fail", time.Minute},
		}},
		{"a reset forgets everything", []step{
			{0, "fail", 0}, {0, "fail", 0}, {0, "fail", 30 * time.Second},
			{time.Second, "reset", 0}, {time.Second, "wait", 0},
			{2 * time.Second, "fail", 0}, {2 * time.Second, "fail", 0},
		}},
	}
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th := newThrottle(p)
			for i, s := range c.steps {
				now := start.Add(s.at)
				var got time.Duration
				switch s.op {
				case "fail":
					got = th.fail("k", now)
				case "reset":
					th.reset("k")
				case "wait":
					got = th.wait("k", now)
				}
				if got != s.wantLock {
					t.Errorf("step %d (%s at %v) = %v, want %v", i, s.op, s.at, got, s.wantLock)
				}
			}
		})
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th := newThrottle(ThrottlePolicy{Threshold: 5, Window: time.Hour, Base: time.Second, Max: time.Minute, MaxKeys: 100})
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	// A victim locked first, then a flood of distinct keys.
	for range 5 {
		th.fail("victim", now)
	}
	for i := range 10000 {
		th.fail(fmt.Sprintf("junk-%d", i), now.Add(time.Duration(i)*time.Millisecond))
		if n := th.len(); n > 100 {
			t.Fatalf("after %d keys the throttle tracks %d, want at most 100", i+1, n)
		}
	}
	// Stale entries go first when there is room to make.
	th2 := newThrottle(ThrottlePolicy{Threshold: 5, Window: time.Minute, Base: time.Second, Max: time.Second, MaxKeys: 3})
	th2.fail("old1", now)
	th2.fail("old2", now)
	th2.fail("fresh", now.Add(2*time.Minute))
	th2.fail("new", now.Add(2*time.Minute))
	if th2.len() != 2 {
		t.Errorf("after making room: %d keys, want 2 (the stale ones dropped)", th2.len())
	}
}

func TestAddrKey(t *testing.T) {
	cases := []struct{ in, want string }{
		{"192.0.2.1:443", "192.0.2.1"},
		{"192.0.2.1", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:80", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"", ""},
		{"@unix", "@unix"},
	}
	for _, c := range cases {
		if got := addrKey(c.in); got != c.want {
			t.Errorf("addrKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestLoginThrottledPerUsername: five failures at one username lock it,
// from any address, even for the right password; the lock grows; a
// success resets it.
func TestLoginThrottledPerUsername(t *testing.T) {
	e := newEnv(t)
	e.user("ulla", "right", cheap)
	e.user("other", "right", cheap)
	addr := func(i int) string { return fmt.Sprintf("203.0.113.%d:1000", i) } // a new address each time
	for i := range 4 {
		_, err := e.a.Login(e.ctx, "ulla", "wrong", addr(i), "")
		if RetryAfterOf(err) != 0 {
			t.Fatalf("failure %d throttled, want the first 5 failures let through", i+1)
		}
	}
	_, err := e.a.Login(e.ctx, "ULLA", "wrong", addr(4), "") // same username, any case
	wantUnauth(t, "5th failure", err)
	ev := e.audit(ActionLogin)[0]
	if want := "sign-in as this username now refused for 30s"; !strings.Contains(ev.Detail, want) {
		t.Errorf("audit of the failure that locks = %q, want it to say %q", ev.Detail, want)
	}
	e.verifications()
	_, err = e.a.Login(e.ctx, "ulla", "right", addr(5), "")
	wantUnauth(t, "right password while locked", err)
	if got := RetryAfterOf(err); got != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s", got)
	}
	if v := e.verifications(); len(v) != 0 {
		t.Errorf("a throttled attempt verified %d hashes, want none (refused before argon2id)", len(v))
	}
	audits := len(e.audit(ActionLogin))
	// Another username is not affected.
	if _, err := e.a.Login(e.ctx, "other", "right", addr(6), ""); err != nil {
		t.Errorf("another username while ulla is locked: %v", err)
	}
	if n := len(e.audit(ActionLogin)); n != audits+1 {
		t.Errorf("throttled refusals audited: %d records, want %d (only the other user's success)", n, audits+1)
	}
	// After the lock, the next failure doubles it.
	e.clock.advance(30 * time.Second)
	_, err = e.a.Login(e.ctx, "ulla", "wrong", addr(7), "")
	if RetryAfterOf(err) != 0 {
		t.Fatalf("attempt after the lock ended was throttled: %v", err)
	}
	_, err = e.a.Login(e.ctx, "ulla", "right", addr(8), "")
	if got := RetryAfterOf(err); got != time.Minute {
		t.Errorf("RetryAfter after a 6th failure = %v, want 1m", got)
	}
	// A success resets the username's count: 4 more failures then lock
	// nothing.
	e.clock.advance(time.Minute)
	e.must(loginErr(e, "ulla", "right", addr(9)))
	for i := range 4 {
		if _, err := e.a.Login(e.ctx, "ulla", "wrong", addr(10+i), ""); RetryAfterOf(err) != 0 {
			t.Fatalf("failure %d after a success throttled: the success should have reset the count", i+1)
		}
	}
	if _, err := e.a.Login(e.ctx, "ulla", "right", addr(20), ""); err != nil {
		t.Errorf("sign-in after 4 failures following a success: %v", err)
	}
}

// TestLoginThrottledPerAddress: one address failing at many usernames is
// locked (password spraying); others are not; a success from it does not
// reset it.
func TestLoginThrottledPerAddress(t *testing.T) {
	e := newEnv(t)
	e.user("vic", "right", cheap)
	const spray = "198.51.100.66:4000"
	// A valid sign-in from the address before, and in the middle: it must
	// not reset the address's count.
	e.must(loginErr(e, "vic", "right", spray))
	for i := range 20 {
		if i == 10 {
			e.must(loginErr(e, "vic", "right", spray))
		}
		_, err := e.a.Login(e.ctx, fmt.Sprintf("user%d", i), "guess", spray, "")
		if RetryAfterOf(err) != 0 {
			t.Fatalf("failure %d from one address throttled, want 20 let through", i+1)
		}
	}
	_, err := e.a.Login(e.ctx, "vic", "right", spray, "")
	if got := RetryAfterOf(err); got != 30*time.Second {
		t.Errorf("sign-in from a spraying address = %v (retry %v), want throttled for 30s", err, got)
	}
	// Same /64 in IPv6 counts as one address; another address is fine.
	if err := loginErr(e, "vic", "right", "198.51.100.67:4000"); err != nil {
		t.Errorf("sign-in from another address: %v", err)
	}
	for i := range 20 {
		_, _ = e.a.Login(e.ctx, fmt.Sprintf("v6user%d", i), "guess", fmt.Sprintf("[2001:db8:aa:bb::%x]:1", i+1), "")
	}
	if _, err := e.a.Login(e.ctx, "vic", "right", "[2001:db8:aa:bb::ffff]:1", ""); RetryAfterOf(err) == 0 {
		t.Errorf("sign-in from a /64 that sprayed from 20 of its addresses: %v, want throttled", err)
	}
}

func loginErr(e *env, user, pw, addr string) error {
	_, err := e.a.Login(e.ctx, user, pw, addr, "")
	return err
}

func TestThrottledErrorIsUnauthenticated(t *testing.T) {
	err := unauthenticated("op", &ThrottledError{RetryAfter: 1500 * time.Millisecond})
	if !domain.Is(err, domain.KindUnauthenticated) || RetryAfterOf(err) != 1500*time.Millisecond {
		t.Errorf("throttled error = %v, want unauthenticated with RetryAfter 1.5s", err)
	}
	if want := "too many failed sign-ins; try again in 2 seconds"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q, want it to say %q", err.Error(), want)
	}
}

// TestThrottledErrorRoundsUp: the message a user reads says how many whole
// seconds to wait, rounded up, so that trying again then succeeds.
func TestThrottledErrorRoundsUp(t *testing.T) {
	for _, c := range []struct {
		wait time.Duration
		says string
	}{
		{30 * time.Second, "try again in 30 seconds"},
		{1500 * time.Millisecond, "try again in 2 seconds"},
		{time.Millisecond, "try again in 1 seconds"},
	} {
		if got := (&ThrottledError{RetryAfter: c.wait}).Error(); !strings.Contains(got, c.says) {
			t.Errorf("RetryAfter %v: %q, want it to say %q", c.wait, got, c.says)
		}
	}
}
