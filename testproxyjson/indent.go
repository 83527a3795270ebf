package testproxyjson

import "github.com/azvcr/azvcr/internal/jsonnum"

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
			j, ok := scanJSONString(src, i)
			if !ok {
				return dst[:start], false
			}
			dst = append(dst, src[i:j]...)
			i = j
		case 't', 'f', 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if len(src)-i < len(lit) || src[i:i+len(lit)] != lit {
				return dst[:start], false
			}
			dst = append(dst, lit...)
			i += len(lit)
		default:
			j, ok := jsonnum.End(src, i)
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
	j, ok := scanJSONString(src, i)
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

// scanJSONString returns the end of the string starting at s[i] == '"'. As encoding/json, it
// accepts any byte from 0x20 up (UTF-8 is checked elsewhere) and only JSON's escapes.
func scanJSONString(s string, i int) (int, bool) {
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(s) {
				return i, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-i < 5 {
					return i, false
				}
				for _, h := range []byte(s[i+1 : i+5]) {
					if !jsonnum.IsHex(h) {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
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
