// Package testproxyjson reads and writes recordings in the JSON format of Microsoft's Azure SDK
// test-proxy.
package testproxyjson

// Microsoft's Azure SDK test-proxy (github.com/Azure/azure-sdk-tools, tools/test-proxy) stores a
// recording as JSON: {"Entries": [...], "Variables": {...}}. This file reads and writes that format.
// The rules follow the proxy's own code, cited as [RecordEntry.cs] and so on below, all under
// tools/test-proxy/Azure.Sdk.Tools.TestProxy/:
//
//   - [RecordSession.cs] Serialize/Deserialize: the top-level object; Variables is a
//     SortedDictionary<string,string> with OrdinalIgnoreCase keys, written as strings.
//   - [Common/RecordEntry.cs] Serialize, SerializeBody, SerializeHeaders, Deserialize,
//     DeserializeBody, DeserializeHeaders, NormalizeJsonBody, IndexOfNewline: body and header forms.
//   - [Common/ContentTypeUtilities.cs] TryGetTextEncoding, IsManifestContentType, TryGetContentType:
//     which bodies are text. [Common/MultipartUtilities.cs] DeserializeMultipartBody: the array form
//     newer proxies write for multipart bodies.
//   - [Common/RecordedTestSanitizer.cs] UpdateSanitizedContentLength: Content-Length follows a
//     normalised body.
//   - [RecordingHandler.cs] StopRecording (Utf8JsonWriter, Indented, relaxed encoder, a newline
//     after the document), HandleRecordRequestAsync (an empty response body is stored as null, the
//     body stored decompressed, Content-Encoding kept), HandlePlaybackRequest (gzip/br compressed
//     again on playback when the recorded Content-Encoding says so).
//   - [Common/RequestOrResponse.cs]: headers are a SortedDictionary<string,string[]> whose keys
//     compare InvariantCultureIgnoreCase.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// Load reads a test-proxy recording file. See Parse.
func Load(path string) (*cassette.Cassette, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return Parse(path, data)
}

// Parse decodes a test-proxy recording; name is used in error messages only. Entry i
// becomes the interaction with ID i. Bodies are decoded to the bytes the test-proxy itself would
// serve in playback:
//
//   - null (and a missing body) is no body.
//   - When the entry's Content-Type marks text (one Content-Type value; text/*, *json, *xml,
//     *-urlencoded, application/json*, or "; charset=utf-8", but not a Docker/OCI manifest): a
//     string is the body, an array of strings is joined with nothing in between (the lines keep
//     their line ends), and inline JSON (object, number, true, false) is the JSON text as it
//     stands in the file. Then, for a Content-Type containing "json", a body that parses as JSON
//     is compacted, and a Content-Length header, when there is one, is set to the compacted
//     length, as the proxy does when it loads a recording.
//   - Otherwise a string is base64 (whitespace ignored); an array for a multipart Content-Type is
//     the parts form of newer proxies ("b64:" segments base64, other segments ASCII, nested
//     arrays skipped); any other array is an empty body, as the proxy reads it. An inline JSON
//     object there (older proxies counted Docker manifests as text) is taken as compact JSON
//     text; a number or boolean is an error.
//
// Header values are a string (one value) or an array of strings (several); names keep their
// spelling. Names that differ only in case are one header, as in the proxy: the last value wins
// under the first spelling. Content-Encoding is kept as recorded: the proxy stores bodies
// decompressed, as cassettes do. Variables may hold any JSON scalar; numbers and booleans are kept
// as their JSON text, null as "". The variables are also set on the returned cassette.
//
// Errors are *cassette.Error values naming the file and the line of the offending JSON value.
func Parse(name string, data []byte) (*cassette.Cassette, map[string]string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &cassette.Error{File: name, Msg: `empty file, not a test-proxy recording (want a JSON object with "Entries")`}
	}
	root, ok := fastTree(data)
	if !ok {
		var err *tpSyntaxError
		if root, err = parseTree(data); err != nil {
			return nil, nil, err.at(name, data)
		}
	}
	d := &tpDecoder{name: name, data: data}
	c, vars, derr := d.session(root)
	if derr != nil {
		return nil, nil, derr
	}
	return c, vars, nil
}

// Marshal writes c as a test-proxy recording, in the layout the proxy writes (two-space
// indentation, entries in order, then Variables sorted ignoring case, a final newline). vars are
// the variables to write; when nil, c.Variables are written. For each body:
//
//   - An empty body is null (the proxy stores an empty response body as null).
//   - A body whose single Content-Type marks text (see Parse) must be UTF-8; it is written
//     as inline JSON when the Content-Type contains "json" and the body is a JSON object, number
//     or boolean (the proxy compacts such bodies when it loads them anyway); otherwise as a string,
//     or as an array of lines when it contains line breaks (each line keeps its "\r", "\n", "\r\n",
//     "\n\n"... ending, split where the proxy splits).
//   - Any other body (binary, no Content-Type, several Content-Type values, multipart) is base64.
//
// Header values with one value are strings, others arrays of strings; headers are sorted ignoring
// case. A text-typed body that is not UTF-8 cannot be represented (the proxy itself would store it
// with U+FFFD replacements): that is an *InteractionError.
func Marshal(c *cassette.Cassette, vars map[string]string) ([]byte, error) {
	if vars == nil {
		vars = c.Variables
	}
	for k, v := range vars {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("variable %q is not UTF-8", k)
		}
	}
	w := &tpWriter{}
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
	w.end(vars)
	return w.b, nil
}

