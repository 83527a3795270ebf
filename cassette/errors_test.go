package cassette_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// good is one valid interaction occupying lines 3-8 when it follows the two header lines.
const good = `- id: 0
  request:
    url: https://h.example/
    method: GET
  response:
    code: 200
`

const head = "version: 2\ninteractions:\n"

func TestParseErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name     string
		data     string
		wantLine int    // 0: the message must carry no line
		wantMsg  string // substring of the message
	}{
		{"empty file", "", 0, "empty file"},
		{"whitespace only", "  \n\n\t\n", 0, "empty file"},
		{"unknown version", "version: 7\ninteractions: []\n", 1, "unsupported cassette version 7"},
		{"unknown version after blank lines", "\n# comment\n\nversion: 3\n", 4, "unsupported cassette version 3"},
		{"version 0", "interactions: []\nversion: 0\n", 2, "unsupported cassette version 0"},
		{"non-integer version", "version: two\n", 1, `version must be an integer, got "two"`},
		{"float version", "# c\nversion: 2.0\n", 2, `version must be an integer, got "2.0"`},
		{"sequence version", "version: [2]\n", 1, "version must be an integer"},
		{"quoted version", "version: '2'\n", 1, "cannot unmarshal !!str `2` into int"},
		{"missing version", "interactions: []\n", 1, "no version key"},
		{"missing version after comment", "# recorded\n\ninteractions: []\n", 3, "no version key"},
		{"top level is a list", "- version: 2\n", 1, "not a cassette"},
		{"top level is a scalar", "\nhello\n", 2, "not a cassette"},
		{"a document marker alone", "---", 1, "not a cassette"},
		{"a carriage return ends a line", "\r0", 2, "not a cassette"},
		{"syntax: nested mapping on one line", "version: 2\na: b: c\n", 2, "mapping values are not allowed"},
		{"syntax: tab indentation", head + "\t- id: 0\n", 3, "cannot start any token"},
		{"syntax: over-indented key", "version: 2\n  x: 1\n", 2, "mapping values are not allowed"},
		{"syntax: unterminated quote", head + good + "- id: 1\n  request:\n    url: \"https://h\n", 11, "unexpected end of stream"},
		{"duplicate key", "version: 2\nversion: 2\n", 2, `mapping key "version" already defined at line 1`},
		{"type error: code", head + "- id: 0\n  request:\n    url: https://h/\n    method: GET\n  response:\n    code: abc\n", 8, "cannot unmarshal !!str `abc` into int"},
		{"type error: second interaction id", head + good + "- id: x\n", 9, "cannot unmarshal !!str `x` into int"},
		{"type error: header not a list", head + "- request:\n    headers:\n      Accept: text/plain\n", 5, "into []string"},
		{"type error: interactions not a list", "version: 2\ninteractions: 5\n", 2, "into []*cassette.Interaction"},
		{"no method", head + "- id: 0\n  request:\n    url: https://h/\n  response:\n    code: 200\n", 3, "interaction 0: request has no method"},
		{"no method in third", head + good + good + "- id: 2\n  request: {url: 'https://h/'}\n  response: {code: 200}\n", 15, "interaction 2: request has no method"},
		{"relative url", head + good + "- id: 1\n  request:\n    url: /dbs/db1\n    method: GET\n  response:\n    code: 200\n", 9, `interaction 1: request url "/dbs/db1" is not an absolute URL`},
		{"missing url", head + "- request:\n    method: GET\n  response:\n    code: 200\n", 3, `request url "" is not an absolute URL`},
		{"url without host", head + "- request:\n    method: GET\n    url: 'https:///x'\n  response:\n    code: 200\n", 3, "is not an absolute URL"},
		{"code 0", head + "- id: 0\n  request:\n    url: https://h/\n    method: GET\n  response:\n    code: 0\n", 3, "interaction 0: response code 0 is not an HTTP status"},
		{"code missing", head + good + "\n\n- request:\n    url: https://h/\n    method: GET\n", 11, "response code 0 is not an HTTP status"},
		{"code 1000", head + "- request:\n    url: https://h/\n    method: GET\n  response:\n    code: 1000\n", 3, "response code 1000"},
		{"null entry", head + good + "- ~\n", 9, "interaction 1: empty entry"},
		{"bad binary", head + "- request:\n    method: GET\n    url: https://h/\n  response:\n    code: 200\n    body: !!binary '@@@'\n", 0, "!!binary value contains invalid base64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const name = "dir/bad.yaml"
			c, err := cassette.Parse(name, []byte(tc.data))
			if err == nil {
				t.Fatalf("Parse succeeded with %d interactions; want an error", len(c.Interactions))
			}
			if c != nil {
				t.Errorf("Parse returned a cassette with its error")
			}
			prefix := name + ": "
			if tc.wantLine > 0 {
				prefix = fmt.Sprintf("%s:%d: ", name, tc.wantLine)
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			var ce *cassette.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *cassette.Error", err)
			}
			if ce.File != name || ce.Line != tc.wantLine {
				t.Errorf("Error{File: %q, Line: %d}, want {%q, %d}", ce.File, ce.Line, name, tc.wantLine)
			}
			if !strings.Contains(ce.Msg, tc.wantMsg) || strings.HasPrefix(ce.Msg, name) || strings.HasPrefix(ce.Msg, "yaml:") || strings.HasPrefix(ce.Msg, "line ") {
				t.Errorf("Msg = %q: want the bare message containing %q", ce.Msg, tc.wantMsg)
			}
		})
	}
}

