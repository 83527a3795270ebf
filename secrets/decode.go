package secrets

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A View is a text with one or more encodings undone (JSON or YAML escapes, URL encoding), and
// the way back: Source maps a byte range of the view to the range of the original text that
// encodes it, whole escape sequences included. The view of a text as given maps to itself.
type View struct {
	Text  string
	Label string // what was undone: "", "escaped", "URL-encoded", "escaped, URL-encoded"...
	// starts[i] and ends[i] bound the bytes of the original that encode byte i of Text; nil
	// for the text as given.
	starts, ends []int
}

// Source maps the view's byte range [start, end) to the original's.
func (v View) Source(start, end int) (int, int) {
	if v.starts == nil || start >= end {
		return start, end
	}
	return v.starts[start], v.ends[end-1]
}

// Views returns s as given and, when it holds backslashes or percent signs, with JSON/YAML
// escapes (\/, \u002B, surrogate pairs, \\u002b inside a YAML string) and URL encoding (%2B,
// double-encoded %252B) undone, in both orders.
func Views(s string) []View {
	views := []View{{Text: s}}
	add := func(v View) {
		for _, have := range views {
			if have.Text == v.Text {
				return
			}
		}
		views = append(views, v)
	}
	hasEsc, hasPct := strings.IndexByte(s, '\\') >= 0, strings.IndexByte(s, '%') >= 0
	if hasEsc {
		e := views[0].repeat(unescapeMap, "escaped")
		add(e)
		if strings.IndexByte(e.Text, '%') >= 0 {
			add(e.repeat(percentMap, "escaped, URL-encoded"))
		}
	}
	if hasPct {
		u := views[0].repeat(percentMap, "URL-encoded")
		add(u)
		if strings.IndexByte(u.Text, '\\') >= 0 {
			add(u.repeat(unescapeMap, "URL-encoded, escaped"))
		}
	}
	return views
}

// decoder undoes one encoding and says, for each output byte, which input bytes encode it.
type decoder func(s string) (out string, starts, ends []int)

// repeat applies dec until the text stops changing (values encoded twice or three times).
func (v View) repeat(dec decoder, label string) View {
	cur := v
	for range 3 {
		out, starts, ends := dec(cur.Text)
		if out == cur.Text {
			break
		}
		next := View{Text: out, Label: label, starts: make([]int, len(out)), ends: make([]int, len(out))}
		for i := range out {
			next.starts[i], _ = cur.Source(starts[i], starts[i]+1)
			_, next.ends[i] = cur.Source(ends[i]-1, ends[i])
		}
		cur = next
	}
	return cur
}

// builder collects decoded bytes and where each came from.
type builder struct {
	b            strings.Builder
	starts, ends []int
}

func newBuilder(n int) *builder {
	b := &builder{starts: make([]int, 0, n), ends: make([]int, 0, n)}
	b.b.Grow(n)
	return b
}

func (b *builder) write(s string, from, to int) {
	b.b.WriteString(s)
	for range len(s) {
		b.starts = append(b.starts, from)
		b.ends = append(b.ends, to)
	}
}

// unescapeMap undoes JSON and YAML double-quoted escapes: \/ \" \\ \' \n \t \r \b \f \uXXXX
// (surrogate pairs joined), \UXXXXXXXX and \xXX. Anything else stays as written.
func unescapeMap(s string) (string, []int, []int) {
	b := newBuilder(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.write(s[i:i+1], i, i+1)
			i++
			continue
		}
		n := s[i+1]
		if r, ok := simpleEscape(n); ok {
			b.write(string(r), i, i+2)
			i += 2
			continue
		}
		width := 0
		switch n {
		case 'u':
			width = 4
		case 'U': // YAML's 32-bit escape
			width = 8
		case 'x':
			width = 2
		}
		if width == 0 || i+2+width > len(s) {
			b.write(s[i:i+1], i, i+1)
			i++
			continue
		}
		r, err := strconv.ParseUint(s[i+2:i+2+width], 16, 32)
		if err != nil {
			b.write(s[i:i+1], i, i+1)
			i++
			continue
		}
		end := i + 2 + width
		rn := rune(r)
		if utf16.IsSurrogate(rn) && end+6 <= len(s) && s[end] == '\\' && s[end+1] == 'u' {
			if lo, err := strconv.ParseUint(s[end+2:end+6], 16, 32); err == nil {
				if joined := utf16.DecodeRune(rn, rune(lo)); joined != utf8.RuneError {
					rn, end = joined, end+6
				}
			}
		}
		b.write(string(rn), i, end)
		i = end
	}
	return b.b.String(), b.starts, b.ends
}

func simpleEscape(n byte) (rune, bool) {
	switch n {
	case '/', '"', '\\', '\'':
		return rune(n), true
	case 'n':
		return '\n', true
	case 't':
		return '\t', true
	case 'r':
		return '\r', true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	}
	return 0, false
}

// percentMap decodes every valid %XX; unlike url.QueryUnescape it keeps + (a base64 character)
// and tolerates stray percent signs.
func percentMap(s string) (string, []int, []int) {
	b := newBuilder(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.write(string([]byte{byte(v)}), i, i+3)
				i += 2
				continue
			}
		}
		b.write(s[i:i+1], i, i+1)
	}
	return b.b.String(), b.starts, b.ends
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// Unescaped is s with one level of JSON escapes undone (a JSON string's text), as a View of s.
func Unescaped(s string) View {
	if strings.IndexByte(s, '\\') < 0 {
		return View{Text: s}
	}
	out, starts, ends := unescapeMap(s)
	return View{Text: out, Label: "escaped", starts: starts, ends: ends}
}
