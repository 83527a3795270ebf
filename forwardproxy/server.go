// Package forwardproxy is azvcr's intercepting HTTP(S) forward proxy: clients set HTTPS_PROXY and
// trust azvcr's CA, every CONNECT is intercepted with a leaf certificate minted for the host, and
// each request is handed to the engine, which replays, records or forwards it. An allow-list and
// a self-loop check keep it from becoming an open proxy.
package forwardproxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/hostport"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/upstream"
	"github.com/azvcr/azvcr/wire"
)

type config struct {
	cassette     string
	ca           *certs.CA
	allowed      []string
	upstream     upstream.Options
	logger       *slog.Logger
	redactor     redact.Redactor
	upstreamTrip http.RoundTripper
	repeat       matcher.Repeat
	verifyKey    string // base64 master key; "" when signatures are not checked
	direct       http.Handler
	maxBody      *int64 // nil: the engine's default
	overwrite    bool
}

// Option configures a Server.
type Option func(*config) error

// WithCassette names the cassette file. Record, replay and auto need one.
func WithCassette(path string) Option { return func(c *config) error { c.cassette = path; return nil } }

// WithCA sets the CA that signs intercepted hosts' certificates. Without it the default CA
// directory is used, and a CA is created there on first use.
func WithCA(ca *certs.CA) Option { return func(c *config) error { c.ca = ca; return nil } }

// WithAllowedHosts adds upstream hosts (exact names, *.suffix, or "loopback") to the defaults.
func WithAllowedHosts(hosts ...string) Option {
	return func(c *config) error { c.allowed = append(c.allowed, hosts...); return nil }
}

// WithUpstreamCA trusts the PEM certificates in file, in addition to the system roots, when
// connecting upstream.
func WithUpstreamCA(file string) Option {
	return func(c *config) error { c.upstream.CAFiles = append(c.upstream.CAFiles, file); return nil }
}

// WithUpstreamInsecure skips verification of upstream certificates (local emulators only).
func WithUpstreamInsecure() Option {
	return func(c *config) error { c.upstream.Insecure = true; return nil }
}

// WithLogger sets the logger; the default writes text to stderr.
func WithLogger(l *slog.Logger) Option { return func(c *config) error { c.logger = l; return nil } }

// WithRedactor replaces the default redaction rules.
func WithRedactor(r redact.Redactor) Option {
	return func(c *config) error { c.redactor = r; return nil }
}

// WithResolve makes forwarding to host connect to addr instead (like curl --resolve): record an
// emulator or a test server under a production host name. TLS is still verified for host. host
// may carry a port to map only that port; addr may omit the port to keep the request's.
func WithResolve(host, addr string) Option {
	return func(c *config) error {
		if host == "" || addr == "" {
			return fmt.Errorf("resolve: want HOST=ADDR, got %q=%q", host, addr)
		}
		if c.upstream.Resolve == nil {
			c.upstream.Resolve = map[string]string{}
		}
		c.upstream.Resolve[strings.ToLower(host)] = addr
		return nil
	}
}

// WithRepeat sets which requests may get their last recorded answer again once all are used
// (default matcher.RepeatMetadata).
func WithRepeat(r matcher.Repeat) Option { return func(c *config) error { c.repeat = r; return nil } }

// WithSignatureCheck makes replay verify Cosmos DB master-key signatures against keyBase64 (for
// example engine.EmulatorKey) and answer 401, as Cosmos DB does, when one does not match.
func WithSignatureCheck(keyBase64 string) Option {
	return func(c *config) error { c.verifyKey = keyBase64; return nil }
}

// WithUpstreamTransport replaces the transport used to reach upstreams (tests count dials with it).
// The allow-list and the self-loop check still apply in front of it.
func WithUpstreamTransport(rt http.RoundTripper) Option {
	return func(c *config) error { c.upstreamTrip = rt; return nil }
}

// WithDirectHandler serves requests addressed to azvcr itself rather than proxied through it (the
// test-proxy protocol, when both run on one listener). /azvcr/status is answered first.
func WithDirectHandler(h http.Handler) Option {
	return func(c *config) error { c.direct = h; return nil }
}

// WithMaxBodySize bounds each request and response body (decoded); 0 means no bound. The
// default is engine.DefaultMaxBodySize.
func WithMaxBodySize(n int64) Option {
	return func(c *config) error { c.maxBody = &n; return nil }
}

// WithOverwrite lets record mode replace a cassette that already holds interactions (the old
// file stays until the first new interaction is written). Without it, such a cassette is
// refused: see cassette.CheckReplace.
func WithOverwrite() Option { return func(c *config) error { c.overwrite = true; return nil } }

