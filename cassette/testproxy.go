package cassette

// Microsoft's Azure SDK test-proxy (github.com/Azure/azure-sdk-tools, tools/test-proxy) stores a
// recording as JSON: {"Entries": [...], "Variables": {...}}. This file reads and writes that format.
// The rules follow the proxy's own code, cited as [RecordEntry.cs] and so on below, all under
// tools/test-proxy/Azure.Sdk.Tools.TestProxy/:
//
//   - [RecordSession.cs] Serialize/Deserialize: the top-level object; Variables is a
//     SortedDictionary<string,string> with OrdinalIgnoreCase keys, written as strings.
//   - [Common/RecordEntry.cs] Serialize, SerializeBody, SerializeHeaders, Deserialize,
//     DeserializeBody, DeserializeHeaders, NormalizeJsonBody, IndexOfNewline: body and header forms.
//   - [Common/ContentTypeUtilities.cs] TryGetTextEncoding, IsManifestContentType, TryGetContentType:
//     which bodies are text. [Common/MultipartUtilities.cs] DeserializeMultipartBody: the array form
//     newer proxies write for multipart bodies.
//   - [Common/RecordedTestSanitizer.cs] UpdateSanitizedContentLength: Content-Length follows a
//     normalised body.
//   - [RecordingHandler.cs] StopRecording (Utf8JsonWriter, Indented, relaxed encoder, a newline
//     after the document), HandleRecordRequestAsync (an empty response body is stored as null, the
//     body stored decompressed, Content-Encoding kept), HandlePlaybackRequest (gzip/br compressed
//     again on playback when the recorded Content-Encoding says so).
//   - [Common/RequestOrResponse.cs]: headers are a SortedDictionary<string,string[]> whose keys
//     compare InvariantCultureIgnoreCase.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// LoadTestProxy reads a test-proxy recording file. See ParseTestProxy.
func LoadTestProxy(path string) (*Cassette, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return ParseTestProxy(path, data)
}

// ParseTestProxy decodes a test-proxy recording; name is used in error messages only. Entry i
// becomes the interaction with ID i. Bodies are decoded to the bytes the test-proxy itself would
// serve in playback:
//
//   - null (and a missing body) is no body.
//   - When the entry's Content-Type marks text (one Content-Type value; text/*, *json, *xml,
//     *-urlencoded, application/json*, or "; charset=utf-8", but not a Docker/OCI manifest): a
//     string is the body, an array of strings is joined with nothing in between (the lines keep
//     their line ends), and inline JSON (object, number, true, false) is the JSON text as it
//     stands in the file. Then, for a Content-Type containing "json", a body that parses as JSON
//     is compacted, and a Content-Length header, when there is one, is set to the compacted
//     length, as the proxy does when it loads a recording.
//   - Otherwise a string is base64 (whitespace ignored); an array for a multipart Content-Type is
//     the parts form of newer proxies ("b64:" segments base64, other segments ASCII, nested
//     arrays skipped); any other array is an empty body, as the proxy reads it. An inline JSON
//     object there (older proxies counted Docker manifests as text) is taken as compact JSON
//     text; a number or boolean is an error.
//
// Header values are a string (one value) or an array of strings (several); names keep their
// spelling. Names that differ only in case are one header, as in the proxy: the last value wins
// under the first spelling. Content-Encoding is kept as recorded: the proxy stores bodies
// decompressed, as cassettes do. Variables may hold any JSON scalar; numbers and booleans are kept
// as their JSON text, null as "". The variables are also set on the returned cassette.
//
// Errors are *Error values naming the file and the line of the offending JSON value.
func ParseTestProxy(name string, data []byte) (*Cassette, map[string]string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &Error{File: name, Msg: `empty file, not a test-proxy recording (want a JSON object with "Entries")`}
	}
	p := &tpParser{data: data}
	root, err := p.parse()
	if err != nil {
		return nil, nil, err.at(name, data)
	}
	d := &tpDecoder{name: name, data: data}
	c, vars, derr := d.session(root)
	if derr != nil {
		return nil, nil, derr
	}
	return c, vars, nil
}

