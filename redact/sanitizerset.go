package redact

import (
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

// setStep is one rule, or a run of header, body-key or literal-needing rules.
type setStep struct {
	rule    *SanitizerRule
	headers *headerRun
	keys    *keyRun
	lits    *litRun
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
		if n := litRunOf(rules[i:]); n > 1 {
			s.steps = append(s.steps, setStep{lits: newLitRun(rules[i : i+n])})
			i += n
			continue
		}
		s.steps = append(s.steps, setStep{rule: rules[i]})
		i++
	}
	var runs []*litRun
	for _, st := range s.steps {
		if st.lits != nil {
			runs = append(runs, st.lits)
		}
	}
	shareLitSets(runs)
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
		case st.lits != nil:
			st.lits.apply(it, o, &x)
		case st.headers != nil:
			if st.headers.apply(it.Request.Headers, &x.request) {
				x.request.headerChanged()
			}
			if st.headers.apply(it.Response.Headers, &x.response) {
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
	bits   [4]uint64 // the nameBit of each name
}

func newHeaderRun(rules []*SanitizerRule) *headerRun {
	h := &headerRun{byName: map[string][]*SanitizerRule{}, rules: rules}
	for _, r := range rules {
		n := strings.ToLower(r.spec.Header)
		h.byName[n] = append(h.byName[n], r)
		b := nameBit(n)
		h.bits[b>>6] |= 1 << (b & 63)
	}
	return h
}

// apply edits hdr, whose names f knows, and says whether anything changed. Each header is edited
// by the rules that name it, in order; what one header holds does not depend on another, so the
// order of headers does not matter.
func (h *headerRun) apply(hdr http.Header, f *partFacts) bool {
	if bits := f.headerBits(hdr); bits[0]&h.bits[0] == 0 && bits[1]&h.bits[1] == 0 && bits[2]&h.bits[2] == 0 && bits[3]&h.bits[3] == 0 {
		return false // no key is one of the names
	}
	changed := false
	var buf [64]byte
	for k, vals := range hdr {
		var rules []*SanitizerRule
		if isASCII(k) {
			if b := nameBit(k); h.bits[b>>6]&(1<<(b&63)) == 0 {
				continue // not one of the names
			}
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
	// others lists the other rules; ends holds the keys their paths end in or need.
	others []int
	ends   map[string]struct{}
	// needles are the keys a body must hold (as quotedKey says) for a rule to select anything;
	// without any of them, and without keyEscapes, the run leaves the body alone. anyBody: some
	// rule may select without a key (its path ends in * or an index), or its key cannot be
	// looked for so.
	needles map[string]struct{}
	anyBody bool
	// keyLens has, by the first byte of each key of byKey, ends and needles, a bit for its
	// length (mod 64): most keys of a body are none of them, and this says so without hashing.
	keyLens [256]uint64
}

type keyRule struct {
	*SanitizerRule
	name string // the key of a $..name path, or "" for the others
	// need, for the others: of each set, a key the body must hold for the path to select
	// anything (the names of a segment that selects by name, when quotedKey keeps them all).
	need [][]string
}

func newKeyRun(rules []*SanitizerRule) *keyRun {
	k := &keyRun{byKey: map[string][]int{}, needles: map[string]struct{}{}, ends: map[string]struct{}{}}
	for i, r := range rules {
		kr := keyRule{SanitizerRule: r}
		if segs := r.path.segs; len(segs) == 1 && segs[0].deep && len(segs[0].names) == 1 && segs[0].slice == nil && len(segs[0].indices) == 0 && !segs[0].any {
			kr.name = segs[0].names[0]
			k.byKey[kr.name] = append(k.byKey[kr.name], i)
		} else {
			k.others = append(k.others, i)
			for _, n := range r.keys {
				k.ends[n] = struct{}{}
			}
			for _, seg := range r.path.segs {
				if seg.any || len(seg.names) == 0 || slices.ContainsFunc(seg.names, func(n string) bool { return quotedKey(n) == "" }) {
					continue
				}
				kr.need = append(kr.need, seg.names)
				for _, n := range seg.names {
					k.ends[n] = struct{}{}
				}
			}
		}
		if len(r.needles) == 0 {
			k.anyBody = true
		}
		for _, n := range r.keys {
			k.needles[n] = struct{}{}
		}
		k.rules = append(k.rules, kr)
	}
	for _, keys := range []map[string]struct{}{k.needles, k.ends} {
		for n := range keys {
			k.addKeyLen(n)
		}
	}
	for n := range k.byKey {
		k.addKeyLen(n)
	}
	return k
}

func (k *keyRun) addKeyLen(n string) {
	if n != "" {
		k.keyLens[n[0]] |= 1 << (len(n) & 63)
	}
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
			if p < len(body) && body[p] == ':' && k.mayBeKey(body[i+1:end]) {
				if _, ok := k.needles[body[i+1:end]]; ok {
					return true
				}
			}
		}
		i = end
	}
	return false
}

// keyedValue is a scalar of the body that a rule of the run selects: where its JSON text is,
// and what the run's rules have made of it (once a rule has written it: the text the rules see
// and the JSON string written, "" when that is val between quotes, and the string's length).
type keyedValue struct {
	start, end int
	val, text  string
	quoted     int
	written    bool
}

// plainJSON says whether jsonQuote writes s between quotes as it is.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// seen is the value's text as test-proxy's regex sees it (.NET writes booleans True and False); ok is false
// for a null, which no rule edits.
func (v *keyedValue) seen(body string) (text string, ok bool) {
	if v.written {
		return v.val, true
	}
	switch raw := body[v.start:v.end]; raw[0] {
	case '"':
		return unquoteJSONString(raw), true
	case 't':
		return "True", true
	case 'f':
		return "False", true
	case 'n':
		return "", false
	default:
		return raw, true // a json.Number's text
	}
}

// unquoteJSONString is unquoteJSON of a string: a part of quoted when nothing in it needs
// decoding.
func unquoteJSONString(quoted string) string {
	raw := quoted[1 : len(quoted)-1]
	if strings.IndexByte(raw, '\\') < 0 && utf8.ValidString(raw) {
		return raw
	}
	return unquoteJSON([]byte(quoted))
}

// mayBeKey says whether name may be a key of byKey or ends: a quick test before looking it up.
func (k *keyRun) mayBeKey(name string) bool {
	return len(name) == 0 || k.keyLens[name[0]]&(1<<(len(name)&63)) != 0
}

// holdsKeys says whether present holds a key of each of need.
func holdsKeys(present map[string]bool, need [][]string) bool {
	for _, names := range need {
		if !slices.ContainsFunc(names, func(n string) bool { return present[n] }) {
			return false
		}
	}
	return true
}

// keyHit is a value a $..name rule selects: the rule's index and the value's in values.
type keyHit struct{ rule, value int32 }

// apply edits one side's body as the rules, in order, each with its own body call, would: a rule
// that changes any value it selects writes every value it selects as a JSON string; a
// Content-Length follows each change of length.
func (k *keyRun) apply(body *string, h http.Header, o SanitizeOptions, f *partFacts) {
	if *body == "" || o.IsText == nil || !k.mayHold(*body) || !f.isText(h, o) {
		return
	}
	f.of(*body)
	if f.tokens != nil && f.tokens.err != io.EOF {
		return // not one JSON value: no rule selects anything
	}
	// The scalars directly under each key the $..name rules select (by rule, in document order),
	// and which keys the other rules' paths end in are in the body.
	var hitBuf [16]keyHit
	var valBuf [8]keyedValue
	hits, values := hitBuf[:0], valBuf[:0]
	present := map[string]bool(nil)
	valid := walkKeyed(f.body, func(key string, escaped bool, start, end int) {
		name := key[1 : len(key)-1]
		if escaped {
			name = unquoteJSONString(key)
		} else if !k.mayBeKey(name) {
			return
		}
		if len(k.others) > 0 {
			if _, ok := k.ends[name]; ok {
				if present == nil {
					present = map[string]bool{}
				}
				present[name] = true
			}
		}
		rules := k.byKey[name]
		if len(rules) == 0 || start < 0 {
			return
		}
		for _, ri := range rules {
			hits = append(hits, keyHit{int32(ri), int32(len(values))})
		}
		values = append(values, keyedValue{start: start, end: end})
	})
	if !valid {
		return // not one JSON value: no rule selects anything
	}
	slices.SortStableFunc(hits, func(a, b keyHit) int { return int(a.rule - b.rule) })
	keyed := len(values)  // values[:keyed] are in document order
	var extra map[int]int // start -> index in values, for values only other rules select
	length := len(f.body)
	var clKeys []string
	clFound, changedAny := false, false
	var selBuf [8]int
	var replBuf [8]string
	sel, repls := selBuf[:0], replBuf[:0]
	others := k.others
	for {
		// The next rule that may select: the next with a hit, or the next of the others.
		ri := -1
		if len(hits) > 0 {
			ri = int(hits[0].rule)
		}
		if len(others) > 0 && (ri < 0 || others[0] < ri) {
			ri = others[0]
		}
		if ri < 0 {
			break
		}
		r := k.rules[ri]
		sel = sel[:0]
		if r.name != "" {
			for len(hits) > 0 && int(hits[0].rule) == ri {
				sel = append(sel, int(hits[0].value))
				hits = hits[1:]
			}
		} else {
			others = others[1:]
			if len(r.keys) > 0 && !slices.ContainsFunc(r.keys, func(n string) bool { return present[n] }) {
				continue
			}
			if !holdsKeys(present, r.need) {
				continue
			}
			if f.tokens == nil {
				if f.data == nil {
					f.data = []byte(f.body)
				}
				f.tokens = listTokens(f.data)
			}
			found, ok := selectTokens(f.data, f.tokens, r.path, false)
			if !ok {
				continue
			}
			for _, l := range found {
				i, ok := slices.BinarySearchFunc(values[:keyed], l.start, func(v keyedValue, start int) int { return v.start - start })
				if !ok {
					if extra == nil {
						extra = map[int]int{}
					}
					var seen bool
					if i, seen = extra[l.start]; !seen {
						i = len(values)
						extra[l.start] = i
						values = append(values, keyedValue{start: l.start, end: l.end})
					}
				}
				sel = append(sel, i)
			}
		}
		if len(sel) == 0 || !f.isText(h, o) { // a Content-Length change may make the body not text
			continue
		}
		repls = repls[:0]
		changed := false
		for _, i := range sel {
			orig, ok := values[i].seen(f.body)
			repl := ""
			if ok {
				repl = r.replaceFast(orig)
				changed = changed || repl != orig
			}
			repls = append(repls, repl)
		}
		if !changed {
			continue
		}
		before := length
		for j, i := range sel {
			v := &values[i]
			if _, ok := v.seen(f.body); !ok {
				continue
			}
			old := v.end - v.start
			if v.written {
				old = v.quoted
			}
			val, q := repls[j], ""
			if !plainJSON(val) { // most values are written between quotes as they are
				q = jsonQuote(val)
				if !utf8.ValidString(val) {
					val = unquoteJSON([]byte(q))
				}
			}
			quoted := len(val) + 2
			if q != "" {
				quoted = len(q)
			}
			length += quoted - old
			v.val, v.text, v.quoted, v.written = val, q, quoted, true
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
	// Write the body once: the written values in document order.
	written := values[:0]
	for _, v := range values {
		if v.written {
			written = append(written, v)
		}
	}
	slices.SortFunc(written, func(a, b keyedValue) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(length)
	last := 0
	for _, v := range written {
		b.WriteString(f.body[last:v.start])
		if v.text != "" {
			b.WriteString(v.text)
		} else {
			b.WriteByte('"')
			b.WriteString(v.val)
			b.WriteByte('"')
		}
		last = v.end
	}
	b.WriteString(f.body[last:])
	*body = b.String()
	f.of(*body)
}
