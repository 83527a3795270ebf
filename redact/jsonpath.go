package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSONPath selects values in a JSON document the way Newtonsoft's SelectTokens does, the JSONPath
// dialect the Azure SDK test-proxy's BodyKeySanitizer speaks. Supported: a leading $ (optional),
// .name, ['name'] and ["name"] (with unions ['a','b']), .* and [*], [n] and unions [0,2],
// slices [start:end:step] with non-negative bounds, and recursive descent (..name, ..*, ..[0]).
// Filter expressions ([?(...)]) are refused when the path is parsed.
type JSONPath struct {
	src  string
	segs []pathSeg
}

// pathSeg is one step of a JSONPath: which children it selects, and whether at any depth.
type pathSeg struct {
	deep    bool     // .. before it: the step may skip any number of levels
	any     bool     // * : every child
	names   []string // object keys (a union when more than one)
	indices []int    // array positions (a union when more than one)
	slice   *[3]int  // [start:end:step]; end -1 means to the end
}

// pathStep is one level of a value's location: an object key, or an array position (key "").
type pathStep struct {
	key   string
	index int // -1 for object keys
}

// ParseJSONPath reads a JSONPath; the error says which part it could not read.
func ParseJSONPath(p string) (*JSONPath, error) {
	j := &JSONPath{src: p}
	rest := strings.TrimSpace(p)
	if rest == "" {
		return nil, fmt.Errorf("json path is empty")
	}
	if rest[0] == '$' {
		rest = rest[1:]
	} else if rest[0] != '.' && rest[0] != '[' {
		rest = "." + rest // SelectTokens("a.b") means $.a.b
	}
	for rest != "" {
		var seg pathSeg
		switch {
		case strings.HasPrefix(rest, ".."):
			seg.deep = true
			rest = rest[2:]
		case rest[0] == '.':
			rest = rest[1:]
		case rest[0] != '[':
			return nil, fmt.Errorf("json path %q: cannot read %q", p, rest)
		}
		if strings.HasPrefix(rest, "[") {
			n, err := parseBracket(rest, &seg)
			if err != nil {
				return nil, fmt.Errorf("json path %q: %v", p, err)
			}
			rest = rest[n:]
			j.segs = append(j.segs, seg)
			continue
		}
		end := strings.IndexAny(rest, ".[")
		if end < 0 {
			end = len(rest)
		}
		name := rest[:end]
		rest = rest[end:]
		switch name {
		case "":
			return nil, fmt.Errorf("json path %q: a name is missing after '.'", p)
		case "*":
			seg.any = true
		default:
			seg.names = []string{name}
		}
		j.segs = append(j.segs, seg)
	}
	if len(j.segs) == 0 {
		return nil, fmt.Errorf("json path %q selects the whole document, not a value in it", p)
	}
	if len(j.segs) > maxPathSegments {
		return nil, fmt.Errorf("json path %q has %d steps; at most %d are read", p, len(j.segs), maxPathSegments)
	}
	return j, nil
}

// parseBracket reads one [...] step into seg and returns how many bytes it took.
func parseBracket(s string, seg *pathSeg) (int, error) {
	i := 1
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	skip()
	if i < len(s) && (s[i] == '?' || s[i] == '(') {
		return 0, fmt.Errorf("filter and script expressions are not supported")
	}
	if i < len(s) && s[i] == '*' {
		i++
		skip()
		if i >= len(s) || s[i] != ']' {
			return 0, fmt.Errorf("want ] after [*")
		}
		seg.any = true
		return i + 1, nil
	}
	if i < len(s) && (s[i] == '\'' || s[i] == '"') {
		for {
			q := s[i]
			end := i + 1
			var name strings.Builder
			for end < len(s) && s[end] != q {
				if s[end] == '\\' && end+1 < len(s) {
					end++
				}
				name.WriteByte(s[end])
				end++
			}
			if end >= len(s) {
				return 0, fmt.Errorf("unterminated quoted name")
			}
			seg.names = append(seg.names, name.String())
			i = end + 1
			skip()
			if i < len(s) && s[i] == ',' {
				i++
				skip()
				if i < len(s) && (s[i] == '\'' || s[i] == '"') {
					continue
				}
				return 0, fmt.Errorf("want a quoted name after ','")
			}
			if i < len(s) && s[i] == ']' {
				return i + 1, nil
			}
			return 0, fmt.Errorf("want ] after a quoted name")
		}
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return 0, fmt.Errorf("unterminated [")
	}
	body := strings.TrimSpace(s[1:end])
	if strings.Contains(body, ":") {
		parts := strings.Split(body, ":")
		if len(parts) > 3 {
			return 0, fmt.Errorf("slice [%s] has too many parts", body)
		}
		sl := [3]int{0, -1, 1}
		for k, part := range parts {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			v, err := strconv.Atoi(part)
			if err != nil || v < 0 || (k == 2 && v == 0) {
				return 0, fmt.Errorf("slice [%s]: want non-negative bounds and a positive step", body)
			}
			sl[k] = v
		}
		seg.slice = &sl
		return end + 1, nil
	}
	for _, part := range strings.Split(body, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || v < 0 {
			return 0, fmt.Errorf("[%s]: want a name in quotes, *, non-negative indices or a slice", body)
		}
		seg.indices = append(seg.indices, v)
	}
	return end + 1, nil
}