// MarshalTestProxy writes c as a test-proxy recording, in the layout the proxy writes (two-space
// indentation, entries in order, then Variables sorted ignoring case, a final newline). vars are
// the variables to write; when nil, c.Variables are written. For each body:
//
//   - An empty body is null (the proxy stores an empty response body as null).
//   - A body whose single Content-Type marks text (see ParseTestProxy) must be UTF-8; it is written
//     as inline JSON when the Content-Type contains "json" and the body is a JSON object, number
//     or boolean (the proxy compacts such bodies when it loads them anyway); otherwise as a string,
//     or as an array of lines when it contains line breaks (each line keeps its "\r", "\n", "\r\n",
//     "\n\n"... ending, split where the proxy splits).
//   - Any other body (binary, no Content-Type, several Content-Type values, multipart) is base64.
//
// Header values with one value are strings, others arrays of strings; headers are sorted ignoring
// case. A text-typed body that is not UTF-8 cannot be represented (the proxy itself would store it
// with U+FFFD replacements): that is an *InteractionError.
func MarshalTestProxy(c *Cassette, vars map[string]string) ([]byte, error) {
	if vars == nil {
		vars = c.Variables
	}
	for k, v := range vars {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("variable %q is not UTF-8", k)
		}
	}
	w := &tpWriter{}
	w.open('{')
	w.key("Entries")
	w.open('[')
	for i, it := range c.Interactions {
		if it == nil {
			return nil, &InteractionError{Index: i, Msg: "empty entry"}
		}
		if err := w.entry(it); err != nil {
			return nil, &InteractionError{Index: i, ID: it.ID, Msg: err.Error()}
		}
	}
	w.close(']')
	w.key("Variables")
	w.open('{')
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return lessIgnoreCase(names[i], names[j], strings.ToUpper) })
	for _, k := range names {
		w.key(k)
		w.str(vars[k])
	}
	w.close('}')
	w.close('}')
	return append(w.b, '\n'), nil
}

// SaveTestProxy writes c as a test-proxy recording to path, atomically.
func SaveTestProxy(path string, c *Cassette, vars map[string]string) error {
	data, err := MarshalTestProxy(c, vars)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeAtomic(path, data)
}

// InteractionError is an interaction MarshalTestProxy cannot write. Index is its position in the
// cassette.
type InteractionError struct {
	Index int
	ID    int
	Msg   string
}

func (e *InteractionError) Error() string {
	return fmt.Sprintf("interaction %d (id %d): %s", e.Index, e.ID, e.Msg)
}

// ---- content types ([Common/ContentTypeUtilities.cs], [Common/RecordEntry.cs]) ----

// tpContentType returns the Content-Type when the headers hold exactly one value for it, names
// compared ignoring case (TryGetContentType).
func tpContentType(h http.Header) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, "Content-Type") {
			if len(v) == 1 {
				return v[0], true
			}
			return "", false
		}
	}
	return "", false
}

// tpIsManifest: Docker and OCI manifests are never text (IsManifestContentType).
func tpIsManifest(ct string) bool {
	return strings.Contains(ct, "application/vnd.docker.distribution.manifest.v") ||
		strings.Contains(ct, "application/vnd.oci.image.index.v")
}

// tpIsText is TryGetTextEncoding: every text encoding it finds is UTF-8.
func tpIsText(ct string) bool {
	const marker = "; charset="
	if i := indexFold(ct, marker); i >= 0 && hasPrefixFold(ct[i+len(marker):], "utf-8") {
		return true
	}
	return (hasPrefixFold(ct, "text/") || hasSuffixFold(ct, "json") || hasSuffixFold(ct, "xml") ||
		hasSuffixFold(ct, "-urlencoded") || hasPrefixFold(ct, "application/json") ||
		hasPrefixFold(ct, "application/x-www-form-urlencoded")) && !tpIsManifest(ct)
}