// end closes the entries and writes the variables (sorted ignoring case) and the end of the
// recording.
func (w *tpWriter) end(vars map[string]string) {
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
	w.b = append(w.b, '\n')
}

// Save writes c as a test-proxy recording to path, atomically.
func Save(path string, c *cassette.Cassette, vars map[string]string) error {
	data, err := Marshal(c, vars)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return cassette.WriteAtomic(path, data)
}

// InteractionError is an interaction Marshal cannot write. Index is its position in the
// cassette.
type InteractionError struct {
	Index int
	ID    int
	Msg   string
}

func (e *InteractionError) Error() string {
	return fmt.Sprintf("interaction %d (id %d): %s", e.Index, e.ID, e.Msg)
}

// ---- content types ([Common/ContentTypeUtilities.cs], [Common/RecordEntry.cs]) ----

// tpContentType returns the Content-Type when the headers hold exactly one value for it, names
// compared ignoring case (TryGetContentType).
func tpContentType(h http.Header) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, "Content-Type") {
			if len(v) == 1 {
				return v[0], true
			}
			return "", false
		}
	}
	return "", false
}

// tpIsManifest: Docker and OCI manifests are never text (IsManifestContentType).
func tpIsManifest(ct string) bool {
	return strings.Contains(ct, "application/vnd.docker.distribution.manifest.v") ||
		strings.Contains(ct, "application/vnd.oci.image.index.v")
}

// tpIsText is TryGetTextEncoding: every text encoding it finds is UTF-8.
func tpIsText(ct string) bool {
	const marker = "; charset="
	if i := indexFold(ct, marker); i >= 0 && hasPrefixFold(ct[i+len(marker):], "utf-8") {
		return true
	}
	return (hasPrefixFold(ct, "text/") || hasSuffixFold(ct, "json") || hasSuffixFold(ct, "xml") ||
		hasSuffixFold(ct, "-urlencoded") || hasPrefixFold(ct, "application/json") ||
		hasPrefixFold(ct, "application/x-www-form-urlencoded")) && !tpIsManifest(ct)
}

// tpIsJSON is NormalizeJsonBody's test: an ordinal, case-sensitive "json" in the Content-Type.
func tpIsJSON(ct string) bool { return strings.Contains(ct, "json") && !tpIsManifest(ct) }

// tpIsMultipart: a multipart Content-Type with a boundary parameter.
func tpIsMultipart(ct string) bool {
	return hasPrefixFold(ct, "multipart/") && indexFold(ct, "boundary=") >= 0
}

// indexFold is IndexOf with OrdinalIgnoreCase for an ASCII sub.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}
func hasSuffixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[len(s)-len(p):], p)
}

// jsonDepthLimit is System.Text.Json's default maximum depth: JsonDocument.Parse fails beyond it.
const jsonDepthLimit = 64

// tpCompactJSON returns body compacted when it is a JSON document JsonDocument.Parse accepts.
// String escapes are kept as they are; the proxy re-escapes with its relaxed encoder, which
// changes no decoded value.
func tpCompactJSON(body string) (string, bool) {
	if !utf8.ValidString(body) || jsonDepth(body) > jsonDepthLimit {
		return body, false
	}
	b := bytes.NewBuffer(make([]byte, 0, len(body)))
	if err := json.Compact(b, []byte(body)); err != nil { // Compact checks the syntax as it goes
		return body, false
	}
	if b.Len() == len(body) {
		return body, true // already compact: Compact only drops whitespace
	}
	return b.String(), true
}

// compactInline is tpCompactJSON of a JSON value inline in a recording: the file was read as
// JSON, in UTF-8, so only the whitespace between tokens is dropped, and the depth checked, in one
// pass. Too deep, it is the text as it stands, and false.
func compactInline(text []byte) (string, bool) {
	out, depth := walkJSON(text, true)
	if depth > jsonDepthLimit {
		return string(text), false
	}
	return string(out), true
}

// jsonDepth is the nesting depth of valid JSON text.
func jsonDepth(s string) int {
	_, depth := walkJSON(s, false)
	return depth
}

// walkJSON reads valid JSON text for its nesting depth and, with compact, the text without the
// whitespace between its tokens.
func walkJSON[T string | []byte](text T, compact bool) (out []byte, most int) {
	if compact {
		out = make([]byte, 0, len(text))
	}
	depth, inString, escaped := 0, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
		if compact {
			out = append(out, c)
		}
	}
	return out, most
}

// IsText says whether a body with these headers is text to test-proxy: its sanitizers edit only
// text bodies (RecordEntry.TryGetBodyAsText).
func IsText(h http.Header) bool {
	ct, ok := tpContentType(h)
	return ok && tpIsText(ct)
}
