package testproxyjson_test

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/testproxyjson"
)

// chunky is a writer that records how the encoder cut its output.
type chunky struct {
	bytes.Buffer
	writes int
}

func (c *chunky) Write(p []byte) (int, error) { c.writes++; return c.Buffer.Write(p) }

// encode writes c's interactions through an Encoder.
func encode(c *cassette.Cassette, vars map[string]string) ([]byte, int, error) {
	var out chunky
	e := testproxyjson.NewEncoder(&out, vars)
	for _, it := range c.Interactions {
		if err := e.Entry(it); err != nil {
			return nil, 0, err
		}
	}
	if err := e.Close(); err != nil {
		return nil, 0, err
	}
	return out.Bytes(), out.writes, nil
}

// TestEncoderMatchesMarshal: an Encoder writes a recording byte for byte as Marshal does, and
// fails where Marshal fails, with the same error.
func TestEncoderMatchesMarshal(t *testing.T) {
	forms, _, err := testproxyjson.Load(filepath.Join("testdata", "forms.json"))
	if err != nil {
		t.Fatal(err)
	}
	big, _, err := testproxyjson.Parse("big.json", bigRecording(3<<20))
	if err != nil {
		t.Fatal(err)
	}
	text := http.Header{"Content-Type": {"text/plain"}}
	bad := &cassette.Cassette{Interactions: []*cassette.Interaction{
		{Request: cassette.Request{Method: "GET", URL: "https://h/", Headers: http.Header{}}, Response: cassette.Response{Code: 200, Headers: http.Header{}}},
		{ID: 7, Request: cassette.Request{Method: "GET", URL: "https://h/", Headers: http.Header{}}, Response: cassette.Response{Code: 200, Headers: text, Body: "\xff"}},
	}}
	withNil := &cassette.Cassette{Interactions: []*cassette.Interaction{nil}}
	cases := []struct {
		name      string
		c         *cassette.Cassette
		vars      map[string]string
		manyWrite bool
	}{
		{"forms", forms, map[string]string{"b": "2", "A": "1"}, false},
		{"empty", &cassette.Cassette{}, nil, false},
		{"big, written in pieces", big, map[string]string{"seed": "x"}, true},
		{"bad body", bad, nil, false},
		{"nil entry", withNil, nil, false},
		{"bad variable", forms, map[string]string{"k": "\xff"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, werr := testproxyjson.Marshal(tc.c, tc.vars)
			got, writes, gerr := encode(tc.c, tc.vars)
			if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Fatalf("error %v, Marshal's %v", gerr, werr)
			}
			if werr != nil {
				var ie *testproxyjson.InteractionError
				if errors.As(werr, &ie) != errors.As(gerr, &ie) {
					t.Errorf("error types differ: %T and %T", gerr, werr)
				}
				return
			}
			if !bytes.Equal(got, want) {
				os.WriteFile(filepath.Join(t.TempDir(), "got.json"), got, 0o644)
				t.Fatalf("Encoder wrote %d bytes, Marshal %d; they differ", len(got), len(want))
			}
			if tc.manyWrite && writes < 10 {
				t.Errorf("%d bytes came in %d writes: the encoder should stream", len(got), writes)
			}
		})
	}
}
