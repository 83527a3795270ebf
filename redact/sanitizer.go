package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"

	"github.com/azvcr/azvcr/cassette"
)

// Part says which parts of an exchange a sanitizer edits.
type Part uint8

// The parts of an exchange, as the Azure SDK test-proxy's sanitizers name them.
const (
	PartURI Part = 1 << iota
	PartHeaders
	PartBody
)

// SanitizedValue is the Azure SDK test-proxy's default replacement.
const SanitizedValue = "Sanitized"

// regexTimeout bounds one regular-expression run over hostile input.
const regexTimeout = 2 * time.Second

// Sanitizer describes one of the Azure SDK test-proxy's sanitizers. Regular expressions are .NET
// ones (lookbehind, named groups, $1 and ${name} in replacements), as harnesses write them.
type Sanitizer struct {
	Kind       string   // the test-proxy class, e.g. "BodyKeySanitizer"
	Parts      Part     // which parts it edits
	Header     string   // only this header, all its values (HeaderRegex/HeaderString)
	FirstValue bool     // only the first value of every header (the General sanitizers)
	AuthHeader bool     // the base sanitizer: Authorization becomes "Sanitized"
	JSONPath   string   // only the scalar values this path selects in JSON bodies (BodyKey)
	Regex      string   // what to replace; "" with no Literal replaces the whole value
	Literal    string   // a literal target instead of a regex (the String sanitizers)
	Value      string   // the replacement
	Group      string   // replace only this group's captures in each match (name or number)
	Remove     []string // headers to remove (RemoveHeaderSanitizer)
	Condition  Condition
}

// Condition limits a sanitizer to some exchanges (test-proxy's ApplyCondition).
type Condition struct {
	URIRegex            string // the request URI matches this regex
	ResponseHeader      string // the response has this header
	ResponseHeaderValue string // ... and one of its values matches this regex
}

// Compile turns the condition into a test of an exchange as it is; the zero Condition holds for
// every exchange.
func (c Condition) Compile() (func(*cassette.Interaction) bool, error) {
	var ifURI, ifValue *regexp2.Regexp
	var err error
	if c.URIRegex != "" {
		if ifURI, err = compileNET(c.URIRegex); err != nil {
			return nil, fmt.Errorf("condition uriRegex: %w", err)
		}
	}
	if c.ResponseHeaderValue != "" {
		if ifValue, err = compileNET(c.ResponseHeaderValue); err != nil {
			return nil, fmt.Errorf("condition ResponseHeader ValueRegex: %w", err)
		}
	}
	return func(it *cassette.Interaction) bool {
		if ifURI != nil && !matchNET(ifURI, it.Request.URL) {
			return false
		}
		if c.ResponseHeader == "" {
			return true
		}
		vals := headerGet(it.Response.Headers, c.ResponseHeader)
		if vals == nil {
			return false
		}
		if ifValue == nil {
			return true
		}
		for _, v := range vals {
			if matchNET(ifValue, v) {
				return true
			}
		}
		return false
	}, nil
}

// SanitizerRule is a compiled Sanitizer.
type SanitizerRule struct {
	spec    Sanitizer
	re      *regexp2.Regexp
	path    *JSONPath
	applies func(*cassette.Interaction) bool
	needles []string // BodyKey: a body holding none of these keys needs no parse
	keys    []string // each needle's key when it is quoted as is and short (partFacts.quoted), or ""
	literal string   // text every match of re contains: without it, re need not run
	lines   bool     // re is ".+" and the value has no substitutions: each line becomes the value
	// What a compiled set (SanitizerSet) takes besides: every set of texts a match needs one of,
	// and re read as replacing runs after leads, when it has that form.
	need  [][]string
	after *afterLeads
}

// NewSanitizerRule compiles a Sanitizer. An invalid regex or JSON path is an error.
func NewSanitizerRule(s Sanitizer) (*SanitizerRule, error) {
	r := &SanitizerRule{spec: s}
	var err error
	if s.Regex != "" && s.Literal == "" {
		if r.re, err = compileNET(s.Regex); err != nil {
			return nil, err
		}
		r.literal = requiredLiteral(s.Regex)
		r.lines = s.Regex == ".+" && s.Group == "" && !strings.Contains(s.Value, "$")
		r.need = requiredLiterals(s.Regex)
		if s.Group != "" || !strings.Contains(s.Value, "$") {
			r.after = parseAfterLeads(s.Regex, s.Group)
		}
	}
	if r.applies, err = s.Condition.Compile(); err != nil {
		return nil, err
	}
	if s.JSONPath != "" {
		if r.path, err = ParseJSONPath(s.JSONPath); err != nil {
			return nil, err
		}
		if last := r.path.segs[len(r.path.segs)-1]; !last.any && len(last.names) > 0 && !slices.ContainsFunc(last.names, func(n string) bool { return quotedKey(n) == "" }) {
			for _, n := range last.names {
				r.needles = append(r.needles, `"`+n+`"`)
				r.keys = append(r.keys, n)
			}
		}
	}
	return r, nil
}

