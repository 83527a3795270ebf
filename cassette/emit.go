package cassette

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// The fast writer: an interaction as the item of the interactions sequence, in exactly the bytes
// the YAML library writes for it (indent 2), without the library's event queue and reflection.
// It covers what recordings hold; an interaction with something it does not (a binary body, a
// header name with a digit or that needs quotes, a multi-line header value...) is written by the
// library, so every file comes out the same whichever writes it.

// appendItem appends it as a sequence item, or returns false (with b as it was) when the library
// must write it.
func appendItem(b []byte, it *Interaction) ([]byte, bool) {
	if it == nil {
		return b, false
	}
	start := len(b)
	b = append(b, "- id: "...)
	b = strconv.AppendInt(b, int64(it.ID), 10)
	b = append(b, '\n')
	b, ok := appendItemRest(b, it)
	if !ok {
		return b[:start], false
	}
	return b, true
}

// appendItemRest is the item after its first line, "- id: N".
func appendItemRest(b []byte, it *Interaction) ([]byte, bool) {
	start := len(b)
	var ok bool
	b = append(b, "  request:\n"...)
	if b, ok = appendRequest(b, &it.Request); ok {
		b = append(b, "  response:\n"...)
		if b, ok = appendResponse(b, &it.Response); ok {
			return b, true
		}
	}
	return b[:start], false
}

// idRoom is the space the journal leaves in front of an item's text for its "- id: N" line,
// which is only known once the item's turn to be written has come.
const idRoom = 32

// itemBuffers hold items being encoded for the journal.
var itemBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// appendItemBody appends it as an item without its "- id: N" line (see withID), by the library
// when the fast writer declines it.
func appendItemBody(b []byte, it *Interaction) ([]byte, error) {
	b, ok := appendItemRest(b, it)
	if ok {
		return b, nil
	}
	numbered := *it
	numbered.ID = 0
	data, err := encodeItems([]*Interaction{&numbered})
	if err != nil {
		return b, err
	}
	rest, found := bytes.CutPrefix(data, []byte("- id: 0\n"))
	if !found {
		return b, fmt.Errorf("the YAML library wrote an item starting %.20q", data)
	}
	return append(b, rest...), nil
}

// withID writes the line "- id: N" into the idRoom bytes in front of an item's text in b, and
// returns the item.
func withID(b []byte, id int) []byte {
	var room [idRoom]byte
	line := strconv.AppendInt(append(room[:0], "- id: "...), int64(id), 10)
	line = append(line, '\n')
	start := idRoom - len(line)
	copy(b[start:], line)
	return b[start:]
}

const fieldIndent = 4 // request and response fields

func appendRequest(b []byte, r *Request) ([]byte, bool) {
	ok := true
	b = field(b, "proto", r.Proto, false, &ok)
	b = intField(b, "proto_major", int64(r.ProtoMajor))
	b = intField(b, "proto_minor", int64(r.ProtoMinor))
	b = intField(b, "content_length", r.ContentLength)
	b = field(b, "host", r.Host, false, &ok)
	b = field(b, "body", r.Body, true, &ok)
	if len(r.Form) > 0 {
		b = multiMap(b, "form", r.Form, &ok)
	}
	b = multiMap(b, "headers", r.Headers, &ok)
	if len(r.HeaderNames) > 0 {
		b = list(b, "header_names", r.HeaderNames, &ok)
	}
	b = field(b, "url", r.URL, false, &ok)
	b = field(b, "method", r.Method, false, &ok)
	return b, ok
}

func appendResponse(b []byte, r *Response) ([]byte, bool) {
	ok := true
	b = field(b, "proto", r.Proto, false, &ok)
	b = intField(b, "proto_major", int64(r.ProtoMajor))
	b = intField(b, "proto_minor", int64(r.ProtoMinor))
	b = intField(b, "content_length", r.ContentLength)
	b = field(b, "body", r.Body, true, &ok)
	b = multiMap(b, "headers", r.Headers, &ok)
	if len(r.HeaderNames) > 0 {
		b = list(b, "header_names", r.HeaderNames, &ok)
	}
	b = field(b, "status", r.Status, false, &ok)
	b = intField(b, "code", int64(r.Code))
	b = field(b, "duration", normalizeDuration(r.Duration), false, &ok)
	return b, ok
}

