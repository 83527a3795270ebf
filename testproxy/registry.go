package testproxy

import (
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cores"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
)

// disableDefaultsEnv turns test-proxy's central sanitizers off when it is "true".
const disableDefaultsEnv = "TEST_PROXY_DISABLE_DEFAULT_SANITIZERS"

// removeDefaultsEnv is azvcr's finer switch: a comma-separated list of central ids left out of
// the server-wide set (and out of what /Admin/Reset restores), for suites recorded before the
// central set existed whose harness does not remove them itself.
const removeDefaultsEnv = "AZVCR_TEST_PROXY_REMOVE_SANITIZERS"

// registered is a sanitizer under its id: AZSDKnnnn for the central ones, a process-wide
// counter ("1", "2", ...) for those a harness adds.
type registered struct {
	id, kind    string
	args        map[string]any
	description string
	san         sanitizer
}

// registry holds every sanitizer by id, and the server-wide list: the ids, in order, that each
// new session starts with. Sessions keep their own list (a snapshot plus their own additions).
type registry struct {
	mu      sync.Mutex
	byID    map[string]*registered
	central []string // the central ids, in order; none when disabled
	server  []string
	next    uint64
	plans   map[string]*plan // compiled plans by their ids, joined
}

func newRegistry() *registry {
	g := &registry{byID: map[string]*registered{}, plans: map[string]*plan{}}
	if !strings.EqualFold(strings.TrimSpace(os.Getenv(disableDefaultsEnv)), "true") {
		left := strings.Split(os.Getenv(removeDefaultsEnv), ",")
		for i := range left {
			left[i] = strings.TrimSpace(left[i])
		}
		for _, c := range centralSanitizers {
			if slices.Contains(left, c.id) {
				continue
			}
			r, err := g.build(c.id, c.kind, c.args)
			if err != nil {
				panic("central sanitizer " + c.id + ": " + err.Error())
			}
			r.description = c.description
			g.byID[c.id] = r
			g.central = append(g.central, c.id)
		}
	}
	g.server = slices.Clone(g.central)
	return g
}

// build makes a sanitizer from string arguments (the central table's form).
func (g *registry) build(id, kind string, args map[string]string) (*registered, error) {
	a := ctorArgs{}
	for k, v := range args {
		a[k] = []byte(strconv.Quote(v))
	}
	var s sanitizer
	var err error
	if kind == "RecordedTestSanitizer" {
		s = entrySanitizer{baseEntry}
	} else if s, err = newSanitizer(kind, a); err != nil {
		return nil, err
	}
	return &registered{id: id, kind: kind, args: a.listing(), san: s}, nil
}

// add registers a sanitizer a harness asked for under the next id.
func (g *registry) add(kind string, a ctorArgs) (*registered, error) {
	s, err := newSanitizer(kind, a)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	r := &registered{id: strconv.FormatUint(g.next, 10), kind: kind, args: a.listing(), san: s}
	g.byID[r.id] = r
	return r, nil
}

// addServer appends a registered sanitizer to the server-wide list.
func (g *registry) addServer(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.server = append(g.server, id)
}

// serverList is a copy of the server-wide ids: a new session's snapshot.
func (g *registry) serverList() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.server)
}

// removeServer takes an id off the server-wide list; false when it was not on it.
func (g *registry) removeServer(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.server, id); i >= 0 {
		g.server = slices.Delete(g.server, i, i+1)
		return true
	}
	return false
}

// reset puts the server-wide list back to the central set.
func (g *registry) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.server = slices.Clone(g.central)
}

// forget drops sanitizers a finished session added.
func (g *registry) forget(ids []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range ids {
		delete(g.byID, id)
	}
	if len(ids) > 0 {
		clear(g.plans)
	}
}

// maxPlans bounds the compiled plans kept: one per list of sanitizers in use, which sessions
// mostly share.
const maxPlans = 64

