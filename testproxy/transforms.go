package testproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// transform edits a replayed answer just before it is returned (test-proxy's ResponseTransform):
// its condition is checked against the recording that matched.
type transform struct {
	kind       string
	args       map[string]any
	key, value string // HeaderTransform
	applies    func(*cassette.Interaction) bool
}

// echoes are the transforms that copy a request header onto the answer.
var echoes = map[string]string{
	"StorageRequestIdTransform": "X-Ms-Client-Request-Id",
	"ClientIdTransform":         "X-Ms-Client-Id",
	"ApiVersionTransform":       "Api-Version",
}

func newTransform(kind string, a ctorArgs) (*transform, error) {
	t := &transform{kind: kind, args: a.listing()}
	cond, err := a.condition()
	if err != nil {
		return nil, err
	}
	if t.applies, err = cond.Compile(); err != nil {
		return nil, err
	}
	switch {
	case kind == "HeaderTransform":
		if t.key, err = a.required("key"); err != nil {
			return nil, err
		}
		if t.value, err = a.required("value"); err != nil {
			return nil, err
		}
	case echoes[kind] == "":
		return nil, fmt.Errorf("Requested type Azure.Sdk.Tools.TestProxy.Transforms.%s is not recognized.", kind)
	}
	return t, nil
}

// defaultTransforms are test-proxy's: the client request id and client id echoes, and Retry-After
// set to 0 on answers that carry one.
func defaultTransforms() []*transform {
	retry, _ := redact.Condition{ResponseHeader: "Retry-After"}.Compile()
	always, _ := redact.Condition{}.Compile()
	return []*transform{
		{kind: "StorageRequestIdTransform", args: map[string]any{}, applies: always},
		{kind: "ClientIdTransform", args: map[string]any{}, applies: always},
		{kind: "HeaderTransform", key: "Retry-After", value: "0", applies: retry,
			args: map[string]any{"key": "Retry-After", "value": "0", "condition": map[string]any{"ResponseHeader": map[string]any{"Key": "Retry-After"}}}},
	}
}

func (t *transform) apply(r *http.Request, it *cassette.Interaction, resp *http.Response) {
	if !t.applies(it) {
		return
	}
	if h := echoes[t.kind]; h != "" {
		if v := r.Header.Values(h); len(v) > 0 {
			resp.Header[http.CanonicalHeaderKey(h)] = v
		}
		return
	}
	resp.Header.Set(t.key, t.value)
}

// applyTransforms is the session's replay shaping: the server-wide transforms, then its own.
func (s *Server) applyTransforms(sess *session) func(*http.Request, *cassette.Interaction, *http.Response) {
	return func(r *http.Request, it *cassette.Interaction, resp *http.Response) {
		s.mu.Lock()
		ts := append([]*transform(nil), s.transforms...)
		s.mu.Unlock()
		sess.mu.Lock()
		ts = append(ts, sess.transforms...)
		sess.mu.Unlock()
		for _, t := range ts {
			t.apply(r, it, resp)
		}
	}
}

// addTransform adds a transform server-wide, or to one playback session.
func (s *Server) addTransform(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a, err := parseArgs(body)
	var t *transform
	if err == nil {
		t, err = newTransform(r.Header.Get(hAbstraction), a)
	}
	if err != nil {
		knownError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if id := r.Header.Get(hRecordingID); id != "" {
		sess := s.activeSession(w, id, "playback")
		if sess == nil {
			return
		}
		sess.mu.Lock()
		sess.transforms = append(sess.transforms, t)
		sess.mu.Unlock()
	} else {
		s.mu.Lock()
		s.transforms = append(s.transforms, t)
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// listing names the transform and its arguments for /Info/Active.
func (t *transform) listing() string {
	data, _ := json.Marshal(t.args)
	return t.kind + " " + string(data)
}
