package redact

import (
	"regexp"
	"slices"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/secrets"
)

// place says where a value was found.
type place int

const (
	inHeader   place = iota // a header value; name is the header's
	inParam                 // a query, fragment, form or connection-string parameter; name is its key
	inPath                  // a segment of a URL path
	inUserinfo              // the password of a URL's user info
	inJSON                  // a JSON string value; name is its key (array items: the array's key)
	inJSONKey               // a JSON object key
	inText                  // a body that is neither JSON nor gzip, or a string found in one
)

// A value is one decoded string of an exchange — a header value, a URL part, a parameter, a
// JSON string unescaped — offered to the value rules. They read text and ask for ranges of it
// to be replaced; the walker writes each replacement over the bytes that encode the range, so
// the rest of the body, URL or header keeps its bytes. A replacement always covers whole escape
// sequences: a secret is replaced whole or not at all.
type value struct {
	place place
	name  string
	text  string
	edits []edit
}

// edit replaces text[start:end] with with.
type edit struct {
	start, end int
	with       string
}

// replace asks for text[start:end] to become with.
func (v *value) replace(start, end int, with string) {
	if start < end {
		v.edits = append(v.edits, edit{start, end, with})
	}
}

// replaceAll asks for the whole value to become with, unless it is empty or already that.
func (v *value) replaceAll(with string) {
	if v.text != "" && v.text != with {
		v.replace(0, len(v.text), with)
	}
}

// valueRule is a rule that works on decoded values. A Redactor walks each request and response
// once for all its value rules in a row, offering every value to each of them.
type valueRule interface {
	Rule
	redactValue(v *value)
}

// walker carries the value rules through one request or response.
type walker struct {
	rules []valueRule
	// values are visit's, one per level of nesting, reused from one value to the next: the
	// rules keep no *value past redactValue.
	values []*value
	level  int
	fresh  bool // a new value for every visit, as before reuse: the reference tests hold it to
	// slow offers every value to every rule, as before the quick tests (quick.go): the
	// differential tests hold the quick walk to it.
	slow bool
	// quick is what the rules' quick tests make of each place, made on first use for rules.
	quick quickMasks
	// The first rules and levels live in the walker itself: one allocation for a message.
	ruleBuf  [8]valueRule
	valueBuf [6]value
	ptrBuf   [6]*value
}

// maxNesting bounds JSON inside strings inside JSON.
const maxNesting = 3

// visit offers a decoded text to the rules and looks inside it (parameters, URLs, JSON held in
// a string), returning the edits to make in text's coordinates, merged and in order.
func (w *walker) visit(p place, name, text string, depth int) []edit {
	acting := w.acting(p, name, text)
	if acting == 0 && !mayHoldInside(text, p, depth) {
		return nil // no rule edits it, and nothing is inside it to look at
	}
	if w.level == len(w.values) || w.fresh {
		var v *value
		if !w.fresh && w.level < len(w.valueBuf) {
			v = &w.valueBuf[w.level]
		} else {
			v = new(value)
		}
		if w.values == nil {
			w.values = w.ptrBuf[:0]
		}
		w.values = append(w.values[:w.level], v)
	}
	v := w.values[w.level]
	*v = value{place: p, name: name, text: text} // edits nil: the last result may hold its array
	w.level++
	defer func() { w.level-- }()
	for i, r := range w.rules {
		if i < 64 && acting&(1<<i) == 0 {
			continue // its quick test says it leaves this value alone
		}
		r.redactValue(v)
		if wholeEdit(v.edits, len(text)) {
			break // nothing is left for the other rules to find
		}
	}
	if !wholeEdit(v.edits, len(text)) && depth < maxNesting && p != inUserinfo {
		v.edits = append(v.edits, w.inside(text, depth)...)
	}
	return mergeEdits(v.edits, len(text))
}

// inside finds the values held in a text: name=value parameters (query strings, forms,
// connection strings, also URL-encoded), the parts of URLs, and JSON.
func (w *walker) inside(text string, depth int) []edit {
	var out []edit
	if looksJSON(text) {
		if edits, ok := w.json(text, depth+1); ok {
			return edits
		}
	}
	if hasParamEquals(text) { // more than base64 padding
		out = append(out, w.params(text, depth)...)
	}
	if strings.Contains(text, "://") {
		for _, loc := range urlRe.FindAllStringIndex(text, -1) {
			for _, e := range w.url(text[loc[0]:loc[1]], depth) {
				out = append(out, edit{e.start + loc[0], e.end + loc[0], e.with})
			}
		}
	}
	return out
}

// paramRe finds name=value pairs after a start of text or a separator (? & ; #): query
// strings, forms, connection strings, Cosmos's type=master&ver=1.0&sig=.
var paramRe = regexp.MustCompile(`(?:^|[?&;#])\s*([A-Za-z0-9_.~$\[\] -]*[A-Za-z0-9_.~$\]-])\s*=([^&;#\s"'<>]*)`)

// mayHoldParam reports whether paramRe can match in s, without running it: a match starts at
// the start of s or after one of ?&;#, and what follows up to its "=" is spaces and name bytes.
func mayHoldParam(s string) bool {
	for start := 0; start <= len(s); {
		i := start
		for i < len(s) && paramNameOrSpace[s[i]] {
			i++
		}
		if i < len(s) && s[i] == '=' {
			return true
		}
		next := strings.IndexAny(s[start:], "?&;#")
		if next < 0 {
			return false
		}
		start += next + 1
	}
	return false
}

// paramNameOrSpace holds the bytes of paramRe's name class and of \s.
var paramNameOrSpace = func() (set [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~$[] -\t\n\f\r") {
		set[c] = true
	}
	return set
}()

