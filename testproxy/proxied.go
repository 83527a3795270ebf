package testproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/matcher"
)

// proxied answers a request a test sends through the proxy for a session.
func (s *Server) proxied(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(hRecordingID)
	if id == "" {
		knownError(w, http.StatusBadRequest, "Expected header x-recording-id is not populated in request.")
		return
	}
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil {
		knownError(w, http.StatusBadRequest, "There is no active %s session under recording id %s.", strings.ToLower(r.Header.Get(hMode)), id)
		return
	}
	base, err := url.Parse(r.Header.Get(hUpstream))
	if err != nil || base.Scheme == "" || base.Host == "" {
		knownError(w, http.StatusBadRequest, "The value present in header 'x-recording-upstream-base-uri' is not a valid hostname: %q.", r.Header.Get(hUpstream))
		return
	}
	// The URI is the upstream base plus the raw request target, exactly as sent.
	target := strings.TrimSuffix(base.Scheme+"://"+base.Host+base.EscapedPath(), "/") + r.RequestURI
	ctx := context.WithValue(r.Context(), skipKey{}, r.Header.Get(hSkip))
	out := r.Clone(ctx)
	for h := range out.Header { // the protocol's own headers never reach the upstream or the file
		if strings.HasPrefix(strings.ToLower(h), "x-recording-") {
			out.Header.Del(h)
		}
	}
	out.URL, _ = url.Parse(target)
	out.Host = base.Host
	out.RequestURI = ""
	resp := sess.engine.Handle(out)
	s.shape(out, resp)
	writeResponse(w, resp)
}

type skipKey struct{}

// skipFilter honours x-recording-skip: request-body records the entry without its request body,
// request-response does not record it at all.
func skipFilter(r *http.Request, it *cassette.Interaction) bool {
	skip, _ := r.Context().Value(skipKey{}).(string)
	switch {
	case strings.EqualFold(skip, "request-response"):
		return false
	case strings.EqualFold(skip, "request-body"):
		it.Request.Body = ""
	}
	return true
}

// missResponse answers a playback request with no recording the way test-proxy does: 404 with
// x-request-mismatch and the message, base64, in x-request-mismatch-error.
func (s *Server) missResponse(id string) func(*http.Request, *matcher.Miss) *http.Response {
	return func(r *http.Request, miss *matcher.Miss) *http.Response {
		s.log.Warn("test-proxy: no recording", "id", id, "miss", miss.String())
		msg := "Unable to find a record for the request " + miss.String()
		data, _ := json.MarshalIndent(engine.MissBody{Code: "AzvcrNoRecording", Message: msg, Miss: miss}, "", "  ")
		resp := engine.BodyResponse(r, http.StatusNotFound, "application/json;", data)
		resp.Header.Set(hMismatch, "true")
		resp.Header.Set(hMismatchText, base64.StdEncoding.EncodeToString([]byte(msg)))
		resp.Header.Set(engine.MissHeader, engine.HeaderSafe(miss.String()))
		return resp
	}
}

// shape echoes the client's request and client ids, as test-proxy does, and applies header
// transforms.
func (s *Server) shape(r *http.Request, resp *http.Response) {
	for _, h := range []string{"X-Ms-Client-Request-Id", "X-Ms-Client-Id"} {
		if id := r.Header.Get(h); id != "" {
			resp.Header.Set(h, id)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.transform {
		if t.header != "" && (t.ifURI == "" || strings.Contains(r.URL.String(), t.ifURI)) {
			resp.Header.Set(t.header, t.val)
		}
	}
}

func writeResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
