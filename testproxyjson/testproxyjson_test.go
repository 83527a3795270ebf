package testproxyjson_test

// Tests of the test-proxy JSON format (testproxy.go).
//
// How bodies are compared. ParseTestProxy compacts JSON bodies (as the proxy does when it loads a
// recording) and keeps their key order and string escapes; MarshalTestProxy re-indents them and
// keeps key order too. So every round trip that starts from a test-proxy file (JSON -> JSON, and
// JSON -> YAML -> JSON) is compared byte for byte, bodies included: no path reorders keys. Only a
// body that starts in a YAML cassette as non-compact JSON under a JSON Content-Type comes back
// compacted (the real proxy would serve it compacted too); those cases compare structurally
// (sameJSON), everything else byte for byte.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	vcr2 "gopkg.in/dnaeon/go-vcr.v2/cassette"
	vcr4 "gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/testproxyjson"
)

func mustParseTP(t *testing.T, name string, data []byte) (*cassette.Cassette, map[string]string) {
	t.Helper()
	c, vars, err := testproxyjson.Parse(name, data)
	if err != nil {
		t.Fatalf("ParseTestProxy(%s): %v", name, err)
	}
	return c, vars
}

func mustMarshalTP(t *testing.T, c *cassette.Cassette, vars map[string]string) []byte {
	t.Helper()
	out, err := testproxyjson.Marshal(c, vars)
	if err != nil {
		t.Fatalf("MarshalTestProxy: %v", err)
	}
	return out
}

// genericEntries decodes a recording with encoding/json, an oracle independent of ParseTestProxy.
func genericEntries(t *testing.T, data []byte) ([]map[string]any, map[string]any) {
	t.Helper()
	var doc struct {
		Entries   []map[string]any
		Variables map[string]any
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Entries, doc.Variables
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// formsWant is what testdata/testproxy/forms.json decodes to, entry by entry.
var formsWant = []struct{ req, resp string }{
	{`{"id":"doc1","pk":"pk1","n":[1,2.50,-3e2]}`, `{"id":"doc1","name":"Zoë 日本語 \u0026 <tag> \u002B 🚀","quote":"say \"hi\"\n","empty":{},"list":[]}`},
	{"", `hello "world" é`},
	{"", "line one\r\nline two\n\n  indented\rlast, no newline"},
	{"\xff\x00\x80a", string(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}())},
	{"", ""},
	{"", "[1,2,3]"},
	{"", ""},
	{`{"query":"SELECT * FROM c WHERE c.n \u003E @n","parameters":[{"name":"@n","value":1}]}`, "42"},
	{"", ""},
	{"", "--batch_1\r\nContent-Type: application/octet-stream\r\n\r\n\xff\x00\x80a\r\n--batch_1\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--batch_1--\r\n"},
	{"", "<?xml version=\"1.0\"?>\n<a></a>"},
	{"", `{"value":[]}`},
}

func TestTestProxyFormsFile(t *testing.T) {
	path := filepath.Join("testdata", "forms.json")
	c, vars, err := testproxyjson.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != len(formsWant) {
		t.Fatalf("%d interactions, want %d", len(c.Interactions), len(formsWant))
	}
	for i, w := range formsWant {
		it := c.Interactions[i]
		if it.Request.Body != w.req {
			t.Errorf("entry %d request body %q, want %q", i, it.Request.Body, w.req)
		}
		if it.Response.Body != w.resp {
			t.Errorf("entry %d response body %q, want %q", i, it.Response.Body, w.resp)
		}
		if it.ID != i || it.Request.ContentLength != int64(len(w.req)) || it.Response.ContentLength != int64(len(w.resp)) {
			t.Errorf("entry %d: id %d, content lengths %d %d", i, it.ID, it.Request.ContentLength, it.Response.ContentLength)
		}
	}
	wantVars := map[string]string{"count": "5", "flag": "true", "none": "", "randSeed": "1682565193"}
	if !reflect.DeepEqual(vars, wantVars) {
		t.Errorf("variables %v, want %v", vars, wantVars)
	}
	first := c.Interactions[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"normalised request body updates Content-Length", first.Request.Headers["Content-Length"], []string{strconv.Itoa(len(formsWant[0].req))}},
		{"normalised response body updates Content-Length", first.Response.Headers["Content-Length"], []string{strconv.Itoa(len(formsWant[0].resp))}},
		{"array header keeps every value", first.Response.Headers["X-Ms-Original-Request-Ids"], []string{"a", "b"}},
		{"header keys are canonical", first.Response.Headers["Etag"], []string{`"0000-1"`}},
		{"header names keep their spelling and order, one per value", first.Response.HeaderNames, []string{"Content-Length", "Content-Type", "etag", "x-ms-original-request-ids", "x-ms-original-request-ids"}},
		{"JSON string body Content-Length", c.Interactions[5].Response.Headers["Content-Length"], []string{"7"}},
		{"HEAD keeps its Content-Length", c.Interactions[6].Response.Headers["Content-Length"], []string{"148"}},
		{"Content-Encoding kept as recorded", c.Interactions[11].Response.Headers["Content-Encoding"], []string{"gzip"}},
		{"status text", c.Interactions[0].Response.Status, "201 Created"},
		{"host", c.Interactions[0].Request.Host, "acct.documents.azure.com"},
		{"empty header object", c.Interactions[4].Response.Headers, http.Header{}},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s: got %#v, want %#v", ck.what, ck.got, ck.want)
		}
	}

	// Stable through MarshalTestProxy and through a YAML cassette.
	out := mustMarshalTP(t, c, vars)
	c2, vars2 := mustParseTP(t, "out.json", out)
	cassettetest.SameInteractions(t, c2.Interactions, c.Interactions)
	if !reflect.DeepEqual(vars2, vars) {
		t.Errorf("variables after round trip %v", vars2)
	}
	yamlPath := cassettetest.TempPath(t, "forms.yaml")
	if err := cassette.Save(yamlPath, c); err != nil {
		t.Fatal(err)
	}
	c3 := cassettetest.MustLoad(t, yamlPath)
	cassettetest.SameInteractions(t, c3.Interactions, c.Interactions)
	c4, vars4 := mustParseTP(t, "out2.json", mustMarshalTP(t, c3, nil))
	cassettetest.SameInteractions(t, c4.Interactions, c.Interactions)
	if !reflect.DeepEqual(vars4, vars) {
		t.Errorf("variables after YAML round trip %v", vars4)
	}
}

