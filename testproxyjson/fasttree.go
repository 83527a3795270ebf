package testproxyjson

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/azvcr/azvcr/internal/jsonlex"
)

// fastTree builds the tree parseTree builds, without encoding/json's token stream (which costs
// an allocation per token and more), for JSON it reads without doubt: well-formed text whose
// strings are UTF-8 with no U+FFFD, no lone surrogate, no unknown escape. On anything else it
// returns false and parseTree reads the file, saying what is wrong and where.
func fastTree(data []byte) (*tpNode, bool) {
	var a treeAlloc
	p := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		p = 3
	}
	var stack []*tpNode // the open arrays and objects, innermost last
	var ok bool
	p = skipSpace(data, p)
	for {
		// A value starts at p.
		if p >= len(data) {
			return nil, false
		}
		n := a.node(p)
		switch c := data[p]; c {
		case '{', '[':
			if len(stack) == maxParseDepth {
				return nil, false
			}
			if c == '{' && isBodySlot(stack) {
				// An inline JSON body is read as its text (tpDecoder.body): it is checked as
				// everything else is, but its nodes are not built.
				if p, ok = skipComposite(data, p, len(stack)); !ok {
					return nil, false
				}
				n.kind = tpObject
				break
			}
			n.kind, n.end = tpArray, p+1
			if c == '{' {
				n.kind = tpObject
			}
			if p = skipSpace(data, p+1); p < len(data) && data[p] == closer(n) {
				n.end, p = p+1, p+1
				break // empty: a complete value
			}
			stack = append(stack, n)
			if n.kind == tpObject {
				if p, ok = a.key(data, p, n); !ok {
					return nil, false
				}
			}
			continue
		case '"':
			if n.str, p, ok = a.string(data, p); !ok {
				return nil, false
			}
			n.kind = tpString
		case 't', 'f', 'n':
			word := [...]string{'t': "true", 'f': "false", 'n': "null"}[c]
			if !bytes.HasPrefix(data[p:], []byte(word)) {
				return nil, false
			}
			n.kind, p = tpBool, p+len(word)
			if c == 'n' {
				n.kind = tpNull
			}
		default:
			if p, ok = jsonlex.Number(data, p); !ok {
				return nil, false
			}
			n.kind = tpNumber
		}
		n.end = p
		// n is complete: it joins the value it is in, which may be complete in turn.
		for {
			top := last(stack)
			if top == nil {
				if skipSpace(data, p) != len(data) {
					return nil, false
				}
				return n, true
			}
			top.elems = append(top.elems, n)
			if p = skipSpace(data, p); p >= len(data) {
				return nil, false
			}
			if data[p] == ',' {
				if p = skipSpace(data, p+1); top.kind == tpObject {
					if p, ok = a.key(data, p, top); !ok {
						return nil, false
					}
				}
				break
			}
			if data[p] != closer(top) {
				return nil, false
			}
			top.end, p = p+1, p+1
			stack = stack[:len(stack)-1]
			n = top
		}
	}
}

// isBodySlot reports whether the value about to be read is an entry's RequestBody or
// ResponseBody: the top level's Entries, one of its objects, and that key.
func isBodySlot(stack []*tpNode) bool {
	if len(stack) != 3 || stack[0].kind != tpObject || stack[1].kind != tpArray || stack[2].kind != tpObject {
		return false
	}
	entries, entry := stack[0].keys, stack[2].keys
	if len(entries) != len(stack[0].elems)+1 || entries[len(entries)-1] != "Entries" || len(entry) != len(stack[2].elems)+1 {
		return false
	}
	key := entry[len(entry)-1]
	return key == "RequestBody" || key == "ResponseBody"
}

