package testproxyjson

// The writer as it was before its fast paths, kept as the reference the writer is held to
// (TestWriterMatchesReference, FuzzWriter).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// refMarshal is Marshal through the reference writer.
func refMarshal(c *cassette.Cassette, vars map[string]string) ([]byte, error) {
	if vars == nil {
		vars = c.Variables
	}
	for k, v := range vars {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("variable %q is not UTF-8", k)
		}
	}
	w := &refWriter{}
	w.open('{')
	w.key("Entries")
	w.open('[')
	for i, it := range c.Interactions {
		if it == nil {
			return nil, &InteractionError{Index: i, Msg: "empty entry"}
		}
		if err := w.entry(it); err != nil {
			return nil, &InteractionError{Index: i, ID: it.ID, Msg: err.Error()}
		}
	}
	w.close(']')
	w.key("Variables")
	w.open('{')
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return lessIgnoreCase(names[i], names[j], strings.ToUpper) })
	for _, k := range names {
		w.key(k)
		w.str(vars[k])
	}
	w.close('}')
	w.close('}')
	return append(w.b, '\n'), nil
}

// refWriter writes JSON the way System.Text.Json's Utf8JsonWriter does with Indented set: two
// spaces a level, `"name": value`, empty containers as {} and [].
type refWriter struct {
	b        []byte
	stack    []bool // per open container: whether it has an element yet
	afterKey bool
}

func (w *refWriter) newline() {
	w.b = append(w.b, '\n')
	for range w.stack {
		w.b = append(w.b, ' ', ' ')
	}
}

// value starts a value: after a member name it follows on the same line, else it is the next
// element of the enclosing array.
func (w *refWriter) value() {
	if w.afterKey {
		w.afterKey = false
		return
	}
	w.element()
}

func (w *refWriter) element() {
	if n := len(w.stack); n > 0 {
		if w.stack[n-1] {
			w.b = append(w.b, ',')
		}
		w.stack[n-1] = true
		w.newline()
	}
}

func (w *refWriter) key(k string) {
	w.element()
	w.b = refAppendDotNetString(w.b, k)
	w.b = append(w.b, ':', ' ')
	w.afterKey = true
}

func (w *refWriter) open(c byte) {
	w.value()
	w.b = append(w.b, c)
	w.stack = append(w.stack, false)
}

func (w *refWriter) close(c byte) {
	had := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if had {
		w.newline()
	}
	w.b = append(w.b, c)
}

func (w *refWriter) str(s string) {
	w.value()
	w.b = refAppendDotNetString(w.b, s)
}

func (w *refWriter) raw(s string) {
	w.value()
	w.b = append(w.b, s...)
}

// inline writes a JSON document as a value, indented to the current depth.
func (w *refWriter) inline(doc string) {
	w.value()
	var b bytes.Buffer
	json.Indent(&b, bytes.TrimSpace([]byte(doc)), strings.Repeat("  ", len(w.stack)), "  ") // doc is valid JSON
	w.b = append(w.b, b.Bytes()...)
}

func (w *refWriter) entry(it *cassette.Interaction) error {
	if err := checkUTF8(it); err != nil {
		return err
	}
	w.open('{')
	w.key("RequestUri")
	w.str(it.Request.URL)
	w.key("RequestMethod")
	w.str(it.Request.Method)
	w.key("RequestHeaders")
	w.headers(it.Request.Headers, it.Request.HeaderNames)
	w.key("RequestBody")
	if err := w.body(it.Request.Body, it.Request.Headers); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	w.key("StatusCode")
	w.raw(strconv.Itoa(it.Response.Code))
	w.key("ResponseHeaders")
	w.headers(it.Response.Headers, it.Response.HeaderNames)
	w.key("ResponseBody")
	if err := w.body(it.Response.Body, it.Response.Headers); err != nil {
		return fmt.Errorf("response body: %w", err)
	}
	w.close('}')
	return nil
}

