package redact

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// SanitizerSet is a run of sanitizer rules compiled once to be applied together: Sanitize edits
// an exchange exactly as calling each rule's Sanitize in order does, with less work. Runs of
// header rules are looked up by header name, one pass over each header; runs of body-key rules
// (BodyKeySanitizer) share one reading of a JSON body, their values found by one walk over its
// keys, and the body is written once; a regex does not run on text that lacks what its matches
// need; runs after literal leads are replaced without the regex engine. A set is safe for
// concurrent use.
type SanitizerSet struct {
	rules []*SanitizerRule
	steps []setStep
}

// setStep is one rule, or a run of header or body-key rules.
type setStep struct {
	rule    *SanitizerRule
	headers *headerRun
	keys    *keyRun
}

// NewSanitizerSet compiles rules, applied in order.
func NewSanitizerSet(rules []*SanitizerRule) *SanitizerSet {
	s := &SanitizerSet{rules: slices.Clip(rules)}
	for i := 0; i < len(rules); {
		if n := runOf(rules[i:], (*SanitizerRule).byHeaderName); n > 1 {
			s.steps = append(s.steps, setStep{headers: newHeaderRun(rules[i : i+n])})
			i += n
			continue
		}
		if n := runOf(rules[i:], (*SanitizerRule).byBodyKey); n > 1 {
			s.steps = append(s.steps, setStep{keys: newKeyRun(rules[i : i+n])})
			i += n
			continue
		}
		s.steps = append(s.steps, setStep{rule: rules[i]})
		i++
	}
	return s
}

// runOf is how many rules at the start of rules have the property.
func runOf(rules []*SanitizerRule, has func(*SanitizerRule) bool) int {
	n := 0
	for n < len(rules) && has(rules[n]) {
		n++
	}
	return n
}

// Rules are the set's rules, in order.
func (s *SanitizerSet) Rules() []*SanitizerRule { return s.rules }

// Sanitize edits one exchange as calling Sanitize for each rule in order does.
func (s *SanitizerSet) Sanitize(it *cassette.Interaction, o SanitizeOptions) {
	x := exchangeFacts{fast: true}
	for _, st := range s.steps {
		switch {
		case st.rule != nil:
			st.rule.sanitize(it, o, &x)
		case st.headers != nil:
			if st.headers.apply(it.Request.Headers) {
				x.request.headerChanged()
			}
			if st.headers.apply(it.Response.Headers) {
				x.response.headerChanged()
			}
		default:
			if o.Bodies {
				st.keys.apply(&it.Request.Body, it.Request.Headers, o, &x.request)
			}
			if o.Bodies && !strings.EqualFold(it.Request.Method, http.MethodHead) {
				st.keys.apply(&it.Response.Body, it.Response.Headers, o, &x.response)
			}
		}
	}
}

// always says the rule edits every exchange it is offered.
func (r *SanitizerRule) always() bool { return r.spec.Condition == Condition{} }

// byHeaderName says the rule only edits the values of one header, named in ASCII (HeaderRegex
// and HeaderString sanitizers).
func (r *SanitizerRule) byHeaderName() bool {
	return r.always() && r.spec.Parts == PartHeaders && r.spec.Header != "" && isASCII(r.spec.Header) &&
		len(r.spec.Remove) == 0 && !r.spec.AuthHeader
}

// byBodyKey says the rule only edits the values a JSON path selects in bodies (BodyKey
// sanitizers).
func (r *SanitizerRule) byBodyKey() bool {
	return r.always() && r.spec.Parts == PartBody && r.path != nil && len(r.spec.Remove) == 0 && !r.spec.AuthHeader
}

// headerRun is a run of rules that each edit every value of one header: a header's rules are
// found by its name, lower-cased.
type headerRun struct {
	byName map[string][]*SanitizerRule
	rules  []*SanitizerRule
}

func newHeaderRun(rules []*SanitizerRule) *headerRun {
	h := &headerRun{byName: map[string][]*SanitizerRule{}, rules: rules}
	for _, r := range rules {
		n := strings.ToLower(r.spec.Header)
		h.byName[n] = append(h.byName[n], r)
	}
	return h
}

