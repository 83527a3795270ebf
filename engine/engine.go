// Package engine decides, for one request, whether it is answered from the recording or sent
// upstream, and records what was sent. It redacts the live request for matching, looks it up in
// the index, forwards through the http.RoundTripper it was given, redacts and hands what it
// recorded to a Sink, and counts. It knows nothing of how the request arrived: CONNECT and TLS
// interception, the test-proxy admin API and testing.T belong to the faces above it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/upstream"
	"github.com/azvcr/azvcr/wire"
)

// Sink receives each recorded interaction, redacted. *cassette.Journal is one; a test-proxy
// session keeps them in memory until it is stopped.
type Sink interface {
	Add(*cassette.Interaction) error
}

// Engine answers requests for one recording session. It is safe for concurrent use.
type Engine struct {
	mode     Mode
	rules    atomic.Pointer[rules]
	index    atomic.Pointer[matcher.Index]
	sink     Sink
	upstream http.RoundTripper
	sigs     *signatureChecker
	log      *slog.Logger
	onMiss   func(*http.Request, *matcher.Miss) *http.Response
	keep     func(*http.Request, *cassette.Interaction) bool
	capture  func(http.Header) http.Header
	shape    func(*http.Request, *cassette.Interaction, *http.Response)
	refuse   func(host string) *upstream.Refusal
	maxBody  int64
	file     io.Closer // the cassette replay reads recordings from (Open)

	sharedAnswers bool      // WithSharedAnswers
	closing       sync.Once // of file

	forwarded atomic.Int64
	recorded  atomic.Int64
}

// Option configures an Engine.
type Option func(*Engine) error

// WithIndex sets the recorded interactions replay answers from (Replay and Auto need one).
func WithIndex(x *matcher.Index) Option {
	return func(e *Engine) error { e.index.Store(x); return nil }
}

// WithSink sets where recorded interactions go (Record and Auto need one).
func WithSink(s Sink) Option { return func(e *Engine) error { e.sink = s; return nil } }

// WithUpstream sets the transport forwarded requests take (every mode but Replay needs one). Wrap
// it in an upstream.Guard: a *upstream.Refusal it returns is answered with its status and
// nothing is recorded.
func WithUpstream(rt http.RoundTripper) Option {
	return func(e *Engine) error { e.upstream = rt; return nil }
}

// WithRedactor sets the redaction rules; the default is redact.DefaultRules().
func WithRedactor(r redact.Redactor) Option {
	return func(e *Engine) error { e.SetRedactor(r); return nil }
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) error { e.log = l; return nil } }

// WithSignatureCheck makes replay verify Cosmos DB master-key signatures against keyBase64 (for
// example EmulatorKey) and answer 401, as Cosmos DB does, when one does not match.
func WithSignatureCheck(keyBase64 string) Option {
	return func(e *Engine) error {
		c, err := newSignatureChecker(keyBase64)
		e.sigs = c
		return err
	}
}

// WithMissResponse replaces the answer to a request with no recording (default MissResponse).
func WithMissResponse(f func(*http.Request, *matcher.Miss) *http.Response) Option {
	return func(e *Engine) error { e.onMiss = f; return nil }
}

// WithRecordFilter is called with each forwarded exchange before it is redacted and recorded; it
// may edit the interaction, or return false to leave it out of the recording.
func WithRecordFilter(f func(*http.Request, *cassette.Interaction) bool) Option {
	return func(e *Engine) error { e.keep = f; return nil }
}

// WithHeaderCapture sets which of a live request's headers are recorded and matched; the default
// keeps all but the hop-by-hop ones. Forwarded requests lose the hop-by-hop headers either way.
func WithHeaderCapture(f func(http.Header) http.Header) Option {
	return func(e *Engine) error { e.capture = f; return nil }
}

// WithReplayShape replaces azvcr's shaping of replayed answers (Retry-After-Ms on long-running
// operations and throttling): f may edit the answer, given the request and the recording.
func WithReplayShape(f func(*http.Request, *cassette.Interaction, *http.Response)) Option {
	return func(e *Engine) error { e.shape = f; return nil }
}

// WithHostCheck makes replay refuse, as recording would have, a request to a host check refuses
// (the allow-list of an upstream.Guard) when the recording holds nothing for that host: the
// client gets the same 403 in both modes, and it is not a miss.
func WithHostCheck(check func(host string) *upstream.Refusal) Option {
	return func(e *Engine) error { e.refuse = check; return nil }
}

