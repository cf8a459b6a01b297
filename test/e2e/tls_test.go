package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a fresh self-signed certificate for 127.0.0.1 and its
// key to dir, and returns the file paths and a pool trusting it.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "gatehouse e2e " + name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS serves HTTPS with a certificate generated here: TLS 1.0 and
// 1.1 handshakes are refused, 1.2 and 1.3 accepted, every answer carries
// Strict-Transport-Security, and the session cookie is Secure.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir, "server")
	srv := start(t, dir, []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("serving %s, want an https:// URL in the log", srv.URL)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")

	for _, v := range []struct {
		name     string
		min, max uint16
		ok       bool
	}{
		{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, false},
		{"TLS 1.1", tls.VersionTLS11, tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, true},
	} {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
			&tls.Config{RootCAs: pool, MinVersion: v.min, MaxVersion: v.max})
		switch {
		case v.ok && err != nil:
			t.Errorf("%s handshake: %v, want it accepted", v.name, err)
		case !v.ok && err == nil:
			t.Errorf("%s handshake accepted (version %x), want it refused", v.name, conn.ConnectionState().Version)
		}
		if conn != nil {
			conn.Close()
		}
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Post(srv.URL+"/api/v1/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
	if err != nil {
		t.Fatalf("POST /api/v1/login over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/v1/login over TLS = %d, want 200", resp.StatusCode)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("login answered over %+v, want TLS 1.2 or later", resp.TLS)
	}
	secure := false
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_session" {
			secure = c.Secure && c.HttpOnly
		}
	}
	if !secure {
		t.Errorf("the session cookie set over HTTPS is not Secure and HttpOnly: %q", resp.Header.Values("Set-Cookie"))
	}
	checkSecurityHeaders(t, hc, srv.URL, true)
}

// TestServeSecurityHeadersPlainHTTP checks the same headers on a plain-HTTP
// server, which must not send Strict-Transport-Security.
func TestServeSecurityHeadersPlainHTTP(t *testing.T) {
	srv := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPassword})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := hc.Post(srv.URL+"/api/v1/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /api/v1/login: %v %v", err, resp)
	}
	resp.Body.Close()
	checkSecurityHeaders(t, hc, srv.URL, false)
}

// consoleGETRoute finds the console's GET routes in its source, so that a
// page added later is checked without anyone remembering to list it here.
var consoleGETRoute = regexp.MustCompile(`m\.Handle(?:Func)?\("GET (/[^"]*)"`)