// skipComposite reads the object or array at p as fastTree reads one, refusing what it refuses
// (open counts the values already open around it, for the depth limit), without building nodes.
// It returns the offset after it.
func skipComposite(data []byte, p, open int) (int, bool) {
	var closers []byte // of the open values, innermost last
	var ok bool
	for {
		// A value starts at p.
		if p >= len(data) {
			return p, false
		}
		switch c := data[p]; c {
		case '{', '[':
			if open+len(closers) == maxParseDepth {
				return p, false
			}
			end := byte(']')
			if c == '{' {
				end = '}'
			}
			if p = skipSpace(data, p+1); p < len(data) && data[p] == end {
				p++
				break // empty: a complete value
			}
			closers = append(closers, end)
			if end == '}' {
				if p, ok = skipKey(data, p); !ok {
					return p, false
				}
			}
			continue
		case '"':
			if _, p, ok = fastString(data, p); !ok {
				return p, false
			}
		case 't', 'f', 'n':
			word := [...]string{'t': "true", 'f': "false", 'n': "null"}[c]
			if !bytes.HasPrefix(data[p:], []byte(word)) {
				return p, false
			}
			p += len(word)
		default:
			if p, ok = jsonlex.Number(data, p); !ok {
				return p, false
			}
		}
		// A value is complete: it may complete the ones it is in.
		for {
			if len(closers) == 0 {
				return p, true
			}
			if p = skipSpace(data, p); p >= len(data) {
				return p, false
			}
			end := closers[len(closers)-1]
			if data[p] == ',' {
				if p = skipSpace(data, p+1); end == '}' {
					if p, ok = skipKey(data, p); !ok {
						return p, false
					}
				}
				break
			}
			if data[p] != end {
				return p, false
			}
			p++
			closers = closers[:len(closers)-1]
		}
	}
}

// skipKey reads a member name and its colon at p as treeAlloc.key does; it returns where the
// value starts.
func skipKey(data []byte, p int) (int, bool) {
	if p >= len(data) || data[p] != '"' {
		return p, false
	}
	_, p, ok := fastString(data, p)
	if !ok {
		return p, false
	}
	if p = skipSpace(data, p); p >= len(data) || data[p] != ':' {
		return p, false
	}
	return skipSpace(data, p+1), true
}

func closer(n *tpNode) byte {
	if n.kind == tpObject {
		return '}'
	}
	return ']'
}

// treeAlloc hands out the tree's nodes from blocks, and its strings from shared text: a
// recording is a few large objects, not one per value.
type treeAlloc struct {
	nodes []tpNode
	text  strings.Builder
}

func (a *treeAlloc) node(start int) *tpNode {
	if len(a.nodes) == 0 {
		a.nodes = make([]tpNode, 256)
	}
	n := &a.nodes[0]
	a.nodes = a.nodes[1:]
	n.start = start
	return n
}

const textBlock = 64 << 10

// str copies b into the shared text.
func (a *treeAlloc) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > textBlock/8 {
		return string(b)
	}
	if a.text.Cap()-a.text.Len() < len(b) {
		a.text = strings.Builder{}
		a.text.Grow(textBlock)
	}
	start := a.text.Len()
	a.text.Write(b)
	return a.text.String()[start:]
}

// string decodes the string whose opening quote is at p; it returns the offset after it.
func (a *treeAlloc) string(data []byte, p int) (string, int, bool) {
	raw, q, ok := fastString(data, p)
	if !ok {
		return "", p, false
	}
	return a.str(raw), q, true
}

// key reads a member name and its colon at p into obj; it returns where the value starts.
func (a *treeAlloc) key(data []byte, p int, obj *tpNode) (int, bool) {
	if p >= len(data) || data[p] != '"' {
		return p, false
	}
	key, p, ok := a.string(data, p)
	if !ok {
		return p, false
	}
	obj.keys = append(obj.keys, key)
	if p = skipSpace(data, p); p >= len(data) || data[p] != ':' {
		return p, false
	}
	return skipSpace(data, p+1), true
}

// fastString decodes the string whose opening quote is at p (in data itself when it has no
// escapes); it returns the offset after it.
func fastString(data []byte, p int) ([]byte, int, bool) {
	i := p + 1
	for i < len(data) { // the common case: nothing to decode
		c := data[i]
		if c == '"' {
			s := data[p+1 : i]
			if !utf8.Valid(s) || bytes.Contains(s, []byte("\uFFFD")) {
				return nil, p, false
			}
			return s, i + 1, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		i++
	}
	out := append([]byte(nil), data[p+1:i]...)
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			if !utf8.Valid(out) || bytes.Contains(out, []byte("\uFFFD")) {
				return nil, p, false
			}
			return out, i + 1, true
		case c < 0x20:
			return nil, p, false
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(data) {
			return nil, p, false
		}
		e := data[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4At(data, i)
			if !ok {
				return nil, p, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+6 <= len(data) && data[i] == '\\' && data[i+1] == 'u' {
					r2, ok = hex4At(data, i+2)
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return nil, p, false // a lone surrogate: U+FFFD to encoding/json, an error here
				}
				i += 6
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, p, false
		}
	}
	return nil, p, false
}

func hex4At(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[i:i+4]), 16, 32)
	return rune(v), err == nil
}
