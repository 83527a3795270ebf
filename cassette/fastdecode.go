package cassette

import (
	"net/http"
	"strings"
)

// decoder reads the parts of a cassette the fast reader handles into their Go values. Strings
// are copied out of the file into large shared blocks (arena), short ones once per distinct
// value (intern): a loaded cassette is few objects, and none of them the file.
type decoder struct {
	lines    lines
	scratch  []byte // the decoded text of the scalar being read
	scratch2 []byte // a !!binary scalar's bytes
	arena    strings.Builder
	intern   map[string]string
	slab     []Interaction
	pairs    []headerPair
	values   []string

	light *lightDecode // set when only what matching reads is kept (LoadForReplay)
}

type headerPair struct {
	key    string
	values int // how many of d.values, in order
}

const (
	arenaBlock = 256 << 10
	internMax  = 64      // longer strings are not looked up
	internCap  = 1 << 16 // distinct short strings kept for reuse, per decoder
	slabSize   = 256
)

// str copies b out of the file.
func (d *decoder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaBlock/8 {
		return string(b)
	}
	if d.arena.Cap()-d.arena.Len() < len(b) {
		d.arena = strings.Builder{}
		d.arena.Grow(arenaBlock)
	}
	start := d.arena.Len()
	d.arena.Write(b)
	return d.arena.String()[start:]
}

// short is str for strings that repeat (names, header values, status lines): one copy each.
func (d *decoder) short(b []byte) string {
	if len(b) > internMax {
		return d.str(b)
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := d.str(b)
	if len(d.intern) < internCap {
		d.intern[s] = s
	}
	return s
}

func (d *decoder) newInteraction() *Interaction {
	if len(d.slab) == 0 {
		d.slab = make([]Interaction, slabSize)
	}
	it := &d.slab[0]
	d.slab = d.slab[1:]
	return it
}

// mapping calls field for each key of the block mapping at indent, in order; field reads the
// value (rest is what follows the key's colon).
func (d *decoder) mapping(indent int, field func(key, rest []byte)) {
	l := &d.lines
	for l.at(indent) {
		key, rest := splitKey(l.text)
		l.take()
		field(key, rest)
	}
	if l.peek() && l.indent > indent {
		giveUp()
	}
}

// once marks field bit as read; a field given twice gives up (the library reports it).
func once(seen *uint32, bit uint32) {
	if *seen&bit != 0 {
		giveUp()
	}
	*seen |= bit
}

// other marks a key the cassette types do not have as read: the library refuses a key given
// twice in any mapping it decodes, known to the types or not.
func other(seen *[]string, key []byte) {
	if len(*seen) == 64 {
		giveUp() // not a cassette's mapping: the library reads it, as it reads any file
	}
	for _, k := range *seen {
		if k == string(key) {
			giveUp()
		}
	}
	*seen = append(*seen, string(key))
}

// item reads the interactions item whose "- " line is current, at indent.
func (d *decoder) item(indent int) *Interaction {
	l := &d.lines
	text := l.text
	if len(text) < 3 || text[0] != '-' || text[1] != ' ' {
		giveUp()
	}
	n := 1
	for n < len(text) && text[n] == ' ' {
		n++
	}
	if n == len(text) || text[n] == '-' || text[n] == '?' || text[n] == '#' {
		giveUp()
	}
	fields := indent + n
	l.indent, l.text = fields, text[n:] // the item's mapping starts on the dash's line
	it := d.newInteraction()
	var seen uint32
	var others []string
	d.mapping(fields, func(key, rest []byte) {
		switch string(key) {
		case "id":
			once(&seen, 1)
			it.ID = int(d.integer(rest))
		case "request":
			once(&seen, 2)
			d.block(rest)
			d.request(&it.Request, fields)
		case "response":
			once(&seen, 4)
			d.block(rest)
			if d.light != nil {
				d.lightResponse(&it.Response, fields)
			} else {
				d.response(&it.Response, fields)
			}
		default:
			other(&others, key)
			d.skip(rest, fields, 0)
		}
	})
	return it
}

// block checks that a mapping's value is on the lines below its key.
func (d *decoder) block(rest []byte) {
	if len(inline(rest)) != 0 {
		giveUp()
	}
}

// nested is the indentation of the block mapping that is the value of a key at indent.
func (d *decoder) nested(indent int) int {
	l := &d.lines
	if !l.peek() || l.indent <= indent {
		giveUp() // null
	}
	return l.indent
}

// message is what requests and responses both have, as fields of either.
type message struct {
	proto        *string
	major, minor *int
	length       *int64
	body         *string
	headers      *http.Header
	names        *[]string

	// In a light decode: whether this is the response (whose headers and body are not kept).
	light, response bool
}

// fields reads the mapping of a request or a response: the fields both have, and those of its
// own (own reads one, or says false for a key neither has).
func (d *decoder) fields(m message, indent int, own func(key, rest []byte, fields int, seen *uint32) bool) {
	fields := d.nested(indent)
	var seen uint32
	var others []string
	d.mapping(fields, func(key, rest []byte) {
		switch string(key) {
		case "proto":
			once(&seen, 1)
			if v := d.value(rest, fields); !m.light {
				*m.proto = d.short(v)
			}
		case "proto_major":
			once(&seen, 2)
			*m.major = int(d.integer(rest))
		case "proto_minor":
			once(&seen, 4)
			*m.minor = int(d.integer(rest))
		case "content_length":
			once(&seen, 8)
			*m.length = d.integer(rest)
		case "body":
			once(&seen, 16)
			if v := d.value(rest, fields); !m.response {
				*m.body = d.str(v)
			}
		case "headers":
			once(&seen, 32)
			if m.light {
				*m.headers = d.someHeaders(rest, fields, m.response)
			} else {
				*m.headers = d.multiMap(rest, fields)
			}
		case "header_names":
			once(&seen, 64)
			if m.light {
				d.checkNames(rest, fields)
			} else {
				*m.names = d.list(rest, fields)
			}
		default:
			if !own(key, rest, fields, &seen) {
				other(&others, key)
				d.skip(rest, fields, 0)
			}
		}
	})
}

func (d *decoder) request(r *Request, indent int) {
	m := message{proto: &r.Proto, major: &r.ProtoMajor, minor: &r.ProtoMinor, length: &r.ContentLength, body: &r.Body, headers: &r.Headers, names: &r.HeaderNames}
	m.light = d.light != nil
	d.fields(m, indent, func(key, rest []byte, fields int, seen *uint32) bool {
		switch string(key) {
		case "host":
			once(seen, 128)
			r.Host = d.short(d.value(rest, fields))
		case "form":
			once(seen, 256)
			r.Form = d.multiMap(rest, fields)
		case "url":
			once(seen, 512)
			r.URL = d.str(d.value(rest, fields))
		case "method":
			once(seen, 1024)
			r.Method = d.short(d.value(rest, fields))
		default:
			return false
		}
		return true
	})
}

func (d *decoder) response(r *Response, indent int) {
	m := message{proto: &r.Proto, major: &r.ProtoMajor, minor: &r.ProtoMinor, length: &r.ContentLength, body: &r.Body, headers: &r.Headers, names: &r.HeaderNames}
	d.fields(m, indent, func(key, rest []byte, fields int, seen *uint32) bool {
		switch string(key) {
		case "status":
			once(seen, 128)
			r.Status = d.short(d.value(rest, fields))
		case "code":
			once(seen, 256)
			r.Code = int(d.integer(rest))
		case "duration":
			once(seen, 512)
			r.Duration = d.short(d.value(rest, fields))
		default:
			return false
		}
		return true
	})
}
