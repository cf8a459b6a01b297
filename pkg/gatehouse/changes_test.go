package gatehouse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Changes yields an outage and goes on when the loop does, resumes after
// the last revision it yielded, and ends with a 410 reported as Gone.
func TestChangesRetriesResumesAndEndsWhenGone(t *testing.T) {
	calls := 0
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		after := r.URL.Query().Get("after")
		switch {
		case calls == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case after == "5":
			fmt.Fprint(w, `{"changes":[{"revision":6,"actions":["group.create"],"objects":[{"entity":"group","id":"g","op":"put"}]}],"next":7}`)
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusGone)
			fmt.Fprint(w, `{"status":410,"kind":"gone","detail":"no longer retained","oldest":40}`)
		}
	})
	c, err := New(f.URL, WithRetries(0, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for ch, err := range c.Changes(context.Background(), ChangesQuery{After: 5, Wait: time.Second}) {
		if err != nil {
			var e *Error
			if IsGone(err) && errors.As(err, &e) && e.Oldest == 40 {
				got = append(got, "gone")
				continue // the iterator ends by itself after a refusal
			}
			got = append(got, "err")
			continue
		}
		got = append(got, fmt.Sprint(ch.Revision))
	}
	if strings.Join(got, " ") != "err 6 gone" {
		t.Fatalf("yielded %v, want an outage, revision 6, then gone", got)
	}
	if q := f.reqs[2].query; !strings.Contains(q, "after=7") || !strings.Contains(q, "wait_ms=1000") {
		t.Errorf("the third request %q should resume after 7, waiting 1s", q)
	}
}

// Changes sends the mark it was given, then each page's next_mark with
// the next request, and ends with a 410 diverged that IsDiverged (and
// IsGone) report; a plain 410 is not IsDiverged.
func TestChangesSendsMarksAndEndsWhenDiverged(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("after") == "5" {
			fmt.Fprint(w, `{"changes":[{"revision":6,"mark":"m6","actions":["group.create"],"objects":[{"entity":"group","id":"g","op":"put"}]}],"next":7,"next_mark":"m7"}`)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusGone)
		fmt.Fprint(w, `{"status":410,"kind":"diverged","detail":"history diverged"}`)
	})
	c, err := New(f.URL, WithRetries(0, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for ch, err := range c.Changes(context.Background(), ChangesQuery{After: 5, AfterMark: "m5", Wait: time.Second}) {
		switch {
		case IsDiverged(err) && IsGone(err):
			got = append(got, "diverged")
		case err != nil:
			got = append(got, "err")
		default:
			got = append(got, fmt.Sprint(ch.Revision), ch.Mark)
		}
	}
	if fmt.Sprint(got) != "[6 m6 diverged]" {
		t.Fatalf("yielded %v, want revision 6 with its mark, then diverged", got)
	}
	if q := f.reqs[0].query; !strings.Contains(q, "after_mark=m5") {
		t.Errorf("the first request %q should send the mark given", q)
	}
	if q := f.reqs[1].query; !strings.Contains(q, "after=7") || !strings.Contains(q, "after_mark=m7") {
		t.Errorf("the second request %q should resume after 7 with its mark", q)
	}
	if IsDiverged(&Error{Status: http.StatusGone, Kind: "gone"}) {
		t.Error("a 410 gone is not diverged")
	}
}
