package cassette_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// FuzzParse: no file panics the loader; a file that fails names itself and a line in it; a
// file that loads decodes to no more than about its own size (no alias or other expansion) and
// saves to a file that loads to the same interactions.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		head + good,
		head + good + "- id: 1\n  request:\n    url: \"https://h\n",
		aliasBomb(100, 1000),
		"version: 2\na: &a [x, x]\nb: &b [*a, *a]\ninteractions: *b\n",
		head + "- <<: {request: {url: 'https://h/', method: GET}}\n  response: {code: 200}\n",
		"version: 2\ninteractions: " + strings.Repeat("[", 20000) + "\n",
		head + "\t- id: 0\n",
		"version: 2\ninteractions:\n- request: {url: 'https://h/', method: GET, body: !!binary 'AAEC'}\n  response: {code: 200, body: \"\\P\\L\\x41\"}\n",
		"version: 1\ninteractions:\n- request: {url: 'https://h/', method: GET}\n  response: {code: 200, duration: 1500000}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cassette.Parse("f.yaml", data)
		if err != nil {
			var ce *cassette.Error
			if !errors.As(err, &ce) || ce.File != "f.yaml" || ce.Line < 0 || ce.Line > yamlLines(data) {
				t.Fatalf("error %v does not name f.yaml and a line of it", err)
			}
			return
		}
		decoded := 0
		for _, it := range c.Interactions {
			decoded += len(it.Request.Body) + len(it.Response.Body) + len(it.Request.URL) + len(it.Request.Method)
			for _, h := range []map[string][]string{it.Request.Headers, it.Response.Headers} {
				for k, vs := range h {
					decoded += len(k)
					for _, v := range vs {
						decoded += len(v)
					}
				}
			}
		}
		if decoded > 2*len(data)+64 {
			t.Fatalf("a %d-byte file decoded to %d bytes", len(data), decoded)
		}
		saved, err := cassette.Marshal(c)
		if err != nil {
			t.Fatalf("save: %v", err)
		}
		again, err := cassette.Parse("saved.yaml", saved)
		if err != nil {
			t.Fatalf("saved file does not load: %v", err)
		}
		if len(again.Interactions) != len(c.Interactions) {
			t.Fatalf("%d interactions saved, %d loaded", len(c.Interactions), len(again.Interactions))
		}
		for i, it := range c.Interactions {
			if a := again.Interactions[i]; a.Request.Body != it.Request.Body || a.Response.Body != it.Response.Body || a.Request.URL != it.Request.URL {
				t.Fatalf("interaction %d changed in a save and load", i)
			}
		}
	})
}

// yamlLines counts lines as YAML does: \n, \r, \r\n, and the Unicode line breaks NEL, LS and PS.
func yamlLines(data []byte) int {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	n := 1
	for _, r := range s {
		switch r {
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			n++
		}
	}
	return n
}
