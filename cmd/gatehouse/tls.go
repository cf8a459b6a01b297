package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// loadTLS reads the certificate chain and private key for serve --tls-cert
// and --tls-key. Both or neither must be given: neither serves plain HTTP
// (for a TLS-terminating reverse proxy in front). Each failure names the
// file and what is wrong with it, since a server that cannot start must
// say why.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "":
		return nil, usageError{errors.New("--tls-key needs --tls-cert: give both to serve HTTPS, or neither")}
	case keyFile == "":
		return nil, usageError{errors.New("--tls-cert needs --tls-key: give both to serve HTTPS, or neither")}
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s: cannot read the certificate file: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-key %s: cannot read the private key file: %w", keyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls says "private key does not match public key" for a
		// mismatched pair and names the PEM problem otherwise.
		return nil, fmt.Errorf("--tls-cert %s with --tls-key %s: not a usable certificate and key pair: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		// TLS 1.0 and 1.1 are deprecated (RFC 8996); every supported
		// client speaks 1.2. Go's default cipher suites for 1.2 are
		// already the AEAD, forward-secret ones.
		MinVersion: tls.VersionTLS12,
	}, nil
}

// hstsValue asks browsers to use HTTPS only for a year. It is sent only
// when Gatehouse itself serves TLS: over plain HTTP the header is ignored
// by browsers, and a proxy terminating TLS should set its own.
const hstsValue = "max-age=31536000"

// apiCSP is the Content-Security-Policy of every answer that is not a
// console page (REST, SCIM, health, metrics): they are data, never a
// document to render, so nothing may load and nothing may frame them.
// The console sets its own policy for its pages, replacing this one.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// The security headers' values, as securityHeaders shares them.
var (
	nosniffHeader    = []string{"nosniff"}
	noReferrerHeader = []string{"no-referrer"}
	denyHeader       = []string{"DENY"}
	apiCSPHeader     = []string{apiCSP}
	hstsHeader       = []string{hstsValue}
)

// securityHeaders sets the headers every answer carries, before the
// handler runs, so that errors answered early (401, 404, 413) carry them
// too. Handlers may replace them (the console does, with a policy for
// its pages).
func securityHeaders(next http.Handler, tlsOn bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The values are shared, never modified: a handler that changes
		// one replaces its slice (Header.Set), and Header.Add appends to
		// a copy (each has no room left). Set would allocate a slice
		// for each, four a request.
		h := w.Header()
		h["X-Content-Type-Options"] = nosniffHeader
		h["Referrer-Policy"] = noReferrerHeader
		h["X-Frame-Options"] = denyHeader
		h["Content-Security-Policy"] = apiCSPHeader
		if tlsOn {
			h["Strict-Transport-Security"] = hstsHeader
		}
		next.ServeHTTP(w, r)
	})
}
