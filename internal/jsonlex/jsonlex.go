// Package jsonlex reads the smallest pieces of JSON's grammar that azvcr's one-pass JSON readers
// share (the test-proxy tree and indenter, the sanitizers' key walk, the matcher's canonical
// JSON): a number, a string, a literal, each checked as encoding/json checks it.
package jsonlex

// Number reads the JSON number starting at s[i], -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
// and returns where it ends; i and false when none starts there.
func Number[T string | []byte](s T, i int) (int, bool) {
	start := i
	digits := func(i int) int {
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(i + 1)
	default:
		return start, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return start, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return start, false
		}
		i = j
	}
	return i, true
}

// IsHex reports whether c is a hex digit.
func IsHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// String reads the string starting at s[i] ('"'): where it ends (past the closing quote),
// whether it has escapes, and whether it is valid: no control character, only JSON's escapes.
// Any other byte is taken as it is, as json.Valid takes it (UTF-8 is checked elsewhere).
func String(s string, i int) (end int, escaped, ok bool) {
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return j + 1, escaped, true
		case c == '\\':
			escaped = true
			j++
			if j >= len(s) {
				return i, false, false
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-j <= 4 {
					return i, false, false
				}
				for _, h := range []byte(s[j+1 : j+5]) {
					if !IsHex(h) {
						return i, false, false
					}
				}
				j += 4
			default:
				return i, false, false
			}
		case c < 0x20:
			return i, false, false
		}
	}
	return i, false, false
}

// Literal reads the true, false or null starting at s[i] and returns where it ends.
func Literal(s string, i int) (int, bool) {
	lit := "null"
	switch {
	case i < len(s) && s[i] == 't':
		lit = "true"
	case i < len(s) && s[i] == 'f':
		lit = "false"
	}
	if len(s)-i < len(lit) || s[i:i+len(lit)] != lit {
		return i, false
	}
	return i + len(lit), true
}