// entryJSON is a one-entry recording whose response has the given headers and body (JSON text),
// laid out over several lines.
func entryJSON(headers, body string) string {
	return "{\n  \"Entries\": [\n    {\n" +
		"      \"RequestUri\": \"https://h.example/x\",\n" +
		"      \"RequestMethod\": \"GET\",\n" +
		"      \"RequestHeaders\": {},\n" +
		"      \"RequestBody\": null,\n" +
		"      \"StatusCode\": 200,\n" +
		"      \"ResponseHeaders\": " + headers + ",\n" +
		"      \"ResponseBody\": " + body + "\n" +
		"    }\n  ],\n  \"Variables\": {}\n}\n"
}

func TestTestProxyBodyForms(t *testing.T) {
	const jsonCT = `{"Content-Type": "application/json"}`
	cases := []struct {
		name    string
		headers string
		body    string // as it stands in the file
		want    string // decoded bytes
	}{
		{"inline object, compacted", jsonCT, "{ \"a\" : 1,\n \"b\": [ 1, 2.0 ], \"c\": {\"d\": \"\\u00e9\"} }", `{"a":1,"b":[1,2.0],"c":{"d":"\u00e9"}}`},
		{"inline object, duplicate keys kept", jsonCT, `{"a": 1, "a": 2}`, `{"a":1,"a":2}`},
		{"inline number", jsonCT, `-1.5e3`, `-1.5e3`},
		{"inline true", jsonCT, `true`, `true`},
		{"inline object under charset json", `{"Content-Type": "application/json; charset=utf-8"}`, `{"v": []}`, `{"v":[]}`},
		{"inline object, Content-Type name in lower case", `{"content-type": "application/json"}`, `{"a": 1}`, `{"a":1}`},
		{"JSON array root as a string", jsonCT, `"[1, 2]"`, `[1,2]`},
		{"JSON array root as lines", jsonCT, `["[\n", "  1,\n", "  2\n", "]"]`, `[1,2]`},
		{"JSON string root as a string", jsonCT, `"\"x\""`, `"x"`},
		{"JSON null root as a string", jsonCT, `"null"`, `null`},
		{"JSON type, text that is not JSON", jsonCT, `"not json"`, `not json`},
		{"JSON type, empty array", jsonCT, `[]`, ``},
		{"string", `{"Content-Type": "text/plain"}`, `"hello \"world\" \u00e9 \ud83d\ude80"`, "hello \"world\" é 🚀"},
		{"string that looks like JSON stays as is under text/plain", `{"Content-Type": "text/plain"}`, `"{\"a\": 1}"`, `{"a": 1}`},
		{"empty string", `{"Content-Type": "text/plain"}`, `""`, ``},
		{"empty string under a binary type", `{"Content-Type": "application/octet-stream"}`, `""`, ``},
		{"line array joined as is", `{"Content-Type": "text/plain"}`, `["a\r\n", "b\n\n", "c\r", "\r\n", "d"]`, "a\r\nb\n\nc\r\r\nd"},
		{"line array, null lines add nothing", `{"Content-Type": "text/plain"}`, `["a\n", null, "b"]`, "a\nb"},
		{"empty line array", `{"Content-Type": "text/plain"}`, `[]`, ``},
		{"inline object under text/plain: its text as in the file", `{"Content-Type": "text/plain"}`, "{\"a\":  1}", "{\"a\":  1}"},
		{"inline object under application/JSON: text kept (json is matched case-sensitively)", `{"Content-Type": "application/JSON"}`, "{\"a\":  1}", "{\"a\":  1}"},
		{"xml lines", `{"Content-Type": "application/xml"}`, `["<a>\n", "</a>"]`, "<a>\n</a>"},
		{"form-urlencoded string", `{"Content-Type": "application/x-www-form-urlencoded"}`, `"a=1&b=2"`, "a=1&b=2"},
		{"charset=utf-8 makes any type text", `{"Content-Type": "application/octet-stream; charset=utf-8"}`, `"plain"`, "plain"},
		{"base64", `{"Content-Type": "application/octet-stream"}`, `"/wCAYQ=="`, "\xff\x00\x80a"},
		{"base64 with whitespace", `{"Content-Type": "image/png"}`, "\"/wCA\\r\\n YQ==\\t\"", "\xff\x00\x80a"},
		{"base64 without Content-Type", `{}`, `"aGVsbG8="`, "hello"},
		{"base64 under two Content-Type values", `{"Content-Type": ["text/plain", "text/html"]}`, `"aGVsbG8="`, "hello"},
		{"Docker manifests are binary", `{"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}`, `"e30="`, "{}"},
		{"null", jsonCT, `null`, ``},
		{"null without Content-Type", `{}`, `null`, ``},
		{"empty array under a binary type", `{"Content-Type": "application/octet-stream"}`, `[]`, ``},
		{"non-empty array under a binary type reads as empty, as in the proxy", `{"Content-Type": "application/octet-stream"}`, `["x"]`, ``},
		{"inline object under a binary type (older proxies)", `{"Content-Type": "application/octet-stream"}`, `{"a": 1}`, `{"a":1}`},
		{"multipart parts", `{"Content-Type": "multipart/mixed; boundary=b1"}`,
			`["--b1\r\n", "Content-Type: text/plain\r\n", "\r\n", "h\u00e9\r\n", "--b1\r\n", "\r\n", "b64:/wCAYQ==\r\n", [], "--b1--\r\n"]`,
			"--b1\r\nContent-Type: text/plain\r\n\r\nh?\r\n--b1\r\n\r\n\xff\x00\x80a--b1--\r\n"},
		{"multipart as base64 (older proxies)", `{"Content-Type": "multipart/mixed; boundary=b1"}`, `"LS1iMS0tDQo="`, "--b1--\r\n"},
		{"gzip body stored decoded", `{"Content-Encoding": "gzip", "Content-Type": "application/json"}`, `{"value": []}`, `{"value":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, vars := mustParseTP(t, "forms.json", []byte(entryJSON(tc.headers, tc.body)))
			resp := c.Interactions[0].Response
			if resp.Body != tc.want {
				t.Fatalf("body %q, want %q", resp.Body, tc.want)
			}
			// Written back and read again, the body and headers are unchanged.
			out := mustMarshalTP(t, c, vars)
			c2, _ := mustParseTP(t, "again.json", out)
			cassettetest.SameInteractions(t, c2.Interactions, c.Interactions)
			// And through a YAML cassette.
			path := cassettetest.TempPath(t, "c.yaml")
			if err := cassette.Save(path, c); err != nil {
				t.Fatal(err)
			}
			c3, _ := mustParseTP(t, "via-yaml.json", mustMarshalTP(t, cassettetest.MustLoad(t, path), nil))
			cassettetest.SameInteractions(t, c3.Interactions, c.Interactions)
		})
	}
}

// writtenBody returns the ResponseBody of the one entry MarshalTestProxy writes for body.
func writtenBody(t *testing.T, contentType []string, body string) (any, string) {
	t.Helper()
	h := http.Header{}
	if contentType != nil {
		h["Content-Type"] = contentType
	}
	c := &cassette.Cassette{Interactions: cassettetest.WithIDs([]*cassette.Interaction{{
		Request:  cassette.Request{Method: "POST", URL: "https://h.example/x", Headers: http.Header{}},
		Response: cassette.Response{Code: 200, Status: "200 OK", Headers: h, Body: body},
	}})}
	out := mustMarshalTP(t, c, nil)
	entries, _ := genericEntries(t, out)
	return entries[0]["ResponseBody"], string(out)
}

func TestTestProxyWriterForms(t *testing.T) {
	deep := strings.Repeat("{\"a\":", 62) + "1" + strings.Repeat("}", 62)
	shallow := strings.Repeat("{\"a\":", 61) + "1" + strings.Repeat("}", 61)
	json1 := []string{"application/json"}
	cases := []struct {
		name string
		ct   []string
		body string
		want any // nil: null; map: inline object; json.Number; string; []any of strings
	}{
		{"empty is null", json1, "", nil},
		{"JSON object inline", json1, `{"a": [1, 2], "b": {}}`, map[string]any{"a": []any{json.Number("1"), json.Number("2")}, "b": map[string]any{}}},
		{"JSON object with surrounding space inline", []string{"application/json; charset=utf-8"}, " {\"a\":1}\n", map[string]any{"a": json.Number("1")}},
		{"query+json inline", []string{"application/query+json"}, `{"query":"SELECT 1"}`, map[string]any{"query": "SELECT 1"}},
		{"JSON number inline", json1, `42`, json.Number("42")},
		{"JSON array root is a string", json1, `[1, 2]`, "[1, 2]"},
		{"pretty JSON array root is lines", json1, "[\n  1\n]", []any{"[\n", "  1\n", "]"}},
		{"JSON string root is a string", json1, `"x"`, `"x"`},
		{"JSON null root is a string", json1, `null`, `null`},
		{"not JSON under a JSON type is a string", json1, `{oops`, `{oops`},
		{"JSON 61 levels deep inline", json1, shallow, "inline"},
		{"JSON 62 levels deep is a string (the proxy reads files up to depth 64)", json1, deep, deep},
		{"JSON-looking text under text/plain stays a string", []string{"text/plain"}, `{"a": 1}`, `{"a": 1}`},
		{"text without line breaks", []string{"text/plain"}, "one line", "one line"},
		{"text lines split as the proxy splits", []string{"text/plain"}, "a\r\nb\n\nc\rd\n\r\ne", []any{"a\r\n", "b\n\n", "c\r", "d\n\r", "\n", "e"}},
		{"text ending in a line break", []string{"text/plain"}, "a\nb\n", []any{"a\n", "b\n"}},
		{"a lone line break", []string{"text/plain"}, "\n", []any{"\n"}},
		{"binary is base64", []string{"application/octet-stream"}, "\xff\x00\x80a", "/wCAYQ=="},
		{"UTF-8 text without Content-Type is base64", nil, "hello", "aGVsbG8="},
		{"two Content-Type values: base64", []string{"text/plain", "text/html"}, "hello", "aGVsbG8="},
		{"multipart is base64", []string{"multipart/mixed; boundary=b"}, "--b--\r\n", "LS1iLS0NCg=="},
		{"Docker manifest JSON is base64", []string{"application/vnd.oci.image.index.v1+json"}, "{}", "e30="},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, file := writtenBody(t, tc.ct, tc.body)
			want := tc.want
			if want == "inline" {
				if _, ok := got.(map[string]any); !ok {
					t.Fatalf("body written as %T, want an inline object", got)
				}
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("body written as %#v, want %#v\nfile:\n%s", got, want, file)
			}
		})
	}
}

func TestTestProxyWriterLayout(t *testing.T) {
	c := &cassette.Cassette{Interactions: cassettetest.WithIDs([]*cassette.Interaction{{
		Request: cassette.Request{Method: "PUT", URL: "https://h.example/a?x=1&y=<2>", Body: `{"location":"westus"}`,
			Headers: http.Header{"Content-Type": {"application/json"}, "accept": {"a", "b"}, "X-Empty": {}}},
		Response: cassette.Response{Code: 201, Headers: http.Header{"Content-Type": {"text/plain"}}, Body: "a\nb"},
	}})}
	out := mustMarshalTP(t, c, map[string]string{"b": "2", "A": "1", "c": "x\"y"})
	want := `{
  "Entries": [
    {
      "RequestUri": "https://h.example/a?x=1&y=<2>",
      "RequestMethod": "PUT",
      "RequestHeaders": {
        "accept": [
          "a",
          "b"
        ],
        "Content-Type": "application/json",
        "X-Empty": []
      },
      "RequestBody": {
        "location": "westus"
      },
      "StatusCode": 201,
      "ResponseHeaders": {
        "Content-Type": "text/plain"
      },
      "ResponseBody": [
        "a\n",
        "b"
      ]
    }
  ],
  "Variables": {
    "A": "1",
    "b": "2",
    "c": "x\"y"
  }
}
`
	if string(out) != want {
		t.Errorf("layout:\n%s\nwant:\n%s", out, want)
	}
	empty := mustMarshalTP(t, &cassette.Cassette{}, nil)
	if string(empty) != "{\n  \"Entries\": [],\n  \"Variables\": {}\n}\n" {
		t.Errorf("empty recording:\n%s", empty)
	}
	esc := mustMarshalTP(t, &cassette.Cassette{}, map[string]string{"k": "tab\t nl\n ctl\x01 del\x7f nbsp\u00a0 ls\u2028 é 日 🚀 \\ / < & '"})
	if !bytes.Contains(esc, []byte(`"k": "tab\t nl\n ctl\u0001 del\u007F nbsp\u00A0 ls\u2028 é 日 \uD83D\uDE80 \\ / < & '"`)) {
		t.Errorf("escapes:\n%s", esc)
	}
	if _, vars := mustParseTP(t, "esc.json", esc); vars["k"] != "tab\t nl\n ctl\x01 del\x7f nbsp\u00a0 ls\u2028 é 日 🚀 \\ / < & '" {
		t.Errorf("escaped variable reads back as %q", vars["k"])
	}
}

func TestTestProxyHeaders(t *testing.T) {
	headers := `{
        "Content-Type": "text/plain",
        "x-ms-request-id": "abc",
        "Multi": ["one", "two, three"],
        "Single-In-Array": ["only"],
        "Empty-Array": [],
        "Empty": "",
        "Null": null,
        "Null-In-Array": ["a", null],
        "Dup": "first",
        "dup": "second",
        "Unicode": "café ☕ \"q\" \u0001"
      }`
	c, vars := mustParseTP(t, "h.json", []byte(entryJSON(headers, `"x"`)))
	want := http.Header{
		"Content-Type":    {"text/plain"},
		"X-Ms-Request-Id": {"abc"},
		"Multi":           {"one", "two, three"},
		"Single-In-Array": {"only"},
		"Empty-Array":     {},
		"Empty":           {""},
		"Null":            {""},
		"Null-In-Array":   {"a", ""},
		"Dup":             {"second"},
		"Unicode":         {"café ☕ \"q\" \x01"},
	}
	if got := c.Interactions[0].Response.Headers; !reflect.DeepEqual(got, want) {
		t.Errorf("headers:\n got %#v\nwant %#v", got, want)
	}
	wantNames := []string{"Content-Type", "x-ms-request-id", "Multi", "Multi", "Single-In-Array", "Empty", "Null", "Null-In-Array", "Null-In-Array", "Dup", "Unicode"}
	if got := c.Interactions[0].Response.HeaderNames; !reflect.DeepEqual(got, wantNames) {
		t.Errorf("header names:\n got %q\nwant %q", got, wantNames)
	}
	out := mustMarshalTP(t, c, vars)
	for _, s := range []string{`"Multi": [`, `"Single-In-Array": "only"`, `"Empty-Array": []`, `"x-ms-request-id": "abc"`, `"Dup": "second"`} {
		if !strings.Contains(string(out), s) {
			t.Errorf("written file lacks %s:\n%s", s, out)
		}
	}
	if strings.Contains(string(out), `"dup"`) {
		t.Errorf("names equal ignoring case were written twice:\n%s", out)
	}
	// Sorted ignoring case, as the proxy's dictionary sorts.
	order := []string{`"Content-Type"`, `"Dup"`, `"Empty"`, `"Empty-Array"`, `"Multi"`, `"Null"`, `"Null-In-Array"`, `"Single-In-Array"`, `"Unicode"`, `"x-ms-request-id"`}
	last := -1
	for _, name := range order {
		i := strings.Index(string(out), name+":")
		if i < last {
			t.Errorf("%s out of order in:\n%s", name, out)
		}
		last = i
	}
	// The file is written sorted, as the proxy writes it: names keep their spelling, in that order.
	c2, _ := mustParseTP(t, "h2.json", out)
	c.Interactions[0].Response.HeaderNames = []string{"Content-Type", "Dup", "Empty", "Multi", "Multi", "Null", "Null-In-Array", "Null-In-Array", "Single-In-Array", "Unicode", "x-ms-request-id"}
	cassettetest.SameInteractions(t, c2.Interactions, c.Interactions)
}

func TestTestProxyVariables(t *testing.T) {
	data := `{"Entries": [], "Variables": {"s": "x", "n": 12.50, "neg": -1, "t": true, "f": false, "z": null, "Same": "1", "SAME": "2"}}`
	c, vars := mustParseTP(t, "v.json", []byte(data))
	want := map[string]string{"s": "x", "n": "12.50", "neg": "-1", "t": "true", "f": "false", "z": "", "SAME": "2"}
	if !reflect.DeepEqual(vars, want) || !reflect.DeepEqual(c.Variables, want) {
		t.Errorf("variables %v (cassette %v), want %v", vars, c.Variables, want)
	}
	if len(c.Interactions) != 0 {
		t.Errorf("%d interactions", len(c.Interactions))
	}
	out := mustMarshalTP(t, c, nil)
	if !strings.Contains(string(out), `"n": "12.50",`) || !strings.Contains(string(out), `"t": "true"`) {
		t.Errorf("variables are written as strings:\n%s", out)
	}
	// Explicit vars win over the cassette's.
	out = mustMarshalTP(t, c, map[string]string{"only": "this"})
	if _, v := mustParseTP(t, "v2.json", out); !reflect.DeepEqual(v, map[string]string{"only": "this"}) {
		t.Errorf("explicit variables: %v", v)
	}
	// No Entries, no Variables: an empty recording, as the proxy reads it.
	if c, v := mustParseTP(t, "empty.json", []byte(`{}`)); len(c.Interactions) != 0 || len(v) != 0 {
		t.Errorf("{} read as %d interactions, %v", len(c.Interactions), v)
	}
}

func TestTestProxyNotUTF8(t *testing.T) {
	mk := func(ct string, body string, hdr http.Header) *cassette.Cassette {
		h := http.Header{"Content-Type": {ct}}
		for k, v := range hdr {
			h[k] = v
		}
		return &cassette.Cassette{Interactions: []*cassette.Interaction{
			{ID: 0, Request: cassette.Request{Method: "GET", URL: "https://h.example/"}, Response: cassette.Response{Code: 200}},
			{ID: 7, Request: cassette.Request{Method: "GET", URL: "https://h.example/"}, Response: cassette.Response{Code: 200, Headers: h, Body: body}},
		}}
	}
	for name, c := range map[string]*cassette.Cassette{
		"text body":    mk("text/plain", "caf\xe9", nil),
		"json body":    mk("application/json", "{\"a\":\"\xff\"}", nil),
		"header value": mk("application/octet-stream", "x", http.Header{"X-Bin": {"\xff"}}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := testproxyjson.Marshal(c, nil)
			var ie *testproxyjson.InteractionError
			if !errors.As(err, &ie) || ie.Index != 1 || ie.ID != 7 || !strings.Contains(err.Error(), "not UTF-8") {
				t.Fatalf("err = %v, want an InteractionError for interaction 1 (id 7)", err)
			}
		})
	}
	// The same bytes under a binary type are base64, and come back exactly.
	c := mk("application/octet-stream", "caf\xe9", nil)
	c2, _ := mustParseTP(t, "bin.json", mustMarshalTP(t, c, nil))
	if c2.Interactions[1].Response.Body != "caf\xe9" {
		t.Errorf("binary body read back as %q", c2.Interactions[1].Response.Body)
	}
}

// TestYAMLToTestProxyToYAML starts from YAML cassettes (azvcr's sample interactions): what comes
// back is the same, except JSON bodies under a JSON type, which come back compacted.
func TestYAMLToTestProxyToYAML(t *testing.T) {
	want := cassettetest.WithIDs(cassettetest.SampleInteractions(t))
	want[1].Response.Body = "pretty:\n  {\"a\": 1}\n"
	want[0].Response.Body = "{\n  \"id\": \"doc1\",\n  \"n\": [1, 2]\n}\n"
	src := cassettetest.TempPath(t, "src.yaml")
	if err := cassette.Save(src, &cassette.Cassette{Interactions: want, Variables: map[string]string{"randSeed": "7"}}); err != nil {
		t.Fatal(err)
	}
	loaded := cassettetest.MustLoad(t, src)
	out := cassettetest.TempPath(t, "out.json")
	if err := testproxyjson.Save(out, loaded, nil); err != nil {
		t.Fatal(err)
	}
	got, vars, err := testproxyjson.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(vars, map[string]string{"randSeed": "7"}) {
		t.Errorf("variables %v", vars)
	}
	if len(got.Interactions) != len(want) {
		t.Fatalf("%d interactions, want %d", len(got.Interactions), len(want))
	}
	for i, w := range want {
		g := got.Interactions[i]
		if g.ID != i || g.Request.Method != w.Request.Method || g.Request.URL != w.Request.URL || g.Response.Code != w.Response.Code {
			t.Errorf("interaction %d: %d %s %s %d", i, g.ID, g.Request.Method, g.Request.URL, g.Response.Code)
		}
		for _, pair := range [][3]string{{"request", g.Request.Body, w.Request.Body}, {"response", g.Response.Body, w.Response.Body}} {
			if pair[1] != pair[2] && !sameJSON(pair[1], pair[2]) {
				t.Errorf("interaction %d %s body %q, want %q", i, pair[0], pair[1], pair[2])
			}
		}
		if !reflect.DeepEqual(g.Request.Headers, w.Request.Headers) {
			t.Errorf("interaction %d request headers %v, want %v", i, g.Request.Headers, w.Request.Headers)
		}
		if !reflect.DeepEqual(g.Response.Headers, w.Response.Headers) {
			t.Errorf("interaction %d response headers %v, want %v", i, g.Response.Headers, w.Response.Headers)
		}
	}
	if got.Interactions[0].Response.Body != `{"id":"doc1","n":[1,2]}` {
		t.Errorf("pretty JSON body came back as %q, want it compacted", got.Interactions[0].Response.Body)
	}
	if got.Interactions[1].Response.Body != want[1].Response.Body {
		t.Errorf("text body came back as %q", got.Interactions[1].Response.Body)
	}
}

func TestTestProxyErrorsNameFileAndLine(t *testing.T) {
	entry := func(fields string) string {
		return "{\n  \"Entries\": [\n    {\n" + fields + "\n    }\n  ]\n}\n" // fields start on line 4
	}
	base := "      \"RequestUri\": \"https://h.example/\",\n      \"RequestMethod\": \"GET\",\n      \"StatusCode\": 200"
	cases := []struct {
		name     string
		data     string
		wantLine int
		wantMsg  string
	}{
		{"empty file", "", 0, "empty file"},
		{"whitespace", " \n\t\n", 0, "empty file"},
		{"missing comma", "{\n  \"Entries\": [\n    {\n      \"RequestUri\": \"https://h.example/\"\n      \"RequestMethod\": \"GET\"\n", 5, `unexpected character '"' in an object, want ',' or '}'`},
		{"trailing comma", "{\n  \"Entries\": [],\n}\n", 3, "want a member name in quotes"},
		{"comment", "// recorded\n{}\n", 1, "unexpected character '/'"},
		{"unterminated string", "{\n  \"Entries\": [\n    \"abc\n", 3, "control character"},
		{"truncated", "{\n  \"Entries\": [\n", 3, "unexpected end of file"},
		{"garbage after the document", "{}\n\n{}\n", 3, "after the top-level value"},
		{"bad literal", "{\n  \"Variables\": {\"a\": nul}\n}", 2, "want a value"},
		{"bad number", "{\n  \"Variables\": {\"a\": 01}\n}", 2, "want ',' or '}'"},
		{"bad escape", "{\n  \"Variables\": {\"a\": \"\\x\"}\n}", 2, `invalid escape \x`},
		{"lone surrogate", "{\n\n  \"Variables\": {\"a\": \"\\ud800\"}\n}", 3, "lone surrogate"},
		{"invalid UTF-8", "{\n  \"Variables\": {\"a\": \"\xff\"}\n}", 2, "invalid UTF-8"},
		{"top level array", "\n[]\n", 2, "the top level must be an object"},
		{"Entries not an array", "{\n  \"Entries\": {}\n}", 2, "Entries must be an array, got an object"},
		{"entry not an object", "{\n  \"Entries\": [\n    {},\n    5\n  ]\n}", 3, "entry 0 has no RequestUri"},
		{"second entry a number", "{\n  \"Entries\": [\n    {\n" + base + "\n    },\n    5\n  ]\n}", 8, "entry 1 must be an object, got a number"},
		{"no RequestUri", entry("      \"RequestMethod\": \"GET\",\n      \"StatusCode\": 200"), 3, "entry 0 has no RequestUri"},
		{"RequestUri not a string", entry("      \"RequestUri\": 5,\n      \"RequestMethod\": \"GET\""), 4, "RequestUri must be a string, got a number"},
		{"relative RequestUri", entry("      \"RequestUri\": \"/dbs/db1\",\n      \"RequestMethod\": \"GET\",\n      \"StatusCode\": 200"), 4, `RequestUri "/dbs/db1" is not an absolute URL`},
		{"track 1 recording", entry("      \"RequestUri\": \"/x\",\n      \"EncodedRequestUri\": \"L3g=\""), 3, "track 1 recording"},
		{"no RequestMethod", entry("      \"RequestUri\": \"https://h.example/\",\n      \"StatusCode\": 200"), 3, "entry 0 has no RequestMethod"},
		{"no StatusCode", entry("      \"RequestUri\": \"https://h.example/\",\n      \"RequestMethod\": \"GET\""), 3, "entry 0 has no StatusCode"},
		{"StatusCode a string", entry("      \"RequestUri\": \"https://h.example/\",\n      \"RequestMethod\": \"GET\",\n      \"StatusCode\": \"200\""), 6, `StatusCode must be an integer, got "200"`},
		{"StatusCode fractional", entry(base[:len(base)-3] + "200.5"), 6, "StatusCode must be an integer, got 200.5"},
		{"StatusCode 99", entry(base[:len(base)-3] + "99"), 6, "StatusCode 99 is not an HTTP status"},
		{"headers not an object", entry(base + ",\n      \"ResponseHeaders\": [\"a\"]"), 7, "ResponseHeaders must be an object, got an array"},
		{"header value a number", entry(base + ",\n      \"RequestHeaders\": {\n        \"A\": \"1\",\n        \"B\": 2\n      }"), 9, "RequestHeaders: B must be a string or an array of strings, got a number"},
		{"header array with an object", entry(base + ",\n      \"RequestHeaders\": {\"B\": [\n        {}\n      ]}"), 8, "values must be strings, got an object"},
		{"invalid base64", entry(base + ",\n      \"ResponseHeaders\": {\"Content-Type\": \"image/png\"},\n\n      \"ResponseBody\": \"not base64!\""), 9, "ResponseBody is not valid base64"},
		{"number under a binary type", entry(base + ",\n      \"RequestBody\": 5"), 7, "want base64 in a string"},
		{"line that is not a string", entry(base + ",\n      \"ResponseHeaders\": {\"Content-Type\": \"text/plain\"},\n      \"ResponseBody\": [\n        \"a\\n\",\n        1\n      ]"), 10, "lines of a text body must be strings, got a number"},
		{"bad multipart segment", entry(base + ",\n      \"ResponseHeaders\": {\"Content-Type\": \"multipart/mixed; boundary=b\"},\n      \"ResponseBody\": [\n        \"b64:!!\"\n      ]"), 9, "multipart segment is not valid base64"},
		{"Variables not an object", "{\n  \"Entries\": [],\n  \"Variables\": [\n  ]\n}", 3, "Variables must be an object, got an array"},
		{"variable an object", "{\n  \"Variables\": {\n    \"a\": \"1\",\n    \"b\": {\"c\": 1}\n  }\n}", 4, `variable "b" must be a string (or another JSON scalar), got an object`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := testproxyjson.Parse("rec.json", []byte(tc.data))
			var ce *cassette.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *cassette.Error\ninput:\n%s", err, err, tc.data)
			}
			if ce.File != "rec.json" || ce.Line != tc.wantLine || !strings.Contains(ce.Msg, tc.wantMsg) {
				t.Errorf("got %q (line %d), want line %d and %q\ninput:\n%s", err, ce.Line, tc.wantLine, tc.wantMsg, tc.data)
			}
			prefix := "rec.json: "
			if tc.wantLine > 0 {
				prefix = "rec.json:" + strconv.Itoa(tc.wantLine) + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
		})
	}
}

func TestLoadTestProxyFiles(t *testing.T) {
	for _, tc := range []struct {
		file string
		line int
		msg  string
	}{
		{"bad-syntax.json", 5, "want ',' or '}'"},
		{"bad-statuscode.json", 8, "StatusCode must be an integer"},
	} {
		path := filepath.Join("testdata", tc.file)
		_, _, err := testproxyjson.Load(path)
		var ce *cassette.Error
		if !errors.As(err, &ce) || ce.File != path || ce.Line != tc.line || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("LoadTestProxy(%s) = %v, want %s:%d: ...%s", path, err, path, tc.line, tc.msg)
		}
	}
	if _, _, err := testproxyjson.Load(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSaveTestProxyIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	c, vars, err := testproxyjson.Load(filepath.Join("testdata", "forms.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := testproxyjson.Save(path, c, vars); err != nil {
		t.Fatal(err)
	}
	if _, _, err := testproxyjson.Load(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only r.json", len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	bad := &cassette.Cassette{Interactions: []*cassette.Interaction{{Response: cassette.Response{Headers: http.Header{"Content-Type": {"text/plain"}}, Body: "\xff"}}}}
	if err := testproxyjson.Save(path, bad, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("SaveTestProxy of an unwritable body: %v", err)
	}
	if _, _, err := testproxyjson.Load(path); err != nil {
		t.Errorf("a failed save damaged the file: %v", err)
	}
	if err := testproxyjson.Save(filepath.Join(dir, "no", "such", "r.json"), c, vars); err == nil {
		t.Error("save into a missing directory succeeded")
	}
}

func TestYAMLVariables(t *testing.T) {
	path := cassettetest.TempPath(t, "vars.yaml")
	items := cassettetest.WithIDs(cassettetest.SampleInteractions(t))
	vars := map[string]string{"randSeed": "1682565193", "name": "acct", "empty": ""}
	if err := cassette.Save(path, &cassette.Cassette{Variables: vars, Interactions: items}); err != nil {
		t.Fatal(err)
	}
	text := cassettetest.MustRead(t, path)
	wantHead := "version: 2\nvariables:\n  empty: \"\"\n  name: acct\n  randSeed: \"1682565193\"\ninteractions:\n- id: 0\n"
	if !strings.HasPrefix(text, wantHead) {
		t.Errorf("file starts\n%s\nwant\n%s", text[:min(len(text), 200)], wantHead)
	}
	c := cassettetest.MustLoad(t, path)
	if !reflect.DeepEqual(c.Variables, vars) {
		t.Errorf("variables %v, want %v", c.Variables, vars)
	}
	cassettetest.SameInteractions(t, c.Interactions, cassettetest.WithIDs(cassettetest.SampleInteractions(t)))

	// The journal appends after the variables, and reopening keeps them.
	j, c2, err := cassette.OpenAppend(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c2.Variables, vars) {
		t.Errorf("OpenAppend variables %v", c2.Variables)
	}
	extra := cassettetest.Clone(items[0])
	if err := j.Add(extra); err != nil {
		t.Fatal(err)
	}
	j.Close()
	c3 := cassettetest.MustLoad(t, path)
	if len(c3.Interactions) != len(items)+1 || c3.Interactions[len(items)].ID != len(items) || !reflect.DeepEqual(c3.Variables, vars) {
		t.Errorf("after append: %d interactions, variables %v", len(c3.Interactions), c3.Variables)
	}

	// go-vcr ignores the key.
	name := strings.TrimSuffix(path, ".yaml")
	if v4, err := vcr4.Load(name); err != nil || len(v4.Interactions) != len(items)+1 {
		t.Errorf("go-vcr v4: %v", err)
	}
	if v2, err := vcr2.Load(name); err != nil || len(v2.Interactions) != len(items)+1 {
		t.Errorf("go-vcr v2: %v", err)
	}

	// Without variables the file is as before.
	if err := cassette.Save(path, &cassette.Cassette{Variables: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if got := cassettetest.MustRead(t, path); got != "version: 2\ninteractions:\n" {
		t.Errorf("empty variables written: %q", got)
	}
}

func TestTestProxyBase64IsStandard(t *testing.T) {
	raw := cassettetest.RandomBinary(t, 300, 3)
	got, _ := writtenBody(t, []string{"application/octet-stream"}, raw)
	if got != base64.StdEncoding.EncodeToString([]byte(raw)) {
		t.Errorf("base64 differs from Convert.ToBase64String's (standard, padded)")
	}
}
