package cassette

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// The fast reader's view of YAML: the block layout cassettes are written in (by azvcr, go-vcr
// and the YAML library) and nothing more. Mappings and sequences by indentation, one scalar per
// line (plain, quoted, or a literal block), [] and {} for empty ones, !!binary bodies. Anything
// else (comments, anchors, aliases, flow collections, folded or multi-line flow scalars, tags,
// tabs, nulls...) makes it give up, and the YAML library reads the file instead: the fast reader
// either reads a file exactly as the library would, or not at all.

// scanFail is the panic value that abandons the fast reader.
type scanFail struct{}

func giveUp() {
	if traceGiveUp != nil {
		traceGiveUp()
	}
	panic(scanFail{})
}

var traceGiveUp func()

// lines walks the lines of a region of the file.
type lines struct {
	data []byte
	pos  int // start of the line after the current one

	// The current line, once peeked: its indentation, its text after it, and where it starts.
	ok     bool
	indent int
	text   []byte
	start  int
}

// peek makes the next line that is not blank current; false at the end of the region.
func (l *lines) peek() bool {
	if l.ok {
		return true
	}
	for l.pos < len(l.data) {
		start := l.pos
		end := bytes.IndexByte(l.data[start:], '\n')
		if end < 0 {
			end = len(l.data)
			l.pos = end
		} else {
			end += start
			l.pos = end + 1
		}
		line := l.data[start:end]
		n := 0
		for n < len(line) && line[n] == ' ' {
			n++
		}
		if n == len(line) {
			continue // blank
		}
		if line[n] == '\t' || line[n] == '#' {
			giveUp() // tabs as indentation, comments
		}
		l.ok, l.indent, l.text, l.start = true, n, line[n:], start
		return true
	}
	return false
}

// take consumes the current line.
func (l *lines) take() { l.ok = false }

// at reports whether the current line is at indent.
func (l *lines) at(indent int) bool { return l.peek() && l.indent == indent }

// splitKey splits "key: rest" or "key:" into the key and what follows the colon. A line that is
// not a plain key gives up.
func splitKey(text []byte) (key, rest []byte) {
	i := 0
	for {
		j := bytes.IndexByte(text[i:], ':')
		if j < 0 {
			giveUp()
		}
		i += j
		if i+1 == len(text) || text[i+1] == ' ' {
			break
		}
		i++
	}
	key, rest = text[:i], text[i+1:]
	if len(key) == 0 || len(key) > 128 || !plainText(key) || isNullWord(key) || string(key) == "<<" {
		giveUp()
	}
	return key, rest
}

// plainText: b can be a plain scalar on one line as it stands (not starting with an indicator,
// no ": ", " #" or tab, no trailing space), and reads as itself.
func plainText(b []byte) bool {
	if len(b) == 0 || b[len(b)-1] == ' ' || b[len(b)-1] == ':' {
		return false
	}
	switch c := b[0]; c {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	case '-', '?', ':':
		if len(b) == 1 || b[1] == ' ' {
			return false
		}
	}
	if len(b) <= 64 { // most keys and values: one pass, rather than three calls
		for i, c := range b {
			switch {
			case c == ':' && i+1 < len(b) && b[i+1] == ' ', c == '#' && i > 0 && b[i-1] == ' ', c == '\t':
				return false
			}
		}
	} else if bytes.Contains(b, []byte(": ")) || bytes.Contains(b, []byte(" #")) || bytes.IndexByte(b, '\t') >= 0 {
		return false
	}
	return !(len(b) >= 3 && (bytes.HasPrefix(b, []byte("---")) || bytes.HasPrefix(b, []byte("..."))))
}

