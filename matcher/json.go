package matcher

import (
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/azvcr/azvcr/internal/jsonlex"
)

// jsonKind is the type of a JSON value.
type jsonKind uint8

const (
	jNull jsonKind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jsonValue is a JSON value in canonical form: strings decoded, numbers in their canonical
// spelling, object members sorted by name (a repeated name keeps its last value). Parsing,
// writing and comparing are iterative, so work stays linear in the text at any nesting depth.
type jsonValue struct {
	kind jsonKind
	text string       // jString: the decoded string; jNumber: the canonical number; jBool: true or false
	keys []string     // jObject: member names, sorted
	kids []*jsonValue // jArray: the elements; jObject: the values of keys
}

// jsonParses counts JSON texts parsed into trees, so tests can check that a miss reads the
// live body and the closest recording's once each, and a hit reads none into a tree.
var jsonParses atomic.Int64

// jsonSink receives a JSON text's structure as it is read: containers opening and closing,
// member names, scalars (strings decoded, numbers as written, true and false as words).
type jsonSink interface {
	open(kind jsonKind)
	key(name string)
	scalar(kind jsonKind, text string)
	close()
}

// parseJSON reads one JSON text (RFC 8259: one value, whitespace around it) into a tree. ok is
// false when s is not JSON.
func parseJSON(s string) (root *jsonValue, ok bool) {
	jsonParses.Add(1)
	t := &treeBuilder{}
	if !scanJSON(s, t) {
		return nil, false
	}
	return t.root, true
}

// scanJSON reads one JSON text into sink, iteratively; false when s is not JSON (sink then
// holds part of it).
func scanJSON(s string, sink jsonSink) bool {
	p := jsonParser{s: s, sink: sink}
	return p.scan()
}

type jsonParser struct {
	s     string
	i     int
	sink  jsonSink
	stack []jsonKind // open arrays and objects, innermost last
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *jsonParser) scan() bool {
	p.space()
	for { // at the start of a value
		switch c := p.peek(); {
		case c == '{' || c == '[':
			kind := jArray
			if c == '{' {
				kind = jObject
			}
			p.sink.open(kind)
			p.stack = append(p.stack, kind)
			p.i++
			p.space()
			if p.peek() == c+2 { // '}' is '{'+2, ']' is '['+2: empty
				p.i++
				p.close()
				break
			}
			if kind == jObject && !p.key() {
				return false
			}
			continue
		case c == '"':
			str, ok := p.str()
			if !ok {
				return false
			}
			p.sink.scalar(jString, str)
		case c == '-' || c >= '0' && c <= '9':
			lit, ok := p.number()
			if !ok {
				return false
			}
			p.sink.scalar(jNumber, lit)
		case c == 't' || c == 'f' || c == 'n':
			word := "null"
			switch c {
			case 't':
				word = "true"
			case 'f':
				word = "false"
			}
			if !strings.HasPrefix(p.s[p.i:], word) {
				return false
			}
			p.i += len(word)
			if c == 'n' {
				p.sink.scalar(jNull, "")
			} else {
				p.sink.scalar(jBool, word)
			}
		default:
			return false
		}
		// After a value: a separator, the end of containers, or the end of the text.
		for {
			p.space()
			n := len(p.stack)
			if n == 0 {
				return p.i == len(p.s)
			}
			top, c := p.stack[n-1], p.peek()
			if c == ',' {
				p.i++
				p.space()
				if top == jObject && !p.key() {
					return false
				}
				break
			}
			if top == jObject && c == '}' || top == jArray && c == ']' {
				p.i++
				p.close()
				continue
			}
			return false
		}
	}
}

func (p *jsonParser) close() {
	p.stack = p.stack[:len(p.stack)-1]
	p.sink.close()
}

// treeBuilder keeps what it is given as a tree of jsonValues, members sorted by name.
type treeBuilder struct {
	root  *jsonValue
	stack []*jsonValue
}

func (t *treeBuilder) add(v *jsonValue) {
	if n := len(t.stack); n > 0 {
		t.stack[n-1].kids = append(t.stack[n-1].kids, v)
	} else {
		t.root = v
	}
}

func (t *treeBuilder) open(kind jsonKind) {
	v := &jsonValue{kind: kind}
	t.add(v)
	t.stack = append(t.stack, v)
}

func (t *treeBuilder) key(name string) {
	top := t.stack[len(t.stack)-1]
	top.keys = append(top.keys, name)
}

func (t *treeBuilder) scalar(kind jsonKind, text string) {
	if kind == jNumber {
		text = canonicalNumber(text)
	}
	t.add(&jsonValue{kind: kind, text: text})
}

func (t *treeBuilder) close() {
	v := t.stack[len(t.stack)-1]
	t.stack = t.stack[:len(t.stack)-1]
	if v.kind != jObject || len(v.keys) < 2 {
		return
	}
	order := sortedMembers(v.keys)
	keys := make([]string, len(order))
	kids := make([]*jsonValue, len(order))
	for n, i := range order {
		keys[n], kids[n] = v.keys[i], v.kids[i]
	}
	v.keys, v.kids = keys, kids
}

// sortedMembers orders an object's members by name, a repeated name keeping its last value
// (as encoding/json decodes it); it returns the positions of the members kept.
func sortedMembers(names []string) []int {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	kept := order[:0]
	for n, i := range order {
		if n+1 < len(order) && names[order[n+1]] == names[i] {
			continue
		}
		kept = append(kept, i)
	}
	return kept
}

// key reads an object member's name and the colon after it.
func (p *jsonParser) key() bool {
	if p.peek() != '"' {
		return false
	}
	k, ok := p.str()
	if !ok {
		return false
	}
	p.space()
	if p.peek() != ':' {
		return false
	}
	p.i++
	p.space()
	p.sink.key(k)
	return true
}

// str reads a string at p.i, decoded as encoding/json decodes strings: invalid UTF-8 and lone
// surrogates become U+FFFD. A string with nothing to decode is a slice of the text.
func (p *jsonParser) str() (string, bool) {
	start := p.i + 1
	j := start
	for j < len(p.s) {
		c := p.s[j]
		if c == '"' {
			p.i = j + 1
			return p.s[start:j], true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		j++
	}
	var b strings.Builder
	b.WriteString(p.s[start:j])
	for j < len(p.s) {
		c := p.s[j]
		switch {
		case c == '"':
			p.i = j + 1
			return b.String(), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if j+1 >= len(p.s) {
				return "", false
			}
			switch e := p.s[j+1]; e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := hex4(p.s, j+2)
				if !ok {
					return "", false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(p.s, j+2); ok && j+1 < len(p.s) && p.s[j] == '\\' && p.s[j+1] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							j += 6
							b.WriteRune(dec)
							continue
						}
					}
					r = utf8.RuneError
				}
				b.WriteRune(r)
				continue
			default:
				return "", false
			}
			j += 2
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			j++
		default:
			r, size := utf8.DecodeRuneInString(p.s[j:])
			b.WriteRune(r) // RuneError for an invalid byte, as encoding/json does
			j += size
		}
	}
	return "", false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number literal at p.i, checked against JSON's grammar.