// params offers each parameter value, decoded, to the rules, in the text as given and with URL
// encoding or escapes undone (a URL-encoded redirect_uri holding ?code=...).
func (w *walker) params(text string, depth int) []edit {
	var out []edit
	for _, view := range secrets.Views(text) {
		if !mayHoldParam(view.Text) {
			continue
		}
		for _, m := range paramRe.FindAllStringSubmatchIndex(view.Text, -1) {
			name, vs, ve := view.Text[m[2]:m[3]], m[4], m[5]
			for _, e := range w.visit(inParam, name, view.Text[vs:ve], depth+1) {
				from, to := view.Source(vs+e.start, vs+e.end)
				out = append(out, edit{from, to, e.with})
			}
		}
	}
	return out
}

var urlRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// url offers the parts of a URL: the password of its user info, each path segment, and the
// parameters of its query and fragment.
func (w *walker) url(u string, depth int) []edit {
	var out []edit
	at := func(off int, edits []edit) {
		for _, e := range edits {
			out = append(out, edit{e.start + off, e.end + off, e.with})
		}
	}
	rest := 0
	if i := strings.Index(u, "://"); i >= 0 {
		rest = i + 3
		end := indexAnyOrEnd(u, rest, "/?#")
		if at := strings.LastIndexByte(u[rest:end], '@'); at >= 0 {
			if c := strings.IndexByte(u[rest:rest+at], ':'); c >= 0 {
				out = append(out, w.decoded(inUserinfo, "password", u, rest+c+1, rest+at)...)
			}
		}
		rest = end
	}
	pathEnd := indexAnyOrEnd(u, rest, "?#")
	plain := !strings.ContainsAny(u[rest:pathEnd], `%\`) // no segment to decode: decoded's own test, once
	for start := rest; start < pathEnd; {
		end := start + strings.IndexByte(u[start:pathEnd], '/')
		if end < start {
			end = pathEnd
		}
		if end > start {
			if plain {
				out = append(out, shift(w.visit(inPath, "", u[start:end], maxNesting), start)...)
			} else {
				out = append(out, w.decoded(inPath, "", u, start, end)...)
			}
		}
		start = end + 1
	}
	if pathEnd < len(u) {
		at(pathEnd, w.visit(inText, "", u[pathEnd:], depth+1))
	}
	return mergeEdits(out, -1)
}

// indexAnyOrEnd is the index in s of the first of chars at or after from, or len(s).
func indexAnyOrEnd(s string, from int, chars string) int {
	if i := strings.IndexAny(s[from:], chars); i >= 0 {
		return from + i
	}
	return len(s)
}

// decoded offers s[start:end] with its URL encoding undone and maps the edits back.
func (w *walker) decoded(p place, name, s string, start, end int) []edit {
	if !strings.ContainsAny(s[start:end], `%\`) { // nothing to decode: the view is the text
		return shift(w.visit(p, name, s[start:end], maxNesting), start)
	}
	views := secrets.Views(s[start:end])
	view := views[len(views)-1] // the most decoded
	var out []edit
	for _, e := range w.visit(p, name, view.Text, maxNesting) {
		from, to := view.Source(e.start, e.end)
		out = append(out, edit{from + start, to + start, e.with})
	}
	return out
}

// shift moves edits by off, in place.
func shift(edits []edit, off int) []edit {
	for i := range edits {
		edits[i].start += off
		edits[i].end += off
	}
	return edits
}

// wholeEdit reports whether an edit replaces all of a text n bytes long.
func wholeEdit(edits []edit, n int) bool {
	for _, e := range edits {
		if e.start == 0 && e.end == n {
			return true
		}
	}
	return false
}

// mergeEdits orders edits and joins those that overlap: a replacement of the whole text wins
// over the rest (it keeps its own text, such as "Bearer REDACTED"); overlapping parts become
// one REDACTED.
func mergeEdits(edits []edit, n int) []edit {
	if len(edits) == 0 {
		return nil
	}
	for _, e := range edits {
		if e.start == 0 && e.end == n {
			return []edit{e}
		}
	}
	slices.SortStableFunc(edits, func(a, b edit) int { return a.start - b.start })
	out := edits[:1]
	for _, e := range edits[1:] {
		last := &out[len(out)-1]
		if e.start < last.end {
			if e.end > last.end || e.with != last.with {
				last.end = max(last.end, e.end)
				last.with = Redacted
			}
			continue
		}
		out = append(out, e)
	}
	return out
}

// splice writes edits, in order and apart, over s.
func splice(s string, edits []edit) string {
	if len(edits) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, e := range edits {
		b.WriteString(s[last:e.start])
		b.WriteString(e.with)
		last = e.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactText is visit and splice for a text as a whole.
func (w *walker) redactText(p place, name, text string) string {
	return splice(text, w.visit(p, name, text, 0))
}

// request redacts the request's headers, URL, go-vcr form map and body.
func (w *walker) request(r *cassette.Request) {
	w.headers(r.Headers)
	r.URL = splice(r.URL, w.url(r.URL, 0))
	for name, vals := range r.Form {
		for i, s := range vals {
			vals[i] = w.redactText(inParam, name, s)
		}
	}
	r.Body = w.body(r.Body)
}

// response redacts the response's headers and body.
func (w *walker) response(r *cassette.Response) {
	w.headers(r.Headers)
	r.Body = w.body(r.Body)
}

func (w *walker) headers(h map[string][]string) {
	for name, vals := range h {
		for i, s := range vals {
			vals[i] = w.redactText(inHeader, name, s)
		}
	}
}
