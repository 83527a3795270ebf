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
}

func newRegistry() *registry {
	g := &registry{byID: map[string]*registered{}}
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

// sanitizeRecording applies sanitizers in order to a whole recording (at /Record/Stop, and to a
// recording loaded for playback); exchanges may be dropped. A run of sanitizers that edit each
// exchange on its own is applied exchange by exchange, the exchanges shared out over the cores.
func sanitizeRecording(sans []*registered, its []*cassette.Interaction) []*cassette.Interaction {
	o := redact.SanitizeOptions{Bodies: true, IsText: sanitizable}
	distinct := distinctEntries(its)
	for i := 0; i < len(sans); {
		run := entryRules(sans[i:])
		if len(run) == 0 || !distinct {
			its = sans[i].san.recording(its, o)
			i++
			continue
		}
		eachEntry(its, func(it *cassette.Interaction) { redact.SanitizeAll(run, it, o) })
		i += len(run)
	}
	return its
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
	cores.Each(len(its), 32, func() func(int) { return func(i int) { f(its[i]) } })
}

// requestRule is the session's sanitizers as a redaction rule for live requests in playback:
// they see the request alone, and its body only when the matcher compares bodies.
type requestRule struct {
	sans   []*registered
	bodies bool
}

func (requestRule) Name() string                      { return "test-proxy sanitizers" }
func (requestRule) RedactResponse(*cassette.Response) {}
func (q requestRule) RedactRequest(req *cassette.Request) {
	it := &cassette.Interaction{Request: *req, Response: cassette.Response{Headers: http.Header{}}}
	if it.Request.Headers == nil {
		it.Request.Headers = http.Header{}
	}
	o := redact.SanitizeOptions{Bodies: q.bodies, IsText: sanitizable}
	for i := 0; i < len(q.sans); {
		if run := entryRules(q.sans[i:]); len(run) > 0 {
			redact.SanitizeAll(run, it, o)
			i += len(run)
			continue
		}
		q.sans[i].san.entry(it, o)
		i++
	}
	*req = it.Request
}
