package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Guard decides which webhook targets may be called: https to public
// addresses, and, to the networks the operator allowed
// (MEDIATION_WEBHOOK_ALLOWED_NETWORKS), https or plain http. It is checked
// when an endpoint is registered and again on every connection, after DNS.
type Guard struct {
	// Allowed are networks that may be called although private, loopback
	// or link-local, over http or https.
	Allowed []netip.Prefix
	// Resolver resolves host names at registration; nil = the system's.
	Resolver *net.Resolver
}

// ParseNetworks reads a comma-separated list of CIDRs.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.20.0.0/16", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// cgnat is the shared address space of carrier-grade NAT, private in
// practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func (g Guard) allowed(ip netip.Addr) bool {
	for _, p := range g.Allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// checkIP says why ip may not be called over scheme, or nil.
func (g Guard) checkIP(ip netip.Addr, scheme string) error {
	ip = ip.Unmap()
	if g.allowed(ip) {
		return nil
	}
	if scheme != "https" {
		return fmt.Errorf("plain http is accepted only to the networks in MEDIATION_WEBHOOK_ALLOWED_NETWORKS, and %s is not in them: use https", ip)
	}
	var kind string
	switch {
	case ip.IsLoopback():
		kind = "a loopback"
	case ip.IsUnspecified():
		kind = "an unspecified"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		kind = "a link-local"
	case ip.IsPrivate(), cgnat.Contains(ip):
		kind = "a private"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		kind = "a multicast"
	default:
		return nil
	}
	return fmt.Errorf("%s is %s address; the service calls only public addresses unless the operator allows the network in MEDIATION_WEBHOOK_ALLOWED_NETWORKS", ip, kind)
}

// CheckURL checks a receiver URL at registration: absolute http(s), no
// credentials or fragment, and every address its host resolves to
// allowed. The error says what is wrong.
func (g Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("must be an absolute URL such as https://court.example.cn/mediation/webhook")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("scheme %q: use https", u.Scheme)
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password; the messages are signed instead")
	}
	if u.Fragment != "" {
		return errors.New("must not have a #fragment")
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		r := g.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("the host %q does not resolve from the service: check the name", host)
		}
	}
	for _, ip := range addrs {
		if err := g.checkIP(ip, u.Scheme); err != nil {
			if ip.String() != host {
				return fmt.Errorf("%s resolves to %w", host, err)
			}
			return err
		}
	}
	return nil
}

// control refuses a connection whose resolved address is not allowed for
// scheme: the check after DNS, so that a name which resolved to a public
// address at registration cannot later point inside.
func (g Guard) control(scheme string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("connecting to %q: not an IP address", host)
		}
		if err := g.checkIP(ip, scheme); err != nil {
			return &refusedError{err}
		}
		return nil
	}
}

// refusedError is a connection the guard refused.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return "refused to connect: " + e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// maxResponseBytes is how much of a receiver's answer is read.
const maxResponseBytes = 4 << 10

// errRedirect marks an answer that redirected: never followed.
var errRedirect = errors.New("redirect not followed")

// Clients returns the HTTP clients of the sender, by URL scheme: each
// connection checked after DNS, no proxy, no redirects followed, the whole
// exchange bounded by timeout.
func (g Guard) Clients(timeout time.Duration) map[string]*http.Client {
	out := map[string]*http.Client{}
	for _, scheme := range []string{"https", "http"} {
		d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.control(scheme)}
		tr := &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
		}
		out[scheme] = &http.Client{
			Transport:     tr,
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return out
}
