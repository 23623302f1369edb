package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasmserve/wasmserve/host/reqinfo"
)

// Config is the policy and the limits of guests' outbound HTTP calls
// (the wasmserve_http host module, docs/outbound.md). The zero value refuses
// every call; with Allow set, private networks stay blocked, a request may
// make 32 calls, at most 256 are in flight at once, a response body may be
// 10 MiB, and only the handler timeout bounds a call.
type Config struct {
	// Allow lists the origins guests may call, as patterns
	// scheme://host[:port]: "https://api.example.com" (port 443),
	// "https://*.example.com:8443" (any subdomain, not example.com
	// itself), "http://127.0.0.1:9000", "https://*" (any host), a port
	// "*" for any port, or "*" alone for any http or https URL. None
	// refuses every call.
	Allow []string
	// BlockNetworks are the address ranges a call may not connect to,
	// checked on every address a host name resolves to (and on IP
	// literals), unless an Allow pattern names that very address (an IP
	// literal host, with the port). Nil means DefaultBlockedNetworks; an
	// empty, non-nil slice blocks nothing.
	BlockNetworks []netip.Prefix
	// MaxCallsPerRequest bounds the calls one request may make; 0 means
	// 32, negative means no bound.
	MaxCallsPerRequest int
	// MaxInFlight bounds the calls in flight across the server, from
	// send until the response body is closed; a call over it waits for a
	// slot within its deadline. 0 means 256, negative means no bound.
	MaxInFlight int
	// MaxResponseBody bounds a response body in bytes; 0 means 10 MiB,
	// negative means no bound.
	MaxResponseBody int64
	// Timeout bounds one call; 0 means only what is left of the handler
	// timeout does.
	Timeout time.Duration
	// RootCAs are the authorities an HTTPS origin's certificate must
	// chain to; nil means the system's.
	RootCAs *x509.CertPool
	// LookupIP resolves a host name to its addresses; nil means
	// net.DefaultResolver.LookupNetIP with network "ip".
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// DefaultBlockedNetworks are the networks a call may not reach unless an
// allow pattern names the address: loopback, private (RFC 1918), link-local
// (with the cloud metadata address 169.254.169.254), "this network", CGNAT
// (RFC 6598), and IPv6 loopback, unspecified, link-local and unique-local.
var DefaultBlockedNetworks = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fc00::/7"),
}

// Defaults of the zero Config's limits.
const (
	DefaultMaxPerRequest = 32
	DefaultMaxInFlight   = 256
	DefaultMaxBody       = 10 << 20
)

// Unbounded, as MaxCallsPerRequest, MaxInFlight or MaxResponseBody, sets no
// bound; their zero value is their default.
const Unbounded = -1

// originPattern is one parsed Config.Allow entry.
type originPattern struct {
	raw    string
	any    bool   // "*": every http and https URL
	scheme string // "http" or "https"
	host   string // lower case; "*" any; "*.x" a subdomain of x
	ip     netip.Addr
	port   int // 0: any port
}

// ParsePattern checks one allow pattern, for the CLI to name a bad
// one early.
func ParsePattern(s string) error {
	_, err := parseOriginPattern(s)
	return err
}

func parseOriginPattern(s string) (originPattern, error) {
	p := originPattern{raw: s}
	if s == "*" {
		p.any = true
		return p, nil
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return p, fmt.Errorf("outbound pattern %q: want http://HOST[:PORT] or https://HOST[:PORT], or * for any", s)
	}
	p.scheme = scheme
	rest = strings.TrimSuffix(rest, "/")
	if strings.ContainsAny(rest, "/?#@") {
		return p, fmt.Errorf("outbound pattern %q: only a scheme, a host and a port, no path, query or user", s)
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	switch {
	case port == "":
		p.port = defaultPort(scheme)
	case port == "*":
		p.port = 0
	default:
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return p, fmt.Errorf("outbound pattern %q: port %q is not 1 to 65535 or *", s, port)
		}
		p.port = n
	}
	host = strings.ToLower(host)
	if ip, err := netip.ParseAddr(host); err == nil {
		p.ip = ip.Unmap()
	} else if host == "" || (host != "*" && strings.Contains(strings.TrimPrefix(host, "*."), "*")) {
		return p, fmt.Errorf("outbound pattern %q: want a host name, an IP address, * or *.DOMAIN", s)
	}
	p.host = host
	return p, nil
}

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

