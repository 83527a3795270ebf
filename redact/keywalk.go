package redact

import "github.com/azvcr/azvcr/internal/jsonlex"

// maxJSONDepth is encoding/json's bound on nesting: a text nested deeper is not valid to it.
const maxJSONDepth = 10000

// walkKeyed says whether s is one JSON value as json.Valid does, and while reading it calls fn
// for each member of every object: its key as written (quotes included; escaped says it has a
// backslash) and, when its value is a scalar, where the value's text starts and ends (-1, -1 for
// an object or array). When s is not valid, fn may have been called for the members before the
// fault. One pass, no allocation below 64 levels of nesting.
func walkKeyed(s string, fn func(key string, escaped bool, start, end int)) bool {
	var buf [64]bool
	stack := buf[:0] // true: an object
	var key string
	var keyEscaped, haveKey bool
	i := 0
value:
	i = skipJSONSpace(s, i)
	if i >= len(s) {
		return false
	}
	switch c := s[i]; c {
	case '{', '[':
		if haveKey {
			fn(key, keyEscaped, -1, -1)
			haveKey = false
		}
		if len(stack) == maxJSONDepth {
			return false
		}
		stack = append(stack, c == '{')
		i = skipJSONSpace(s, i+1)
		if i < len(s) && s[i] == c+2 { // '}' or ']'
			stack = stack[:len(stack)-1]
			i++
			goto next
		}
		if c == '{' {
			goto member
		}
		goto value
	case '"':
		end, _, ok := jsonlex.String(s, i)
		if !ok {
			return false
		}
		if haveKey {
			fn(key, keyEscaped, i, end)
		}
		i = end
	case 't', 'f', 'n':
		end, ok := jsonlex.Literal(s, i)
		if !ok {
			return false
		}
		if haveKey {
			fn(key, keyEscaped, i, end)
		}
		i = end
	default:
		end, ok := jsonlex.Number(s, i)
		if !ok {
			return false
		}
		if haveKey {
			fn(key, keyEscaped, i, end)
		}
		i = end
	}
	haveKey = false
next: // after a value
	i = skipJSONSpace(s, i)
	if len(stack) == 0 {
		return i == len(s)
	}
	if i >= len(s) {
		return false
	}
	switch s[i] {
	case ',':
		i = skipJSONSpace(s, i+1)
		if stack[len(stack)-1] {
			goto member
		}
		goto value
	case '}', ']':
		if stack[len(stack)-1] != (s[i] == '}') {
			return false
		}
		stack = stack[:len(stack)-1]
		i++
		goto next
	}
	return false
member: // at a key, past spaces
	if i >= len(s) || s[i] != '"' {
		return false
	}
	{
		end, escaped, ok := jsonlex.String(s, i)
		if !ok {
			return false
		}
		key, keyEscaped, haveKey = s[i:end], escaped, true
		i = skipJSONSpace(s, end)
	}
	if i >= len(s) || s[i] != ':' {
		return false
	}
	i++
	goto value
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && isJSONSpace(s[i]) {
		i++
	}
	return i
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' } // as JSON, not as Unicode
