package redact

import (
	"strings"

	"github.com/azvcr/azvcr/internal/jsonlex"
)

// Replay redacts each live request only to match it, and a match reads a few of its headers
// (matcher.SignificantHeaders, Content-Type): redacting the others (Authorization, dates, ids,
// user agents) is most of the work and changes nothing the match reads, provided that leaving a
// header out changes nothing the rules do to the rest. It does not when
//
//   - every rule edits each part of a request (URL and Host, each header value, the form, the
//     body) by what that part holds alone (a local rule), and
//   - the azure-ids rule, which learns ids from every part and replaces them in all, learns
//     nothing from the header: its value holds none of the texts azure-ids learns by
//     (learnIDHints), and no rule that runs before azure-ids can put one there (hintSafe).
//
// Omittable reports, from these, which headers may be left out. The differential tests
// (probe_test.go, FuzzOmittable, the planted-secrets run) hold it to that.

// localRule is a rule whose edits of each part of a request depend on that part alone.
type localRule interface {
	Rule
	// hintSafe reports whether the rule leaves every header value that is not learnable still
	// not learnable.
	hintSafe() bool
}

func (authorizationRule) hintSafe() bool {
	// Its result is made of constants and of the value's own text, URL-decoded (the way
	// learnable looks at it), cut at "," and "&" and joined again, maybe URL-encoded again
	// (which escapes "/" and '"' and keeps letters, digits and "."): no hint can form.
	return true
}
func (*nameRule) hintSafe() bool    { return true } // whole values become REDACTED
func (shapeRule) hintSafe() bool    { return true } // ranges become REDACTED, which joins no hint with its neighbours
func (datesRule) hintSafe() bool    { return true } // constants; a routing id keeps its text up to the first ":"
func (durationRule) hintSafe() bool { return true }
func (KeepHeaders) hintSafe() bool  { return true }
func (jsonPathRule) hintSafe() bool { return true } // bodies only
func (urlRule) hintSafe() bool      { return true } // URLs only
func (h HeaderRule) hintSafe() bool { return !learnable(h.Value) }
func (*azureIDRule) hintSafe() bool { return true } // it replaces ids with the zero GUID, which teaches nothing

// A regexRule edits each part on its own, but its replacement (with $1 and the like, or none)
// may join text into anything.
func (g regexRule) hintSafe() bool { return g.where&inHeaders == 0 }

// learnable reports whether azure-ids might learn an id from s, or from s as the authorization
// rule decodes it (URL-decoded; an escape that does not decode makes the value REDACTED).
//
// When s decodes, a hint in s is one in the decoded text too (no hint holds "%" or "+", and none
// starts with a hex digit that an escape before it could take), so the decoded text alone is
// looked at.
func learnable(s string) bool {
	if strings.IndexByte(s, '%') < 0 {
		return learnIDHints.in(s)
	}
	var buf [512]byte // decoded here: Omittable's test runs on every header of every replayed request
	if decoded, ok := queryUnescape(buf[:0], s); ok {
		return foldIn(learnIDHints, decoded)
	}
	return learnIDHints.in(s)
}

// queryUnescape appends s decoded as url.QueryUnescape decodes it ("+" is a space, %XX a byte)
// to b; false where url.QueryUnescape fails (a "%" without two hex digits).
func queryUnescape(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || !jsonlex.IsHex(s[i+1]) || !jsonlex.IsHex(s[i+2]) {
				return b, false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return b, true
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// Omittable returns a test of whether a request header (its name and values as received) may be
// left out of a request before Request redacts it for matching: Request then does to every other
// part what it would have done with the header there, and learns what it would have learned. It
// returns nil when no header may be left out (a rule not known to be local).
func (r Redactor) Omittable() func(name string, values []string) bool {
	learns := -1 // the last azure-ids rule: rules before it must be hint-safe
	for i, rule := range r {
		if _, ok := rule.(*azureIDRule); ok {
			learns = i
		}
	}
	for i, rule := range r {
		l, ok := rule.(localRule)
		if !ok || (i < learns && !l.hintSafe()) {
			return nil
		}
	}
	if learns < 0 {
		return func(string, []string) bool { return true }
	}
	return func(_ string, values []string) bool {
		for _, v := range values {
			if learnable(v) {
				return false
			}
		}
		return true
	}
}
