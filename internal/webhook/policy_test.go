package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// SSRF: webhook URLs and the addresses deliveries connect to are checked
// against the outbound policy (docs/security.md, "Outbound requests").
func TestSSRFCheckURLRefusesInternalAddresses(t *testing.T) {
	p := Policy{}
	refused := []struct{ url, why string }{
		{"https://127.0.0.1/hook", "internal"},
		{"https://127.8.9.10/hook", "internal"},
		{"https://[::1]/hook", "internal"},
		{"https://169.254.169.254/latest/meta-data", "internal"},
		{"https://10.0.0.1/hook", "internal"},
		{"https://10.255.255.255:8443/hook", "internal"},
		{"https://172.16.0.1/hook", "internal"},
		{"https://192.168.1.1/hook", "internal"},
		{"https://[fc00::1]/hook", "internal"},
		{"https://[fd12:3456::1]/hook", "internal"},
		{"https://[fe80::1]/hook", "internal"},
		{"https://[::ffff:127.0.0.1]/hook", "internal"},
		{"https://[64:ff9b::a00:1]/hook", "internal"},
		{"https://0.0.0.0/hook", "internal"},
		{"https://[::]/hook", "internal"},
		{"https://224.0.0.1/hook", "internal"},
		{"https://100.64.0.1/hook", "internal"},
		{"http://hooks.example.org/", "https"},
		{"ftp://hooks.example.org/", "https"},
		{"https://user:pass@hooks.example.org/", "credentials"},
		{"https://token@hooks.example.org/", "credentials"},
		{"https:///path-only", "host"},
		{"https://hooks.example.org/#frag", "fragment"},
		{"://nothing", "valid"},
	}
	for _, c := range refused {
		err := p.CheckURL(c.url)
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("CheckURL(%q) = %v, want a refusal mentioning %q", c.url, err, c.why)
		}
	}
	for _, ok := range []string{"https://hooks.example.org/x", "https://93.184.215.14:8443/x", "https://[2606:4700::1111]/x", "https://localhost/x"} {
		// A name is checked when it resolves, at connect time.
		if err := p.CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q) = %v, want accepted", ok, err)
		}
	}
	if err := (Policy{AllowHTTP: true}).CheckURL("http://hooks.example.org/"); err != nil {
		t.Errorf("http with AllowHTTP: %v", err)
	}
	allowed := Policy{AllowedNets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	if err := allowed.CheckURL("https://10.1.2.3/hook"); err != nil {
		t.Errorf("an address in an allowed range: %v", err)
	}
	if err := allowed.CheckURL("https://10.2.2.3/hook"); err == nil {
		t.Errorf("an address outside the allowed range was accepted")
	}
}

// receiver counts the requests it answers.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func hookAt(url string) domain.Webhook {
	return domain.Webhook{ID: "wh1", Name: "t", URL: url, Secret: "0123456789abcdef", Active: true}
}

// SSRF at connect time: a name resolving to loopback, and a loopback
// address reached without an allowed range, are refused by the dialer;
// the receiver never hears of them.
func TestSSRFDialerRefusesResolvedInternalAddress(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	s := NewSender(Policy{AllowHTTP: true, Timeout: 2 * time.Second})
	for _, u := range []string{"http://localhost" + port + "/hook", srv.URL + "/hook"} {
		d := s.Send(context.Background(), hookAt(u), Body{Type: "ping"})
		if d.OK || !strings.Contains(d.Error, "refused by the outbound policy") {
			t.Errorf("delivery to %s: ok %v, error %q; want refused by the policy", u, d.OK, d.Error)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the internal receiver was reached %d times", hits.Load())
	}
	allowed := NewSender(Policy{AllowHTTP: true, AllowedNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	if d := allowed.Send(context.Background(), hookAt("http://localhost"+port+"/hook"), Body{Type: "ping"}); !d.OK || d.StatusCode != 204 {
		t.Errorf("with loopback allowed: %+v, want delivered", d)
	}
}

// SSRF by redirect: a receiver answering with a redirect to an internal
// address is a failed delivery; the redirect is not followed.
func TestSSRFRedirectIsNotFollowed(t *testing.T) {
	internal, hits := receiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	outer, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data", http.StatusTemporaryRedirect)
	})
	s := NewSender(Policy{AllowHTTP: true, AllowedNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	d := s.Send(context.Background(), hookAt(outer.URL), Body{Type: "ping"})
	if d.OK || d.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(d.Error, "redirect") {
		t.Errorf("a redirect: %+v, want a failed delivery naming the redirect", d)
	}
	if hits.Load() != 0 {
		t.Errorf("the redirect target was reached")
	}
}

// Timeouts and answer size: a receiver that hangs fails the delivery
// within the policy's timeout; a huge answer is not read to its end.
func TestSenderTimeoutAndResponseLimit(t *testing.T) {
	slow, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	s := NewSender(Policy{AllowHTTP: true, AllowedNets: loop, Timeout: 300 * time.Millisecond})
	start := time.Now()
	d := s.Send(context.Background(), hookAt(slow.URL), Body{Type: "ping"})
	if d.OK || time.Since(start) > 3*time.Second || !strings.Contains(d.Error, "timed out") {
		t.Errorf("a hanging receiver: %+v after %v, want a timeout within the policy's", d, time.Since(start))
	}
	big, _ := receiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(200)
		chunk := []byte(strings.Repeat("x", 1<<16))
		for range 1 << 10 { // 64 MiB, more than anyone should read
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	s = NewSender(Policy{AllowHTTP: true, AllowedNets: loop, MaxResponseBytes: 1024})
	start = time.Now()
	if d := s.Send(context.Background(), hookAt(big.URL), Body{Type: "ping"}); !d.OK || time.Since(start) > 3*time.Second {
		t.Errorf("a huge answer: %+v in %v, want acknowledged without reading it all", d, time.Since(start))
	}
}
