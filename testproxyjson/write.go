package testproxyjson

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// ---- writing ----

// tpWriter writes JSON the way System.Text.Json's Utf8JsonWriter does with Indented set: two
// spaces a level, `"name": value`, empty containers as {} and [].
type tpWriter struct {
	b         []byte
	stack     []bool // per open container: whether it has an element yet
	afterKey  bool
	names     [2][]headerName // scratch for the request's and the response's headers
	spellings spellings       // scratch for headerNames
	indented  bytes.Buffer    // scratch for inline
}

// headerName is a header as written: its name, its values, its name in lower case when that is
// not ASCII (ASCII names are compared ignoring case without making it), and for ASCII names the
// first eight bytes of the name in lower case, big-endian, which order most pairs at once.
type headerName struct {
	name  string
	vals  []string
	lower string
	key   uint64
	ascii bool
	plain bool // the name and every value are printable ASCII without '"' or '\\': written as they are
}

func (w *tpWriter) newline() {
	w.b = append(w.b, '\n')
	for range w.stack {
		w.b = append(w.b, ' ', ' ')
	}
}

// value starts a value: after a member name it follows on the same line, else it is the next
// element of the enclosing array.
func (w *tpWriter) value() {
	if w.afterKey {
		w.afterKey = false
		return
	}
	w.element()
}

func (w *tpWriter) element() {
	if n := len(w.stack); n > 0 {
		if w.stack[n-1] {
			w.b = append(w.b, ',')
		}
		w.stack[n-1] = true
		w.newline()
	}
}

func (w *tpWriter) key(k string) {
	w.element()
	w.b = appendDotNetString(w.b, k)
	w.b = append(w.b, ':', ' ')
	w.afterKey = true
}

func (w *tpWriter) open(c byte) {
	w.value()
	w.b = append(w.b, c)
	w.stack = append(w.stack, false)
}

func (w *tpWriter) close(c byte) {
	had := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if had {
		w.newline()
	}
	w.b = append(w.b, c)
}

func (w *tpWriter) str(s string) {
	w.value()
	w.b = appendDotNetString(w.b, s)
}

func (w *tpWriter) raw(s string) {
	w.value()
	w.b = append(w.b, s...)
}

// inline writes a JSON document as a value, indented to the current depth.
func (w *tpWriter) inline(doc string) {
	w.value()
	w.indented.Reset()
	json.Indent(&w.indented, []byte(strings.TrimSpace(doc)), indentOf(len(w.stack)), "  ") // doc is valid JSON
	w.b = append(w.b, w.indented.Bytes()...)
}

// indentOf is the prefix of a line depth levels down.
func indentOf(depth int) string {
	const spaces = "                                                                "
	if 2*depth <= len(spaces) {
		return spaces[:2*depth]
	}
	return strings.Repeat("  ", depth)
}

func (w *tpWriter) entry(it *cassette.Interaction) error {
	// JSON strings hold text, so the URL, method and headers must be UTF-8 to be written
	// unchanged; all are checked before anything is written.
	if !utf8.ValidString(it.Request.URL) {
		return fmt.Errorf("request URL is not UTF-8")
	}
	if !utf8.ValidString(it.Request.Method) {
		return fmt.Errorf("request method is not UTF-8")
	}
	req, err := headerNames(w.names[0][:0], &w.spellings, "request", it.Request.Headers, it.Request.HeaderNames)
	w.names[0] = req
	if err != nil {
		return err
	}
	resp, err := headerNames(w.names[1][:0], &w.spellings, "response", it.Response.Headers, it.Response.HeaderNames)
	w.names[1] = resp
	if err != nil {
		return err
	}
	w.open('{')
	w.key("RequestUri")
	w.str(it.Request.URL)
	w.key("RequestMethod")
	w.str(it.Request.Method)
	w.key("RequestHeaders")
	w.headers(req)
	w.key("RequestBody")
	if err := w.body(it.Request.Body, it.Request.Headers); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	w.key("StatusCode")
	w.value()
	w.b = strconv.AppendInt(w.b, int64(it.Response.Code), 10)
	w.key("ResponseHeaders")
	w.headers(resp)
	w.key("ResponseBody")
	if err := w.body(it.Response.Body, it.Response.Headers); err != nil {
		return fmt.Errorf("response body: %w", err)
	}
	w.close('}')
	clear(req) // hold no strings of this entry
	clear(resp)
	return nil
}