// headers writes SerializeHeaders' form, sorted as the proxy's case-insensitive dictionary sorts
// (letters ignoring case; approximated ordinally on lower case). Each name is spelled as the first
// of spelled (the names as on the wire) that is the same ignoring case, else as h's key.
func (w *refWriter) headers(h http.Header, spelled []string) {
	spelling := map[string]string{}
	for _, n := range spelled {
		if ck := http.CanonicalHeaderKey(n); spelling[ck] == "" {
			spelling[ck] = n
		}
	}
	names := make([]string, 0, len(h))
	keyOf := map[string]string{}
	for k := range h {
		name := k
		if sp := spelling[http.CanonicalHeaderKey(k)]; sp != "" {
			name = sp
		}
		names = append(names, name)
		keyOf[name] = k
	}
	sort.Slice(names, func(i, j int) bool { return lessIgnoreCase(names[i], names[j], strings.ToLower) })
	w.open('{')
	for _, name := range names {
		w.key(name)
		if v := h[keyOf[name]]; len(v) == 1 {
			w.str(v[0])
		} else {
			w.open('[')
			for _, s := range v {
				w.str(s)
			}
			w.close(']')
		}
	}
	w.close('}')
}

// body writes SerializeBody's form for body under headers h.
func (w *refWriter) body(body string, h http.Header) error {
	if body == "" {
		w.raw("null")
		return nil
	}
	ct, single := tpContentType(h)
	if !single || !tpIsText(ct) {
		w.str(base64.StdEncoding.EncodeToString([]byte(body)))
		return nil
	}
	if !utf8.ValidString(body) {
		return fmt.Errorf("is not UTF-8, but Content-Type %q makes the test-proxy store it as text", ct)
	}
	if tpIsJSON(ct) && inlineable(body) {
		w.inline(body)
		return nil
	}
	if !strings.ContainsAny(body, "\r\n") {
		w.str(body)
		return nil
	}
	w.open('[')
	for _, l := range splitLines(body) {
		w.str(l)
	}
	w.close(']')
	return nil
}

// refAppendDotNetString writes s as a JSON string, escaped approximately as System.Text.Json's
// relaxed encoder escapes (JavaScriptEncoder.UnsafeRelaxedJsonEscaping): quote and backslash with a
// backslash, controls as \b \t \n \f \r or \uXXXX, characters outside the Basic Multilingual Plane
// as surrogate pairs, and line/paragraph separators, non-ASCII spaces, format, private-use and
// unassigned characters as \uXXXX. Any JSON reader reads the same string whatever the escapes.
func refAppendDotNetString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	u := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r < 0x20:
			b = u(b, r)
		case r < 0x7F:
			b = append(b, byte(r))
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			b = u(u(b, r1), r2)
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp, unicode.Zs) ||
			!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S):
			b = u(b, r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// sameAsReference checks Marshal against refMarshal for c and vars.
func sameAsReference(t *testing.T, c *cassette.Cassette, vars map[string]string) {
	t.Helper()
	want, werr := refMarshal(c, vars)
	got, gerr := Marshal(c, vars)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("error %v, the reference's %v", gerr, werr)
	}
	if werr != nil {
		return // which of several bad headers an error names depends on map order
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("differs from the reference at byte %d:\ngot  %q\nwant %q", i, got[max(0, i-80):min(len(got), i+80)], want[max(0, i-80):min(len(want), i+80)])
	}
}

// TestWriterMatchesReference: the writer writes what the reference writer writes, for the test
// recordings, a large one, and the shapes its fast paths treat apart (escapes beside plain text,
// header names spelled on the wire, names CanonicalHeaderKey leaves alone, deep inline JSON).
func TestWriterMatchesReference(t *testing.T) {
	var recs []*cassette.Cassette
	for _, f := range []string{"forms.json"} {
		c, _, err := Load(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, c)
	}
	big, _, err := Parse("big.json", refBigRecording())
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, big)
	deep := strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)
	shapes := []struct {
		name  string
		h     http.Header
		names []string
		body  string
	}{
		{"escapes", http.Header{"Content-Type": {"text/plain"}, "X-E": {"a\"b\\c\x01 é \u2028 🚀 \u00a0"}}, nil, "plain then \"quoted\"\r\nand\ttabs\u007f"},
		{"spelled names", http.Header{"X-Ms-Date": {"d"}, "Accept": {"a", "b"}, "Content-Type": {"application/json"}}, []string{"x-ms-DATE", "ACCEPT", "x-ms-date"}, `{"k": [1, {"x": null}]}`},
		{"names left alone", http.Header{"X A": {"1"}, "x_b": {"2"}, "Ü-C": {"3"}, "": {"4"}}, []string{"x a", "X_B", "ü-c", ""}, ""},
		{"sorting", http.Header{"b": {"1"}, "B-": {"2"}, "a": {}, "A-b": {"3"}, "É": {"4"}, "e": {"5"}}, nil, "\xff\x00binary"},
		{"deep JSON", http.Header{"Content-Type": {"application/json"}}, nil, deep},
		{"deep inline JSON", http.Header{"Content-Type": {"application/json"}}, nil, strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)},
	}
	for _, sh := range shapes {
		recs = append(recs, &cassette.Cassette{Interactions: []*cassette.Interaction{{
			Request:  cassette.Request{Method: "POST", URL: "https://h.example/p?q=\"x\"", Headers: sh.h, HeaderNames: sh.names, Body: sh.body},
			Response: cassette.Response{Code: 200, Headers: sh.h, HeaderNames: sh.names, Body: sh.body},
		}}})
	}
	for i, c := range recs {
		t.Run(fmt.Sprint(i), func(t *testing.T) { sameAsReference(t, c, map[string]string{"k": "v\u00e9\"", "A": "1"}) })
	}
}

