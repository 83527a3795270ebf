// Package testproxy serves Microsoft's Azure SDK test-proxy protocol on azvcr's engine: the admin
// API (/Record/Start, /Playback/Start, /Admin/...), recording and playback sessions keyed by
// x-recording-id, each with its own engine, sanitizers (mapped onto azvcr's redaction rules),
// matcher settings and transforms, server-wide or per session, and recordings in test-proxy's
// JSON format (or azvcr's YAML, by file extension). It is an http.Handler; the command serves it
// on the listeners test-proxy's --urls name.
package testproxy

import (
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
)

// Headers of the Azure SDK test-proxy protocol.
const (
	hRecordingID  = "X-Recording-Id"
	hMode         = "X-Recording-Mode"
	hUpstream     = "X-Recording-Upstream-Base-Uri"
	hSkip         = "X-Recording-Skip"
	hAbstraction  = "X-Abstraction-Identifier"
	hMismatch     = "X-Request-Mismatch"
	hMismatchText = "X-Request-Mismatch-Error"
)

type config struct {
	storage  string
	upstream http.RoundTripper
	redactor redact.Redactor
	logger   *slog.Logger
	repeat   matcher.Repeat
}

// Option configures a Server.
type Option func(*config)

// WithStorage sets the directory recording paths are relative to (test-proxy's
// --storage-location); the default is the working directory.
func WithStorage(dir string) Option { return func(c *config) { c.storage = dir } }

// WithUpstream sets the transport recording sessions forward through. Without one, record
// sessions answer every request with 502.
func WithUpstream(rt http.RoundTripper) Option { return func(c *config) { c.upstream = rt } }

// WithRedactor sets azvcr's own rules, applied before the sanitizers (default redact.DefaultRules).
func WithRedactor(r redact.Redactor) Option { return func(c *config) { c.redactor = r } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRepeat sets which requests may get their last recorded answer again once all are used.
func WithRepeat(r matcher.Repeat) Option { return func(c *config) { c.repeat = r } }

// Server is the test-proxy protocol.
type Server struct {
	cfg    config
	log    *slog.Logger
	routes map[string]http.HandlerFunc // admin routes, lower case

	mu        sync.Mutex
	sessions  map[string]*session
	finished  map[string]*cassette.Cassette // stopped in-memory recordings, for playback by id
	sanitizer []namedRule                   // server-wide, in the order added
	ignore    matcher.Ignore                // server-wide matcher settings
	transform []transform
}

type namedRule struct {
	id   string
	rule redact.Rule
}

// New builds a test-proxy server.
func New(opts ...Option) *Server {
	cfg := config{redactor: redact.DefaultRules()}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.storage == "" {
		cfg.storage, _ = os.Getwd()
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.logger, sessions: map[string]*session{}, finished: map[string]*cassette.Cassette{}}
	s.routes = map[string]http.HandlerFunc{
		"/admin/isalive":             s.isAlive,
		"/record/start":              s.recordStart,
		"/record/stop":               s.recordStop,
		"/playback/start":            s.playbackStart,
		"/playback/stop":             s.playbackStop,
		"/admin/addsanitizer":        s.addSanitizer,
		"/admin/addsanitizers":       s.addSanitizers,
		"/admin/removesanitizers":    s.removeSanitizers,
		"/admin/setmatcher":          s.setMatcher,
		"/admin/addtransform":        s.addTransform,
		"/admin/reset":               s.reset,
		"/admin/setrecordingoptions": s.setRecordingOptions,
	}
	return s
}

// ServeHTTP answers the protocol: as in test-proxy, traffic carrying a single x-recording-mode of
// record or playback is proxied whatever its path; everything else goes to the admin routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if modes := r.Header.Values(hMode); len(modes) == 1 && (strings.EqualFold(modes[0], "record") || strings.EqualFold(modes[0], "playback")) {
		s.proxied(w, r)
		return
	}
	route := strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
	if h, ok := s.routes[route]; ok {
		h(w, r)
		return
	}
	http.Error(w, "azvcr: not a test-proxy route: "+r.URL.Path, http.StatusNotFound)
}

func (s *Server) isAlive(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
