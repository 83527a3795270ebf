package redact

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"

	"github.com/azvcr/azvcr/secrets"
)

// maxGzip bounds what a gzip body may inflate to before redaction gives up on reading inside it.
const maxGzip = 64 << 20

// body redacts a body: gzip is inflated, redacted and deflated again when something changed;
// JSON is walked string by string; anything else (forms with or without a Content-Type, text,
// binary) is read as text.
func (w *walker) body(b string) string {
	if b == "" {
		return b
	}
	if inner, ok := gunzip(b); ok {
		out := w.body(inner)
		if out == inner {
			return b
		}
		return gzipString(out)
	}
	if looksJSON(b) {
		if edits, ok := w.json(b, 0); ok {
			return splice(b, edits)
		}
	}
	return w.redactText(inText, "", b)
}

func gunzip(b string) (string, bool) {
	if len(b) < 18 || b[0] != 0x1f || b[1] != 0x8b {
		return "", false
	}
	zr, err := gzip.NewReader(strings.NewReader(b))
	if err != nil {
		return "", false
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxGzip+1))
	if err != nil || len(data) > maxGzip {
		return "", false
	}
	return string(data), true
}

func gzipString(s string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.String()
}

// json walks a JSON text and offers each string to the rules: values with their key as name,
// keys too (a secret can be a key). It returns the edits over the raw text, or false when the
// text is not JSON after all.
func (w *walker) json(s string, depth int) ([]edit, bool) {
	type frame struct {
		object    bool
		key       string
		expectKey bool
	}
	var stackBuf [8]frame // most texts nest no deeper: no allocation
	stack := stackBuf[:0]
	var out []edit
	i := 0
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return out, len(stack) == 0
		}
		c := s[i]
		switch {
		case c == '{' || c == '[':
			stack = append(stack, frame{object: c == '{', expectKey: c == '{'})
			if len(stack) > 0 && !stack[len(stack)-1].object && len(stack) > 1 {
				stack[len(stack)-1].key = stack[len(stack)-2].key // array items take the array's key
			}
			i++
		case c == '}' || c == ']':
			if len(stack) == 0 || stack[len(stack)-1].object != (c == '}') {
				return nil, false
			}
			stack = stack[:len(stack)-1]
			i++
			if len(stack) == 0 {
				if skipSpace(s, i) != len(s) {
					return nil, false
				}
				return out, true
			}
		case c == ',':
			if len(stack) == 0 {
				return nil, false
			}
			if top := &stack[len(stack)-1]; top.object {
				top.expectKey = true
			}
			i++
		case c == ':':
			if len(stack) == 0 || !stack[len(stack)-1].object {
				return nil, false
			}
			i++
		case c == '"':
			end, ok := stringEnd(s, i)
			if !ok {
				return nil, false
			}
			raw := s[i+1 : end-1]
			if len(stack) == 0 {
				return nil, false
			}
			top := &stack[len(stack)-1]
			p, name := inJSON, top.key
			if top.object && top.expectKey {
				p, name = inJSONKey, ""
				top.key, top.expectKey = jsonString(raw), false
			}
			out = append(out, w.jsonString(p, name, raw, i+1, depth)...)
			i = end
		default: // numbers, true, false, null
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n,:]}", rune(s[j])) {
				j++
			}
			if j == i || len(stack) == 0 {
				return nil, false
			}
			i = j
		}
	}
}

// jsonString offers one JSON string, unescaped, and maps the edits back onto its raw bytes at
// offset off in the body. Replacements are plain text that needs no escaping.
func (w *walker) jsonString(p place, name, raw string, off, depth int) []edit {
	if len(raw) < minValueLen && p != inJSON {
		return nil
	}
	view := secrets.Unescaped(raw)
	var out []edit
	for _, e := range w.visit(p, name, view.Text, depth) {
		from, to := view.Source(e.start, e.end)
		out = append(out, edit{from + off, to + off, e.with})
	}
	return out
}

// minValueLen is the length under which a key is not looked at: no secret is that short.
const minValueLen = 8

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the offset after the closing quote of the string opening at s[i].
func stringEnd(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// jsonString is a raw JSON string's text, for names.
func jsonString(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw
	}
	return secrets.Unescaped(raw).Text
}
