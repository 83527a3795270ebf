package cassette

import "net/http"

// Redacted replaces secret values on disk.
const Redacted = "REDACTED"

// FixedDate replaces every recorded date header so re-recordings do not churn the file.
const FixedDate = "Sat, 01 Jan 2000 00:00:00 GMT"

// Rule is one redaction: it edits a request or response in place before it is written, and the
// same rule runs on live requests in replay so that redacted recordings still match them.
type Rule interface {
	Name() string
	RedactRequest(*Request)
	RedactResponse(*Response)
}

// Redactor applies rules in order.
type Redactor []Rule

// DefaultRules are on unless a caller builds its own Redactor.
func DefaultRules() Redactor {
	return Redactor{
		HeaderRule{RuleName: "authorization", Headers: []string{"Authorization", "Proxy-Authorization"}, Value: Redacted},
		HeaderRule{RuleName: "dates", Headers: []string{"X-Ms-Date", "Date"}, Value: FixedDate},
	}
}

// Request redacts a request.
func (r Redactor) Request(req *Request) {
	for _, rule := range r {
		rule.RedactRequest(req)
	}
}

// Response redacts a response.
func (r Redactor) Response(resp *Response) {
	for _, rule := range r {
		rule.RedactResponse(resp)
	}
}

// Interaction redacts both halves.
func (r Redactor) Interaction(it *Interaction) {
	r.Request(&it.Request)
	r.Response(&it.Response)
}

// HeaderRule replaces every value of the named headers, in requests and responses.
type HeaderRule struct {
	RuleName string
	Headers  []string
	Value    string
}

func (h HeaderRule) Name() string               { return h.RuleName }
func (h HeaderRule) RedactRequest(r *Request)   { h.apply(r.Headers) }
func (h HeaderRule) RedactResponse(r *Response) { h.apply(r.Headers) }

func (h HeaderRule) apply(hdr http.Header) {
	for _, name := range h.Headers {
		for key, vals := range hdr {
			if !equalFold(key, name) {
				continue
			}
			for i := range vals {
				vals[i] = h.Value
			}
		}
	}
}

// equalFold compares header names; recorded files may hold any case.
func equalFold(a, b string) bool { return http.CanonicalHeaderKey(a) == http.CanonicalHeaderKey(b) }
