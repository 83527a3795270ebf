package redact

import "bytes"

// replaceJSONValues replaces, in the JSON text body, every value path selects (objects and
// arrays whole) with the JSON text with. Only the selected values change: the rest of the body
// keeps its bytes, spacing and key order. A body that is not valid JSON is returned as it is.
func replaceJSONValues(body string, path *JSONPath, with string) string {
	spans, _ := selectJSON([]byte(body), path, true)
	if len(spans) == 0 {
		return body
	}
	var b bytes.Buffer
	last := 0
	for _, s := range spans {
		b.WriteString(body[last:s.start])
		b.WriteString(with)
		last = s.end
	}
	b.WriteString(body[last:])
	return b.String()
}