// tpIsJSON is NormalizeJsonBody's test: an ordinal, case-sensitive "json" in the Content-Type.
func tpIsJSON(ct string) bool { return strings.Contains(ct, "json") && !tpIsManifest(ct) }

// tpIsMultipart: a multipart Content-Type with a boundary parameter.
func tpIsMultipart(ct string) bool {
	return hasPrefixFold(ct, "multipart/") && indexFold(ct, "boundary=") >= 0
}

// indexFold is IndexOf with OrdinalIgnoreCase for an ASCII sub.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}
func hasSuffixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[len(s)-len(p):], p)
}

// jsonDepthLimit is System.Text.Json's default maximum depth: JsonDocument.Parse fails beyond it.
const jsonDepthLimit = 64

// tpCompactJSON returns body compacted when it is a JSON document JsonDocument.Parse accepts.
// String escapes are kept as they are; the proxy re-escapes with its relaxed encoder, which
// changes no decoded value.
func tpCompactJSON(body string) (string, bool) {
	if !utf8.ValidString(body) || !json.Valid([]byte(body)) || jsonDepth(body) > jsonDepthLimit {
		return body, false
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(body)); err != nil {
		return body, false
	}
	return b.String(), true
}

// jsonDepth is the nesting depth of valid JSON text.
func jsonDepth(s string) int {
	depth, most, inString, escaped := 0, 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

// ---- reading ----

type tpKind uint8

const (
	tpNull tpKind = iota
	tpBool
	tpNumber
	tpString
	tpArray
	tpObject
)

func (k tpKind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// tpNode is a parsed JSON value with its place in the file.
type tpNode struct {
	kind       tpKind
	start, end int    // byte offsets of the value's text
	str        string // tpString: the decoded string
	keys       []string
	elems      []*tpNode // tpArray elements, tpObject values (keys[i] names elems[i])
}

// field returns the last value of the member named key (JsonElement.TryGetProperty matches the
// last of duplicate names), or nil.
func (n *tpNode) field(key string) *tpNode {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return n.elems[i]
		}
	}
	return nil
}

type tpSyntaxError struct {
	off int
	msg string
}

func (e *tpSyntaxError) at(name string, data []byte) *Error {
	return &Error{File: name, Line: lineAt(data, e.off), Msg: "invalid JSON: " + e.msg}
}

func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// tpParser is a strict JSON parser (no comments, no trailing commas, UTF-8 only, as
// System.Text.Json reads recordings) that keeps every value's offsets.
type tpParser struct {
	data  []byte
	pos   int
	depth int
}

// maxParseDepth bounds recursion on hostile input; real recordings stay far below it.
const maxParseDepth = 10000

func (p *tpParser) parse() (*tpNode, *tpSyntaxError) {
	if bytes.HasPrefix(p.data, []byte("\xef\xbb\xbf")) { // a UTF-8 byte order mark is skipped
		p.pos = 3
	}
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.data) {
		return nil, p.fail("unexpected %s after the top-level value", p.describe())
	}
	return n, nil
}

func (p *tpParser) fail(format string, args ...any) *tpSyntaxError {
	return &tpSyntaxError{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *tpParser) describe() string {
	if p.pos >= len(p.data) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return fmt.Sprintf("character %q", r)
}

func (p *tpParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

func (p *tpParser) value() (*tpNode, *tpSyntaxError) {
	p.space()
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of file, want a value")
	}
	start := p.pos
	switch c := p.data[p.pos]; {
	case c == '{' || c == '[':
		if p.depth++; p.depth > maxParseDepth {
			return nil, p.fail("nested too deeply")
		}
		defer func() { p.depth-- }()
		if c == '{' {
			return p.object()
		}
		return p.array()
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &tpNode{kind: tpString, start: start, end: p.pos, str: s}, nil
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				kind := tpBool
				if lit == "null" {
					kind = tpNull
				}
				return &tpNode{kind: kind, start: start, end: p.pos}, nil
			}
		}
		return nil, p.fail("unexpected %s, want a value", p.describe())
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.fail("unexpected %s, want a value", p.describe())
	}
}