// matchURL reports whether p allows a call to u.
func (p *originPattern) matchURL(u *url.URL) bool {
	if p.any {
		return true
	}
	if strings.ToLower(u.Scheme) != p.scheme {
		return false
	}
	port := defaultPort(p.scheme)
	if s := u.Port(); s != "" {
		port, _ = strconv.Atoi(s)
	}
	if p.port != 0 && port != p.port {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	switch {
	case p.host == "*":
		return true
	case p.ip.IsValid():
		ip, err := netip.ParseAddr(host)
		return err == nil && ip.Unmap() == p.ip
	case strings.HasPrefix(p.host, "*."):
		return strings.HasSuffix(host, p.host[1:])
	}
	return host == p.host
}

// namesAddr reports whether p names ip explicitly, on port.
func (p *originPattern) namesAddr(ip netip.Addr, port int) bool {
	return p.ip.IsValid() && p.ip == ip && (p.port == 0 || p.port == port)
}

// client applies a Config: it is the Send of the extension's Host.
type client struct {
	allow  []originPattern
	block  []netip.Prefix
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	slots  chan struct{} // nil: no bound
	follow *http.Client
	manual *http.Client
	log    *slog.Logger
	stats  *stats
	dialer net.Dialer
	tr     *http.Transport
}

// newClient checks cfg and makes the host module and the client it sends
// calls with.
func newClient(cfg Config, logger *slog.Logger) (*Host, *client, error) {
	c := &client{block: cfg.BlockNetworks, lookup: cfg.LookupIP, log: logger, stats: newStats()}
	for _, s := range cfg.Allow {
		p, err := parseOriginPattern(s)
		if err != nil {
			return nil, nil, err
		}
		c.allow = append(c.allow, p)
	}
	if c.block == nil {
		c.block = DefaultBlockedNetworks
	}
	if c.lookup == nil {
		c.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	switch n := cfg.MaxInFlight; {
	case n == 0:
		c.slots = make(chan struct{}, DefaultMaxInFlight)
	case n > 0:
		c.slots = make(chan struct{}, n)
	}
	c.dialer = net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	c.tr = &http.Transport{
		Proxy:                 nil, // an environment proxy would bypass the address checks
		DialContext:           c.dial,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c.follow = &http.Client{Transport: c.tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return c.checkURL(req.URL)
	}}
	c.manual = &http.Client{Transport: c.tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	h := &Host{
		Send:            c.send,
		MaxCalls:        cfg.MaxCallsPerRequest,
		MaxResponseBody: cfg.MaxResponseBody,
		Timeout:         cfg.Timeout,
	}
	return h, c, nil
}

// checkURL refuses a URL no allow pattern matches.
func (c *client) checkURL(u *url.URL) error {
	for i := range c.allow {
		if c.allow[i].matchURL(u) {
			return nil
		}
	}
	if len(c.allow) == 0 {
		return fmt.Errorf("%w: no outbound calls are allowed (no allow pattern)", ErrRefused)
	}
	return fmt.Errorf("%w: %s://%s matches no allow pattern", ErrRefused, u.Scheme, u.Host)
}

// checkAddr refuses an address in a blocked network that no allow pattern
// names.
func (c *client) checkAddr(host string, ip netip.Addr, port int) error {
	for _, n := range c.block {
		if !n.Contains(ip) {
			continue
		}
		for i := range c.allow {
			if c.allow[i].namesAddr(ip, port) {
				return nil
			}
		}
		// The fix, in the form that works: a pattern naming the address
		// itself (a host name's pattern never lets a blocked network
		// through, since DNS could point it anywhere).
		fix := "allow " + allowForm(ip, port) + " to reach it"
		if host == ip.String() {
			return fmt.Errorf("%w: address %s is in blocked network %s, and no allow pattern names it (%s)", ErrRefused, ip, n, fix)
		}
		return fmt.Errorf("%w: %s resolves to %s, in blocked network %s, and no allow pattern names that address (%s)", ErrRefused, host, ip, n, fix)
	}
	return nil
}

// allowForm is the allow pattern that names ip and port, for the scheme
// most calls to it use: "http://127.0.0.1:9000", "http://[::1]:8080".
func allowForm(ip netip.Addr, port int) string {
	scheme := "http"
	if port == 443 {
		scheme = "https"
	}
	return scheme + "://" + netip.AddrPortFrom(ip, uint16(port)).String()
}

// dial resolves addr itself and connects to the first address the policy
// allows, so that the check is on the address actually dialled.
func (c *client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", portStr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = c.lookup(ctx, host); err != nil {
		return nil, err
	} else if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no addresses", host)
	}
	var refused, failed error
	for _, ip := range ips {
		ip = ip.Unmap()
		if err := c.checkAddr(host, ip, port); err != nil {
			if refused == nil {
				refused = err
			}
			continue
		}
		conn, err := c.dialer.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		failed = err
	}
	if failed != nil {
		return nil, failed
	}
	return nil, refused
}

// send is Host.Send: the policy, the in-flight bound, the call
// and its counts.
func (c *client) send(id string, req *http.Request, follow bool) (*http.Response, error) {
	ctx := req.Context()
	what := req.Method + " " + req.URL.Redacted()
	if err := c.checkURL(req.URL); err != nil {
		c.refused(ctx, id, what, err)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			c.stats.done(req.URL.Host, outcomeOf(ctx.Err()), 0)
			return nil, fmt.Errorf("%s: waiting for one of the %d outbound calls in flight to end: %w", what, cap(c.slots), context.Cause(ctx))
		}
	}
	cl := c.manual
	if follow {
		cl = c.follow
	}
	start := time.Now()
	c.stats.inFlight.Add(1)
	resp, err := cl.Do(req)
	d := time.Since(start)
	if err != nil {
		c.release()
		if errors.Is(err, ErrRefused) {
			c.refused(ctx, id, what, err)
		} else {
			c.stats.done(req.URL.Host, outcomeOf(err), d)
			c.log.Debug("outbound call failed", "isolate", id, "request_id", reqinfo.IDFrom(ctx),
				"url", req.URL.Redacted(), "method", req.Method, "err", err)
		}
		if ue, ok := err.(*url.Error); ok {
			// Spell it like the other errors: "GET url: why".
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	c.stats.done(req.URL.Host, "ok", d)
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: c.release}
	return resp, nil
}

func (c *client) release() {
	c.stats.inFlight.Add(-1)
	if c.slots != nil {
		<-c.slots
	}
}

// refused logs and counts a refused call of the request whose context is
// ctx.
func (c *client) refused(ctx context.Context, id, what string, err error) {
	c.stats.refused.Add(1)
	c.log.Warn("outbound call refused", "isolate", id, "request_id", reqinfo.IDFrom(ctx), "call", what, "rule", err.Error())
}

// releaseBody releases the call's in-flight slot once, when its body is
// closed.
type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
