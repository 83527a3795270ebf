// Package testproxy serves Microsoft's Azure SDK test-proxy protocol on azvcr's engine: the admin
// API (/Record/Start, /Playback/Start, /Admin/..., /Info/...), recording and playback sessions
// keyed by x-recording-id, each with its own engine, test-proxy's central sanitizers and those a
// harness adds (server-wide, snapshotted into each session at its start, or per session), its
// matcher and transforms, and recordings in test-proxy's JSON format (or azvcr's YAML, by file
// extension), restored from an assets repository when a harness names an assets.json. It is an
// http.Handler; the command serves it on the listeners test-proxy's --urls name.
package testproxy

import (
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/hostport"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
)

// Headers of the Azure SDK test-proxy protocol.
const (
	hRecordingID  = "X-Recording-Id"
	hMode         = "X-Recording-Mode"
	hUpstream     = "X-Recording-Upstream-Base-Uri"
	hSkip         = "X-Recording-Skip"
	hRemove       = "X-Recording-Remove"
	hPurge        = "X-Purge-Inmemory-Recording"
	hAbstraction  = "X-Abstraction-Identifier"
	hMismatch     = "X-Request-Mismatch"
	hMismatchText = "X-Request-Mismatch-Error"
)

type config struct {
	storage   string
	upstream  http.RoundTripper
	logger    *slog.Logger
	repeat    matcher.Repeat
	restore   func(assetsJSON string) (string, error)
	maxBody   int64
	localOnly bool
}

// Option configures a Server.
type Option func(*config)

// WithStorage sets the directory recording paths are relative to (test-proxy's
// --storage-location); the default is the working directory.
func WithStorage(dir string) Option { return func(c *config) { c.storage = dir } }

// WithUpstream sets the transport recording sessions forward through. Without one, record
// sessions answer every request with 502.
func WithUpstream(rt http.RoundTripper) Option { return func(c *config) { c.upstream = rt } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRepeat sets which requests may get their last recorded answer again once all are used.
// The default is matcher.RepeatNone: test-proxy answers each recording once.
func WithRepeat(r matcher.Repeat) Option { return func(c *config) { c.repeat = r } }

// WithRestore sets how an x-recording-assets-file is restored: given the assets.json path, it
// returns the directory recording paths are then relative to.
func WithRestore(f func(assetsJSON string) (string, error)) Option {
	return func(c *config) { c.restore = f }
}

// WithMaxBodySize bounds each body a session reads (and each admin request's body); 0 means no
// bound. The default is engine.DefaultMaxBodySize.
func WithMaxBodySize(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithLoopbackHostsOnly answers only requests whose Host is a loopback name or address: when
// the server listens on loopback only, a web page the user visits cannot drive it through a
// name that resolves to 127.0.0.1 (DNS rebinding).
func WithLoopbackHostsOnly() Option { return func(c *config) { c.localOnly = true } }

// Server is the test-proxy protocol.
type Server struct {
	cfg    config
	log    *slog.Logger
	routes map[string]http.HandlerFunc // admin routes, lower case
	reg    *registry

	mu         sync.Mutex
	sessions   map[string]*session
	finished   map[string]*cassette.Cassette // stopped in-memory recordings, for playback by id
	matcher    matcher.RecordMatcher         // server-wide
	transforms []*transform                  // server-wide
}

// New builds a test-proxy server with test-proxy's defaults: the central sanitizers (unless
// TEST_PROXY_DISABLE_DEFAULT_SANITIZERS is true), the default matcher and the default transforms.
func New(opts ...Option) *Server {
	cfg := config{repeat: matcher.RepeatNone, maxBody: engine.DefaultMaxBodySize}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.storage == "" {
		cfg.storage, _ = os.Getwd()
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.logger, reg: newRegistry(), sessions: map[string]*session{}, finished: map[string]*cassette.Cassette{},
		matcher: matcher.DefaultRecordMatcher(), transforms: defaultTransforms()}
	s.routes = map[string]http.HandlerFunc{
		"/admin/isalive":             s.isAlive,
		"/record/start":              s.recordStart,
		"/record/stop":               s.recordStop,
		"/playback/start":            s.playbackStart,
		"/playback/stop":             s.playbackStop,
		"/admin/addsanitizer":        s.addSanitizer,
		"/admin/addsanitizers":       s.addSanitizers,
		"/admin/removesanitizers":    s.removeSanitizers,
		"/admin/getsanitizers":       s.getSanitizers,
		"/admin/setmatcher":          s.setMatcher,
		"/admin/addtransform":        s.addTransform,
		"/admin/reset":               s.reset,
		"/admin/setrecordingoptions": s.setRecordingOptions,
		"/info/available":            s.infoAvailable,
		"/info/active":               s.infoActive,
	}
	return s
}

// ServeHTTP answers the protocol: as in test-proxy, traffic carrying a single x-recording-mode of
// record or playback is proxied whatever its path; everything else goes to the admin routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.localOnly && !hostport.IsLoopback(hostport.StripPort(r.Host)) {
		knownError(w, http.StatusForbidden, "azvcr listens on loopback only and answers requests addressed to a loopback name, not Host %q", r.Host)
		return
	}
	if modes := r.Header.Values(hMode); len(modes) == 1 && (strings.EqualFold(modes[0], "record") || strings.EqualFold(modes[0], "playback")) {
		s.proxied(w, r)
		return
	}
	route := strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
	if h, ok := s.routes[route]; ok {
		if s.cfg.maxBody > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.maxBody)
		}
		h(w, r)
		return
	}
	http.Error(w, "azvcr: not a test-proxy route: "+r.URL.Path, http.StatusNotFound)
}

func (s *Server) isAlive(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
