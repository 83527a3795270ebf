package engine

import (
	"net/http"
	"sync"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/wire"
)

// A recorded response becomes the same answer every time it is served: its names made
// canonical, hop-by-hop headers and the stored body's encoding dropped, its length set, and
// (unless a face shapes answers itself) shaped. Only whether the request's path is a status
// poll changes the shaping, and a HEAD request the length: everything else depends on the
// recording alone. So the head of the answer is made once per recording, and each request gets
// its own copy of it, or the one itself when the face only reads answers (WithSharedAnswers).

// readyKey is a recording and what of the request its answer depends on.
type readyKey struct {
	it   *cassette.Interaction
	poll bool // the request's path is a long-running operation's status endpoint
}

// readyAnswer is the head of the answer a recording gives, made once.
type readyAnswer struct {
	header http.Header // never changed once stored
	status string
	length int64
	head   *wire.Head // the head written out, when answers are shared: see wire.Head
}

// readyAnswers holds the answers made so far, one per recording served (and per poll bit): as
// many as the recordings replay has read whole, which it keeps too. A map under a read lock: a
// lookup is one probe of the table (sync.Map's trie took several dependent loads, each a cache
// miss once thousands of recordings are served).
type readyAnswers struct {
	mu sync.RWMutex
	m  map[readyKey]*readyAnswer
}

func (a *readyAnswers) load(k readyKey) *readyAnswer {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.m[k]
}

// store keeps made for k unless an answer is there already, and returns the one kept.
func (a *readyAnswers) store(k readyKey, made *readyAnswer) *readyAnswer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if had := a.m[k]; had != nil {
		return had
	}
	if a.m == nil {
		a.m = map[readyKey]*readyAnswer{}
	}
	a.m[k] = made
	return made
}

// WithSharedAnswers tells the engine that the face only reads the answers Handle gives (writes
// them to the wire) and never changes them: the header of a replayed answer may then be the
// same map for every request a recording answers.
func WithSharedAnswers() Option {
	return func(e *Engine) error { e.sharedAnswers = true; return nil }
}

// replayAnswer is the answer recording it gives to r: responseFromCassette followed by
// shapeReplayed (when the face does not shape answers itself), with the head made once; and
// that head written out when answers are shared (nil otherwise).
func (e *Engine) replayAnswer(r *http.Request, it *cassette.Interaction) (*http.Response, *wire.Head) {
	if isHead(r) { // the length is the recorded Content-Length, the body none: rare, made anew
		resp := responseFromCassette(r, &it.Response)
		if e.shape == nil {
			shapeReplayed(r, resp)
		}
		return resp, nil
	}
	k := readyKey{it: it, poll: e.shape == nil && isPollPath(r.URL.Path)}
	ready := e.ready.load(k)
	if ready == nil {
		resp := responseFromCassette(nil, &it.Response)
		if e.shape == nil {
			shapeReplayed(r, resp)
		}
		made := &readyAnswer{header: resp.Header, status: resp.Status, length: resp.ContentLength}
		if e.shares() {
			made.head = wire.NewHead(resp, it.Response.HeaderNames)
		}
		ready = e.ready.store(k, made)
	}
	h := ready.header
	if !e.shares() {
		h = h.Clone()
	}
	resp := &http.Response{
		StatusCode:    it.Response.Code,
		Status:        ready.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: ready.length,
		Body:          http.NoBody,
		Request:       r,
	}
	if body := it.Response.Body; len(body) > 0 {
		rb := &replayBody{}
		rb.Reset(body)
		resp.Body = rb
	}
	return resp, ready.head
}

// shares reports whether replayed answers share their head: the face asked for it and nothing
// shapes answers after the engine.
func (e *Engine) shares() bool { return e.sharedAnswers && e.shape == nil }
