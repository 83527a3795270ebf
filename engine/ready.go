package engine

import (
	"net/http"
	"sync/atomic"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/wire"
)

// A recorded response becomes the same answer every time it is served: its names made
// canonical, hop-by-hop headers and the stored body's encoding dropped, its length set, and
// (unless a face shapes answers itself) shaped. Only whether the request's path is a status
// poll changes the shaping, and a HEAD request the length: everything else depends on the
// recording alone. So the head of the answer is made once per recording, and each request gets
// its own copy of it, or the one itself when the face only reads answers (WithSharedAnswers).

// readyAnswer is the head of the answer a recording gives, made once.
type readyAnswer struct {
	header http.Header // never changed once stored
	status string
	length int64
	head   *wire.Head // the head written out, when answers are shared: see wire.Head
}

// readyAnswers are a recording's answers, made by one engine: to a request for a status poll's
// path, and to any other. They are kept in the recording's matcher.Memo, so finding them costs
// nothing more than finding the recording.
type readyAnswers struct {
	by     *Engine // answers depend on its options: another engine on the index makes its own
	byPoll [2]atomic.Pointer[readyAnswer]
}

// WithSharedAnswers tells the engine that the face only reads the answers Handle gives (writes
// them to the wire) and never changes them: the header of a replayed answer may then be the
// same map for every request a recording answers.
func WithSharedAnswers() Option {
	return func(e *Engine) error { e.sharedAnswers = true; return nil }
}

// replayAnswer is the answer recording it gives to r: responseFromCassette followed by
// shapeReplayed (when the face does not shape answers itself), with the head made once and kept
// in memo (the recording's); and that head written out when answers are shared (nil otherwise).
func (e *Engine) replayAnswer(r *http.Request, it *cassette.Interaction, memo *matcher.Memo) (*http.Response, *wire.Head) {
	if isHead(r) { // the length is the recorded Content-Length, the body none: rare, made anew
		resp := responseFromCassette(r, &it.Response)
		if e.shape == nil {
			shapeReplayed(r, resp)
		}
		return resp, nil
	}
	answers, _ := memo.Load().(*readyAnswers)
	if answers == nil {
		answers, _ = memo.Keep(&readyAnswers{by: e}).(*readyAnswers)
	}
	if answers.by != e {
		answers = &readyAnswers{by: e} // made for this request only
	}
	poll := 0
	if e.shape == nil && isPollPath(r.URL.Path) {
		poll = 1
	}
	ready := answers.byPoll[poll].Load()
	if ready == nil {
		resp := responseFromCassette(nil, &it.Response)
		if e.shape == nil {
			shapeReplayed(r, resp)
		}
		made := &readyAnswer{header: resp.Header, status: resp.Status, length: resp.ContentLength}
		if e.shares() {
			made.head = wire.NewHead(resp, it.Response.HeaderNames)
		}
		if answers.byPoll[poll].CompareAndSwap(nil, made) {
			ready = made
		} else {
			ready = answers.byPoll[poll].Load()
		}
	}
	h := ready.header
	if !e.shares() {
		h = h.Clone()
	}
	return replayedResponse(r, it.Response.Code, ready.status, h, ready.length, it.Response.Body), ready.head
}

// shares reports whether replayed answers share their head: the face asked for it and nothing
// shapes answers after the engine.
func (e *Engine) shares() bool { return e.sharedAnswers && e.shape == nil }
