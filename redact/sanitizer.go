package redact

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/azvcr/azvcr/cassette"
)

// Sanitizer describes a rule in the terms of the Azure SDK test-proxy's sanitizers, so that
// harnesses registering them through its API get the same effect from azvcr's redaction.
type Sanitizer struct {
	Name     string   // reported by Rule.Name
	Where    string   // "uri", "headers", "body" or "all": where Regex applies
	Header   string   // only this header (Where "headers")
	JSONPath string   // only the value at this path in JSON bodies (BodyKeySanitizer)
	Regex    string   // what to replace; empty means the whole value (Header, JSONPath)
	Value    string   // the replacement
	Group    string   // replace only this group of each match (name or number)
	Remove   []string // headers to remove (RemoveHeaderSanitizer)
	IfURI    string   // apply only to exchanges whose request URI matches this regex
}

// NewSanitizerRule builds the rule a Sanitizer describes.
func NewSanitizerRule(s Sanitizer) (Rule, error) {
	r := &sanitizerRule{spec: s}
	var err error
	if s.Regex != "" {
		if r.re, err = regexp.Compile(s.Regex); err != nil {
			return nil, fmt.Errorf("regex %q: %w", s.Regex, err)
		}
	}
	if s.IfURI != "" {
		if r.cond, err = regexp.Compile(s.IfURI); err != nil {
			return nil, fmt.Errorf("condition uriRegex %q: %w", s.IfURI, err)
		}
	}
	if s.JSONPath != "" {
		if r.path, err = compileJSONPath(s.JSONPath); err != nil {
			return nil, err
		}
	}
	switch s.Where {
	case "uri", "headers", "body", "all":
	default:
		return nil, fmt.Errorf("sanitizer %s: unknown target %q", s.Name, s.Where)
	}
	if r.re == nil && s.Header == "" && s.JSONPath == "" && len(s.Remove) == 0 {
		return nil, fmt.Errorf("sanitizer %s: needs a regex, a header, a json path or headers to remove", s.Name)
	}
	if s.Group != "" && r.re != nil {
		if n, err := strconv.Atoi(s.Group); err == nil {
			r.group = n
		} else if r.group = r.re.SubexpIndex(s.Group); r.group < 0 {
			return nil, fmt.Errorf("regex %q has no group %q", s.Regex, s.Group)
		}
		if r.group > r.re.NumSubexp() {
			return nil, fmt.Errorf("regex %q has no group %s", s.Regex, s.Group)
		}
	}
	return r, nil
}

type sanitizerRule struct {
	spec  Sanitizer
	re    *regexp.Regexp
	cond  *regexp.Regexp
	path  func([]string, bool) bool
	group int // 0: the whole match
}

func (r *sanitizerRule) Name() string { return r.spec.Name }

// appliesTo implements conditional: a URI condition is checked against the request's URL.
func (r *sanitizerRule) appliesTo(req *cassette.Request) bool {
	return r.cond == nil || r.cond.MatchString(req.URL)
}

func (r *sanitizerRule) RedactRequest(req *cassette.Request) {
	if !r.appliesTo(req) {
		return
	}
	if r.spec.Where == "uri" || r.spec.Where == "all" {
		req.URL = r.replace(req.URL)
	}
	r.headers(req.Headers)
	req.Body = r.body(req.Body)
}

func (r *sanitizerRule) RedactResponse(resp *cassette.Response) {
	r.headers(resp.Headers)
	resp.Body = r.body(resp.Body)
}

// replace applies the regex (or replaces all of s without one).
func (r *sanitizerRule) replace(s string) string {
	if r.re == nil {
		return r.spec.Value
	}
	if r.group == 0 {
		return r.re.ReplaceAllString(s, r.spec.Value)
	}
	var b strings.Builder
	last := 0
	for _, m := range r.re.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[2*r.group], m[2*r.group+1]
		if start < 0 {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(r.spec.Value)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

func (r *sanitizerRule) headers(h http.Header) {
	for _, name := range r.spec.Remove {
		headerDel(h, strings.TrimSpace(name))
	}
	if (r.spec.Where != "headers" && r.spec.Where != "all") || (r.re == nil && r.spec.Header == "") {
		return
	}
	for key, vals := range h {
		if r.spec.Header != "" && !strings.EqualFold(key, r.spec.Header) {
			continue
		}
		for i, v := range vals {
			vals[i] = r.replace(v)
		}
	}
}

func (r *sanitizerRule) body(body string) string {
	if r.spec.Where != "body" && r.spec.Where != "all" {
		return body
	}
	if r.path == nil {
		if r.re == nil {
			return body
		}
		return r.replace(body)
	}
	if !looksJSON(body) {
		return body
	}
	// BodyKeySanitizer: the regex works inside the string value found at the path.
	spans := jsonValueSpans([]byte(body), r.path)
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		old := body[sp[0]:sp[1]]
		var repl string
		if s, err := strconv.Unquote(old); err == nil {
			repl = strconv.Quote(r.replace(s))
		} else if r.re == nil {
			repl = strconv.Quote(r.spec.Value)
		} else {
			continue // a regex applies to strings only
		}
		b.WriteString(body[last:sp[0]])
		b.WriteString(repl)
		last = sp[1]
	}
	b.WriteString(body[last:])
	return b.String()
}