func (p *tpParser) object() (*tpNode, *tpSyntaxError) {
	n := &tpNode{kind: tpObject, start: p.pos}
	p.pos++ // {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		n.end = p.pos
		return n, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("unexpected %s, want a member name in quotes", p.describe())
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("unexpected %s after member name %q, want ':'", p.describe(), k)
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, k)
		n.elems = append(n.elems, v)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			n.end = p.pos
			return n, nil
		}
		return nil, p.fail("unexpected %s in an object, want ',' or '}'", p.describe())
	}
}

func (p *tpParser) array() (*tpNode, *tpSyntaxError) {
	n := &tpNode{kind: tpArray, start: p.pos}
	p.pos++ // [
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		n.end = p.pos
		return n, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			n.end = p.pos
			return n, nil
		}
		return nil, p.fail("unexpected %s in an array, want ',' or ']'", p.describe())
	}
}

func (p *tpParser) number() (*tpNode, *tpSyntaxError) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.fail("unexpected %s in a number, want a digit", p.describe())
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.fail("unexpected %s after a decimal point, want a digit", p.describe())
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.fail("unexpected %s in an exponent, want a digit", p.describe())
		}
	}
	return &tpNode{kind: tpNumber, start: start, end: p.pos}, nil
}

func (p *tpParser) string() (string, *tpSyntaxError) {
	p.pos++ // opening quote
	var b strings.Builder
	for {
		if p.pos >= len(p.data) {
			return "", p.fail("unexpected end of file in a string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.fail("control character %q in a string (write it escaped)", rune(c))
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.fail("invalid UTF-8 in a string")
			}
			b.WriteRune(r)
			p.pos += size
		}
	}
}

// escape decodes one escape sequence at p.pos; a surrogate pair takes two \u escapes. A lone
// surrogate is an error: the proxy cannot turn one into a string either.
func (p *tpParser) escape() (rune, *tpSyntaxError) {
	if p.pos+1 >= len(p.data) {
		p.pos = len(p.data)
		return 0, p.fail("unexpected end of file in a string escape")
	}
	c := p.data[p.pos+1]
	simple := map[byte]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
	if r, ok := simple[c]; ok {
		p.pos += 2
		return r, nil
	}
	if c != 'u' {
		return 0, p.fail("invalid escape \\%c in a string", c)
	}
	r1, ok := p.hex4(p.pos + 2)
	if !ok {
		return 0, p.fail("invalid \\u escape in a string, want four hex digits")
	}
	if !utf16.IsSurrogate(r1) {
		p.pos += 6
		return r1, nil
	}
	if r1 < 0xDC00 && p.pos+11 < len(p.data) && p.data[p.pos+6] == '\\' && p.data[p.pos+7] == 'u' {
		if r2, ok := p.hex4(p.pos + 8); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				p.pos += 12
				return r, nil
			}
		}
	}
	return 0, p.fail("lone surrogate \\u%04X in a string", r1)
}