func TestParseMultipleTypeErrorsReported(t *testing.T) {
	data := head + "- id: a\n  request:\n    url: https://h/\n    method: GET\n  response:\n    code: b\n"
	_, err := cassette.Parse("m.yaml", []byte(data))
	var ce *cassette.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *cassette.Error", err)
	}
	if ce.Line != 3 {
		t.Errorf("Line = %d, want 3 (the first error)", ce.Line)
	}
	if !strings.Contains(ce.Msg, "m.yaml:8: cannot unmarshal !!str `b` into int") {
		t.Errorf("Msg %q does not mention the second error at m.yaml:8", ce.Msg)
	}
}

func TestErrorString(t *testing.T) {
	cases := []struct {
		err  cassette.Error
		want string
	}{
		{cassette.Error{File: "a.yaml", Line: 12, Msg: "boom"}, "a.yaml:12: boom"},
		{cassette.Error{File: "a.yaml", Msg: "boom"}, "a.yaml: boom"},
		{cassette.Error{File: "/x/y z.yaml", Line: 1, Msg: "m"}, "/x/y z.yaml:1: m"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := cassette.Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte(head+good+"- id: 1\n  request:\n    url: rel\n    method: GET\n  response:\n    code: 200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := cassette.Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":9: interaction 1: ") {
		t.Errorf("Load error = %v, want it to start with %s:9:", err, path)
	}
}

func TestParseAcceptsValid(t *testing.T) {
	cases := []struct {
		name  string
		data  string
		count int
	}{
		{"no interactions key", "version: 2\n", 0},
		{"null interactions", head, 0},
		{"empty list", "version: 2\ninteractions: []\n", 0},
		{"one", head + good, 1},
		{"unknown fields ignored", head + good + "  extra: {a: 1}\n", 1},
		{"document marker", "---\n" + head + good + good, 2},
		{"code 999", head + "- request: {url: 'http://h:1/', method: X}\n  response: {code: 999}\n", 1},
		{"code 100", head + "- request: {url: 'http://h/', method: X}\n  response: {code: 100}\n", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cassette.Parse("ok.yaml", []byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Interactions) != tc.count || c.Version != 2 {
				t.Errorf("got version %d, %d interactions; want 2, %d", c.Version, len(c.Interactions), tc.count)
			}
		})
	}
}
