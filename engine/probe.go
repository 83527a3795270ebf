package engine

import (
	"net/http"
	"slices"

	"github.com/azvcr/azvcr/cassette"
)

// matchProbe is the live request as matching needs it, before redaction: what requestFromHTTP
// captures, but only the headers the key reads and those that omittable (the rules' say, see
// redact.Redactor.Omittable) does not let go, and no header names. Redacted, it has the key the
// whole request would have, and teaches the rules what the whole would.
func matchProbe(r *http.Request, body string, reads func(string) bool, omittable func(string, []string) bool) cassette.Request {
	h := make(http.Header, 4)
	for k, v := range r.Header {
		if isHopHeader(k) { // dropped at the end anyway
			continue
		}
		if reads(http.CanonicalHeaderKey(k)) || !omittable(k, v) {
			h[k] = slices.Clone(v)
		}
	}
	if _, ok := r.Header["Connection"]; ok { // the headers it names go too
		dropHopHeaders(h, r.Header)
	}
	return requestWith(r, body, h)
}

// isHopHeader reports whether k is one of hopHeaders, spelt as there.
func isHopHeader(k string) bool { return slices.Contains(hopHeaders, k) }
