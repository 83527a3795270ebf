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
	// src maps the view back to the original; nil for the text as given.
	src *source
}

// source is how a view maps back: the view it was decoded from and the decoder. The byte maps
// are built at the first Source call only: most views are read and found to hold nothing, and
// two maps of ints per byte cost sixteen times the text.
type source struct {
	parent View
	dec    decoder
	built  bool
	// starts[i] and ends[i] bound the bytes of the original that encode byte i of the view.
	starts, ends []int
}

// Source maps the view's byte range [start, end) to the original's.
func (v View) Source(start, end int) (int, int) {
	if v.src == nil || start >= end {
		return start, end
	}
	m := v.src
	if !m.built {
		m.build()
	}
	return m.starts[start], m.ends[end-1]
}

// Views returns s as given and, when it holds backslashes or percent signs, with JSON/YAML
// escapes (\/, \u002B, surrogate pairs, \\u002b inside a YAML string) and URL encoding (%2B,
// double-encoded %252B) undone, in both orders.
func Views(s string) []View { return appendViews(nil, s) }

// appendViews is Views appending to dst (a caller's array keeps the usual one view off the heap).
func appendViews(dst []View, s string) []View {
	views := append(dst, View{Text: s})
	n := len(dst)
	add := func(views []View, v View) []View {
		for _, have := range views[n:] {
			if have.Text == v.Text {
				return views
			}
		}
		return append(views, v)
	}
	hasEsc, hasPct := strings.IndexByte(s, '\\') >= 0, strings.IndexByte(s, '%') >= 0
	if hasEsc {
		e := views[n].repeat(unescapeMap, "escaped")
		views = add(views, e)
		if strings.IndexByte(e.Text, '%') >= 0 {
			views = add(views, e.repeat(percentMap, "escaped, URL-encoded"))
		}
	}
	if hasPct {
		u := views[n].repeat(percentMap, "URL-encoded")
		views = add(views, u)
		if strings.IndexByte(u.Text, '\\') >= 0 {
			views = add(views, u.repeat(unescapeMap, "URL-encoded, escaped"))
		}
	}
	return views
}

// decoder undoes one encoding and, when track is set, says for each output byte which input
// bytes encode it.
type decoder func(s string, track bool) (out string, starts, ends []int)

// maxRepeat bounds repeat: values encoded twice or three times are undone, no more.
const maxRepeat = 3

// repeat applies dec until the text stops changing (values encoded twice or three times). It
// returns v itself when dec changes nothing.
func (v View) repeat(dec decoder, label string) View {
	text := v.Text
	for range maxRepeat {
		out, _, _ := dec(text, false)
		if out == text {
			break
		}
		text = out
	}
	if text == v.Text {
		return v
	}
	return View{Text: text, Label: label, src: &source{parent: v, dec: dec}}
}

// build makes the byte maps: repeat's steps again, each decoder run with track set, and each
// step's map composed with the one before.
func (m *source) build() {
	cur := m.parent
	for range maxRepeat {
		out, starts, ends := m.dec(cur.Text, true)
		if out == cur.Text {
			break
		}
		next := &source{built: true, starts: make([]int, len(out)), ends: make([]int, len(out))}
		for i := range out {
			next.starts[i], _ = cur.Source(starts[i], starts[i]+1)
			_, next.ends[i] = cur.Source(ends[i]-1, ends[i])
		}
		cur = View{Text: out, src: next}
	}
	m.starts, m.ends, m.built = cur.src.starts, cur.src.ends, true
}

// builder collects decoded bytes and, when tracking, where each came from.
type builder struct {
	b            strings.Builder
	track        bool
	starts, ends []int
}

func newBuilder(n int, track bool) *builder {
	b := &builder{track: track}
	if track {
		b.starts, b.ends = make([]int, 0, n), make([]int, 0, n)
	}
	b.b.Grow(n)
	return b
}

// write adds s, encoded by the input bytes [from, to).
func (b *builder) write(s string, from, to int) {
	b.b.WriteString(s)
	if b.track {
		for range len(s) {
			b.starts = append(b.starts, from)
			b.ends = append(b.ends, to)
		}
	}
}

// copied adds s, the input's bytes from at on, as they stand.
func (b *builder) copied(s string, at int) {
	b.b.WriteString(s)
	if b.track {
		for k := range len(s) {
			b.starts = append(b.starts, at+k)
			b.ends = append(b.ends, at+k+1)
		}
	}
}

func (b *builder) result() (string, []int, []int) { return b.b.String(), b.starts, b.ends }

// unescapeMap undoes JSON and YAML double-quoted escapes: \/ \" \\ \' \n \t \r \b \f \uXXXX
// (surrogate pairs joined), \UXXXXXXXX and \xXX. Anything else stays as written.
func unescapeMap(s string, track bool) (string, []int, []int) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil, nil
	}
	b := newBuilder(len(s), track)
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := strings.IndexByte(s[i:], '\\')
			if j < 0 {
				j = len(s) - i
			}
			b.copied(s[i:i+j], i)
			i += j
			continue
		}
		if i+1 == len(s) {
			b.copied(s[i:], i)
			break
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
			b.copied(s[i:i+1], i)
			i++
			continue
		}
		r, err := strconv.ParseUint(s[i+2:i+2+width], 16, 32)
		if err != nil {
			b.copied(s[i:i+1], i)
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
	return b.result()
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
func percentMap(s string, track bool) (string, []int, []int) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil, nil
	}
	b := newBuilder(len(s), track)
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '%')
		if j < 0 {
			b.copied(s[i:], i)
			break
		}
		b.copied(s[i:i+j], i)
		i += j
		if i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.write(string([]byte{byte(v)}), i, i+3)
				i += 3
				continue
			}
		}
		b.copied(s[i:i+1], i)
		i++
	}
	return b.result()
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
	out, starts, ends := unescapeMap(s, true)
	return View{Text: out, Label: "escaped", src: &source{built: true, starts: starts, ends: ends}}
}