func (p *jsonParser) number() (string, bool) {
	end, ok := jsonlex.Number(p.s, p.i)
	if !ok {
		return "", false
	}
	start := p.i
	p.i = end
	return p.s[start:end], true
}

// writeJSON writes v's canonical text: compact, members in name order, strings quoted as JSON
// without HTML escaping.
func writeJSON(b *strings.Builder, v *jsonValue) {
	type frame struct {
		v    *jsonValue
		next int
	}
	stack := []frame{{v: v}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		cur := f.v
		if cur.kind != jArray && cur.kind != jObject {
			writeScalar(b, cur)
			stack = stack[:len(stack)-1]
			continue
		}
		if f.next == 0 {
			b.WriteByte("[{"[cur.kind-jArray])
		}
		if f.next == len(cur.kids) {
			b.WriteByte("]}"[cur.kind-jArray])
			stack = stack[:len(stack)-1]
			continue
		}
		if f.next > 0 {
			b.WriteByte(',')
		}
		if cur.kind == jObject {
			b.WriteString(jsonString(cur.keys[f.next]))
			b.WriteByte(':')
		}
		f.next++
		stack = append(stack, frame{v: cur.kids[f.next-1]})
	}
}

func writeScalar(b *strings.Builder, v *jsonValue) {
	switch v.kind {
	case jNull:
		b.WriteString("null")
	case jString:
		b.WriteString(jsonString(v.text))
	default:
		b.WriteString(v.text)
	}
}