func compileNET(expr string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(expr, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("expression of value %s does not successfully compile: %v", expr, err)
	}
	re.MatchTimeout = regexTimeout
	return re, nil
}

// Kind is the test-proxy class name.
func (r *SanitizerRule) Kind() string { return r.spec.Kind }

// Spec is what the rule was built from.
func (r *SanitizerRule) Spec() Sanitizer { return r.spec }

// SanitizeOptions say how much of an exchange Sanitize may edit.
type SanitizeOptions struct {
	Bodies bool                   // bodies too (test-proxy skips them on live requests when bodies are not matched)
	IsText func(http.Header) bool // which bodies are text; only text bodies are edited
}

// Sanitize edits one exchange in test-proxy's order: the request URI, request headers, request
// body, response headers, then the response body (never a HEAD answer's). A Content-Length that
// is present follows the body's new length.
func (r *SanitizerRule) Sanitize(it *cassette.Interaction, o SanitizeOptions) {
	r.sanitize(it, o, nil)
}

// sanitize is Sanitize, with what is known of the exchange in x (nil: nothing, work it out); it
// says whether anything changed.
func (r *SanitizerRule) sanitize(it *cassette.Interaction, o SanitizeOptions, x *exchangeFacts) bool {
	if !r.applies(it) {
		return false
	}
	var request, response *partFacts
	if x != nil {
		request, response = &x.request, &x.response
	}
	changed := false
	if r.spec.Parts&PartURI != 0 {
		u := r.replaceWith(it.Request.URL, x)
		changed = u != it.Request.URL
		it.Request.URL = u
	}
	if r.headers(it.Request.Headers, request, x) {
		request.headerChanged()
		changed = true
	}
	if o.Bodies && r.body(&it.Request.Body, it.Request.Headers, o, request, x) {
		changed = true
	}
	if r.headers(it.Response.Headers, response, x) {
		response.headerChanged()
		changed = true
	}
	if o.Bodies && !strings.EqualFold(it.Request.Method, http.MethodHead) && r.body(&it.Response.Body, it.Response.Headers, o, response, x) {
		changed = true
	}
	return changed
}

// replaceWith is replace, or replaceFast when x says the rule runs in a compiled set.
func (r *SanitizerRule) replaceWith(s string, x *exchangeFacts) string {
	if x != nil && x.fast {
		return r.replaceFast(s)
	}
	return r.replace(s)
}

// replaceFast is replace with the shortcuts a compiled set takes: the regex does not run on a
// text that lacks what its matches need, and runs after leads are replaced without it.
func (r *SanitizerRule) replaceFast(s string) string {
	if r.re != nil && r.spec.Literal == "" && !r.lines {
		if !holdsRequired(s, r.need) {
			return s
		}
		if r.after != nil {
			return r.after.replace(s, r.spec.Value)
		}
	}
	return r.replace(s)
}

// MatchNET compiles a .NET regular expression into a test that it matches somewhere in a string.
func MatchNET(expr string) (func(string) bool, error) {
	re, err := compileNET(expr)
	if err != nil {
		return nil, err
	}
	literal := requiredLiteral(expr)
	return func(s string) bool { return strings.Contains(s, literal) && matchNET(re, s) }, nil
}

func matchNET(re *regexp2.Regexp, s string) bool {
	ok, err := re.MatchString(s)
	return ok && err == nil
}

// headers edits a header and says whether anything changed; f (nil: nothing known) knows its
// names.
func (r *SanitizerRule) headers(h http.Header, f *partFacts, x *exchangeFacts) bool {
	if h == nil {
		return false
	}
	changed := false
	for _, name := range r.spec.Remove {
		n := len(h)
		if name = strings.TrimSpace(name); !f.mayHaveName(h, name) {
			continue
		}
		headerDel(h, name)
		if len(h) != n {
			changed = true
			f.namesChanged()
		}
	}
	if r.spec.AuthHeader && f.mayHaveName(h, "Authorization") {
		for k := range h {
			if strings.EqualFold(k, "Authorization") {
				h[k] = []string{SanitizedValue}
				changed = true
			}
		}
	}
	if r.spec.Parts&PartHeaders == 0 {
		return changed
	}
	edit := func(vals []string, i int) {
		if v := r.replaceWith(vals[i], x); v != vals[i] {
			vals[i], changed = v, true
		}
	}
	if r.spec.Header != "" && f != nil && isASCII(r.spec.Header) {
		for _, k := range f.keys(h, r.spec.Header) {
			vals := h[k]
			for i := range vals {
				edit(vals, i)
			}
		}
		return changed
	}
	for k, vals := range h {
		switch {
		case r.spec.Header != "":
			if r.isHeader(k) {
				for i := range vals {
					edit(vals, i)
				}
			}
		case r.spec.FirstValue && len(vals) > 0:
			edit(vals, 0)
		}
	}
	return changed
}

