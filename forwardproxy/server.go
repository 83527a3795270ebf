// Package proxy is azvcr's server: an intercepting HTTP(S) proxy that records traffic to a cassette,
// replays it, or does both, behind an allow-list so that it never becomes an open proxy.
package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
)

// Mode selects what the proxy does with a request.
type Mode string

const (
	// Record forwards every request upstream and appends each interaction to a new cassette.
	Record Mode = "record"
	// Replay answers every request from the cassette and opens no network connection.
	Replay Mode = "replay"
	// Auto replays what the cassette holds and records (and appends) what it does not.
	Auto Mode = "auto"
	// Passthrough forwards without recording: the allow-list and interception, nothing written.
	Passthrough Mode = "passthrough"
	// TestProxy serves the Azure SDK test-proxy protocol: recording and playback sessions started
	// through its admin API, each with its own recording file. Forward-proxy traffic passes through.
	TestProxy Mode = "test-proxy"
)

// ParseMode accepts a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Record, Replay, Auto, Passthrough, TestProxy:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want record, replay, auto or passthrough)", s)
}

func (m Mode) forwards() bool { return m != Replay }
func (m Mode) replays() bool  { return m == Replay || m == Auto }
func (m Mode) records() bool  { return m == Record || m == Auto }

type config struct {
	cassette     string
	ca           *CA
	allowed      []string
	upstreamCAs  []string
	insecure     bool
	logger       *slog.Logger
	redactor     redact.Redactor
	upstreamTrip http.RoundTripper
	repeat       matcher.Repeat
	resolve      map[string]string // host[:port] -> address to dial instead
	storage      string            // test-proxy recordings root
	verifyKey    string            // base64 master key; "" when signatures are not checked
}

// Option configures a Server.
type Option func(*config) error

// WithCassette names the cassette file. Record, replay and auto need one.
func WithCassette(path string) Option { return func(c *config) error { c.cassette = path; return nil } }

// WithCA sets the CA that signs intercepted hosts' certificates. Without it the default CA
// directory is used, and a CA is created there on first use.
func WithCA(ca *CA) Option { return func(c *config) error { c.ca = ca; return nil } }

// WithAllowedHosts adds upstream hosts (exact names, *.suffix, or "loopback") to the defaults.
func WithAllowedHosts(hosts ...string) Option {
	return func(c *config) error { c.allowed = append(c.allowed, hosts...); return nil }
}

// WithUpstreamCA trusts the PEM certificates in file, in addition to the system roots, when
// connecting upstream.
func WithUpstreamCA(file string) Option {
	return func(c *config) error { c.upstreamCAs = append(c.upstreamCAs, file); return nil }
}

// WithUpstreamInsecure skips verification of upstream certificates (local emulators only).
func WithUpstreamInsecure() Option { return func(c *config) error { c.insecure = true; return nil } }

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
		if c.resolve == nil {
			c.resolve = map[string]string{}
		}
		c.resolve[strings.ToLower(host)] = addr
		return nil
	}
}

// WithStorage sets the directory test-proxy recording paths are relative to (test-proxy's
// --storage-location); the default is the working directory.
func WithStorage(dir string) Option { return func(c *config) error { c.storage = dir; return nil } }

// WithRepeat sets which requests may get their last recorded answer again once all are used
// (default matcher.RepeatMetadata).
func WithRepeat(r matcher.Repeat) Option { return func(c *config) error { c.repeat = r; return nil } }

// WithSignatureCheck makes replay verify Cosmos DB master-key signatures against keyBase64 (for
// example EmulatorKey) and answer 401, as Cosmos DB does, when one does not match.
func WithSignatureCheck(keyBase64 string) Option {
	return func(c *config) error {
		if _, err := newSignatureChecker(keyBase64); err != nil {
			return err
		}
		c.verifyKey = keyBase64
		return nil
	}
}

// WithUpstreamTransport replaces the transport used to reach upstreams (tests count dials with it).
func WithUpstreamTransport(rt http.RoundTripper) Option {
	return func(c *config) error { c.upstreamTrip = rt; return nil }
}

// Server is one azvcr proxy.
type Server struct {
	mode     Mode
	cfg      *config
	cassette string
	ca       *CA
	certs    *leafCache
	allow    *allowList
	redactor redact.Redactor
	upstream http.RoundTripper
	log      *slog.Logger
	index    *matcher.Index    // replay and auto
	sigs     *signatureChecker // nil unless signatures are checked
	tp       *testProxy        // the test-proxy protocol, served on direct requests
	journal  *cassette.Journal // record and auto
	gp       *goproxy.ProxyHttpServer
	http     *http.Server
	lns      []net.Listener
	conns    connTracker

	forwarded atomic.Int64
	closing   atomic.Bool
	started   time.Time
	closeOnce sync.Once
	closeErr  error
}

