package testproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/wire"
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
	mode := strings.ToLower(r.Header.Get(hMode))
	if sess == nil || sess.mode != mode {
		knownError(w, http.StatusBadRequest, "There is no active %s session under recording id %s.", mode, id)
		return
	}
	base, err := url.Parse(r.Header.Get(hUpstream))
	if err != nil || base.Scheme == "" || base.Host == "" {
		knownError(w, http.StatusBadRequest, "The value present in header 'x-recording-upstream-base-uri' is not a valid hostname: %q.", r.Header.Get(hUpstream))
		return
	}
	ctx := r.Context()
	if skip := r.Header.Values(hSkip); len(skip) > 0 {
		if len(skip) > 1 || (!strings.EqualFold(skip[0], "request-body") && !strings.EqualFold(skip[0], "request-response")) {
			knownError(w, http.StatusBadRequest, "%s is not a supported value for header 'x-recording-skip'. It should be either omitted from the request headers, or set to either 'request-body' or 'request-response'", strings.Join(skip, ","))
			return
		}
		ctx = context.WithValue(ctx, skipKey{}, skip[0])
	}
	if v := r.Header.Get(hRemove); v != "" {
		keep, err := strconv.ParseBool(v)
		if err != nil {
			knownError(w, http.StatusBadRequest, "x-recording-remove must be true or false, not %q", v)
			return
		}
		if !keep {
			ctx = engine.KeepRecording(ctx)
		}
	}
	if sess.mode == "playback" {
		if err := s.prepare(sess); err != nil {
			knownError(w, http.StatusBadRequest, "%s: %v", sess.file, err)
			return
		}
	}
	// The URI is the upstream base plus the raw request target, exactly as sent.
	target := strings.TrimSuffix(base.Scheme+"://"+base.Host+base.EscapedPath(), "/") + r.RequestURI
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
	// Names as recorded (playback) or as the upstream sent them (record), in that order.
	wire.Respond(w, resp, wire.From(out.Context()).ResponseNames())
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
// x-request-mismatch, test-proxy's report in the body and, up to its remaining entries, base64 in
// x-request-mismatch-error.
func (s *Server) missResponse(id string) func(*http.Request, *matcher.Miss) *http.Response {
	return func(r *http.Request, miss *matcher.Miss) *http.Response {
		s.log.Warn("test-proxy: no recording", "id", id, "miss", miss.String())
		msg := miss.Detail
		if msg == "" {
			msg = "Unable to find a record for the request " + miss.String()
		}
		data, _ := json.Marshal(map[string]string{"Message": msg, "Status": "NotFound"})
		resp := engine.BodyResponse(r, http.StatusNotFound, "application/json;", data)
		short, _, _ := strings.Cut(msg, "Remaining Entries:")
		resp.Header.Set(hMismatch, "true")
		resp.Header.Set(hMismatchText, base64.StdEncoding.EncodeToString([]byte(short)))
		resp.Header.Set(engine.MissHeader, engine.HeaderSafe(miss.String()))
		return resp
	}
}
