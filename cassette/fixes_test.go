package cassette_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	govcr4 "gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/azvcr/azvcr/cassette"
)

// Bodies the YAML library would write as literal blocks it cannot read back, and durations
// go-vcr cannot parse, are written in forms that load everywhere.
func TestAwkwardValuesReadBackEverywhere(t *testing.T) {
	bodies := []string{"\tx\ny", "\t\n", "\t{\n", "\ta>\n", "a\n\tb", "line\n\t\tindented\n", " lead\n\tmix"}
	for _, body := range bodies {
		for _, dur := range []string{"", "1500000", "2ms"} {
			path := filepath.Join(t.TempDir(), "c.yaml")
			c := &cassette.Cassette{Interactions: []*cassette.Interaction{{
				Request:  cassette.Request{Method: "POST", URL: "https://h/", Body: body},
				Response: cassette.Response{Code: 200, Body: body, Duration: dur},
			}}}
			if err := cassette.Save(path, c); err != nil {
				t.Fatal(err)
			}
			got, err := cassette.Load(path)
			if err != nil {
				t.Fatalf("body %q duration %q: %v", body, dur, err)
			}
			if b := got.Interactions[0].Response.Body; b != body {
				t.Errorf("body %q read back as %q", body, b)
			}
			if _, err := govcr4.Load(strings.TrimSuffix(path, ".yaml")); err != nil {
				t.Errorf("go-vcr v4 cannot load body %q duration %q: %v", body, dur, err)
			}
		}
	}
}

func TestSyntaxErrorsNameTheirLine(t *testing.T) {
	tests := []struct {
		data string
		line int
	}{
		{"version: 2 x: y\n", 1},
		{"version: 2\ninteractions:\n- id: 0\n  request:\n    method: GET\n   url: x\n", 6},
		{"version: 2\ninteractions:\n- id: 0\n  request:\n    method: GET\n    url: https://h/\n  response:\n    code: 200\n- id: 1\n  request:\n    method: GET\n    url: https://h/\n   bad: indent\n", 13},
		{"version: 2\ninteractions:\n- id: 0\n  request: {method: GET, url: 'https://h/\n", 4},
	}
	for _, tt := range tests {
		_, err := cassette.Parse("f.yaml", []byte(tt.data))
		var ce *cassette.Error
		if !errors.As(err, &ce) || ce.Line != tt.line {
			t.Errorf("%q: error %v, want line %d", tt.data, err, tt.line)
		}
	}
}

// FuzzBodyRoundTrip: any body, text or binary, saves and loads byte for byte.
func FuzzBodyRoundTrip(f *testing.F) {
	for _, s := range []string{"", "{}", "\tx\ny", "a\n\tb", "\xff\x00", "  lead\ntrail  ", "---\n...", "é\r\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		path := filepath.Join(dir, "f.yaml")
		c := &cassette.Cassette{Interactions: []*cassette.Interaction{{
			Request:  cassette.Request{Method: "GET", URL: "https://h/"},
			Response: cassette.Response{Code: 200, Body: body},
		}}}
		if err := cassette.Save(path, c); err != nil {
			t.Fatal(err)
		}
		got, err := cassette.Load(path)
		if err != nil {
			data, _ := os.ReadFile(path)
			t.Fatalf("valid UTF-8 %v body %q: %v\n%s", utf8.ValidString(body), body, err, data)
		}
		if got.Interactions[0].Response.Body != body {
			t.Fatalf("body %q read back as %q", body, got.Interactions[0].Response.Body)
		}
	})
}