// New builds a server for mode. The cassette is loaded (replay, auto) or created (record) here,
// so a bad file fails before anything listens.
func New(mode Mode, opts ...Option) (*Server, error) {
	cfg := &config{redactor: redact.DefaultRules()}
	for _, o := range opts {
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if mode != Passthrough && mode != TestProxy && cfg.cassette == "" {
		return nil, fmt.Errorf("%s mode needs a cassette file", mode)
	}
	s := &Server{mode: mode, cassette: cfg.cassette, redactor: cfg.redactor, log: cfg.logger, started: time.Now(), cfg: cfg}
	var err error
	if s.allow, err = newAllowList(append(append([]string{}, DefaultAllowedHosts...), cfg.allowed...)); err != nil {
		return nil, err
	}
	if s.ca = cfg.ca; s.ca == nil {
		dir, err := DefaultCADir()
		if err != nil {
			return nil, err
		}
		if s.ca, _, err = InitCA(dir, false); err != nil {
			return nil, err
		}
	}
	if s.certs, err = newLeafCache(s.ca); err != nil {
		return nil, err
	}
	if mode.forwards() {
		if s.upstream = cfg.upstreamTrip; s.upstream == nil {
			if s.upstream, err = upstreamTransport(cfg.upstreamCAs, cfg.insecure, cfg.resolve); err != nil {
				return nil, err
			}
		}
	}
	if cfg.verifyKey != "" && mode.replays() {
		s.sigs, _ = newSignatureChecker(cfg.verifyKey) // validated by the option
	}
	if err := s.openCassette(); err != nil {
		return nil, err
	}
	s.tp = newTestProxy(s, cfg.storage)
	s.gp = s.newGoproxy()
	return s, nil
}

func (s *Server) openCassette() error {
	var existing *cassette.Cassette
	var err error
	switch s.mode {
	case Replay:
		existing, err = cassette.Load(s.cassette)
	case Record:
		s.journal, err = cassette.Create(s.cassette)
	case Auto:
		s.journal, existing, err = cassette.OpenAppend(s.cassette)
	}
	if err != nil {
		return err
	}
	if s.mode.replays() {
		if s.index, err = matcher.New(existing.Interactions, matcher.WithRepeat(s.cfg.repeat)); err != nil {
			return fmt.Errorf("%s: %w", s.cassette, err)
		}
	}
	return nil
}

// upstreamTransport verifies upstream TLS against the system roots plus extra CA files. It never
// uses a proxy from the environment: HTTPS_PROXY may point at azvcr itself.
func upstreamTransport(caFiles []string, insecure bool, resolve map[string]string) (*http.Transport, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caFiles) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, f := range caFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("upstream CA: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("upstream CA %s: no PEM certificate found", f)
			}
		}
		tlsCfg.RootCAs = pool
	}
	tlsCfg.InsecureSkipVerify = insecure
	return &http.Transport{
		Proxy:                 nil,
		TLSClientConfig:       tlsCfg,
		DialContext:           resolvingDialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}, resolve),
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}, nil
}

// resolvingDialer dials the address --resolve gives for a host, else the host itself.
func resolvingDialer(d *net.Dialer, resolve map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		to, ok := resolve[strings.ToLower(addr)]
		if !ok {
			to, ok = resolve[strings.ToLower(host)]
		}
		if ok {
			if _, _, err := net.SplitHostPort(to); err != nil {
				to = net.JoinHostPort(to, port)
			}
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
}

func (s *Server) newGoproxy() *goproxy.ProxyHttpServer {
	gp := goproxy.NewProxyHttpServer()
	gp.Logger = goproxyLog{log: s.log, closing: &s.closing}
	gp.Tr = &http.Transport{Proxy: nil, DialContext: refuseDial} // every request is answered by s.handle
	gp.ConnectDial = nil
	gp.ConnectDialWithReq = func(*http.Request, string, string) (net.Conn, error) {
		return nil, errors.New("azvcr does not tunnel: every CONNECT is intercepted")
	}
	gp.NonproxyHandler = http.HandlerFunc(s.serveDirect)
	gp.OnRequest().HandleConnectFunc(s.handleConnect)
	gp.OnRequest().DoFunc(s.handle)
	return gp
}

// handleConnect intercepts every allowed CONNECT; replay allows any host, since it connects nowhere.
func (s *Server) handleConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	if s.mode.forwards() && !s.allow.allows(host) {
		ctx.Resp = errorResponse(ctx.Req, http.StatusForbidden, notAllowedMessage(host))
		s.log.Warn("refused CONNECT to a host not on the allow-list", "host", host)
		return &goproxy.ConnectAction{Action: goproxy.ConnectReject}, host
	}
	return &goproxy.ConnectAction{
		Action: goproxy.ConnectMitm,
		TLSConfig: func(h string, _ *goproxy.ProxyCtx) (*tls.Config, error) {
			return s.certs.tlsConfig(h), nil
		},
	}, host
}

