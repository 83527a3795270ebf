package testproxyjson

import "github.com/azvcr/azvcr/internal/jsonlex"

// appendIndentedJSON appends src indented as json.Indent(dst, src, prefix, "  ") indents it, when
// src is valid JSON (as json.Valid says) nesting at most maxDepth (≤ 64) levels, and reports
// true; otherwise it appends nothing and reports false. One pass instead of json.Valid, a depth
// walk and json.Indent, and no copies of src: bodies are written this way by the thousand.
func appendIndentedJSON(dst []byte, src, prefix string, maxDepth int) ([]byte, bool) {
	start := len(dst)
	var stack [64]byte // the open containers' closers
	depth := 0
	i := skipJSONSpace(src, 0)
	for {
		// a value starts at i
		if i >= len(src) {
			return dst[:start], false
		}
		switch c := src[i]; c {
		case '{', '[':
			if depth >= maxDepth || depth >= len(stack) {
				return dst[:start], false
			}
			dst = append(dst, c)
			closer := c + 2 // '}' or ']'
			i = skipJSONSpace(src, i+1)
			if i < len(src) && src[i] == closer {
				dst = append(dst, closer)
				i++
				break
			}
			stack[depth] = closer
			depth++
			dst = indentLine(dst, prefix, depth)
			if c == '{' {
				var ok bool
				if dst, i, ok = appendJSONKey(dst, src, i); !ok {
					return dst[:start], false
				}
			}
			continue
		case '"':
			j, _, ok := jsonlex.String(src, i)
			if !ok {
				return dst[:start], false
			}
			dst = append(dst, src[i:j]...)
			i = j
		case 't', 'f', 'n':
			j, ok := jsonlex.Literal(src, i)
			if !ok {
				return dst[:start], false
			}
			dst = append(dst, src[i:j]...)
			i = j
		default:
			j, ok := jsonlex.Number(src, i)
			if !ok {
				return dst[:start], false
			}
			dst = append(dst, src[i:j]...)
			i = j
		}
		// after a value: the end, a comma or closers
		for {
			i = skipJSONSpace(src, i)
			if depth == 0 {
				if i != len(src) {
					return dst[:start], false
				}
				return dst, true
			}
			if i >= len(src) {
				return dst[:start], false
			}
			c := src[i]
			if c == stack[depth-1] {
				depth--
				dst = indentLine(dst, prefix, depth)
				dst = append(dst, c)
				i++
				continue
			}
			if c != ',' {
				return dst[:start], false
			}
			dst = append(dst, ',')
			dst = indentLine(dst, prefix, depth)
			i = skipJSONSpace(src, i+1)
			if stack[depth-1] == '}' {
				var ok bool
				if dst, i, ok = appendJSONKey(dst, src, i); !ok {
					return dst[:start], false
				}
			}
			break
		}
	}
}

// appendJSONKey appends the member name at src[i:] and its colon, returning the position of the
// value (after any space).
func appendJSONKey(dst []byte, src string, i int) ([]byte, int, bool) {
	if i >= len(src) || src[i] != '"' {
		return dst, i, false
	}
	j, _, ok := jsonlex.String(src, i)
	if !ok {
		return dst, i, false
	}
	dst = append(dst, src[i:j]...)
	j = skipJSONSpace(src, j)
	if j >= len(src) || src[j] != ':' {
		return dst, i, false
	}
	dst = append(dst, ':', ' ')
	return dst, skipJSONSpace(src, j+1), true
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// indentLine starts a line depth levels below prefix.
func indentLine(b []byte, prefix string, depth int) []byte {
	b = append(b, '\n')
	b = append(b, prefix...)
	for range depth {
		b = append(b, ' ', ' ')
	}
	return b
}