// apply edits h and says whether anything changed. Each header is edited by the rules that name
// it, in order; what one header holds does not depend on another, so the order of headers does
// not matter.
func (h *headerRun) apply(hdr http.Header) bool {
	changed := false
	var buf [64]byte
	for k, vals := range hdr {
		var rules []*SanitizerRule
		if isASCII(k) {
			if len(k) > len(buf) {
				rules = h.byName[strings.ToLower(k)]
			} else {
				rules = h.byName[string(lowerInto(buf[:], k))]
			}
		} else {
			for _, r := range h.rules { // a non-ASCII letter may fold to an ASCII one
				if strings.EqualFold(k, r.spec.Header) {
					rules = append(rules, r)
				}
			}
		}
		for _, r := range rules {
			for i, v := range vals {
				if nv := r.replaceFast(v); nv != v {
					vals[i], changed = nv, true
				}
			}
		}
	}
	return changed
}

// lowerInto writes ASCII s lower-cased into buf (as long as s) and returns it.
func lowerInto(buf []byte, s string) []byte {
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return b
}

// keyRun is a run of body-key rules. Rules whose path is $..name (the most common) select the
// scalars directly under that key, wherever it is; the others select by walking their path.
type keyRun struct {
	rules []keyRule
	// byKey lists, for each name a $..name rule selects, the rules that select it.
	byKey map[string][]int
	// needles are the keys a body must hold (as quotedKey says) for a rule to select anything;
	// without any of them, and without keyEscapes, the run leaves the body alone. anyBody: some
	// rule may select without a key (its path ends in * or an index), or its key cannot be
	// looked for so.
	needles map[string]struct{}
	anyBody bool
}

type keyRule struct {
	*SanitizerRule
	name string // the key of a $..name path, or "" for the others
}

func newKeyRun(rules []*SanitizerRule) *keyRun {
	k := &keyRun{byKey: map[string][]int{}, needles: map[string]struct{}{}}
	for i, r := range rules {
		kr := keyRule{SanitizerRule: r}
		if segs := r.path.segs; len(segs) == 1 && segs[0].deep && len(segs[0].names) == 1 && segs[0].slice == nil && len(segs[0].indices) == 0 && !segs[0].any {
			kr.name = segs[0].names[0]
			k.byKey[kr.name] = append(k.byKey[kr.name], i)
		}
		if len(r.needles) == 0 {
			k.anyBody = true
		}
		for _, n := range r.keys {
			k.needles[n] = struct{}{}
		}
		k.rules = append(k.rules, kr)
	}
	return k
}

// mayHold says whether body may hold a key a rule selects by: without keyEscapes, a key k that
// quotedKey keeps is written "k" and followed by a colon.
func (k *keyRun) mayHold(body string) bool {
	if k.anyBody || keyEscapes(body) {
		return true
	}
	for i := strings.IndexByte(body, '"'); i >= 0; {
		j := strings.IndexByte(body[i+1:], '"')
		if j < 0 {
			return false
		}
		end := i + 1 + j
		if j <= maxQuoted {
			p := end + 1
			for p < len(body) && (body[p] == ' ' || body[p] == '\t' || body[p] == '\n' || body[p] == '\r') {
				p++
			}
			if p < len(body) && body[p] == ':' {
				if _, ok := k.needles[body[i+1:end]]; ok {
					return true
				}
			}
		}
		i = end
	}
	return false
}

// leafState is a scalar of the body as the run's rules leave it: its token (a string once a rule
// has written it) and its JSON text, when written.
type leafState struct {
	tok     any
	text    string
	written bool
}

