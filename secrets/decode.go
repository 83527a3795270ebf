package secrets

import (
	"strconv"
	"strings"
)

// unescape undoes JSON and YAML double-quoted escapes: \/ \" \\ \n \t \r \uXXXX \xXX.
// Anything else stays as written.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; n {
		case '/', '"', '\\', '\'':
			b.WriteByte(n)
			i++
		case 'n':
			b.WriteByte('\n')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case 'r':
			b.WriteByte('\r')
			i++
		case 'u', 'x':
			width := 4
			if n == 'x' {
				width = 2
			}
			if i+2+width <= len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+2+width], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 1 + width
					continue
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// percentDecode decodes every valid %XX; unlike url.QueryUnescape it keeps + and tolerates
// stray percent signs.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// repeatDecode applies f until the text stops changing (double-encoded values), at most 3 times.
func repeatDecode(f func(string) string, s string) string {
	for range 3 {
		t := f(s)
		if t == s {
			break
		}
		s = t
	}
	return s
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
