package cassette_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
)

// writers are the two ways azvcr puts interactions on disk; every round-trip case runs through both.
var writers = []struct {
	name  string
	write func(t *testing.T, path string, items []*cassette.Interaction)
}{
	{"Save", func(t *testing.T, path string, items []*cassette.Interaction) {
		if err := cassette.Save(path, &cassette.Cassette{Version: cassette.Version, Interactions: items}); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}},
	{"Journal", func(t *testing.T, path string, items []*cassette.Interaction) {
		j, err := cassette.Create(path)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		for _, it := range items {
			if err := j.Add(it); err != nil {
				t.Fatalf("Add: %v", err)
			}
		}
		if err := j.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}},
}

func TestRoundTripBodies(t *testing.T) {
	cases := []struct {
		name string
		body string
	}{
		{"json nested unicode", cassettetest.JSONBody},
		{"json with emoji", cassettetest.EmojiJSONBody},
		{"multi-line text", cassettetest.TextBody},
		{"multi-line no trailing newline", "a\nb\nc"},
		{"multi-line many trailing newlines", "a\n\n\n"},
		{"leading spaces on first line", "  indented\nnext"},
		{"trailing spaces", "a  \nb  "},
		{"crlf", "a\r\nb\r\n"},
		{"tab inside", "a\tb\n\tc"},
		{"short binary", cassettetest.ShortBinary},
		{"random binary 256", "@" + cassettetest.RandomBinary(t, 256, 7)},
		{"empty", ""},
		{"single space", " "},
		{"yaml lookalikes", "- item\nkey: value\n# comment\n---\n...\n"},
		{"yaml keywords", "null"},
		{"number lookalike", "0x1F"},
		{"nul byte in utf-8", "a\x00b"},
		{"bom", "\ufeff{}"},
		{"line separators", "a\u2028b\u2029c\u0085d"},
	}
	for _, w := range writers {
		for _, tc := range cases {
			t.Run(w.name+"/"+tc.name, func(t *testing.T) {
				path := cassettetest.TempPath(t, "c.yaml")
				hdr := map[string][]string{"X-Body-Copy": {tc.body}, "Content-Type": {"x/y"}}
				want := cassettetest.WithIDs([]*cassette.Interaction{
					{
						Request:  cassette.Request{Method: "POST", URL: "https://h.example/a", Body: tc.body, Headers: hdr},
						Response: cassette.Response{Code: 200, Status: "200 OK", Body: tc.body, Headers: hdr, Duration: "1ms"},
					},
					{
						Request:  cassette.Request{Method: "GET", URL: "https://h.example/b", Body: tc.body, Headers: hdr},
						Response: cassette.Response{Code: 500, Status: "500 Internal Server Error", Body: tc.body + "x", Headers: hdr, Duration: "2ms"},
					},
				})
				w.write(t, path, want)
				c := cassettetest.MustLoad(t, path)
				if c.Version != cassette.Version {
					t.Errorf("Version = %d, want %d", c.Version, cassette.Version)
				}
				cassettetest.SameInteractions(t, c.Interactions, want)
			})
		}
	}
}

func TestRoundTripSample(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			path := cassettetest.TempPath(t, "sample.yaml")
			want := cassettetest.WithIDs(cassettetest.SampleInteractions(t))
			w.write(t, path, want)
			got := cassettetest.MustLoad(t, path)
			// The expected values are rebuilt, not the ones handed to the writer, so a writer that
			// modified its input could not hide a difference.
			cassettetest.SameInteractions(t, got.Interactions, cassettetest.WithIDs(cassettetest.SampleInteractions(t)))
		})
	}
}

func TestSavedFileText(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			path := cassettetest.TempPath(t, "text.yaml")
			w.write(t, path, cassettetest.WithIDs(cassettetest.SampleInteractions(t)))
			text := cassettetest.MustRead(t, path)
			checks := []struct {
				what string
				ok   bool
			}{
				{"starts with version 2 header", strings.HasPrefix(text, "version: 2\ninteractions:\n")},
				{"JSON body verbatim", strings.Contains(text, cassettetest.JSONBody)},
				{"binary body tagged !!binary", strings.Contains(text, "body: !!binary ")},
				{"short binary base64", strings.Contains(text, "!!binary /wCAYQ==")},
				{"multi-line body as literal block", strings.Contains(text, "body: |")},
				{"multi-line lines readable", strings.Contains(text, "\n      line one\n      line two\n")},
				{"unicode header readable", strings.Contains(text, "café ☕")},
				{"ends with newline", strings.HasSuffix(text, "\n")},
			}
			for _, c := range checks {
				if !c.ok {
					t.Errorf("%s: not so in file:\n%s", c.what, text)
				}
			}
			if n := strings.Count(text, "\n- id: "); n != 4 {
				t.Errorf("file has %d top-level interaction items, want 4", n)
			}
		})
	}
}

func TestSaveEmptyAndReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := cassette.Save(path, &cassette.Cassette{}); err != nil {
		t.Fatal(err)
	}
	if got := cassettetest.MustRead(t, path); got != "version: 2\ninteractions:\n" {
		t.Errorf("empty cassette file = %q", got)
	}
	if c := cassettetest.MustLoad(t, path); len(c.Interactions) != 0 || c.Version != 2 {
		t.Errorf("empty cassette loaded as %+v", c)
	}

	big := cassettetest.WithIDs(cassettetest.SampleInteractions(t))
	if err := cassette.Save(path, &cassette.Cassette{Interactions: big}); err != nil {
		t.Fatal(err)
	}
	small := cassettetest.WithIDs(cassettetest.SampleInteractions(t)[:1])
	if err := cassette.Save(path, &cassette.Cassette{Interactions: small}); err != nil {
		t.Fatal(err)
	}
	cassettetest.SameInteractions(t, cassettetest.MustLoad(t, path).Interactions, cassettetest.WithIDs(cassettetest.SampleInteractions(t)[:1]))

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "c.yaml" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only c.yaml (no temp files left)", names)
	}
}

func TestSaveErrors(t *testing.T) {
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "c.yaml")
	if err := cassette.Save(missingDir, &cassette.Cassette{}); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
	if _, err := cassette.Create(missingDir); err == nil {
		t.Error("Create into a missing directory succeeded")
	}
	if _, err := os.Stat(missingDir); !os.IsNotExist(err) {
		t.Errorf("file appeared: %v", err)
	}
}