// String is the path as written.
func (j *JSONPath) String() string { return j.src }

// maxPathSegments keeps a path's matching state in one machine word.
const maxPathSegments = 63

// pathStates is the set of segments a walk has matched so far, as bits: bit i means the first
// i segments select the value reached. A walk carries one set per open container, so matching
// costs the same at any depth.
type pathStates uint64

// start is the set at the document's root.
func (j *JSONPath) start() pathStates { return 1 }

// step is the set for a child reached through p from a value whose set is s: a deep segment
// may skip the level, and a segment that selects p moves on.
func (j *JSONPath) step(s pathStates, p pathStep) pathStates {
	var next pathStates
	for i, seg := range j.segs {
		if s&(1<<i) == 0 {
			continue
		}
		if seg.deep {
			next |= 1 << i
		}
		if seg.selects(p) {
			next |= 1 << (i + 1)
		}
	}
	return next
}

// selected reports whether a value with set s is selected.
func (j *JSONPath) selected(s pathStates) bool { return s&(1<<len(j.segs)) != 0 }

// matches reports whether the value at path is selected.
func (j *JSONPath) matches(path []pathStep) bool {
	s := j.start()
	for _, p := range path {
		s = j.step(s, p)
	}
	return j.selected(s)
}

func (s pathSeg) selects(p pathStep) bool {
	switch {
	case s.any:
		return true
	case p.index < 0:
		for _, n := range s.names {
			if n == p.key {
				return true
			}
		}
	case s.slice != nil:
		start, end, step := s.slice[0], s.slice[1], s.slice[2]
		return p.index >= start && (end < 0 || p.index < end) && (p.index-start)%step == 0
	default:
		for _, i := range s.indices {
			if i == p.index {
				return true
			}
		}
	}
	return false
}

// compileJSONPath reads a config rule's path. Config files spell paths from the root: $ first.
func compileJSONPath(p string) (*JSONPath, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("json_path %q: want a path from the root: $.field, $.a[*].b, $.a[0] or $..field", p)
	}
	return ParseJSONPath(p)
}

// jsonLeaf is one value a path selects: where its JSON text is, and its token (a string,
// json.Number, bool or nil; composite for an object or array).
type jsonLeaf struct {
	start, end int
	token      any
	composite  bool
}

// selectJSON walks a JSON document once, iteratively, and lists the values j selects, in
// document order: scalars only, at any depth, or (whole) objects and arrays too, each selected
// value reported whole and nothing inside it. ok is false when data is not one JSON value
// (whole: a stream of values is read). The work is linear in the text at any depth.
func selectJSON(data []byte, j *JSONPath, whole bool) (found []jsonLeaf, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return selectTokens(data, decoderTokens{dec}, j, whole)
}

// jsonTokens is where selectTokens takes a document's tokens from: read as it goes, or listed
// once for many paths.
type jsonTokens interface {
	// token returns the n-th token (counting from 0, asked in order) and the input offsets before
	// and after it, or the decoder's error where the tokens end.
	token(n int) (tok json.Token, before, after int, err error)
}

type decoderTokens struct{ dec *json.Decoder }

func (d decoderTokens) token(int) (json.Token, int, int, error) {
	before := int(d.dec.InputOffset())
	tok, err := d.dec.Token()
	return tok, before, int(d.dec.InputOffset()), err
}