// apply edits one side's body as the rules, in order, each with its own body call, would: a rule
// that changes any value it selects writes every value it selects as a JSON string; a
// Content-Length follows each change of length.
func (k *keyRun) apply(body *string, h http.Header, o SanitizeOptions, f *partFacts) {
	if *body == "" || o.IsText == nil || !k.mayHold(*body) || !f.isText(h, o) {
		return
	}
	f.of(*body)
	if f.tokens == nil {
		f.data = []byte(f.body)
		f.tokens = listTokens(f.data)
	}
	toks := f.tokens
	if toks.err != io.EOF {
		return // not one JSON value: no rule selects anything
	}
	// The scalars directly under each key the $..name rules select, by rule, in document order.
	type hit struct{ rule, tok int32 }
	var hits []hit
	type frame struct {
		object bool
		key    string
	}
	var stack []frame
	expectKey := false
	for i, t := range toks.toks {
		if d, ok := t.tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				stack = append(stack, frame{object: d == '{'})
				expectKey = d == '{'
			default:
				stack = stack[:len(stack)-1]
				expectKey = len(stack) > 0 && stack[len(stack)-1].object
			}
			continue
		}
		if expectKey {
			stack[len(stack)-1].key, _ = t.tok.(string)
			expectKey = false
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			for _, ri := range k.byKey[stack[n-1].key] {
				hits = append(hits, hit{int32(ri), int32(i)})
			}
			expectKey = true
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return int(a.rule - b.rule) })
	var leaves []leafState // by token index, made when a rule first writes
	clKeys := []string(nil)
	clFound := false
	length := len(f.body)
	changedAny := false
	for ri, r := range k.rules {
		var sel []int
		if r.name != "" {
			for len(hits) > 0 && int(hits[0].rule) < ri {
				hits = hits[1:]
			}
			for len(hits) > 0 && int(hits[0].rule) == ri {
				sel = append(sel, int(hits[0].tok))
				hits = hits[1:]
			}
		} else {
			if len(r.needles) > 0 && !f.keyEscapes() && !r.anyNeedle(f) {
				continue
			}
			found, ok := selectTokens(f.data, toks, r.path, false)
			if !ok {
				continue
			}
			for _, l := range found {
				if idx, ok := slices.BinarySearchFunc(toks.toks, l.start, func(t listedToken, start int) int { return t.before - start }); ok {
					sel = append(sel, idx)
				}
			}
		}
		if len(sel) == 0 {
			continue
		}
		if f.text == 0 && !f.isText(h, o) { // a Content-Length change made the body not text
			continue
		}
		if f.text == 2 {
			continue
		}
		tokAt := func(i int) any {
			if leaves != nil && leaves[i].written {
				return leaves[i].tok
			}
			return toks.toks[i].tok
		}
		repls := make([]string, len(sel))
		changed := false
		for j, i := range sel {
			tok := tokAt(i)
			if tok == nil {
				continue
			}
			orig := tokenText(tok)
			repls[j] = r.replaceFast(orig)
			if repls[j] != orig {
				changed = true
			}
		}
		if !changed {
			continue
		}
		if leaves == nil {
			leaves = make([]leafState, len(toks.toks))
		}
		before := length
		for j, i := range sel {
			if tokAt(i) == nil {
				continue
			}
			q := jsonQuote(repls[j])
			old := toks.toks[i].after - toks.toks[i].before
			if leaves[i].written {
				old = len(leaves[i].text)
			}
			length += len(q) - old
			tok := repls[j]
			if !utf8.ValidString(tok) {
				tok = unquoteJSON([]byte(q))
			}
			leaves[i] = leafState{tok: tok, text: q, written: true}
		}
		changedAny = true
		if length != before {
			if !clFound {
				for key := range h {
					if strings.EqualFold(key, "Content-Length") {
						clKeys = append(clKeys, key)
					}
				}
				clFound = true
			}
			for _, key := range clKeys {
				for i := range h[key] {
					h[key][i] = strconv.Itoa(length)
				}
			}
			if len(clKeys) > 0 {
				f.headerChanged()
			}
		}
	}
	if !changedAny {
		return
	}
	// Write the body once, and keep its tokens for the rules after the run.
	var b strings.Builder
	b.Grow(length)
	out := make([]listedToken, len(toks.toks))
	last, shift := 0, 0
	for i, t := range toks.toks {
		if !leaves[i].written {
			out[i] = listedToken{t.tok, t.before + shift, t.after + shift}
			continue
		}
		b.WriteString(f.body[last:t.before])
		start := b.Len()
		b.WriteString(leaves[i].text)
		out[i] = listedToken{leaves[i].tok, start, b.Len()}
		last, shift = t.after, b.Len()-t.after
	}
	b.WriteString(f.body[last:])
	nb := b.String()
	*body = nb
	f.of(nb)
	f.data = []byte(nb)
	f.tokens = &tokenList{toks: out, err: io.EOF}
}

// tokenText is a scalar token's text as test-proxy's regex sees it: .NET writes booleans True
// and False.
func tokenText(tok any) string {
	switch v := tok.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "True"
		}
		return "False"
	}
	return ""
}