// checkSecurityHeaders signs nothing in itself: hc carries an
// administrator's session. It visits every console GET route (with the
// built-in Administrators group's id where a route wants an id) and a
// spread of REST, SCIM and health answers, successes and errors alike.
func checkSecurityHeaders(t *testing.T, hc *http.Client, base string, tlsOn bool) {
	t.Helper()
	// The Administrators group's id, for routes with {id}.
	groupID := ""
	{
		resp, err := hc.Get(base + "/api/v1/groups?q=Administrators")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := regexp.MustCompile(`"id":"([^"]+)"`).FindSubmatch(b); m != nil {
			groupID = string(m[1])
		}
		if groupID == "" {
			t.Fatalf("GET /api/v1/groups?q=Administrators found no group id: %s", b)
		}
	}
	var routes []string
	files, _ := filepath.Glob("../../internal/api/console/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range consoleGETRoute.FindAllSubmatch(src, -1) {
			p := string(m[1])
			p = strings.ReplaceAll(p, "{$}", "")
			p = strings.ReplaceAll(p, "{id}", groupID)
			p = strings.ReplaceAll(p, "{tab}", "members")
			p = regexp.MustCompile(`\{[a-z.]+\}`).ReplaceAllString(p, "new")
			routes = append(routes, p)
		}
	}
	if len(routes) < 15 {
		t.Fatalf("found %d console GET routes in internal/api/console, want every page (is the pattern still m.HandleFunc(\"GET ...\")?)", len(routes))
	}
	routes = append(routes, "/login", "/no-such-page", "/static/console.css", "/static/console.js")
	pages := 0
	for _, p := range routes {
		resp, err := hc.Get(base + p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s = %d, want no server error", p, resp.StatusCode)
		}
		if resp.StatusCode == 200 && bytes.Contains(body, []byte("<html")) {
			pages++
		}
		h := resp.Header
		want(t, "console "+p, h, "X-Content-Type-Options", "nosniff")
		want(t, "console "+p, h, "X-Frame-Options", "DENY")
		want(t, "console "+p, h, "Referrer-Policy", "same-origin")
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", p, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline script or eval", p, csp)
		}
		hsts(t, p, h, tlsOn)
	}
	if pages < 10 {
		t.Errorf("only %d console routes answered an HTML page with 200; the session did not reach the console", pages)
	}
	for _, p := range []string{"/api/v1/groups", "/api/v1/groups/" + groupID, "/api/v1/no-such-thing", "/api/v1/groups/..%2f..%2fetc",
		"/scim/v2/Users", "/scim/v2/ServiceProviderConfig", "/healthz", "/readyz", "/metrics"} {
		resp, err := hc.Get(base + p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		resp.Body.Close()
		h := resp.Header
		want(t, p, h, "X-Content-Type-Options", "nosniff")
		want(t, p, h, "X-Frame-Options", "DENY")
		want(t, p, h, "Referrer-Policy", "no-referrer")
		want(t, p, h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		hsts(t, p, h, tlsOn)
	}
}

func want(t *testing.T, where string, h http.Header, name, value string) {
	t.Helper()
	if got := h.Get(name); got != value {
		t.Errorf("GET %s: %s = %q, want %q", where, name, got, value)
	}
}

func hsts(t *testing.T, where string, h http.Header, tlsOn bool) {
	t.Helper()
	got := h.Get("Strict-Transport-Security")
	switch {
	case tlsOn && !strings.HasPrefix(got, "max-age="):
		t.Errorf("GET %s over TLS: Strict-Transport-Security = %q, want max-age=...", where, got)
	case !tlsOn && got != "":
		t.Errorf("GET %s over plain HTTP: Strict-Transport-Security = %q, want none", where, got)
	}
}

// TestServeTLSFlagErrors: only one of the two flags, an unreadable file and
// a key that does not match the certificate each stop serve with a message
// naming the problem, before it listens.
func TestServeTLSFlagErrors(t *testing.T) {
	dir := t.TempDir()
	certA, keyA, _ := selfSigned(t, dir, "a")
	_, keyB, _ := selfSigned(t, dir, "b")
	db := filepath.Join(dir, "g.db")
	for _, tc := range []struct {
		args     []string
		code     int
		mentions []string
	}{
		{[]string{"--tls-cert", certA}, 2, []string{"--tls-cert needs --tls-key"}},
		{[]string{"--tls-key", keyA}, 2, []string{"--tls-key needs --tls-cert"}},
		{[]string{"--tls-cert", filepath.Join(dir, "missing.crt"), "--tls-key", keyA}, 1, []string{"--tls-cert", "missing.crt", "cannot read"}},
		{[]string{"--tls-cert", certA, "--tls-key", keyB}, 1, []string{"not a usable certificate and key pair", "private key does not match public key"}},
		{[]string{"--tls-cert", keyA, "--tls-key", certA}, 1, []string{"not a usable certificate and key pair"}},
	} {
		code, _, stderr := runCmd(t, dir, append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("serve %v: exit %d, want %d; stderr %s", tc.args, code, tc.code, stderr)
		}
		for _, m := range tc.mentions {
			if !strings.Contains(stderr, m) {
				t.Errorf("serve %v: stderr %q does not mention %q", tc.args, stderr, m)
			}
		}
	}
}

// TestServeSecureCookiesBehindProxy: with --secure-cookies (a proxy in
// front terminates TLS, so requests arrive over plain HTTP) the session
// cookie is Secure and answers carry Strict-Transport-Security all the same.
func TestServeSecureCookiesBehindProxy(t *testing.T) {
	srv := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}, "--secure-cookies")
	resp, err := http.Post(srv.URL+"/api/v1/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
	if err != nil {
		t.Fatalf("POST /api/v1/login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/v1/login = %d, want 200", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.HttpOnly {
			session = c
		}
	}
	if session == nil || !session.Secure {
		t.Errorf("with --secure-cookies the session cookie is not Secure: %q", resp.Header.Values("Set-Cookie"))
	}
	hsts(t, "POST /api/v1/login with --secure-cookies", resp.Header, true)
}
