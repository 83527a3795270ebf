package testproxyjson

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

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

func (e *tpSyntaxError) at(name string, data []byte) *cassette.Error {
	return &cassette.Error{File: name, Line: lineAt(data, e.off), Msg: "invalid JSON: " + e.msg}
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

func (d *tpDecoder) errAt(n *tpNode, format string, args ...any) *cassette.Error {
	return &cassette.Error{File: d.name, Line: lineAt(d.data, n.start), Msg: fmt.Sprintf(format, args...)}
}

func (d *tpDecoder) session(root *tpNode) (*cassette.Cassette, map[string]string, *cassette.Error) {
	if root.kind != tpObject {
		return nil, nil, d.errAt(root, `not a test-proxy recording: the top level must be an object with "Entries", got %s`, root.kind)
	}
	c := &cassette.Cassette{Version: cassette.Version, Interactions: []*cassette.Interaction{}}
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

func (d *tpDecoder) entry(i int, e *tpNode) (*cassette.Interaction, *cassette.Error) {
	if e.kind != tpObject {
		return nil, d.errAt(e, "entry %d must be an object, got %s", i, e.kind)
	}
	str := func(key string) (string, *tpNode, *cassette.Error) {
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
	return &cassette.Interaction{
		ID: i,
		Request: cassette.Request{
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			ContentLength: int64(len(reqBody)),
			Host:          u.Host,
			Body:          reqBody,
			Headers:       reqH,
			URL:           uri,
			Method:        method,
		},
		Response: cassette.Response{
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
func (d *tpDecoder) headers(i int, e *tpNode, key string) (http.Header, *cassette.Error) {
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
func (d *tpDecoder) body(i int, e *tpNode, key string, h http.Header) (string, *cassette.Error) {
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
func (d *tpDecoder) multipart(i int, key string, n *tpNode) (string, *cassette.Error) {
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