// isNullWord: a plain scalar the library reads as null.
func isNullWord(b []byte) bool {
	switch string(b) {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// inline is the scalar after "key:" or "- " on a line; empty when the value is on the lines below.
func inline(rest []byte) []byte {
	return bytes.Trim(rest, " ")
}

// scalar reads the scalar s (inline text) of a field at indent, which may go on over the
// following lines as a literal block. The returned bytes are valid until the next call.
func (d *decoder) scalar(s []byte, indent int) []byte {
	switch s[0] {
	case '\'':
		return d.singleQuoted(s)
	case '"':
		return d.doubleQuoted(s)
	case '|':
		return d.literal(s, indent)
	case '!':
		tagged, ok := bytes.CutPrefix(s, []byte("!!binary "))
		if !ok {
			giveUp()
		}
		var text []byte
		switch tagged = bytes.TrimLeft(tagged, " "); {
		case len(tagged) > 0 && tagged[0] == '|':
			text = d.literal(tagged, indent)
		case plainText(tagged):
			text = tagged
		default:
			giveUp()
		}
		raw, err := base64.StdEncoding.AppendDecode(d.scratch2[:0], text)
		if err != nil {
			giveUp()
		}
		d.scratch2 = raw
		return raw
	}
	if !plainText(s) || isNullWord(s) {
		giveUp()
	}
	return s
}

func (d *decoder) singleQuoted(s []byte) []byte {
	out := d.scratch[:0]
	i := 1
	for {
		j := bytes.IndexByte(s[i:], '\'')
		if j < 0 {
			giveUp() // goes on to the next line
		}
		out = append(out, s[i:i+j]...)
		i += j + 1
		if i < len(s) && s[i] == '\'' {
			out = append(out, '\'')
			i++
			continue
		}
		break
	}
	if i != len(s) {
		giveUp() // something after the closing quote
	}
	d.scratch = out
	return out
}

func (d *decoder) doubleQuoted(s []byte) []byte {
	out := d.scratch[:0]
	i := 1
	for {
		j := bytes.IndexAny(s[i:], "\"\\")
		if j < 0 {
			giveUp() // goes on to the next line
		}
		out = append(out, s[i:i+j]...)
		i += j
		if s[i] == '"' {
			i++
			break
		}
		if i+1 >= len(s) {
			giveUp() // an escaped line break
		}
		c := s[i+1]
		i += 2
		size := 0
		switch c {
		case '0':
			out = append(out, 0)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 't', '\t':
			out = append(out, 9)
		case 'n':
			out = append(out, '\n')
		case 'v':
			out = append(out, 0x0B)
		case 'f':
			out = append(out, 0x0C)
		case 'r':
			out = append(out, '\r')
		case 'e':
			out = append(out, 0x1B)
		case ' ', '"', '\'', '\\':
			out = append(out, c)
		case 'N':
			out = utf8.AppendRune(out, 0x85)
		case '_':
			out = utf8.AppendRune(out, 0xA0)
		case 'L':
			out = utf8.AppendRune(out, 0x2028)
		case 'P':
			out = utf8.AppendRune(out, 0x2029)
		case 'x':
			size = 2
		case 'u':
			size = 4
		case 'U':
			size = 8
		default:
			giveUp()
		}
		if size > 0 {
			if i+size > len(s) {
				giveUp()
			}
			v, err := strconv.ParseUint(string(s[i:i+size]), 16, 32)
			if err != nil || v >= 0xD800 && v <= 0xDFFF || v > 0x10FFFF || s[i] == '+' {
				giveUp()
			}
			out = utf8.AppendRune(out, rune(v))
			i += size
		}
	}
	if i != len(s) {
		giveUp()
	}
	d.scratch = out
	return out
}

// literal reads a literal block: header is "|" with its indicators, on a line of a mapping at
// indent; its lines follow.
func (d *decoder) literal(header []byte, indent int) []byte {
	chomp, step := byte(0), 0
	for _, c := range header[1:] {
		switch {
		case (c == '-' || c == '+') && chomp == 0:
			chomp = c
		case c >= '1' && c <= '9' && step == 0:
			step = int(c - '0')
		default:
			giveUp()
		}
	}
	l := &d.lines
	if l.ok {
		giveUp() // the header line is current and taken by the caller
	}
	out := d.scratch[:0]
	content := indent + step
	pending := 0 // line breaks owed before the next content line
	seen, ended := false, false
	for l.pos < len(l.data) {
		start := l.pos
		end := bytes.IndexByte(l.data[start:], '\n')
		terminated := end >= 0
		if !terminated {
			end = len(l.data) - start
		}
		line := l.data[start : start+end]
		n := 0
		for n < len(line) && line[n] == ' ' {
			n++
		}
		if n == len(line) {
			if n > 0 || !terminated {
				giveUp() // a line of spaces: its meaning depends on the indentation found
			}
			pending++
			l.pos = start + end + 1
			continue
		}
		if !seen && step == 0 {
			if n <= indent || pending > 0 {
				giveUp() // an empty block, or empty lines before the indentation is known
			}
			content = n
		}
		if n < content {
			if n > indent {
				giveUp()
			}
			ended = true
			break
		}
		if line[content] == '\t' || !terminated {
			giveUp()
		}
		if seen {
			pending++ // the previous content line's own break
		}
		for ; pending > 0; pending-- {
			out = append(out, '\n')
		}
		out = append(out, line[content:]...)
		seen = true
		l.pos = start + end + 1
	}
	if !ended && l.pos != len(l.data) {
		giveUp()
	}
	if !seen { // only empty lines: what keep chomping keeps of them
		if chomp != '+' || pending == 0 {
			giveUp()
		}
		for ; pending > 0; pending-- {
			out = append(out, '\n')
		}
		d.scratch = out
		return out
	}
	switch chomp { // pending counts the empty lines after the last content line
	case '-':
	case '+':
		out = append(out, '\n')
		for ; pending > 0; pending-- {
			out = append(out, '\n')
		}
	default:
		out = append(out, '\n')
	}
	d.scratch = out
	return out
}
