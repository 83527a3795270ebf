package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/testproxyjson"
)

// formsJSON is a synthetic test-proxy recording with every body form (12 entries, 4 variables).
var formsJSON = filepath.Join("..", "..", "testproxyjson", "testdata", "forms.json")

func convert(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"convert"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func sameCassettes(t *testing.T, got, want *cassette.Cassette) {
	t.Helper()
	if len(got.Interactions) != len(want.Interactions) {
		t.Fatalf("%d interactions, want %d", len(got.Interactions), len(want.Interactions))
	}
	for i := range want.Interactions {
		g, w := *got.Interactions[i], *want.Interactions[i]
		if len(g.Request.Form) == 0 && len(w.Request.Form) == 0 {
			g.Request.Form, w.Request.Form = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("interaction %d differs:\n got %#v\nwant %#v", i, g, w)
		}
	}
	if !reflect.DeepEqual(got.Variables, want.Variables) {
		t.Errorf("variables %v, want %v", got.Variables, want.Variables)
	}
}

func TestConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want, _, err := testproxyjson.Load(formsJSON)
	if err != nil {
		t.Fatal(err)
	}
	yamlPath := filepath.Join(dir, "forms.yaml")
	code, stdout, stderr := convert(t, formsJSON, yamlPath)
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if wantMsg := "azvcr convert: converted 12 interactions, 4 variables: " + formsJSON + " -> " + yamlPath + "\n"; stderr != wantMsg {
		t.Errorf("stderr %q, want %q", stderr, wantMsg)
	}
	c, err := cassette.Load(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	sameCassettes(t, c, want)
	if text, _ := os.ReadFile(yamlPath); !strings.HasPrefix(string(text), "version: 2\nvariables:\n") {
		t.Errorf("cassette starts %q", text[:40])
	}

	jsonPath := filepath.Join(dir, "back.json")
	if code, _, stderr := convert(t, yamlPath, jsonPath); code != exitOK || !strings.Contains(stderr, "converted 12 interactions, 4 variables: "+yamlPath+" -> "+jsonPath) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	back, vars, err := testproxyjson.Load(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	sameCassettes(t, back, want)
	if !reflect.DeepEqual(vars, want.Variables) {
		t.Errorf("variables %v", vars)
	}

	// Same format in and out rewrites the file in the canonical layout.
	again := filepath.Join(dir, "again.json")
	if code, _, stderr := convert(t, jsonPath, again); code != exitOK {
		t.Fatalf("json -> json: exit %d, %s", code, stderr)
	}
	a, _ := os.ReadFile(jsonPath)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("json -> json changed the file")
	}
}

func TestConvertFormatsWithoutExtensions(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(formsJSON)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "recording") // JSON, sniffed
	os.WriteFile(in, data, 0o644)
	out := filepath.Join(dir, "cassette.out") // the other format: YAML
	if code, _, stderr := convert(t, in, out); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := cassette.Load(out); err != nil {
		t.Fatalf("OUT is not a YAML cassette: %v", err)
	}
	out2 := filepath.Join(dir, "recording.out") // from YAML (sniffed): JSON
	if code, _, stderr := convert(t, out, out2); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, _, err := testproxyjson.Load(out2); err != nil {
		t.Fatalf("OUT is not a test-proxy recording: %v", err)
	}
}

