package webhook

import (
	"testing"
	"time"
)

// The wait after the n-th failure doubles from MinBackoff up to
// MaxBackoff, each between half and all of it (jitter).
func TestBackoffDoublesWithJitterUpToTheMaximum(t *testing.T) {
	o := Options{MinBackoff: time.Second, MaxBackoff: 10 * time.Second}
	o.defaults()
	s := &sub{Worker: &Worker{o: o}}
	for attempts, full := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 40: 10 * time.Second} {
		s.attempts = attempts
		seen := map[time.Duration]bool{}
		for range 200 {
			d := s.backoff()
			if d < full/2 || d > full {
				t.Fatalf("after %d failures: waited %v, want between %v and %v", attempts, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("after %d failures: only %d distinct waits in 200, want jitter", attempts, len(seen))
		}
	}
}