// Refuses reports the Refusal replay answers a request to host with (see WithHostCheck), or nil.
func (e *Engine) Refuses(host string) *upstream.Refusal {
	if e.refuse == nil || e.mode != Replay {
		return nil
	}
	if rf := e.refuse(host); rf != nil && !e.index.Load().RecordsHost(host) {
		return rf
	}
	return nil
}

type keepKey struct{}

// KeepRecording marks a request whose recorded answer stays available after it is replayed.
func KeepRecording(ctx context.Context) context.Context {
	return context.WithValue(ctx, keepKey{}, true)
}

// New builds an engine for mode.
func New(mode Mode, opts ...Option) (*Engine, error) {
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, err
	}
	e := &Engine{mode: mode, onMiss: MissResponse, maxBody: DefaultMaxBodySize}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if e.rules.Load() == nil {
		e.SetRedactor(redact.DefaultRules())
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case mode.Replays() && e.index.Load() == nil:
		return nil, fmt.Errorf("engine: %s mode needs an index of recorded interactions", mode)
	case mode.Records() && e.sink == nil:
		return nil, fmt.Errorf("engine: %s mode needs somewhere to record", mode)
	case mode.Forwards() && e.upstream == nil:
		return nil, fmt.Errorf("engine: %s mode needs an upstream transport", mode)
	}
	if !mode.Replays() {
		e.sigs = nil // signatures are checked against the playback key only
	}
	return e, nil
}

// Mode reports the engine's mode.
func (e *Engine) Mode() Mode { return e.mode }

// Redactor is the rules in force.
func (e *Engine) Redactor() redact.Redactor { return e.rules.Load().redactor }

// SetRedactor replaces the rules for requests that arrive from now on.
func (e *Engine) SetRedactor(r redact.Redactor) {
	e.rules.Store(&rules{redactor: r, omittable: r.Omittable()})
}

// rules are the redaction rules in force, with what matching may leave out before them.
type rules struct {
	redactor  redact.Redactor
	omittable func(name string, values []string) bool
}

// SetIndex replaces what replay answers from (a harness changed the matcher mid-session).
func (e *Engine) SetIndex(x *matcher.Index) { e.index.Store(x) }

// Handle answers one request. r.URL must be absolute: the upstream it is addressed to. The
// answer is always an HTTP response: a miss, a refused host or an unreachable upstream are
// answers too, never an error.
func (e *Engine) Handle(r *http.Request) *http.Response {
	var body string
	if r.Body != nil {
		var err error
		body, err = readBody(r.Body, r.ContentLength, e.maxBody, "request body")
		if tl, ok := asTooLarge(err); ok { // the rest is left unread, and the connection closed
			e.log.Warn("request body over the limit", "method", r.Method, "url", r.URL.String(), "limit", e.maxBody)
			return tooLarge(r, tl)
		}
		r.Body.Close()
		if err != nil {
			return ErrorResponse(r, http.StatusBadRequest, "reading the request body: "+err.Error())
		}
	}
	x := wire.From(r.Context())
	if e.sigs != nil {
		if deny := e.sigs.check(r); deny != nil {
			e.log.Warn("signature does not match the playback key", "method", r.Method, "url", r.URL.String())
			return deny
		}
	}
	if rf := e.Refuses(r.URL.Host); rf != nil {
		return ErrorResponse(r, rf.Status, rf.Message)
	}
	var live *cassette.Request // captured when first needed: a replayed answer needs none
	if e.mode.Replays() {
		rules, index := e.rules.Load(), e.index.Load()
		var probe cassette.Request
		if reads := index.HeaderReads(); reads != nil && rules.omittable != nil && e.capture == nil {
			probe = matchProbe(r, body, reads, rules.omittable)
		} else {
			live = e.live(r, body)
			probe = cloneRequest(*live)
		}
		rules.redactor.Request(&probe)
		keep, _ := r.Context().Value(keepKey{}).(bool)
		it, memo, miss := index.Take(&probe, !keep)
		if it != nil {
			if e.log.Enabled(r.Context(), slog.LevelDebug) {
				e.log.Debug("replayed", "method", r.Method, "url", r.URL.String(), "id", it.ID)
			}
			resp, head := e.replayAnswer(r, it, memo)
			x.SetResponse(it.Response.HeaderNames)
			x.SetResponseHead(head)
			if e.shape != nil {
				e.shape(r, it, resp)
			}
			return resp
		}
		if e.mode == Replay {
			e.log.Warn("no recording", "miss", miss.String())
			return e.onMiss(r, miss)
		}
	}
	if live == nil {
		live = e.live(r, body)
	}
	resp, rec := e.roundTrip(r, *live, body)
	if rec != nil {
		x.SetResponse(rec.HeaderNames)
	}
	if rec != nil && e.mode.Records() {
		e.record(r, *live, *rec)
	}
	return resp
}

