package secrets_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"text/template"

	"github.com/azvcr/azvcr/secrets"
)

// scanPieces writes data to a scanner in pieces of size bytes (all at once for 0).
func scanPieces(s *secrets.Scanner, data []byte, size int) []secrets.Finding {
	if size <= 0 {
		size = len(data) + 1
	}
	for len(data) > 0 {
		n := min(size, len(data))
		s.Write(data[:n])
		data = data[n:]
	}
	return s.Close()
}

// hostileLint are inputs where what Lint reads spans lines, and shapes that once made it panic.
var hostileLint = []string{
	"",
	"\n",
	"body: !!binary \u00a0\n",         // a tag followed by a non-ASCII space only
	"body: !!binary\u00a0\u2003\nx\n", // non-ASCII spaces are not \s: not a tag at all
	"- !!binary \u3000 # c\n",
	"body: !!binary |\n",
	"body: !!binary |\n\n   \n",
	"body: !!binary\n  =\n  ==\n",
	"body: !!binary |\n  !!binary |\n    AAAA\nnext: 1\n",
	"a: !!binary \"\"\nb: !!binary ''\nc: !!binary '\n",
	"-----BEGIN RSA PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\nx\n",
	"headers:\n  X-Api-Key:\n  - \"\"\n  -\n",
}

// TestScannerMatchesLint: a Scanner finds what Lint finds, whatever the pieces it is written in
// and wherever its batches end, in the leaky cassette (secrets in every form, !!binary bodies,
// private keys over several lines, named headers), in many copies of it, and in hostile shapes.
func TestScannerMatchesLint(t *testing.T) {
	s := newLintSecrets()
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "leaky.yaml.tmpl")))
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, s); err != nil {
		t.Fatal(err)
	}
	leaky := buf.String()
	inputs := map[string]string{
		"leaky":        leaky,
		"leaky, crlf":  strings.ReplaceAll(leaky, "\n", "\r\n"),
		"leaky × 40":   strings.Repeat(leaky, 40),
		"no final eol": strings.TrimSuffix(leaky, "\n"),
		"clean":        string(readLintFile(t, filepath.Join("testdata", "clean.yaml"))),
	}
	for i, h := range hostileLint {
		inputs[fmt.Sprintf("hostile %d", i)] = h
	}
	for name, in := range inputs {
		want := secrets.LintWhole("f.yaml", []byte(in))
		if strings.HasPrefix(name, "leaky") && len(want) == 0 {
			t.Fatalf("%s: LintWhole finds nothing", name)
		}
		for _, piece := range []int{0, 1, 7, 4096} {
			for _, batch := range [][2]int{{1 << 20, 8192}, {1, 1}, {100, 3}} {
				got := scanPieces(secrets.NewScannerBatch("f.yaml", batch[0], batch[1]), []byte(in), piece)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s in pieces of %d, batches of %v:\ngot  %v\nwant %v", name, piece, batch, got, want)
				}
			}
		}
	}
}

// TestLintHostileShapes: none of the hostile shapes panics, and the non-ASCII spaces after a
// !!binary tag are no finding.
func TestLintHostileShapes(t *testing.T) {
	for _, in := range hostileLint {
		if fs := secrets.Lint("f.yaml", []byte(in)); len(fs) != 0 {
			t.Errorf("%q: %v", in, fs)
		}
	}
}

// FuzzScanner: a Scanner written in pieces, reading small batches, finds what Lint finds. Inputs
// over 512 bytes are passed over: every run is quick, and so is minimizing a new input (the
// fuzzer stops all work while it minimizes, a time that grows with the square of the length).
func FuzzScanner(f *testing.F) {
	for _, h := range hostileLint {
		f.Add([]byte(h), uint8(3), uint8(2))
	}
	f.Add([]byte("a: !!binary QWNjb3VudEtleT0K\nk: x\n"), uint8(5), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, piece, batch uint8) {
		if len(data) > 512 {
			return
		}
		want := secrets.LintWhole("f", data)
		got := scanPieces(secrets.NewScannerBatch("f", int(batch)*8+1, int(batch%16)+1), data, int(piece))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %v\nwant %v", got, want)
		}
	})
}
