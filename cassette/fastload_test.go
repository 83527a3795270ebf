package cassette

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The fast reader is held to the YAML library: whatever file it reads, the library reads the
// same (every field, nil and empty alike); whatever it does not, the library is left to read.

// sameAsLibraryRead fails when the fast reader reads data differently from the library; it
// reports whether the fast reader took the file.
func sameAsLibraryRead(t *testing.T, data []byte) bool {
	t.Helper()
	fast, err := fastRead(memSource(data))
	if errors.Is(err, errSlowPath) {
		return false
	}
	if err != nil {
		t.Fatalf("fast reader: %v", err)
	}
	slow, err := parseWithLibrary("f.yaml", data)
	if err != nil {
		t.Fatalf("the fast reader took a file the library refuses (%v):\n%s", err, clip(data))
	}
	if !reflect.DeepEqual(fast, slow) {
		for i := range min(len(fast.Interactions), len(slow.Interactions)) {
			if !reflect.DeepEqual(fast.Interactions[i], slow.Interactions[i]) {
				t.Fatalf("interaction %d differs:\nfast    %#v\nlibrary %#v\nfile:\n%s", i, fast.Interactions[i], slow.Interactions[i], clip(data))
			}
		}
		t.Fatalf("cassettes differ:\nfast    %#v\nlibrary %#v\nfile:\n%s", fast, slow, clip(data))
	}
	return true
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "..."
	}
	return string(b)
}

// recordingLike is an interaction of the kind recordings hold.
func recordingLike(r *rand.Rand, i int) *Interaction {
	bodies := []string{"", `{"id":"a","n":1}`, "line one\nline two\n", "  indented\nthen not", "x\n\n", "a 'quoted' \"thing\"",
		"tab\tinside", "\ttab first\nline", "ünïcödé ✓", "trailing space \nline", "#hash\n- dash", "null", "123", "yes"}
	it := &Interaction{ID: i,
		Request: Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, ContentLength: int64(r.IntN(500)), Host: "acct.documents.azure.com",
			Body: bodies[r.IntN(len(bodies))], URL: "https://acct.documents.azure.com/dbs/db/colls/c/docs/" + strings.Repeat("x", r.IntN(5)),
			Method: []string{"GET", "POST", "PUT", "DELETE"}[r.IntN(4)],
			Headers: http.Header{"Authorization": {"type%3Dmaster%26sig%3DREDACTED"}, "X-Ms-Date": {"Sat, 01 Jan 2000 00:00:00 GMT"},
				"X-Ms-Documentdb-Partitionkey": {`["tenant-1"]`}, "X-Ms-Version": {"2020-11-05"}, "Accept": {"application/json", "*/*"}}},
		Response: Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: bodies[r.IntN(len(bodies))], Status: "200 OK", Code: 200,
			Headers: http.Header{"Content-Type": {"application/json"}, "Etag": {`"0000-11"`}, "X-Ms-Request-Charge": {"1"}, "Empty": {}}, Duration: "12.5ms"},
	}
	if r.IntN(3) == 0 {
		it.Request.HeaderNames = []string{"authorization", "x-ms-date", "x-ms-documentdb-partitionkey", "x-ms-version", "accept", "accept"}
	}
	if r.IntN(5) == 0 {
		it.Request.Form = map[string][]string{"a": {"1", "2"}, "b": {}}
	}
	if r.IntN(7) == 0 {
		it.Response.Body = "\xff\xfe binary \x00"
	}
	return it
}

func TestFastReaderReadsWhatAzvcrWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 300} {
		c := &Cassette{Version: Version}
		for i := range n {
			c.Interactions = append(c.Interactions, recordingLike(r, i))
		}
		if n == 7 {
			c.Variables = map[string]string{"k": "v", "empty": "", "num": "12"}
		}
		data, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && !sameAsLibraryRead(t, data) {
			t.Errorf("the fast reader did not take a file of %d interactions azvcr wrote", n)
		}
	}
}

// Random interactions of every kind of string: whatever azvcr writes, read back the same.
func TestFastReaderRandomInteractions(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	took := 0
	for range 3000 {
		c := &Cassette{Version: Version, Interactions: []*Interaction{randomInteraction(r)}}
		c.Interactions[0].Request.URL = "https://h/p"
		c.Interactions[0].Request.Method = "GET"
		c.Interactions[0].Response.Code = 200
		data, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if sameAsLibraryRead(t, data) {
			took++
		}
	}
	t.Logf("the fast reader took %d of 3000", took)
}

// Files in other layouts and from other writers: go-vcr's, and the ones in the repository.
// A mapping of many keys the types do not have is left to the library (the check for repeated
// keys would otherwise grow with the square of their number).
func TestFastReaderManyUnknownKeys(t *testing.T) {
	for _, n := range []int{64, 65} {
		var b strings.Builder
		b.WriteString("version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n")
		for i := range n {
			fmt.Fprintf(&b, "    x%d: 1\n", i)
		}
		b.WriteString("  response:\n    code: 200\n")
		if took := sameAsLibraryRead(t, []byte(b.String())); took != (n == 64) {
			t.Errorf("%d unknown keys: the fast reader took the file: %v", n, took)
		}
	}
}

