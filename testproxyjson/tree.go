package testproxyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// ---- reading: JSON text to a tree of values that know their place in the file ----

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

// maxParseDepth bounds nesting on hostile input; real recordings stay far below it.
const maxParseDepth = 10000

// parseTree reads data as strictly as System.Text.Json reads recordings (no comments, no
// trailing commas, UTF-8 only; a byte order mark is skipped) into a tree of values that keep
// their offsets. encoding/json's Decoder does the tokenizing, without recursion; it decodes
// invalid UTF-8 and lone surrogates to U+FFFD instead of rejecting them, so strings holding
// U+FFFD are looked at again here.
func parseTree(data []byte) (*tpNode, *tpSyntaxError) {
	base := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		base = 3
	}
	dec := json.NewDecoder(bytes.NewReader(data[base:]))
	dec.UseNumber()
	var stack []*tpNode // the open arrays and objects, innermost last
	end := base         // where the last token read ends
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(data, end, stack)
		}
		start := skipSpace(data, end) // skip the ',' or ':' the decoder passed over, if any
		if start < len(data) && (data[start] == ',' || data[start] == ':') {
			start = skipSpace(data, start+1)
		}
		end = base + int(dec.InputOffset())
		n := &tpNode{start: start, end: end}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				if len(stack) == maxParseDepth {
					return nil, &tpSyntaxError{off: start, msg: "nested too deeply"}
				}
				n.kind = tpArray
				if t == '{' {
					n.kind = tpObject
				}
				stack = append(stack, n)
				continue
			}
			n = stack[len(stack)-1]
			n.end = end
			stack = stack[:len(stack)-1]
		case string:
			if strings.ContainsRune(t, utf8.RuneError) {
				if bad, msg, _ := stringFault(data, start, end-1); bad >= 0 {
					return nil, &tpSyntaxError{off: bad, msg: msg}
				}
			}
			if top := last(stack); top != nil && top.kind == tpObject && len(top.keys) == len(top.elems) {
				top.keys = append(top.keys, t)
				continue
			}
			n.kind, n.str = tpString, t
		case json.Number:
			n.kind = tpNumber
		case bool:
			n.kind = tpBool
		case nil:
			n.kind = tpNull
		}
		if top := last(stack); top != nil {
			top.elems = append(top.elems, n)
			continue
		}
		if p := skipSpace(data, end); p < len(data) {
			return nil, &tpSyntaxError{off: p, msg: fmt.Sprintf("unexpected %s after the top-level value", describe(data, p))}
		}
		return n, nil
	}
}

func last(stack []*tpNode) *tpNode {
	if len(stack) == 0 {
		return nil
	}
	return stack[len(stack)-1]
}

func skipSpace(data []byte, p int) int {
	for p < len(data) && (data[p] == ' ' || data[p] == '\t' || data[p] == '\r' || data[p] == '\n') {
		p++
	}
	return p
}

func describe(data []byte, p int) string {
	if p >= len(data) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(data[p:])
	return fmt.Sprintf("character %q", r)
}

// syntaxError says where and why data stops being JSON, the decoder having failed after the
// token ending at p with stack open. It follows the grammar on from p, so that the error is at
// the exact byte and says what was expected there.
func syntaxError(data []byte, p int, stack []*tpNode) *tpSyntaxError {
	p = skipSpace(data, p)
	fail := func(format string, args ...any) *tpSyntaxError {
		return &tpSyntaxError{off: p, msg: fmt.Sprintf(format, append([]any{describe(data, p)}, args...)...)}
	}
	is := func(c byte) bool { return p < len(data) && data[p] == c }
	switch top := last(stack); {
	case top == nil:
	case top.kind == tpObject && len(top.keys) > len(top.elems):
		if !is(':') {
			return fail("unexpected %s after member name %q, want ':'", top.keys[len(top.keys)-1])
		}
		p = skipSpace(data, p+1)
	case top.kind == tpObject:
		if len(top.keys) > 0 {
			if !is(',') {
				return fail("unexpected %s in an object, want ',' or '}'")
			}
			p = skipSpace(data, p+1)
		}
		if !is('"') {
			return fail("unexpected %s, want a member name in quotes")
		}
	case len(top.elems) > 0:
		if !is(',') {
			return fail("unexpected %s in an array, want ',' or ']'")
		}
		p = skipSpace(data, p+1)
	}
	if p == len(data) || strings.IndexByte(`"-0123456789tfn`, data[p]) < 0 {
		return fail("unexpected %s, want a value")
	}
	return scalarError(data, p)
}