// tokenList is a document's tokens read once: selecting from it goes as from the decoder.
type tokenList struct {
	toks []listedToken
	err  error // where the tokens end: io.EOF after a whole document
}

type listedToken struct {
	tok           json.Token
	before, after int
}

// listTokens lists the tokens a json.Decoder (UseNumber) reads from data, for data that is one
// JSON value; for anything else the list is empty and ends in an error, where selecting from the
// decoder fails too.
func listTokens(data []byte) *tokenList {
	if !json.Valid(data) {
		return &tokenList{err: errNotOneValue}
	}
	l := &tokenList{err: io.EOF}
	for i := 0; ; {
		for i < len(data) && strings.IndexByte(" \t\r\n:,", data[i]) >= 0 {
			i++ // a valid document: separators are only separators
		}
		if i >= len(data) {
			return l
		}
		start := i
		var tok json.Token
		switch c := data[i]; c {
		case '{', '}', '[', ']':
			tok, i = json.Delim(c), i+1
		case '"':
			i = quotedEnd(data, i)
			tok = unquoteJSON(data[start:i])
		case 't':
			tok, i = true, i+4
		case 'f':
			tok, i = false, i+5
		case 'n':
			tok, i = nil, i+4
		default:
			for i < len(data) && strings.IndexByte("+-0123456789.eE", data[i]) >= 0 {
				i++
			}
			tok = json.Number(data[start:i])
		}
		l.toks = append(l.toks, listedToken{tok, start, i})
	}
}

var errNotOneValue = errors.New("not one JSON value")

// quotedEnd returns the offset just past the string that starts at data[i] (a valid one).
func quotedEnd(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// unquoteJSON is the string encoding/json decodes from quoted: its bytes when nothing in them
// needs decoding.
func unquoteJSON(quoted []byte) string {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	var s string
	json.Unmarshal(quoted, &s)
	return s
}

func (l *tokenList) token(n int) (json.Token, int, int, error) {
	if n < len(l.toks) {
		t := l.toks[n]
		return t.tok, t.before, t.after, nil
	}
	return nil, 0, 0, l.err
}

// selectTokens is selectJSON over data's tokens.
func selectTokens(data []byte, src jsonTokens, j *JSONPath, whole bool) (found []jsonLeaf, ok bool) {
	type frame struct {
		object    bool
		key       string
		index     int
		expectKey bool
		states    pathStates // of the container itself
		start     int        // of a selected container being reported whole, or -1
	}
	var stack []frame
	inside := 0 // containers open within one reported whole
	done := false
	statesHere := func() pathStates { // of the value about to be read
		n := len(stack)
		if n == 0 {
			return j.start()
		}
		top := &stack[n-1]
		if top.object {
			return j.step(top.states, pathStep{key: top.key, index: -1})
		}
		return j.step(top.states, pathStep{index: top.index})
	}
	valueDone := func() {
		if n := len(stack); n > 0 {
			if top := &stack[n-1]; top.object {
				top.expectKey = true
			} else {
				top.index++
			}
		}
		done = len(stack) == 0
	}
	for n := 0; ; n++ {
		tok, before, after, err := src.token(n)
		if err == io.EOF && done {
			return found, true
		}
		if err != nil || done && !whole {
			return nil, false // not JSON, or more than one value
		}
		if d, isDelim := tok.(json.Delim); isDelim && (d == '}' || d == ']') {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.start >= 0 {
				found = append(found, jsonLeaf{start: f.start, end: after, composite: true})
			}
			if inside > 0 {
				inside--
			}
			valueDone()
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].expectKey = false
			continue
		}
		start := before // a value starts here: skip the separator and spaces before it
		for start < after && strings.IndexByte(" \t\r\n:,", data[start]) >= 0 {
			start++
		}
		states := statesHere()
		selected := len(stack) > 0 && inside == 0 && j.selected(states)
		if d, isDelim := tok.(json.Delim); isDelim { // '{' or '['
			f := frame{object: d == '{', expectKey: d == '{', states: states, start: -1}
			if whole && selected {
				f.start = start
			}
			if whole && (selected || inside > 0) {
				inside++
			}
			stack = append(stack, f)
			continue
		}
		if selected {
			found = append(found, jsonLeaf{start: start, end: after, token: tok})
		}
		valueDone()
	}
}
