package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy is what outbound webhook requests may do.
type Policy struct {
	// AllowHTTP permits http:// URLs; https only otherwise.
	AllowHTTP bool
	// AllowedNets are the ranges of internal addresses (loopback, private,
	// link-local, ...) deliveries may still reach: a receiver on the same
	// host or network, allowed by an administrator.
	AllowedNets []netip.Prefix
	// Timeout bounds one request, connection to last byte (default 10s).
	Timeout time.Duration
	// MaxResponseBytes is how much of an answer is read (default 64 KiB);
	// the rest is ignored and the connection dropped.
	MaxResponseBytes int64
}

func (p Policy) timeout() time.Duration {
	if p.Timeout <= 0 {
		return 10 * time.Second
	}
	return p.Timeout
}

func (p Policy) maxResponse() int64 {
	if p.MaxResponseBytes <= 0 {
		return 64 << 10
	}
	return p.MaxResponseBytes
}

// internalNets are ranges that are not the public internet, beyond what
// netip.Addr's predicates name: shared address space (carrier NAT), the
// IETF protocol block, benchmarking, reserved and broadcast, NAT64 and
// 6to4 (which embed IPv4 addresses, internal ones included).
var internalNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("100::/64"),
}

// internal reports whether a is an address deliveries must not reach by
// default: loopback, private, link-local, multicast, unspecified or
// another range not routed on the internet.
func internal(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, n := range internalNets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ErrRefusedAddress is a connection refused by the policy.
var ErrRefusedAddress = errors.New("refused by the outbound policy")

// CheckAddr refuses an internal address no allowed range covers.
func (p Policy) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	if !internal(a) {
		return nil
	}
	for _, n := range p.AllowedNets {
		if n.Contains(a) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is a loopback, private, link-local, multicast or otherwise internal address (allow its range with --webhook-allow-net)", ErrRefusedAddress, a)
}

// CheckURL refuses a URL deliveries may not use: not https (or http when
// allowed), credentials in it, no host, or an internal IP address no
// allowed range covers. A host name is checked when it is resolved, at
// every connection (control).
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP:
	case u.Scheme == "http":
		return errors.New("must be an https URL (http is allowed only with --webhook-allow-http)")
	default:
		return errors.New("must be an https URL")
	}
	if u.User != nil {
		return errors.New("must not carry credentials (user:password@): authenticate deliveries with the signature")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return errors.New("must name a host")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not have a fragment (#...)")
	}
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		return p.CheckAddr(a)
	}
	return nil
}

// control is the dialer's check of the address it is about to connect
// to, after name resolution: a name that resolves (or re-resolves, DNS
// rebinding) to an internal address is refused here.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		host, _, _ := net.SplitHostPort(address)
		a, perr := netip.ParseAddr(host)
		if perr != nil {
			return fmt.Errorf("%w: cannot tell the address of %q", ErrRefusedAddress, address)
		}
		return p.CheckAddr(a)
	}
	return p.CheckAddr(ap.Addr())
}