func TestFastReaderOtherFiles(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("../fixtures/cassettes/*.yaml")
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: fast reader took it: %v", p, sameAsLibraryRead(t, data))
	}
	for _, s := range layoutVariants {
		sameAsLibraryRead(t, []byte(s))
	}
}

// smallBlocks makes the fast reader cut even a small file into parts and blocks, for the test.
func smallBlocks(t testing.TB) {
	saved := [...]int64{headBlock, partBlock, minPart}
	savedParts := maxParts
	headBlock, partBlock, minPart, maxParts = 256, 200, 64, 3
	t.Cleanup(func() {
		headBlock, partBlock, minPart = saved[0], saved[1], saved[2]
		maxParts = savedParts
	})
}

// Files cut into parts and read in blocks smaller than an interaction: read as the library does.
func TestFastReaderSmallBlocks(t *testing.T) {
	smallBlocks(t)
	r := rand.New(rand.NewPCG(11, 12))
	took := 0
	for n := range 40 {
		c := &Cassette{Version: Version}
		for i := range n {
			c.Interactions = append(c.Interactions, recordingLike(r, i))
		}
		if n%3 == 0 {
			c.Variables = map[string]string{"k": "v"}
		}
		data, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if n%5 == 2 { // items indented under their key
			data = regexp.MustCompile(`\n(.)`).ReplaceAll(data, []byte("\n  $1"))
			data = bytes.Replace(data, []byte("\n  interactions:"), []byte("\ninteractions:"), 1)
			data = bytes.Replace(data, []byte("\n  variables:"), []byte("\nvariables:"), 1)
		}
		if n%4 == 1 && c.Variables == nil { // top-level keys after the interactions
			data = append(data, "variables:\n  after: x\nother:\n  a: b\n"...)
		}
		if sameAsLibraryRead(t, data) {
			took++
		}
	}
	if took < 39 { // all but the one with no interactions ("interactions:", a null)
		t.Errorf("the fast reader took %d of 40 files in small blocks", took)
	}
}

var layoutVariants = []string{
	"version: 2\ninteractions: []\n",
	"version: 2\ninteractions:\n",
	"version: 2\n",
	"interactions: []\nversion: 1\n",
	"---\nversion: 1\ninteractions:\n    - request:\n        url: https://h/\n        method: GET\n      response:\n        code: 200\n",
	"version: 2\ninteractions:\n  - id: 3\n    request:\n      url: https://h/\n      method: GET\n      headers:\n        A:\n        - x\n        B: []\n      transfer_encoding:\n      - chunked\n      trailer: {}\n    response:\n      code: 200\n      uncompressed: true\n      body: |-\n        a\n\n        b\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    body: |2-\n        lead\n      x\n  response:\n    code: 200\nvariables:\n  a: b\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n  response:\n    code: 200\n    body: |+\n      keep\n\n\n- id: 1\n  request:\n    url: https://h/\n    method: GET\n  response:\n    code: 007\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    method: PUT\n  response:\n    code: 200\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: 'https://h/''x'\n    method: \"G\\x45T\"\n  response:\n    code: 200\n    status: \"\\u00e9\\U0001F600\\N\\_\\L\\P\\t\\ \"\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    body: !!binary AAEC\n  response:\n    code: 200\n    body: !!binary |\n      AAEC\n      AAEC\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    body: null\n  response:\n    code: 200\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/ # comment\n    method: GET\n  response:\n    code: 200\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    headers:\n      1: [x]\n  response:\n    code: 200\n",
	// A key the types do not have, given twice: the library refuses it in any mapping it decodes.
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    x: 1\n    x: 2\n  response:\n    code: 200\n",
	"version: 2\ninteractions:\n- id: 0\n  x: 1\n  request:\n    url: https://h/\n    method: GET\n  response:\n    code: 200\n  x: 2\n",
	"version: 2\nx: 1\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n  response:\n    code: 200\nx: 2\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    x:\n      a: 1\n      a: 2\n  response:\n    code: 200\n    y: 1\n    z: 1\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    body: \"a\\'b\\/c\"\n  response:\n    code: 200\n",
	"version: 2\ninteractions:\n- id: 0\n  request:\n    url: https://h/\n    method: GET\n    body: 2001-12-14\n    host: 0x1F\n    proto: .inf\n  response:\n    code: 200\n    status: -x\n",
}

func FuzzFastReader(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	c := &Cassette{Version: Version}
	for i := range 3 {
		c.Interactions = append(c.Interactions, recordingLike(r, i))
	}
	data, _ := Marshal(c)
	f.Add(data)
	for _, s := range layoutVariants {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsLibraryRead(t, data)
		smallBlocks(t) // and again cut into parts and blocks
		sameAsLibraryRead(t, data)
	})
}