// live captures the request as it is recorded and, when no probe is made for it, matched.
func (e *Engine) live(r *http.Request, body string) *cassette.Request {
	live := requestFromHTTP(r, body)
	if e.capture != nil {
		live.Headers = e.capture(r.Header)
		live.HeaderNames = fitNames(live.Headers, live.HeaderNames)
	}
	return &live
}

// roundTrip sends r upstream. It returns the response for the client, and the response as
// recorded (body decoded), or nil when azvcr answered itself (refused, unreachable).
func (e *Engine) roundTrip(r *http.Request, live cassette.Request, body string) (*http.Response, *cassette.Response) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), strings.NewReader(body))
	if err != nil {
		return ErrorResponse(r, http.StatusBadRequest, err.Error()), nil
	}
	out.Header = cleanHeader(r.Header)
	out.Host = r.Host
	// The upstream gets the header lines as the client sent them (Host among them), and tells
	// the names of its own.
	sent := &wire.Exchange{Request: wire.From(r.Context()).RequestNames()}
	out = out.WithContext(wire.With(out.Context(), sent))
	out.ContentLength = int64(len(body))
	if len(body) == 0 {
		out.Body = http.NoBody
	}
	start := time.Now()
	resp, err := e.upstream.RoundTrip(out)
	if err != nil {
		var refused *upstream.Refusal
		if errors.As(err, &refused) {
			return ErrorResponse(r, refused.Status, refused.Message), nil
		}
		e.log.Warn("upstream failed", "method", r.Method, "url", live.URL, "err", err)
		return ErrorResponse(r, http.StatusBadGateway, fmt.Sprintf("azvcr: upstream %s failed: %v", r.URL.Host, err)), nil
	}
	rec, err := readResponse(resp, sent.Response, time.Since(start), e.maxBody)
	if tl, ok := asTooLarge(err); ok {
		e.log.Warn("upstream response over the limit", "url", live.URL, "limit", e.maxBody)
		return ErrorResponse(r, http.StatusBadGateway, fmt.Sprintf("azvcr: the answer from %s was not relayed: %v", r.URL.Host, tl)), nil
	}
	if err != nil {
		e.log.Warn("upstream response unreadable", "url", live.URL, "err", err)
		return ErrorResponse(r, http.StatusBadGateway, fmt.Sprintf("azvcr: reading the response from %s: %v", r.URL.Host, err)), nil
	}
	e.forwarded.Add(1)
	return responseFromCassette(r, &rec), &rec // built before redaction: the client gets real values
}

func (e *Engine) record(r *http.Request, live cassette.Request, rec cassette.Response) {
	it := &cassette.Interaction{Request: cloneRequest(live), Response: cloneResponse(rec)}
	if e.keep != nil && !e.keep(r, it) {
		return
	}
	e.Redactor().Interaction(it)
	// Redaction may have removed headers: the names follow.
	it.Request.HeaderNames = fitNames(it.Request.Headers, it.Request.HeaderNames)
	it.Response.HeaderNames = fitNames(it.Response.Headers, it.Response.HeaderNames)
	if err := e.sink.Add(it); err != nil {
		e.log.Error("could not record interaction", "url", live.URL, "err", err)
		return
	}
	e.recorded.Add(1)
	if x := e.index.Load(); x != nil && e.mode.Replays() {
		if err := x.AddUsed(it); err != nil {
			e.log.Warn("recorded interaction not indexed", "id", it.ID, "err", err)
		}
	}
	e.log.Debug("recorded", "method", live.Method, "url", live.URL, "id", it.ID, "status", rec.Code)
}