// Server is one azvcr forward proxy.
type Server struct {
	cfg      *config
	engine   *engine.Engine
	ca       *certs.CA
	leaves   *certs.Leaves
	allow    *upstream.AllowList
	upstream *upstream.Guard
	log      *slog.Logger
	front    *wire.Server
	lns      []net.Listener
	conns    connTracker

	localOnce sync.Once
	local     []net.IP // this machine's interface addresses, for isSelf

	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New builds a proxy for mode. The cassette is loaded (replay, auto) or created (record) here,
// so a bad file fails before anything listens.
func New(mode engine.Mode, opts ...Option) (*Server, error) {
	cfg := &config{redactor: redact.DefaultRules()}
	for _, o := range opts {
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if mode != engine.Passthrough && cfg.cassette == "" {
		return nil, fmt.Errorf("%s mode needs a cassette file", mode)
	}
	if mode == engine.Record && !cfg.overwrite {
		if err := cassette.CheckReplace(cfg.cassette); err != nil {
			return nil, err
		}
	}
	s := &Server{log: cfg.logger, cfg: cfg}
	var err error
	if s.allow, err = upstream.NewAllowList(append(append([]string{}, upstream.DefaultAllowedHosts...), cfg.allowed...)); err != nil {
		return nil, err
	}
	if s.ca = cfg.ca; s.ca == nil {
		dir, err := certs.DefaultCADir()
		if err != nil {
			return nil, err
		}
		if s.ca, _, err = certs.InitCA(dir, false); err != nil {
			return nil, err
		}
	}
	if s.leaves, err = certs.NewLeaves(s.ca); err != nil {
		return nil, err
	}
	next := cfg.upstreamTrip
	if next == nil {
		cfg.upstream.IsSelf = s.isSelf // checked again on the address each name resolves to
		if next, err = upstream.NewTransport(cfg.upstream); err != nil {
			return nil, err
		}
	}
	s.upstream = &upstream.Guard{Next: next, Allow: s.allow, IsSelf: s.isSelf}
	// Answers are only written to the wire (proxy, wire.Respond): a recording's head is shared.
	eopts := []engine.Option{engine.WithRedactor(cfg.redactor), engine.WithLogger(s.log), engine.WithSharedAnswers()}
	if mode.Forwards() {
		eopts = append(eopts, engine.WithUpstream(s.upstream))
	}
	// Replay refuses what recording would have refused, with the same answer.
	eopts = append(eopts, engine.WithHostCheck(func(host string) *upstream.Refusal { return s.upstream.Check(host) }))
	if cfg.verifyKey != "" {
		eopts = append(eopts, engine.WithSignatureCheck(cfg.verifyKey))
	}
	if cfg.maxBody != nil {
		eopts = append(eopts, engine.WithMaxBodySize(*cfg.maxBody))
	}
	if mode == engine.Passthrough {
		s.engine, err = engine.New(mode, eopts...)
	} else {
		s.engine, err = engine.Open(mode, cfg.cassette, cfg.repeat, eopts...)
	}
	if err != nil {
		return nil, err
	}
	s.front = &wire.Server{Handler: http.HandlerFunc(s.serveFront), Log: s.log}
	return s, nil
}

// Listen binds addr (host:port; port 0 picks a free port). It may be called more than once, and
// with ListenTLS, to serve several addresses at once.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.addListener(ln)
	return nil
}

// ListenTLS binds addr and serves HTTPS there directly (not as a proxy), with a certificate from
// azvcr's CA for the listen host: the Azure SDK test-proxy protocol's https endpoint.
func (s *Server) ListenTLS(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip := hostport.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	s.addListener(tls.NewListener(ln, s.leaves.TLSConfig(host)))
	return nil
}

func (s *Server) addListener(ln net.Listener) {
	s.lns = append(s.lns, &trackingListener{Listener: ln, tracker: &s.conns})
}

// Serve answers connections on every listener until Close. It returns nil after Close.
func (s *Server) Serve() error {
	if len(s.lns) == 0 {
		return errors.New("azvcr: Serve before Listen")
	}
	errs := make(chan error, len(s.lns))
	for _, ln := range s.lns {
		go func() { errs <- s.front.Serve(ln) }()
	}
	err := <-errs
	if s.closing.Load() {
		return nil
	}
	return err
}

// Start listens on addr and serves in the background.
func (s *Server) Start(addr string) error {
	if err := s.Listen(addr); err != nil {
		return err
	}
	go func() {
		if err := s.Serve(); err != nil {
			s.log.Error("serve", "err", err)
		}
	}()
	return nil
}

// Addr is the first listening address (host:port).
func (s *Server) Addr() string { return s.lns[0].Addr().String() }

// Addrs lists every listening address.
func (s *Server) Addrs() []string {
	var out []string
	for _, ln := range s.lns {
		out = append(out, ln.Addr().String())
	}
	return out
}

// URL is the proxy URL clients put in HTTPS_PROXY.
func (s *Server) URL() string { return "http://" + s.Addr() }

// CA is the authority clients must trust.
func (s *Server) CA() *certs.CA { return s.ca }

// Leaves are the certificates minted for intercepted hosts (and the TLS listeners).
func (s *Server) Leaves() *certs.Leaves { return s.leaves }

// Mode reports the proxy's mode.
func (s *Server) Mode() engine.Mode { return s.engine.Mode() }

// CassettePath is the cassette file the proxy records to or replays from ("" in passthrough).
func (s *Server) CassettePath() string { return s.cfg.cassette }

// Upstream is the guarded transport the proxy forwards through: the allow-list and the
// self-loop check in front of the real transport. Another face on the same process (the
// test-proxy protocol) forwards through it too.
func (s *Server) Upstream() http.RoundTripper { return s.upstream }

// Close stops listening, drops open connections and closes the cassette. Every interaction that
// completed is already on disk.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		for _, ln := range s.lns {
			if err := ln.Close(); err != nil && s.closeErr == nil && !errors.Is(err, net.ErrClosed) {
				s.closeErr = err
			}
		}
		s.conns.closeAll()
		if err := s.engine.Close(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// Summary reports the counts so far.
func (s *Server) Summary() engine.Summary { return s.engine.Summary() }

// Unused lists recorded interactions that were never replayed (replay and auto modes).
func (s *Server) Unused() []matcher.Unused { return s.engine.Unused() }
