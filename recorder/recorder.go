// Package recorder records and replays a Go test's HTTP traffic in process: one call gives the
// test an *http.Client (usable as azcore's ClientOptions.Transport) that answers from a cassette
// named after the test, or records one, with no proxy, CA or TLS interception in between.
//
//	func TestOrders(t *testing.T) {
//		client, err := azcosmos.NewClientWithKey(endpoint, cred, &azcosmos.ClientOptions{
//			ClientOptions: azcore.ClientOptions{Transport: recorder.New(t)},
//		})
//		...
//	}
//
// The mode comes from AZVCR_MODE (record, replay, auto, passthrough) or AZURE_RECORD_MODE (live,
// record, playback); the default is replay. Requests go through the same engine as azvcr's proxy,
// so redaction, matching, sequencing, miss explanations and LRO shaping are the proxy's. A
// request with no recording fails the test with azvcr's explanation (and the client still gets
// azvcr's 490 answer); recorded interactions the test never asked for are reported at cleanup.
package recorder

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/upstream"
	"github.com/azvcr/azvcr/wire"
)

// Recorder is one test's recorder. It is an http.RoundTripper and safe for concurrent use.
type Recorder struct {
	t         testing.TB
	cfg       *config
	engine    *engine.Engine
	path      string // the cassette
	recording string // record mode: the file being written, installed over path at cleanup
	release   func()
	stopped   atomic.Bool
}

// New starts a recorder for t and returns a client that uses it. The recorder stops when the
// test ends.
func New(t testing.TB, opts ...Option) *http.Client { return Start(t, opts...).Client() }

// Start starts a recorder for t; it stops when the test ends (Stop ends it sooner). A cassette
// that cannot be read, or a replay with no cassette, fails the test here.
func Start(t testing.TB, opts ...Option) *Recorder {
	t.Helper()
	r, err := start(t, opts)
	if err != nil {
		t.Fatalf("azvcr recorder: %v", err)
	}
	t.Cleanup(r.Stop)
	return r
}

func start(t testing.TB, opts []Option) (*Recorder, error) {
	cfg := &config{dir: DefaultCassetteDir}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.mode == "" {
		m, err := ModeFromEnv()
		if err != nil {
			return nil, err
		}
		cfg.mode = m
	}
	if _, err := engine.ParseMode(string(cfg.mode)); err != nil {
		return nil, err
	}
	r := &Recorder{t: t, cfg: cfg, path: cfg.cassette}
	if r.path == "" {
		r.path = CassettePath(cfg.dir, t.Name())
	}
	redactor, configFile, err := loadRedactor(cfg)
	if err != nil {
		return nil, err
	}
	if configFile != "" {
		t.Logf("azvcr: redaction rules from %s: %s", configFile, strings.Join(redactor.Names(), ", "))
	}
	eopts := []engine.Option{
		engine.WithRedactor(redactor),
		engine.WithMissResponse(r.miss),
		engine.WithLogger(cfg.logger), // nil discards
	}
	if cfg.mode.Forwards() {
		real := cfg.real
		if real == nil {
			wt, err := upstream.NewTransport(upstream.Options{})
			if err != nil {
				return nil, err
			}
			real = defaultTransport{wire: wt, proxied: http.DefaultTransport.(*http.Transport).Clone()}
		}
		eopts = append(eopts, engine.WithUpstream(real))
	}
	if cfg.verifyKey != "" {
		eopts = append(eopts, engine.WithSignatureCheck(cfg.verifyKey))
	}
	if cfg.maxBody != nil {
		eopts = append(eopts, engine.WithMaxBodySize(*cfg.maxBody))
	}
	if cfg.mode == ModePassthrough {
		r.engine, err = engine.New(cfg.mode, eopts...)
		return r, err
	}
	if r.release, err = claim(r.path, t.Name()); err != nil {
		return nil, err
	}
	if r.engine, err = r.open(eopts); err != nil {
		r.release()
		return nil, err
	}
	return r, nil
}

// open builds the engine over the cassette: read for replay, appended to for auto, and for
// record a new file beside it that replaces it only when the test passes.
func (r *Recorder) open(eopts []engine.Option) (*engine.Engine, error) {
	file := r.path
	switch r.cfg.mode {
	case ModeRecord:
		r.recording = r.path + recordingSuffix
		file = r.recording
		// A failed run's recording is this run's to replace, at once: left for the first
		// interaction to replace, it would be installed as the cassette of a run that records
		// nothing.
		if err := os.Remove(r.recording); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		fallthrough
	case ModeAuto:
		if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
			return nil, err
		}
	case ModeReplay:
		if _, err := os.Stat(r.path); errors.Is(err, os.ErrNotExist) {
			msg := fmt.Sprintf("no cassette at %s to replay: record it with %s=record go test -run '^%s$'",
				r.path, ModeEnv, strings.Split(r.t.Name(), "/")[0])
			if _, err := os.Stat(r.path + recordingSuffix); err == nil {
				msg += fmt.Sprintf(" (%s is the recording of a run that failed)", r.path+recordingSuffix)
			}
			return nil, errors.New(msg)
		}
	}
	return engine.Open(r.cfg.mode, file, r.cfg.repeat, eopts...)
}

