package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
)

// replaceJSONValues replaces, in the JSON text body, every value whose path satisfies match with
// the JSON text with. Only the matched values change: the rest of the body keeps its bytes,
// spacing and key order. A body that is not valid JSON is returned as it is.
func replaceJSONValues(body string, match func(path []string, isString bool) bool, with string) string {
	spans := jsonValueSpans([]byte(body), match)
	if len(spans) == 0 {
		return body
	}
	var b bytes.Buffer
	last := 0
	for _, s := range spans {
		b.WriteString(body[last:s[0]])
		b.WriteString(with)
		last = s[1]
	}
	b.WriteString(body[last:])
	return b.String()
}

// jsonValueSpans finds the byte ranges [start, end) of the values whose path matches. A path is
// the object keys and array positions ("[0]", "[1]"...) from the root. Spans do not nest: inside
// a matched value nothing more is reported.
func jsonValueSpans(data []byte, match func(path []string, isString bool) bool) [][2]int {
	type frame struct {
		object    bool
		key       string
		index     int
		expectKey bool
		start     int // of a matched composite value, or -1
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	var spans [][2]int
	inMatch := 0 // depth of frames inside a matched composite value
	path := func() []string {
		p := make([]string, 0, len(stack))
		for _, f := range stack {
			if f.object {
				p = append(p, f.key)
			} else {
				p = append(p, "["+strconv.Itoa(f.index)+"]")
			}
		}
		return p
	}
	valueDone := func() {
		if n := len(stack); n > 0 {
			if top := stack[n-1]; top.object {
				top.expectKey = true
			} else {
				top.index++
			}
		}
	}
	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF && len(stack) == 0 {
				return spans
			}
			return nil // truncated or not JSON after all: change nothing
		}
		after := int(dec.InputOffset())
		// A closing delimiter ends a value (a '}' may come where a key was expected).
		if d, ok := tok.(json.Delim); ok && (d == ']' || d == '}') {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.start >= 0 {
				spans = append(spans, [2]int{f.start, after})
			}
			if inMatch > 0 {
				inMatch--
			}
			valueDone()
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].expectKey = false
			continue
		}
		// A value starts here: skip the separator and spaces before it.
		start := before
		for start < after && (data[start] == ' ' || data[start] == '\t' || data[start] == '\n' || data[start] == '\r' || data[start] == ':' || data[start] == ',') {
			start++
		}
		_, isString := tok.(string)
		matched := inMatch == 0 && len(stack) > 0 && match(path(), isString)
		if d, ok := tok.(json.Delim); ok { // '{' or '['
			f := &frame{object: d == '{', expectKey: d == '{', start: -1}
			if matched {
				f.start = start
			}
			if matched || inMatch > 0 {
				inMatch++
			}
			stack = append(stack, f)
			continue
		}
		if matched {
			spans = append(spans, [2]int{start, after})
		}
		valueDone()
	}
}