func intField(b []byte, key string, n int64) []byte {
	b = appendSpaces(b, fieldIndent)
	b = append(b, key...)
	b = append(b, ": "...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\n')
}

// field writes "key: value" at the field indent; body is whether s is a body (see text).
func field(b []byte, key, s string, body bool, ok *bool) []byte {
	b = appendSpaces(b, fieldIndent)
	b = append(b, key...)
	b = append(b, ':')
	return scalar(b, s, valueStyle(s, body), fieldIndent+2, ok)
}

// scalar writes " value" and ends the line; a literal block's lines are indented by indent.
func scalar(b []byte, s string, st scalarStyle, indent int, ok *bool) []byte {
	b = append(b, ' ')
	switch st {
	case plainStyle:
		b = append(b, s...)
	case singleStyle:
		b = appendSingleQuoted(b, s)
	case doubleStyle:
		b = appendDoubleQuoted(b, s)
	case literalStyle:
		return appendLiteral(b, s, indent)
	default:
		*ok = false
	}
	return append(b, '\n')
}

// multiMap writes a header or form map: keys in the library's order, each with its list of values.
func multiMap(b []byte, key string, m map[string][]string, ok *bool) []byte {
	b = appendSpaces(b, fieldIndent)
	b = append(b, key...)
	if len(m) == 0 {
		return append(b, ": {}\n"...)
	}
	b = append(b, ":\n"...)
	keys := make([]string, 0, 16)
	for k := range m {
		if !sortableKey(k) || keyStyle(k) != plainStyle {
			*ok = false
			return b
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		b = appendSpaces(b, fieldIndent+2)
		b = append(b, k...)
		vals := m[k]
		if len(vals) == 0 {
			b = append(b, ": []\n"...)
			continue
		}
		b = append(b, ":\n"...)
		b = items(b, vals, fieldIndent+4, ok)
	}
	return b
}

// list writes a sequence of strings under key.
func list(b []byte, key string, vals []string, ok *bool) []byte {
	b = appendSpaces(b, fieldIndent)
	b = append(b, key...)
	b = append(b, ":\n"...)
	return items(b, vals, fieldIndent+2, ok)
}

// items writes "- value" lines at indent; a value that would be a block goes to the library.
func items(b []byte, vals []string, indent int, ok *bool) []byte {
	for _, v := range vals {
		st := valueStyle(v, false)
		if st == literalStyle {
			st = unsure
		}
		b = appendSpaces(b, indent)
		b = append(b, '-')
		b = scalar(b, v, st, 0, ok)
	}
	return b
}

// sortableKey: keys of ASCII without digits, where the library's "natural" key order is plain
// character order with non-letters before letters. Its order of digit runs is left to it.
func sortableKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 0x80 || c >= '0' && c <= '9' {
			return false
		}
	}
	return true
}

// compareKeys is the library's key order for sortable keys.
func compareKeys(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		al, bl := isLetter(a[i]), isLetter(b[i])
		if al != bl {
			if bl {
				return -1
			}
			return 1
		}
		if a[i] < b[i] {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// encodeItemsFast is encodeItems with the fast writer, the library writing the interactions the
// fast writer leaves to it.
func encodeItemsFast(b []byte, items []*Interaction) ([]byte, error) {
	for _, it := range items {
		var ok bool
		if b, ok = appendItem(b, it); ok {
			continue
		}
		data, err := encodeItems([]*Interaction{it})
		if err != nil {
			return b, err
		}
		b = append(b, data...)
	}
	return b, nil
}