func (p *tpParser) hex4(at int) (rune, bool) {
	if at+4 > len(p.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// tpDecoder turns parsed nodes into a cassette, reporting errors at the offending value's line.
type tpDecoder struct {
	name string
	data []byte
}

func (d *tpDecoder) errAt(n *tpNode, format string, args ...any) *Error {
	return &Error{File: d.name, Line: lineAt(d.data, n.start), Msg: fmt.Sprintf(format, args...)}
}

func (d *tpDecoder) session(root *tpNode) (*Cassette, map[string]string, *Error) {
	if root.kind != tpObject {
		return nil, nil, d.errAt(root, `not a test-proxy recording: the top level must be an object with "Entries", got %s`, root.kind)
	}
	c := &Cassette{Version: Version, Interactions: []*Interaction{}}
	if entries := root.field("Entries"); entries != nil {
		if entries.kind != tpArray {
			return nil, nil, d.errAt(entries, "Entries must be an array, got %s", entries.kind)
		}
		for i, e := range entries.elems {
			it, err := d.entry(i, e)
			if err != nil {
				return nil, nil, err
			}
			c.Interactions = append(c.Interactions, it)
		}
	}
	vars := map[string]string{}
	if v := root.field("Variables"); v != nil {
		if v.kind != tpObject {
			return nil, nil, d.errAt(v, "Variables must be an object, got %s", v.kind)
		}
		seen := map[string]string{} // upper-case name -> name: the proxy's keys ignore case
		for i, k := range v.keys {
			val := v.elems[i]
			var s string
			switch val.kind {
			case tpString:
				s = val.str
			case tpNumber, tpBool:
				s = string(d.data[val.start:val.end])
			case tpNull:
			default:
				return nil, nil, d.errAt(val, "variable %q must be a string (or another JSON scalar), got %s", k, val.kind)
			}
			if prev, ok := seen[strings.ToUpper(k)]; ok {
				delete(vars, prev)
			}
			seen[strings.ToUpper(k)] = k
			vars[k] = s
		}
	}
	c.Variables = vars
	return c, vars, nil
}

func (d *tpDecoder) entry(i int, e *tpNode) (*Interaction, *Error) {
	if e.kind != tpObject {
		return nil, d.errAt(e, "entry %d must be an object, got %s", i, e.kind)
	}
	str := func(key string) (string, *tpNode, *Error) {
		v := e.field(key)
		if v == nil {
			return "", e, d.errAt(e, "entry %d has no %s", i, key)
		}
		if v.kind != tpString {
			return "", v, d.errAt(v, "entry %d: %s must be a string, got %s", i, key, v.kind)
		}
		return v.str, v, nil
	}
	if e.field("EncodedRequestUri") != nil {
		return nil, d.errAt(e, "entry %d is a track 1 recording (EncodedRequestUri), which azvcr does not read", i)
	}
	uri, uriNode, err := str("RequestUri")
	if err != nil {
		return nil, err
	}
	u, perr := url.Parse(uri)
	if perr != nil || !u.IsAbs() || u.Host == "" {
		return nil, d.errAt(uriNode, "entry %d: RequestUri %q is not an absolute URL", i, uri)
	}
	method, methodNode, err := str("RequestMethod")
	if err != nil {
		return nil, err
	}
	if method == "" {
		return nil, d.errAt(methodNode, "entry %d: RequestMethod is empty", i)
	}
	sc := e.field("StatusCode")
	if sc == nil {
		return nil, d.errAt(e, "entry %d has no StatusCode", i)
	}
	code, cerr := strconv.Atoi(string(d.data[sc.start:sc.end]))
	if sc.kind != tpNumber || cerr != nil {
		return nil, d.errAt(sc, "entry %d: StatusCode must be an integer, got %s", i, d.data[sc.start:sc.end])
	}
	if code < 100 || code > 999 {
		return nil, d.errAt(sc, "entry %d: StatusCode %d is not an HTTP status", i, code)
	}
	reqH, err := d.headers(i, e, "RequestHeaders")
	if err != nil {
		return nil, err
	}
	respH, err := d.headers(i, e, "ResponseHeaders")
	if err != nil {
		return nil, err
	}
	reqBody, err := d.body(i, e, "RequestBody", reqH)
	if err != nil {
		return nil, err
	}
	respBody, err := d.body(i, e, "ResponseBody", respH)
	if err != nil {
		return nil, err
	}
	return &Interaction{
		ID: i,
		Request: Request{
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			ContentLength: int64(len(reqBody)),
			Host:          u.Host,
			Body:          reqBody,
			Headers:       reqH,
			URL:           uri,
			Method:        method,
		},
		Response: Response{
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			ContentLength: int64(len(respBody)),
			Body:          respBody,
			Headers:       respH,
			Status:        strings.TrimSpace(fmt.Sprintf("%d %s", code, http.StatusText(code))),
			Code:          code,
			Duration:      "0s",
		},
	}, nil
}

// headers reads a header object (DeserializeHeaders). Names that are equal ignoring case are one
// header: the later value replaces the earlier, the first spelling stays.
func (d *tpDecoder) headers(i int, e *tpNode, key string) (http.Header, *Error) {
	h := http.Header{}
	n := e.field(key)
	if n == nil {
		return h, nil
	}
	if n.kind != tpObject {
		return nil, d.errAt(n, "entry %d: %s must be an object, got %s", i, key, n.kind)
	}
	spelled := map[string]string{} // lower-case name -> the spelling kept
	for j, name := range n.keys {
		v := n.elems[j]
		var vals []string
		switch v.kind {
		case tpString:
			vals = []string{v.str}
		case tpNull: // GetString() of null is null: a header with no text
			vals = []string{""}
		case tpArray:
			vals = make([]string, 0, len(v.elems))
			for _, el := range v.elems {
				switch el.kind {
				case tpString:
					vals = append(vals, el.str)
				case tpNull:
					vals = append(vals, "")
				default:
					return nil, d.errAt(el, "entry %d: %s: %s: values must be strings, got %s", i, key, name, el.kind)
				}
			}
		default:
			return nil, d.errAt(v, "entry %d: %s: %s must be a string or an array of strings, got %s", i, key, name, v.kind)
		}
		lower := strings.ToLower(name)
		if first, ok := spelled[lower]; ok {
			name = first
		}
		spelled[lower] = name
		h[name] = vals
	}
	return h, nil
}

// body decodes a RequestBody or ResponseBody (DeserializeBody, NormalizeJsonBody,
// DeserializeMultipartBody). It may update a Content-Length header in h.
func (d *tpDecoder) body(i int, e *tpNode, key string, h http.Header) (string, *Error) {
	n := e.field(key)
	if n == nil || n.kind == tpNull {
		return "", nil
	}
	ct, single := tpContentType(h)
	if single && tpIsText(ct) {
		var body string
		switch n.kind {
		case tpArray:
			var b strings.Builder
			for _, el := range n.elems {
				switch el.kind {
				case tpString:
					b.WriteString(el.str)
				case tpNull: // StringBuilder.Append(null) adds nothing
				default:
					return "", d.errAt(el, "entry %d: %s: the lines of a text body must be strings, got %s", i, key, el.kind)
				}
			}
			body = b.String()
		case tpString:
			body = n.str
		default: // inline JSON: its text as it stands in the file
			body = string(d.data[n.start:n.end])
		}
		if tpIsJSON(ct) {
			if compact, ok := tpCompactJSON(body); ok {
				body = compact
				setContentLength(h, len(body))
			}
		}
		return body, nil
	}
	switch n.kind {
	case tpString:
		raw, err := decodeBase64(n.str)
		if err != nil {
			return "", d.errAt(n, "entry %d: %s is not valid base64 (Content-Type %q is not text, so the body is stored as base64): %v", i, key, ct, err)
		}
		return string(raw), nil
	case tpArray:
		if single && tpIsMultipart(ct) {
			return d.multipart(i, key, n)
		}
		return "", nil // the proxy reads an array under a non-text type as an empty body
	case tpObject:
		compact, _ := tpCompactJSON(string(d.data[n.start:n.end]))
		return compact, nil
	default:
		return "", d.errAt(n, "entry %d: %s is %s, but Content-Type %q is not text: want base64 in a string", i, key, n.kind, ct)
	}
}

// multipart joins the parts form: "b64:" segments are base64, others ASCII (each non-ASCII UTF-16
// unit becomes '?', as Encoding.ASCII does), nested arrays mark empty parts.
func (d *tpDecoder) multipart(i int, key string, n *tpNode) (string, *Error) {
	var b strings.Builder
	for _, el := range n.elems {
		switch el.kind {
		case tpArray:
			continue
		case tpString:
		default:
			return "", d.errAt(el, "entry %d: %s: multipart segments must be strings, got %s", i, key, el.kind)
		}
		if rest, ok := strings.CutPrefix(el.str, "b64:"); ok {
			raw, err := decodeBase64(rest)
			if err != nil {
				return "", d.errAt(el, "entry %d: %s: multipart segment is not valid base64: %v", i, key, err)
			}
			b.Write(raw)
			continue
		}
		for _, r := range el.str {
			switch {
			case r < utf8.RuneSelf:
				b.WriteRune(r)
			case r > 0xFFFF:
				b.WriteString("??")
			default:
				b.WriteByte('?')
			}
		}
	}
	return b.String(), nil
}

// decodeBase64 is Convert.FromBase64String: padded standard base64, whitespace ignored.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

// setContentLength updates an existing Content-Length header (UpdateSanitizedContentLength never
// adds one).
func setContentLength(h http.Header, n int) {
	for k := range h {
		if strings.EqualFold(k, "Content-Length") {
			h[k] = []string{strconv.Itoa(n)}
		}
	}
}

// ---- writing ----

// tpWriter writes JSON the way System.Text.Json's Utf8JsonWriter does with Indented set: two
// spaces a level, `"name": value`, empty containers as {} and [].
type tpWriter struct {
	b        []byte
	stack    []bool // per open container: whether it has an element yet
	afterKey bool
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
	var b bytes.Buffer
	json.Indent(&b, bytes.TrimSpace([]byte(doc)), strings.Repeat("  ", len(w.stack)), "  ") // doc is valid JSON
	w.b = append(w.b, b.Bytes()...)
}

func (w *tpWriter) entry(it *Interaction) error {
	if err := checkUTF8(it); err != nil {
		return err
	}
	w.open('{')
	w.key("RequestUri")
	w.str(it.Request.URL)
	w.key("RequestMethod")
	w.str(it.Request.Method)
	w.key("RequestHeaders")
	w.headers(it.Request.Headers)
	w.key("RequestBody")
	if err := w.body(it.Request.Body, it.Request.Headers); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	w.key("StatusCode")
	w.raw(strconv.Itoa(it.Response.Code))
	w.key("ResponseHeaders")
	w.headers(it.Response.Headers)
	w.key("ResponseBody")
	if err := w.body(it.Response.Body, it.Response.Headers); err != nil {
		return fmt.Errorf("response body: %w", err)
	}
	w.close('}')
	return nil
}

// checkUTF8: JSON strings hold text, so the URL, method and headers must be UTF-8 to be written
// unchanged.
func checkUTF8(it *Interaction) error {
	if !utf8.ValidString(it.Request.URL) {
		return fmt.Errorf("request URL is not UTF-8")
	}
	if !utf8.ValidString(it.Request.Method) {
		return fmt.Errorf("request method is not UTF-8")
	}
	for _, side := range []struct {
		name string
		h    http.Header
	}{{"request", it.Request.Headers}, {"response", it.Response.Headers}} {
		for k, vs := range side.h {
			ok := utf8.ValidString(k)
			for _, v := range vs {
				ok = ok && utf8.ValidString(v)
			}
			if !ok {
				return fmt.Errorf("%s header %q is not UTF-8", side.name, k)
			}
		}
	}
	return nil
}

// headers writes SerializeHeaders' form, sorted as the proxy's case-insensitive dictionary sorts
// (letters ignoring case; approximated ordinally on lower case).
func (w *tpWriter) headers(h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return lessIgnoreCase(names[i], names[j], strings.ToLower) })
	w.open('{')
	for _, k := range names {
		w.key(k)
		if v := h[k]; len(v) == 1 {
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
		w.str(base64.StdEncoding.EncodeToString([]byte(body)))
		return nil
	}
	if !utf8.ValidString(body) {
		return fmt.Errorf("is not UTF-8, but Content-Type %q makes the test-proxy store it as text", ct)
	}
	if tpIsJSON(ct) && inlineable(body) {
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
	t := strings.TrimLeft(body, " \t\r\n")
	if t == "" || t[0] == '[' || t[0] == '"' || t[0] == 'n' {
		return false
	}
	return json.Valid([]byte(body)) && jsonDepth(body) <= jsonDepthLimit-3
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