// scalarError says why the string, number or literal starting at p is not valid JSON. A fresh
// decoder finds the offending byte q: one past the end of the file if the value runs into it.
func scalarError(data []byte, p int) *tpSyntaxError {
	q := len(data)
	var se *json.SyntaxError
	if err := json.NewDecoder(bytes.NewReader(data[p:])).Decode(new(json.RawMessage)); errors.As(err, &se) {
		q = min(max(p+int(se.Offset)-1, p+1), len(data))
	}
	at := func(off int, format string, args ...any) *tpSyntaxError {
		return &tpSyntaxError{off: off, msg: fmt.Sprintf(format, args...)}
	}
	switch c := data[p]; {
	case c == 't' || c == 'f' || c == 'n':
		return at(p, "unexpected %s, want a value", describe(data, p))
	case c != '"': // a number
		switch b := data[q-1]; {
		case b == '.':
			return at(q, "unexpected %s after a decimal point, want a digit", describe(data, q))
		case b == 'e' || b == 'E' || (q-1 > p && (b == '+' || b == '-')):
			return at(q, "unexpected %s in an exponent, want a digit", describe(data, q))
		}
		return at(q, "unexpected %s in a number, want a digit", describe(data, q))
	}
	bad, msg, esc := stringFault(data, p, q)
	switch {
	case bad >= 0: // before the byte the decoder stopped at
		return at(bad, "%s", msg)
	case esc == q-1 && q == len(data):
		return at(q, "unexpected end of file in a string escape")
	case esc == q-1:
		return at(esc, "invalid escape \\%c in a string", data[q])
	case esc >= 0:
		return at(esc, "invalid \\u escape in a string, want four hex digits")
	case q == len(data):
		return at(q, "unexpected end of file in a string")
	}
	return at(q, "control character %q in a string (write it escaped)", rune(data[q]))
}

// stringFault steps through the string starting at p up to offset q, escape by escape, for what
// the decoder lets through: it returns the offset of the first invalid UTF-8 sequence or lone
// surrogate escape (bad, -1 if none) and what it is, and where the escape sequence that q falls
// in starts (esc, -1 if none).
func stringFault(data []byte, p, q int) (bad int, msg string, esc int) {
	for i := p + 1; i < q; {
		size := 1
		switch c := data[i]; {
		case c == '\\' && i+1 < len(data) && data[i+1] == 'u':
			size = 6
			if r := hex4(data, i+2); utf16.IsSurrogate(r) {
				if r >= 0xDC00 || i+12 > len(data) || data[i+6] != '\\' || data[i+7] != 'u' ||
					utf16.DecodeRune(r, hex4(data, i+8)) == utf8.RuneError {
					return i, fmt.Sprintf("lone surrogate \\u%04X in a string", r), -1
				}
				size = 12
			}
		case c == '\\':
			size = 2
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				return i, "invalid UTF-8 in a string", -1
			}
			size = n
		}
		if i+size > q {
			return -1, "", i
		}
		i += size
	}
	return -1, "", -1
}

// hex4 decodes the four hex digits at data[at:], or returns -1.
func hex4(data []byte, at int) rune {
	if at+4 > len(data) {
		return -1
	}
	n, err := strconv.ParseUint(string(data[at:at+4]), 16, 16)
	if err != nil {
		return -1
	}
	return rune(n)
}