// isHeader is strings.EqualFold(k, r.spec.Header), quicker for the ASCII names that differ in
// length (only non-ASCII letters fold to a different length).
func (r *SanitizerRule) isHeader(k string) bool {
	if len(k) != len(r.spec.Header) && isASCII(k) && isASCII(r.spec.Header) {
		return false
	}
	return strings.EqualFold(k, r.spec.Header)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// body edits a body and says whether it changed.
func (r *SanitizerRule) body(body *string, h http.Header, o SanitizeOptions, f *partFacts, x *exchangeFacts) bool {
	if r.spec.Parts&PartBody == 0 || *body == "" || o.IsText == nil || !f.isText(h, o) {
		return false
	}
	old := *body
	if r.path != nil {
		*body = r.sanitizeJSON(*body, f, x)
	} else {
		*body = r.replaceWith(*body, x)
	}
	if len(*body) != len(old) {
		for k, vals := range h {
			if strings.EqualFold(k, "Content-Length") {
				for i := range vals {
					vals[i] = strconv.Itoa(len(*body))
				}
				f.headerChanged()
			}
		}
	}
	return *body != old
}

// replace is test-proxy's StringSanitizer: a literal target, the whole value (no regex), every
// match with .NET substitutions, or only the captures of one group in each match.
func (r *SanitizerRule) replace(s string) string {
	switch {
	case r.spec.Literal != "":
		return strings.ReplaceAll(s, r.spec.Literal, r.spec.Value)
	case r.re == nil:
		return r.spec.Value
	case !strings.Contains(s, r.literal):
		return s // no match
	case r.lines:
		return replaceLines(s, r.spec.Value)
	case r.spec.Group == "":
		out, err := r.re.Replace(s, r.spec.Value, -1, -1)
		if err != nil {
			return s
		}
		return out
	}
	out, err := r.re.ReplaceFunc(s, func(m regexp2.Match) string {
		whole := []rune(m.String())
		g := m.GroupByName(r.spec.Group)
		if g == nil {
			return string(whole)
		}
		var b strings.Builder
		prev := 0
		for _, c := range g.Captures {
			start := c.Index - m.Index
			b.WriteString(string(whole[prev:start]))
			b.WriteString(r.spec.Value)
			prev = start + c.Length
		}
		b.WriteString(string(whole[prev:]))
		return b.String()
	}, -1, -1)
	if err != nil {
		return s
	}
	return out
}

// replaceLines is what replacing ".+" by value does: each run of characters other than "\n"
// becomes value.
func replaceLines(s, value string) string {
	if !strings.Contains(s, "\n") {
		if s == "" {
			return s
		}
		return value
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = value
		}
	}
	return strings.Join(lines, "\n")
}

// sanitizeJSON is BodyKeySanitizer: each scalar value the path selects (nulls aside) is replaced
// by the regex inside its text. If anything changed, every selected value is written back as a
// JSON string, as Newtonsoft's token replacement does; the rest of the body keeps its bytes.
func (r *SanitizerRule) sanitizeJSON(body string, f *partFacts, x *exchangeFacts) string {
	var leaves []jsonLeaf
	var ok bool
	if f == nil {
		if len(r.needles) > 0 && !keyEscapes(body) && !slices.ContainsFunc(r.needles, func(n string) bool { return strings.Contains(body, n) }) {
			return body
		}
		leaves, ok = selectJSON([]byte(body), r.path, false)
	} else {
		f.of(body)
		if len(r.needles) > 0 && !f.keyEscapes() && !r.anyNeedle(f) {
			return body
		}
		leaves, ok = f.selectJSON(r.path)
	}
	if !ok {
		return body
	}
	var edits []edit
	changed := false
	for _, l := range leaves {
		if l.token == nil {
			continue
		}
		var orig string
		switch v := l.token.(type) {
		case string:
			orig = v
		case json.Number:
			orig = v.String()
		case bool:
			orig = strings.ToUpper(strconv.FormatBool(v)[:1]) + strconv.FormatBool(v)[1:] // .NET's True/False
		}
		repl := r.replaceWith(orig, x)
		if repl != orig {
			changed = true
		}
		edits = append(edits, edit{l.start, l.end, jsonQuote(repl)})
	}
	if !changed {
		return body
	}
	out := splice(body, edits)
	f.edited(out, edits)
	return out
}

// jsonQuote writes s as a JSON string without HTML escaping.
func jsonQuote(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\'
	}
	if plain {
		return `"` + s + `"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// ReadsResponse says whether what the rule does to a request can depend on the response (its
// condition asks for a response header).
func (r *SanitizerRule) ReadsResponse() bool { return r.spec.Condition.ResponseHeader != "" }