func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	badJSON := write("bad.json", "{\n  \"Entries\": [\n    {\n      \"RequestUri\": 5\n    }\n  ]\n}\n")
	badSyntax := write("syntax.json", "{\n  \"Entries\": [\n    {,\n")
	badYAML := write("bad.yaml", "version: 2\ninteractions:\n- request:\n    method: GET\n    url: /relative\n  response:\n    code: 200\n")
	notUTF8 := write("latin1.yaml", "version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h.example/\n    method: GET\n  response:\n    code: 200\n- id: 1\n  request:\n    url: https://h.example/\n    method: GET\n  response:\n    code: 200\n    headers:\n      Content-Type: [text/plain]\n    body: !!binary Y2Fm6Q==\n")
	missing := filepath.Join(dir, "missing.json")
	outJSON := filepath.Join(dir, "out.json")
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{"no files", nil, exitUsage, "azvcr convert: want two files, IN and OUT, got 0\nusage: azvcr convert [--overwrite] IN OUT"},
		{"one file", []string{formsJSON}, exitUsage, "got 1"},
		{"three files", []string{formsJSON, "a.yaml", "b.yaml"}, exitUsage, "got 3"},
		{"bad flag", []string{"--variables", formsJSON, "a.yaml"}, exitUsage, "flag provided but not defined: -variables"},
		{"missing input", []string{missing, filepath.Join(dir, "x.yaml")}, exitError, "azvcr convert: open " + missing + ": no such file or directory\n"},
		{"malformed test-proxy JSON", []string{badJSON, filepath.Join(dir, "x.yaml")}, exitError, "azvcr convert: " + badJSON + ":4: entry 0: RequestUri must be a string, got a number\n"},
		{"JSON syntax error", []string{badSyntax, filepath.Join(dir, "x.yaml")}, exitError, "azvcr convert: " + badSyntax + ":3: invalid JSON: "},
		{"malformed cassette", []string{badYAML, outJSON}, exitError, "azvcr convert: " + badYAML + `:3: interaction 0: request url "/relative" is not an absolute URL` + "\n"},
		{"text body that is not UTF-8", []string{notUTF8, outJSON}, exitError, "azvcr convert: " + notUTF8 + ":9: interaction 1 (id 1): response body: is not UTF-8, but Content-Type \"text/plain\" makes the test-proxy store it as text; " + outJSON + " not written\n"},
		{"output directory missing", []string{formsJSON, filepath.Join(dir, "no", "such", "x.yaml")}, exitError, "azvcr convert: open " + filepath.Join(dir, "no", "such")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := convert(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if strings.HasSuffix(tt.wantStderr, "\n") && stderr != tt.wantStderr || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
		})
	}
	if _, err := os.Stat(outJSON); !os.IsNotExist(err) {
		t.Errorf("a failed conversion left %s behind", outJSON)
	}
}

func TestUsageDocumentsConvert(t *testing.T) {
	if !strings.Contains(usage, "azvcr convert     IN OUT") || !strings.Contains(commandHelp["convert"], "--overwrite") {
		t.Error("usage does not list azvcr convert")
	}
}

// A cassette a killed recording left with a half-written last interaction converts without it,
// with a warning that names the file and line.
func TestConvertTornCassette(t *testing.T) {
	dir := t.TempDir()
	yamlPath := filepath.Join(dir, "forms.yaml")
	if code, _, stderr := convert(t, formsJSON, yamlPath); code != exitOK {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	data, err := os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.LastIndex(data, []byte("\n- id: ")) + 1
	line := 1 + bytes.Count(data[:start], []byte("\n"))
	// Pad the first item's body so that the file, cut inside its last item, fills whole pages (a
	// kill stops a write between pages).
	pad := 4096 - (start+10)%4096
	torn := bytes.Replace(data[:start+10:start+10], []byte("\n    proto: "), []byte("\n    proto: "+strings.Repeat("x", pad)), 1)
	tornPath := filepath.Join(dir, "torn.yaml")
	if err := os.WriteFile(tornPath, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(torn)%4096 != 0 {
		t.Fatalf("%d bytes: not whole pages", len(torn))
	}
	out := filepath.Join(dir, "out.json")
	code, _, stderr := convert(t, tornPath, out)
	if code != exitOK {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	if want := fmt.Sprintf("azvcr convert: warning: %s:%d: the last interaction is cut short", tornPath, line); !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not say %q", stderr, want)
	}
	if !strings.Contains(stderr, "converted 11 interactions") {
		t.Errorf("stderr %q: want 11 interactions converted", stderr)
	}
}
