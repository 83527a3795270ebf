package cassette_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// aliasBomb is a small file whose aliases expand to count copies of an interaction with a
// body of size bytes: 20,000 aliases of 1 MiB made replay and convert run out of memory.
func aliasBomb(count, size int) string {
	var b strings.Builder
	b.WriteString(head + "- &it\n  request:\n    url: https://a.documents.azure.com/dbs\n    method: POST\n    body: " +
		strings.Repeat("x", size) + "\n  response:\n    code: 200\n")
	for range count {
		b.WriteString("- *it\n")
	}
	return b.String()
}

// YAML aliases are refused where they appear, before anything is expanded: a cassette spells
// every value out, and an alias can turn a small file into gigabytes.
func TestParseRefusesAliases(t *testing.T) {
	cases := []struct {
		name, data string
		line       int
		alias      string
	}{
		{"20,000 aliases of a 1 MiB body", aliasBomb(20_000, 1<<20), 10, "*it"},
		{"aliases of aliases", "version: 2\na: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\ninteractions: []\n", 3, "*a"},
		{"a merge key", head + "- &base\n  request: {url: 'https://h/', method: GET}\n  response: {code: 200}\n- <<: *base\n  id: 1\n", 6, "*base"},
		{"a header alias", head + good[:len(good)-1] + "\n    headers:\n      A: &v [x]\n      B: *v\n", 11, "*v"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cassette.Parse("bomb.yaml", []byte(tc.data))
			if err == nil {
				t.Fatalf("parsed %d interactions; want the alias refused", len(c.Interactions))
			}
			var ce *cassette.Error
			if !errors.As(err, &ce) || ce.Line != tc.line || !strings.Contains(ce.Msg, "YAML alias "+tc.alias) {
				t.Errorf("error %v, want bomb.yaml:%d naming alias %s", err, tc.line, tc.alias)
			}
		})
	}
	// An anchor nobody refers to expands nothing and is read.
	if c, err := cassette.Parse("anchor.yaml", []byte(head+strings.Replace(good, "- id: 0", "- &only\n  id: 0", 1))); err != nil || len(c.Interactions) != 1 {
		t.Errorf("an unused anchor: %v", err)
	}
}

// A syntax error at the end of a large file is found by galloping forward from the line the
// YAML library names, not by bisecting the whole file: the line is still exact.
func TestSyntaxErrorLineInLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString(head)
	for i := range 5000 {
		fmt.Fprintf(&b, "- id: %d\n  request:\n    url: https://h/%d\n    method: GET\n  response:\n    code: 200\n", i, i)
	}
	lines := strings.Count(b.String(), "\n")
	for _, tail := range []struct {
		text string
		at   int // line of the error, counted from the first tail line
		msg  string
	}{
		{"- id: [\n", 1, "did not find expected node content"},
		{"- id: 1\n  request:\n    url: \"https://h\n", 3, "unexpected end of stream"},
		{"- id: 1\n  request:\n    url: https://h/\n   method: GET\n", 4, ""},
	} {
		_, err := cassette.Parse("big.yaml", []byte(b.String()+tail.text))
		var ce *cassette.Error
		if !errors.As(err, &ce) || ce.Line != lines+tail.at || !strings.Contains(ce.Msg, tail.msg) {
			t.Errorf("%q: error %v, want big.yaml:%d", tail.text, err, lines+tail.at)
		}
	}
}

// BenchmarkParseMalformed parses a 1 MB cassette, and the same with a syntax error on its last
// line; make bench checks that finding the error's line costs a few parses, not one per halving
// of the file (it was about eighteen). Errors are always the YAML library's, so "valid-library"
// is the parse they are held to; "valid" is the fast reader's.
func BenchmarkParseMalformed(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(head)
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "- id: %d\n  request:\n    url: https://h/%d\n    method: GET\n    body: '{\"id\":\"doc%d\"}'\n  response:\n    code: 200\n", i, i, i)
	}
	valid := sb.String()
	for _, c := range []struct {
		name, data string
		parse      func(string, []byte) (*cassette.Cassette, error)
	}{
		{"valid", valid, cassette.Parse},
		{"valid-library", valid, cassette.ParseWithLibrary},
		{"error-at-end", valid + "- id: [\n", cassette.Parse},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.parse("b.yaml", []byte(c.data))
			}
		})
	}
}