// RoundTrip answers one request from the cassette, or sends it to the real service (and records
// it), as the mode says. A request with no recording gets azvcr's 490 answer and fails the test.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var refuse error
	if r.stopped.Load() {
		refuse = fmt.Errorf("azvcr recorder for %s: %s %s after the test ended", r.t.Name(), req.Method, req.URL.Redacted())
	} else {
		refuse = req.Context().Err()
	}
	if refuse != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, refuse
	}
	// The engine sees the request as a server would (the proxy's recordings are made from such):
	// Host set, header names canonical.
	in := *req
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.Header = canonical(req.Header)
	// The names as Go writes them: the keys as the client set them, sorted, one per value.
	x := &wire.Exchange{Request: goWireNames(req.Header)}
	resp := r.engine.Handle(in.WithContext(wire.With(req.Context(), x)))
	if msg := resp.Header.Get(engine.ErrorHeader); msg != "" {
		// The real transport failed (or the request could not be read): the client gets the
		// error it would have got without the recorder, not a made-up HTTP answer.
		resp.Body.Close()
		return nil, errors.New(msg)
	}
	resp.Request = req
	return resp, nil
}

// canonical returns h with canonical names, copying only when a name is not.
func canonical(h http.Header) http.Header {
	for k := range h {
		if http.CanonicalHeaderKey(k) != k {
			out := make(http.Header, len(h))
			for k, v := range h {
				ck := http.CanonicalHeaderKey(k)
				out[ck] = append(out[ck], v...)
			}
			return out
		}
	}
	return h
}

// defaultTransport reaches the real service as the SDK would without the recorder (TLS verified
// against the system roots, SSL_CERT_FILE included; the proxy the environment names), through
// azvcr's transport, which tells the names of the answer's header lines as the service spelled
// them (the cassette keeps them), unless the environment names a proxy for the request.
type defaultTransport struct{ wire, proxied http.RoundTripper }

func (t defaultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if u, err := http.ProxyFromEnvironment(r); err == nil && u != nil {
		return t.proxied.RoundTrip(r)
	}
	return t.wire.RoundTrip(r)
}

// goWireNames lists h's keys the way net/http's client writes them: as set, sorted, one per value.
func goWireNames(h http.Header) []string {
	keys := slices.Sorted(maps.Keys(h))
	var names []string
	for _, k := range keys {
		for range h[k] {
			names = append(names, k)
		}
	}
	return names
}

// miss fails the test with azvcr's explanation and answers as the proxy does.
func (r *Recorder) miss(req *http.Request, m *matcher.Miss) *http.Response {
	if !r.stopped.Load() {
		r.t.Errorf("azvcr: %s (cassette %s)", m, r.path)
	}
	return engine.MissResponse(req, m)
}

// Client is an *http.Client whose transport is the recorder.
func (r *Recorder) Client() *http.Client { return &http.Client{Transport: r} }

// Mode is the mode the recorder runs in.
func (r *Recorder) Mode() Mode { return r.cfg.mode }

// CassettePath is the cassette the recorder replays from or records to.
func (r *Recorder) CassettePath() string { return r.path }

// Summary counts what the recorder did so far.
func (r *Recorder) Summary() engine.Summary { return r.engine.Summary() }

// Stop ends the recorder: it reports recorded interactions the test never asked for and, in
// record mode, makes the new recording the cassette if the test passed (else leaves the old
// cassette as it was, and the new recording beside it). Requests after Stop fail. It runs at the
// test's cleanup; calling it sooner is allowed.
func (r *Recorder) Stop() {
	t := r.t
	t.Helper()
	if r.stopped.Swap(true) {
		return
	}
	sum := r.engine.Summary()
	if r.cfg.mode.Replays() {
		r.reportUnused()
	}
	if err := r.engine.Close(); err != nil {
		t.Errorf("azvcr: closing %s: %v", r.path, err)
	}
	if r.release != nil {
		r.release()
	}
	if r.recording != "" {
		if t.Failed() {
			t.Logf("azvcr: the test failed, so %s is unchanged; this run's recording is in %s", r.path, r.recording)
			return
		}
		if _, err := os.Stat(r.path); err == nil && sum.Recorded == 0 {
			t.Logf("azvcr: the test recorded nothing, so %s is unchanged", r.path)
			os.Remove(r.recording)
			return
		}
		if err := install(r.recording, r.path); err != nil {
			t.Errorf("azvcr: %v", err)
			return
		}
	}
	if r.cfg.mode != ModePassthrough {
		t.Logf("azvcr: %s: %s", r.path, sum)
	}
}

func (r *Recorder) reportUnused() {
	r.t.Helper()
	unused := r.engine.Unused()
	if len(unused) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "azvcr: %d recorded interactions in %s were never requested:", len(unused), r.path)
	for i, it := range unused {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(unused)-10)
			break
		}
		fmt.Fprintf(&b, "\n  #%d %s %s", it.ID, it.Method, it.URL)
	}
	if r.cfg.failOnUnused {
		r.t.Error(b.String())
	} else {
		r.t.Log(b.String())
	}
}