// compareHeaderNames orders by lower case, then as spelled.
func compareHeaderNames(a, b headerName) int {
	if a.name == b.name {
		return 0
	}
	var c int
	if a.ascii && b.ascii {
		if a.key != b.key { // the first eight bytes in lower case differ
			return cmp.Compare(a.key, b.key)
		}
		c = compareLowerASCII(a.name, b.name)
	} else {
		la, lb := a.lower, b.lower
		if a.ascii {
			la = strings.ToLower(a.name)
		}
		if b.ascii {
			lb = strings.ToLower(b.name)
		}
		c = strings.Compare(la, lb)
	}
	if c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// compareLowerASCII is strings.Compare(strings.ToLower(a), strings.ToLower(b)) for ASCII a and b.
func compareLowerASCII(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if x, y := lowerASCII(a[i]), lowerASCII(b[i]); x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(len(a), len(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// headers writes SerializeHeaders' form of names (from headerNames).
func (w *tpWriter) headers(names []headerName) {
	w.open('{')
	for _, n := range names {
		if n.plain { // nothing to escape: written as they are
			w.element()
			w.b = append(append(append(w.b, '"'), n.name...), '"', ':', ' ')
			if v := n.vals; len(v) == 1 {
				w.b = append(append(append(w.b, '"'), v[0]...), '"')
				continue
			}
			w.afterKey = true
		} else {
			w.key(n.name)
		}
		if v := n.vals; len(v) == 1 {
			w.str(v[0])
		} else {
			w.open('[')
			for _, s := range v {
				w.str(s)
			}
			w.close(']')
		}
	}
	w.close('}')
}

// sameCanonical is http.CanonicalHeaderKey(a) == http.CanonicalHeaderKey(b), without making
// either: for names of token characters it is equality ignoring ASCII case, and other names are
// left as they are by CanonicalHeaderKey.
func sameCanonical(a, b string) bool {
	if len(a) != len(b) {
		return false // canonical forms keep the length
	}
	if a == b {
		return true
	}
	// CanonicalHeaderKey changes only ASCII case, so names that differ otherwise differ canonically
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x != y && lowerASCII(x) != lowerASCII(y) {
			return false
		}
	}
	if !isToken(a) { // nor is b, which differs only in ASCII case
		return http.CanonicalHeaderKey(a) == http.CanonicalHeaderKey(b)
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isToken: s is an HTTP token, the names CanonicalHeaderKey changes.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenByte[c] {
			return false
		}
	}
	return true
}

var tokenByte = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func lessIgnoreCase(a, b string, fold func(string) string) bool {
	if fa, fb := fold(a), fold(b); fa != fb {
		return fa < fb
	}
	return a < b
}

// body writes SerializeBody's form for body under headers h.
func (w *tpWriter) body(body string, h http.Header) error {
	if body == "" {
		w.raw("null")
		return nil
	}
	ct, single := tpContentType(h)
	if !single || !tpIsText(ct) {
		w.value() // base64 needs no escapes
		w.b = append(w.b, '"')
		w.b = base64.StdEncoding.AppendEncode(w.b, []byte(body))
		w.b = append(w.b, '"')
		return nil
	}
	if !utf8.ValidString(body) {
		return fmt.Errorf("is not UTF-8, but Content-Type %q makes the test-proxy store it as text", ct)
	}
	if tpIsJSON(ct) && inlineableRoot(body) && w.afterKey {
		// valid and shallow enough: written indented at once (after a member name value() writes nothing)
		if b, ok := appendIndentedJSON(w.b, body, indentOf(len(w.stack)), jsonDepthLimit-3); ok {
			w.value()
			w.b = b
			return nil
		}
	} else if tpIsJSON(ct) && inlineable(body) {
		w.inline(body)
		return nil
	}
	if !strings.ContainsAny(body, "\r\n") {
		w.str(body)
		return nil
	}
	w.open('[')
	for _, l := range splitLines(body) {
		w.str(l)
	}
	w.close(']')
	return nil
}

// inlineable: a JSON document whose root is an object, number or boolean (SerializeBody writes
// arrays, strings and null as text), shallow enough that the written recording stays within
// System.Text.Json's default depth of 64 when the proxy reads it (the body sits three levels down).
func inlineable(body string) bool {
	return inlineableRoot(body) && json.Valid([]byte(body)) && jsonDepth(body) <= jsonDepthLimit-3
}

// inlineableRoot: body's first character is not one of a root SerializeBody writes as text.
func inlineableRoot(body string) bool {
	t := strings.TrimLeft(body, " \t\r\n")
	return t != "" && t[0] != '[' && t[0] != '"' && t[0] != 'n'
}

// splitLines splits text after each line break the way IndexOfNewline does: at the first '\r' or
// '\n', taking one more '\r' or '\n' right after it into the same line.
func splitLines(s string) []string {
	var out []string
	for {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			break
		}
		if i+1 < len(s) && (s[i+1] == '\r' || s[i+1] == '\n') {
			i++
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// appendDotNetString writes s as a JSON string, escaped approximately as System.Text.Json's
// relaxed encoder escapes (JavaScriptEncoder.UnsafeRelaxedJsonEscaping): quote and backslash with a
// backslash, controls as \b \t \n \f \r or \uXXXX, characters outside the Basic Multilingual Plane
// as surrogate pairs, and line/paragraph separators, non-ASCII spaces, format, private-use and
// unassigned characters as \uXXXX. Any JSON reader reads the same string whatever the escapes.
func appendDotNetString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	u := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
	}
	b = append(b, '"')
	i := plainPrefix(s) // a run of printable ASCII is written as it is
	if i == len(s) {
		return append(append(b, s...), '"')
	}
	b = append(b, s[:i]...)
	s = s[i:]

	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r < 0x20:
			b = u(b, r)
		case r < 0x7F:
			b = append(b, byte(r))
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			b = u(u(b, r1), r2)
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp, unicode.Zs) ||
			!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S):
			b = u(b, r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// plainPrefix is the length of s's leading run of printable ASCII other than '"' and '\\' (the
// bytes a JSON string holds as they are), looked for eight bytes at a time.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// a byte ≥ 0x80, < 0x20, 0x7F, '"' or '\\' (each test exact about whether one exists)
		if (x|(x-0x20*ones)|zeroByte(x^0x7F*ones)|zeroByte(x^'"'*ones)|zeroByte(x^'\\'*ones))&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7F || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// zeroByte has the high bit set in some byte if and only if x has a zero byte.
func zeroByte(x uint64) uint64 {
	return (x - 0x0101010101010101) &^ x
}
