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
	"net/http"
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
