package testproxyjson_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/testproxyjson"
)

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
