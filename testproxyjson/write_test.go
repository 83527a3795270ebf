package testproxyjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/testproxyjson"
)

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