func notAllowedMessage(host string) string {
	return fmt.Sprintf("azvcr: %s is not an allowed upstream; azvcr forwards only to %s and hosts given with --allow-host\n",
		stripPort(host), strings.Join(DefaultAllowedHosts, ", "))
}

// Listen binds addr (host:port; port 0 picks a free one). It may be called more than once, and
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
	if host == "" || parseIP(host) != nil && parseIP(host).IsUnspecified() {
		host = "localhost"
	}
	s.addListener(tls.NewListener(ln, s.certs.tlsConfig(host)))
	return nil
}

func (s *Server) addListener(ln net.Listener) {
	s.lns = append(s.lns, &trackingListener{Listener: ln, tracker: &s.conns})
	if s.http == nil {
		s.http = &http.Server{Handler: s.gp, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	}
}

// Serve answers connections on every listener until Close. It returns nil after Close.
func (s *Server) Serve() error {
	if len(s.lns) == 0 {
		return errors.New("azvcr: Serve before Listen")
	}
	errs := make(chan error, len(s.lns))
	for _, ln := range s.lns {
		go func() { errs <- s.http.Serve(ln) }()
	}
	err := <-errs
	if errors.Is(err, http.ErrServerClosed) {
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

// Addr is the listening address (host:port).
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
func (s *Server) CA() *CA { return s.ca }

// Mode reports the server's mode.
func (s *Server) Mode() Mode { return s.mode }

// Close stops listening, drops open connections and closes the cassette. Every interaction that
// completed is already on disk.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		if s.http != nil {
			s.closeErr = s.http.Close()
		}
		s.conns.closeAll() // intercepted (hijacked) connections are not the http.Server's to close
		if s.journal != nil {
			if err := s.journal.Close(); err != nil && s.closeErr == nil {
				s.closeErr = err
			}
		}
	})
	return s.closeErr
}

// Summary counts what the session did.
type Summary struct {
	Mode      Mode
	Replayed  int // recorded interactions answered
	Unused    int // recorded interactions never asked for
	Misses    int // requests with no recording (replay) — recorded instead in auto mode
	Repeated  int // answers given again under the repeat policy
	Recorded  int // interactions appended to the cassette
	Forwarded int // requests sent upstream
}

// Summary reports the counts so far.
func (s *Server) Summary() Summary {
	sum := Summary{Mode: s.mode, Forwarded: int(s.forwarded.Load())}
	if s.index != nil {
		st := s.index.Stats()
		sum.Replayed, sum.Unused, sum.Misses, sum.Repeated = st.Replayed, st.Unused, st.Misses, st.Repeated
		if s.mode == Auto {
			sum.Replayed -= s.journal.Added() // recorded ones are indexed as used
		}
	}
	if s.journal != nil {
		sum.Recorded = s.journal.Added()
	}
	return sum
}

func (s Summary) String() string {
	switch s.Mode {
	case Record:
		return fmt.Sprintf("%d recorded", s.Recorded)
	case Passthrough:
		return fmt.Sprintf("%d forwarded", s.Forwarded)
	case Auto:
		return fmt.Sprintf("%d replayed, %d recorded, %d unused", s.Replayed, s.Recorded, s.Unused)
	}
	out := fmt.Sprintf("%d replayed, %d unused, %d misses", s.Replayed, s.Unused, s.Misses)
	if s.Repeated > 0 {
		out += fmt.Sprintf(" (%d metadata answers repeated)", s.Repeated)
	}
	return out
}

// Unused lists recorded interactions that were never replayed (replay and auto modes).
func (s *Server) Unused() []*cassette.Interaction {
	if s.index == nil {
		return nil
	}
	return s.index.Unused()
}