// plan is ids resolved and compiled, once for each list: an id names the same sanitizer for as
// long as it is registered, so a list added to or taken from is a new list, compiled anew.
func (g *registry) plan(ids []string) *plan {
	key := strings.Join(ids, "\x00")
	g.mu.Lock()
	p := g.plans[key]
	g.mu.Unlock()
	if p != nil {
		return p
	}
	p = compilePlan(g.resolve(ids))
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.plans) >= maxPlans {
		clear(g.plans)
	}
	g.plans[key] = p
	return p
}

// resolve turns ids into sanitizers, in order; unknown ids are skipped.
func (g *registry) resolve(ids []string) []*registered {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*registered, 0, len(ids))
	for _, id := range ids {
		if r := g.byID[id]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// listing is a GetSanitizers entry: {"Id", "Sanitizer", "Description"}.
func (r *registered) listing() map[string]any {
	s := map[string]any{"Name": r.kind}
	for k, v := range r.args {
		s[k] = v
	}
	var desc any
	if r.description != "" {
		desc = r.description
	}
	return map[string]any{"Id": r.id, "Sanitizer": s, "Description": desc}
}

// sanitizable says which bodies sanitizers edit: test-proxy's text bodies, and multipart ones,
// whose text parts it edits.
func sanitizable(h http.Header) bool {
	return testproxyjson.IsText(h) || strings.HasPrefix(strings.ToLower(strings.TrimSpace(headerValue(h, "Content-Type"))), "multipart/")
}

func headerValue(h http.Header, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// plan is a list of sanitizers compiled once to be applied: each run of sanitizers that edit
// every exchange on its own is one redact.SanitizerSet; the sanitizers that work on the recording
// as a whole (RegexEntrySanitizer, OAuthResponseSanitizer, ContinuationSanitizer) stand between
// runs. A plan edits exactly as applying the sanitizers one by one does, and is safe for
// concurrent use.
type plan struct {
	sans  []*registered
	steps []planStep
}

// planStep is a run of sanitizers that edit each exchange alike, or one that works on the whole
// recording.
type planStep struct {
	set *redact.SanitizerSet
	san sanitizer
}

// recordingOptions are how a recording's exchanges are sanitized: bodies too, when they are text.
var recordingOptions = redact.SanitizeOptions{Bodies: true, IsText: sanitizable}

// compilePlan compiles sanitizers, applied in order.
func compilePlan(sans []*registered) *plan {
	p := &plan{sans: sans}
	for i := 0; i < len(sans); {
		if run := entryRules(sans[i:]); len(run) > 0 {
			p.steps = append(p.steps, planStep{set: redact.NewSanitizerSet(run)})
			i += len(run)
			continue
		}
		p.steps = append(p.steps, planStep{san: sans[i].san})
		i++
	}
	return p
}

// Entry edits one exchange as the plan's sanitizers do to an exchange seen alone (those that work
// on the whole recording act as the base sanitizer: Authorization becomes "Sanitized"), with
// bodies and text as o says.
func (p *plan) Entry(it *cassette.Interaction, o redact.SanitizeOptions) {
	for _, st := range p.steps {
		if st.set != nil {
			st.set.Sanitize(it, o)
		} else {
			st.san.entry(it, o)
		}
	}
}

// Request applies the plan to a request alone, as part of an exchange with an empty response
// (a live request in playback; a recorded one, see Deferred).
func (p *plan) Request(req *cassette.Request, o redact.SanitizeOptions) {
	it := &cassette.Interaction{Request: *req, Response: cassette.Response{Headers: http.Header{}}}
	if it.Request.Headers == nil {
		it.Request.Headers = http.Header{}
	}
	p.Entry(it, o)
	*req = it.Request
}

// Recording applies the plan to a whole recording (at /Record/Stop, and to a recording loaded
// for playback); exchanges may be dropped. A run of sanitizers that edit each exchange on its own
// is applied exchange by exchange, the exchanges shared out over the cores.
func (p *plan) Recording(its []*cassette.Interaction) []*cassette.Interaction {
	if !distinctEntries(its) { // an exchange listed twice is edited once per listing, sanitizer by sanitizer
		for _, r := range p.sans {
			its = r.san.recording(its, recordingOptions)
		}
		return its
	}
	for _, st := range p.steps {
		if st.set == nil {
			its = st.san.recording(its, recordingOptions)
			continue
		}
		eachEntry(its, func(it *cassette.Interaction) { st.set.Sanitize(it, recordingOptions) })
	}
	return its
}

// Deferred applies the plan to the requests of a recording loaded for playback, which is all
// matching reads, and defers each whole exchange to when it is first served (cassette.Deferred):
// a session answers its first request without sanitizing every recorded response first. It
// returns false, and does nothing, when the plan cannot be split so: a sanitizer works on the
// whole recording, one's effect on a request depends on the response, or an exchange is listed
// twice. The request-only pass gives what the whole pass gives the request: each rule edits one
// side at a time, and the live requests matched against them are sanitized the same way.
func (p *plan) Deferred(its []*cassette.Interaction) ([]*cassette.Interaction, bool) {
	for _, st := range p.steps {
		if st.set == nil || slices.ContainsFunc(st.set.Rules(), (*redact.SanitizerRule).ReadsResponse) {
			return nil, false
		}
	}
	if !distinctEntries(its) {
		return nil, false
	}
	out := make([]*cassette.Interaction, len(its))
	eachIndex(len(its), func(i int) {
		whole := its[i]
		light := &cassette.Interaction{ID: whole.ID, Request: whole.Request}
		light.Request.Headers = whole.Request.Headers.Clone() // edited apart from whole's
		light.Request.HeaderNames = slices.Clone(whole.Request.HeaderNames)
		p.Request(&light.Request, recordingOptions)
		out[i] = cassette.Deferred(light, func() (*cassette.Interaction, error) {
			p.Entry(whole, recordingOptions)
			return whole, nil
		})
	})
	return out, true
}

// Playback sanitizes a recording loaded for playback: Deferred when the plan can be split so,
// else Recording.
func (p *plan) Playback(its []*cassette.Interaction) []*cassette.Interaction {
	if light, ok := p.Deferred(its); ok {
		return light
	}
	return p.Recording(its)
}

// sanitizeRecording applies sanitizers in order to a whole recording.
func sanitizeRecording(sans []*registered, its []*cassette.Interaction) []*cassette.Interaction {
	return compilePlan(sans).Recording(its)
}

// entryRules returns the rules of the sanitizers at the start of sans that edit each exchange
// on its own.
func entryRules(sans []*registered) []*redact.SanitizerRule {
	var run []*redact.SanitizerRule
	for _, r := range sans {
		e, ok := r.san.(entrySanitizer)
		if !ok {
			break
		}
		run = append(run, e.rule)
	}
	return run
}

// distinctEntries says whether no exchange is listed twice: then sanitizing exchange by exchange
// is sanitizing sanitizer by sanitizer.
func distinctEntries(its []*cassette.Interaction) bool {
	seen := make(map[*cassette.Interaction]struct{}, len(its))
	for _, it := range its {
		if _, dup := seen[it]; dup {
			return false
		}
		seen[it] = struct{}{}
	}
	return true
}

// eachEntry calls f on every exchange, on as many goroutines as there are cores.
func eachEntry(its []*cassette.Interaction, f func(*cassette.Interaction)) {
	eachIndex(len(its), func(i int) { f(its[i]) })
}

// eachIndex calls f on every i in [0, n), on as many goroutines as there are cores.
func eachIndex(n int, f func(int)) {
	cores.Each(n, 32, func() func(int) { return f })
}

// requestRule is the session's sanitizers as a redaction rule for live requests in playback:
// they see the request alone, and its body only when the matcher compares bodies.
type requestRule struct {
	plan   *plan
	bodies bool
}

func (requestRule) Name() string                      { return "test-proxy sanitizers" }
func (requestRule) RedactResponse(*cassette.Response) {}
func (q requestRule) RedactRequest(req *cassette.Request) {
	q.plan.Request(req, redact.SanitizeOptions{Bodies: q.bodies, IsText: sanitizable})
}