// canonicalJSON is v's canonical text.
func canonicalJSON(v *jsonValue) string {
	var b strings.Builder
	writeJSON(&b, v)
	return b.String()
}

// jsonText is a value's canonical text, cut short for a message. Only what is shown is written.
func jsonText(v *jsonValue) string {
	if v.kind != jArray && v.kind != jObject {
		var b strings.Builder
		writeScalar(&b, v)
		return shorten(b.String())
	}
	var b strings.Builder
	b.Grow(96)
	limited := &limitWriter{b: &b, max: 80}
	limited.json(v)
	return shorten(b.String())
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// limitWriter writes a composite value's canonical text up to a length, then stops walking.
type limitWriter struct {
	b   *strings.Builder
	max int
}

func (l *limitWriter) json(v *jsonValue) {
	type frame struct {
		v    *jsonValue
		next int
	}
	stack := []frame{{v: v}}
	for len(stack) > 0 && l.b.Len() <= l.max {
		f := &stack[len(stack)-1]
		cur := f.v
		if cur.kind != jArray && cur.kind != jObject {
			var s strings.Builder
			writeScalar(&s, cur)
			l.b.WriteString(shorten(s.String()))
			stack = stack[:len(stack)-1]
			continue
		}
		if f.next == 0 {
			l.b.WriteByte("[{"[cur.kind-jArray])
		}
		if f.next == len(cur.kids) {
			l.b.WriteByte("]}"[cur.kind-jArray])
			stack = stack[:len(stack)-1]
			continue
		}
		if f.next > 0 {
			l.b.WriteByte(',')
		}
		if cur.kind == jObject {
			l.b.WriteString(shorten(jsonString(cur.keys[f.next])))
			l.b.WriteByte(':')
		}
		f.next++
		stack = append(stack, frame{v: cur.kids[f.next-1]})
	}
}

// member returns the value of an object's member, or nil.
func (v *jsonValue) member(name string) *jsonValue {
	if v == nil || v.kind != jObject {
		return nil
	}
	i := sort.SearchStrings(v.keys, name)
	if i < len(v.keys) && v.keys[i] == name {
		return v.kids[i]
	}
	return nil
}

// jsonPath is where a value sits in a document, kept as a chain to its parent so a walk pays
// for a path's text only when it reports one.
type jsonPath struct {
	parent *jsonPath
	key    string
	index  int // -1 for an object member
}

func (p *jsonPath) member(key string) *jsonPath { return &jsonPath{parent: p, key: key, index: -1} }
func (p *jsonPath) element(i int) *jsonPath     { return &jsonPath{parent: p, index: i} }

// maxPathText bounds a path in a message; the middle of a deeper one is left out.
const maxPathText = 200

// text spells the path after root: .key and [index] steps.
func (p *jsonPath) text(root string) string {
	var steps []*jsonPath
	for q := p; q != nil && q.parent != nil; q = q.parent {
		steps = append(steps, q)
	}
	var b strings.Builder
	b.WriteString(root)
	for i := len(steps) - 1; i >= 0; i-- {
		if s := steps[i]; s.index < 0 {
			b.WriteByte('.')
			b.WriteString(s.key)
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	if s := b.String(); len(s) > maxPathText {
		return s[:maxPathText/2-2] + "..." + s[len(s)-maxPathText/2+1:]
	}
	return b.String()
}
