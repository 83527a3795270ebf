package cassette

import "bytes"

// The values of the fields the fast reader decodes: strings, integers, lists of strings, header
// maps, and the values of keys the cassette types do not have, read only to be checked.

// value is the string value after a key at indent.
func (d *decoder) value(rest []byte, indent int) []byte {
	s := inline(rest)
	if len(s) == 0 || len(rest) > 0 && rest[0] != ' ' {
		giveUp() // null, or a block where a string belongs
	}
	return d.scalar(s, indent)
}

// integer reads a plain decimal integer as the library would (no sign but '-', no leading zeros,
// no other base or underscores: those give up).
func (d *decoder) integer(rest []byte) int64 {
	s := inline(rest)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 || s[0] == '0' && (len(s) > 1 || neg) {
		giveUp()
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			giveUp()
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// seqItem reads the scalar of a "- value" line of a sequence of strings.
func (d *decoder) seqItem(text []byte) []byte {
	if len(text) < 3 || text[0] != '-' || text[1] != ' ' {
		giveUp()
	}
	s := inline(text[2:])
	if len(s) == 0 || s[0] == '|' || s[0] == '!' {
		giveUp() // null, a block, or a tag
	}
	return d.scalar(s, 0)
}

// isItem: text starts a sequence item.
func isItem(text []byte) bool { return len(text) >= 2 && text[0] == '-' && text[1] == ' ' }

// seqIndent is the indentation of the sequence that is the value of a key at indent (the library
// reads "- " at the key's own indentation too).
func (d *decoder) seqIndent(indent int) int {
	l := &d.lines
	if !l.peek() || l.indent < indent || l.indent == indent && !isItem(l.text) {
		giveUp() // null
	}
	return l.indent
}

// list reads a sequence of strings.
func (d *decoder) list(rest []byte, indent int) []string {
	if s := inline(rest); len(s) > 0 {
		if string(s) != "[]" || rest[0] != ' ' {
			giveUp()
		}
		return []string{}
	}
	at := d.seqIndent(indent)
	start := len(d.values)
	l := &d.lines
	for l.at(at) && isItem(l.text) {
		text := l.text
		l.take()
		d.values = append(d.values, d.short(d.seqItem(text)))
	}
	if l.peek() && l.indent > at {
		giveUp()
	}
	out := make([]string, len(d.values)-start)
	copy(out, d.values[start:])
	d.values = d.values[:start]
	return out
}

// multiMap reads a header or form map: names, each with a sequence of values. The values of all
// names share one array.
func (d *decoder) multiMap(rest []byte, indent int) map[string][]string {
	if s := inline(rest); len(s) > 0 {
		if string(s) != "{}" || rest[0] != ' ' {
			giveUp()
		}
		return map[string][]string{}
	}
	d.readPairs(indent, nil)
	m := make(map[string][]string, len(d.pairs))
	all := make([]string, len(d.values))
	copy(all, d.values)
	for _, p := range d.pairs {
		if _, dup := m[p.key]; dup {
			giveUp()
		}
		if p.values < 0 {
			m[p.key] = []string{}
			continue
		}
		m[p.key] = all[:p.values:p.values]
		all = all[p.values:]
	}
	return m
}

// readPairs reads the names and value sequences of a header or form map at indent into d.pairs
// and d.values. A name keep refuses (keep nil: none) is checked like the others, but its values
// are not kept and its pair is marked notKept.
func (d *decoder) readPairs(indent int, keep func(name string) bool) {
	keys := d.nested(indent)
	d.pairs, d.values = d.pairs[:0], d.values[:0]
	l := &d.lines
	d.mapping(keys, func(key, rest []byte) {
		p := headerPair{key: d.short(key)}
		kept := keep == nil || keep(p.key)
		if s := inline(rest); len(s) > 0 {
			if string(s) != "[]" || rest[0] != ' ' {
				giveUp()
			}
			p.values = -1 // an empty list
		} else {
			at := d.seqIndent(keys)
			for l.at(at) && isItem(l.text) {
				text := l.text
				l.take()
				v := d.seqItem(text)
				if kept {
					d.values = append(d.values, d.short(v))
					p.values++
				}
			}
			if l.peek() && l.indent > at {
				giveUp()
			}
		}
		if !kept {
			p.values = notKept
		}
		d.pairs = append(d.pairs, p)
	})
}

// notKept marks a pair readPairs read but did not keep.
const notKept = -2

// stringMap reads a map of strings (a cassette's variables).
func (d *decoder) stringMap(rest []byte, indent int) map[string]string {
	if s := inline(rest); len(s) > 0 {
		if string(s) != "{}" || rest[0] != ' ' {
			giveUp()
		}
		return map[string]string{}
	}
	fields := d.nested(indent)
	m := map[string]string{}
	d.mapping(fields, func(key, rest []byte) {
		k := d.str(key)
		if _, dup := m[k]; dup {
			giveUp()
		}
		m[k] = d.str(d.value(rest, fields))
	})
	return m
}

// skip reads and drops the value of a key the cassette types do not have (go-vcr's
// transfer_encoding, say), so the file is checked as the library checks it.
func (d *decoder) skip(rest []byte, indent, depth int) {
	if depth > 32 {
		giveUp()
	}
	if s := inline(rest); len(s) > 0 {
		if rest[0] != ' ' {
			giveUp()
		}
		if string(s) != "[]" && string(s) != "{}" {
			d.scalar(s, indent)
		}
		return
	}
	l := &d.lines
	if !l.peek() || l.indent < indent || l.indent == indent && !isItem(l.text) {
		giveUp() // null
	}
	at := l.indent
	if !isItem(l.text) {
		d.mapping(at, func(key, rest []byte) { d.skip(rest, at, depth+1) })
		return
	}
	for l.at(at) && isItem(l.text) {
		text := l.text
		if _, _, isMap := bytes.Cut(text, []byte(": ")); isMap || text[len(text)-1] == ':' {
			n := 1
			for n < len(text) && text[n] == ' ' {
				n++
			}
			l.indent, l.text = at+n, text[n:]
			d.mapping(at+n, func(key, rest []byte) { d.skip(rest, at+n, depth+1) })
			continue
		}
		l.take()
		d.seqItem(text)
	}
	if l.peek() && l.indent > at {
		giveUp()
	}
}