// refBigRecording is a recording of about 1 MB in many shapes of entries.
func refBigRecording() []byte {
	var b bytes.Buffer
	b.WriteString("{\"Entries\": [\n")
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"RequestUri": "https://acct.documents.azure.com/dbs/db%d/docs", "RequestMethod": "POST",
 "RequestHeaders": {"Content-Type": "application/json", "x-ms-documentdb-partitionkey": ["[\"pk%d\"]"], "Authorization": "Sanitized"},
 "RequestBody": {"id": "doc%d", "s": "Zo\u00eb \ud83d\ude80 \"q\""}, "StatusCode": 201,
 "ResponseHeaders": {"Content-Type": "text/plain", "etag": "\"%d\""}, "ResponseBody": ["line\r\n", "two %d\n"]}`, i, i, i, i, i)
	}
	b.WriteString("], \"Variables\": {}}\n")
	return b.Bytes()
}

// FuzzWriter: for any exchange (header names and values, spellings, Content-Type and body drawn
// from the input), the writer writes what the reference writer writes. Header maps whose keys
// are the same ignoring case are passed over: which of them is written where, and which one's
// Content-Type counts, follows the map's order.
func FuzzWriter(f *testing.F) {
	f.Add("application/json", `{"a": "b\u00e9"}`, "X-A\x00x-a\x00Accept", "v\x00w\"\\\x01", "GET", "https://h/?q=1")
	f.Add("text/plain", "a\r\nb\n\nc", "X B\x00x_c", "é\u2028", "PUT", "")
	f.Add("", "\xff\xfe", "", "", "", "")
	f.Add("application/json; charset=utf-8", "42", "content-type\x00CONTENT-TYPE", "a\x00b", "POST", "x\ty")
	f.Fuzz(func(t *testing.T, ct, body, names, values, method, uri string) {
		h := http.Header{}
		if ct != "" {
			h["Content-Type"] = []string{ct}
		}
		vals := strings.Split(values, "\x00")
		var spelled []string
		for i, n := range strings.Split(names, "\x00") {
			if i%2 == 1 {
				spelled = append(spelled, n)
			}
			h[n] = vals[:i%len(vals)+1]
		}
		var keys []string
		for k := range h {
			for _, other := range keys {
				if strings.EqualFold(k, other) || http.CanonicalHeaderKey(k) == http.CanonicalHeaderKey(other) {
					return
				}
			}
			keys = append(keys, k)
		}
		c := &cassette.Cassette{Interactions: []*cassette.Interaction{{
			Request:  cassette.Request{Method: method, URL: uri, Headers: h, HeaderNames: spelled, Body: body},
			Response: cassette.Response{Code: 200, Headers: h, Body: body},
		}}}
		sameAsReference(t, c, map[string]string{vals[0]: body})
	})
}

// checkUTF8: JSON strings hold text, so the URL, method and headers must be UTF-8 to be written
// unchanged.
func checkUTF8(it *cassette.Interaction) error {
	if !utf8.ValidString(it.Request.URL) {
		return fmt.Errorf("request URL is not UTF-8")
	}
	if !utf8.ValidString(it.Request.Method) {
		return fmt.Errorf("request method is not UTF-8")
	}
	for _, side := range []struct {
		name string
		h    http.Header
	}{{"request", it.Request.Headers}, {"response", it.Response.Headers}} {
		for k, vs := range side.h {
			ok := utf8.ValidString(k)
			for _, v := range vs {
				ok = ok && utf8.ValidString(v)
			}
			if !ok {
				return fmt.Errorf("%s header %q is not UTF-8", side.name, k)
			}
		}
	}
	return nil
}
