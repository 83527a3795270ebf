package cassette

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// The fast writer is held to the YAML library's bytes: for every interaction it writes, the
// library writes the same; for the rest it must decline. Strings are drawn from the characters
// and shapes that change how the library writes a scalar.

var scalarPieces = []string{
	"", "a", "Z", " ", "  ", "\t", "\n", "\n\n", "\r", "\r\n", "#", " #", ":", ": ", "-", "- ", "?", "? ", "'", "\"",
	"\\", "[", "]", "{", "}", ",", "&", "*", "!", "|", ">", "%", "@", "`", "---", "...", "~", "null", "Null", "true",
	"False", "yes", "No", "on", "OFF", "y", "n", "0", "1", "12", "-3", "+4", "0x1F", "0o17", "0b101", "1_000",
	"1.5", "1e3", ".5", ".inf", "-.Inf", ".nan", "1:20", "190:20:30.15", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
	"<<", "é", "ü", "日本", "\u00a0", "\u0085", "\u2028", "\u2029", "\ufeff", "\ufffe", "\U0001F600", "\x00", "\x07",
	"\x1b", "\x7f", "\u0080", "\ue000", "\ufffd", "{\"a\":1}", "[\"x\"]", "https://h/p?q=1&r=2", "Sat, 01 Jan 2000",
	"type%3Dmaster", "0:-1#100", "W/\"1\"", "a b", "a  b", "a\tb", "x\n\ty",
}

func randomScalar(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(5); n >= 0; n-- {
		b.WriteString(scalarPieces[r.IntN(len(scalarPieces))])
	}
	return b.String()
}

func randomHeader(r *rand.Rand, scalar func() string) http.Header {
	if r.IntN(6) == 0 {
		return nil
	}
	names := []string{"Content-Type", "X-Ms-Version", "Etag", "a", "A", "b-c", "B_c", "x.y", "Content-Md5", "Zz", "zZ", "-x", "X-", "Ab", "aB", "a-b-c"}
	h := http.Header{}
	for n := r.IntN(6); n > 0; n-- {
		k := names[r.IntN(len(names))]
		if r.IntN(8) == 0 {
			k = scalar()
		}
		var vals []string
		for m := r.IntN(3); m > 0; m-- {
			vals = append(vals, scalar())
		}
		h[k] = vals
	}
	return h
}

func randomInteraction(r *rand.Rand) *Interaction {
	s := func() string { return randomScalar(r) }
	it := &Interaction{ID: r.IntN(1000) - 5}
	it.Request = Request{Proto: s(), ProtoMajor: r.IntN(3), ContentLength: int64(r.IntN(100) - 1), Host: s(), Body: s(),
		Headers: randomHeader(r, s), URL: s(), Method: s()}
	if r.IntN(4) == 0 {
		it.Request.Form = url.Values(randomHeader(r, s))
	}
	if r.IntN(3) == 0 {
		it.Request.HeaderNames = []string{s(), s()}
	}
	it.Response = Response{Proto: s(), Body: s(), Headers: randomHeader(r, s), Status: s(), Code: r.IntN(600), Duration: s()}
	if r.IntN(3) == 0 {
		it.Response.HeaderNames = []string{s()}
	}
	return it
}

// sameAsLibrary reports a difference between the fast writer and the library for it.
func sameAsLibrary(t *testing.T, it *Interaction) (fast bool) {
	t.Helper()
	want, err := encodeItems([]*Interaction{it})
	if err != nil {
		t.Fatalf("library: %v", err)
	}
	got, ok := appendItem([]byte("prefix"), it)
	if !ok {
		if string(got) != "prefix" {
			t.Fatalf("a declined item left %q behind", got)
		}
		return false
	}
	if got = got[len("prefix"):]; !bytes.Equal(got, want) {
		t.Fatalf("fast writer differs from the library for %#v\nfast:\n%s\nlibrary:\n%s", it, got, want)
	}
	return true
}

func TestFastWriterMatchesLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	const n = 20000
	for range n {
		if sameAsLibrary(t, randomInteraction(r)) {
			fast++
		}
	}
	if fast < n/10 {
		t.Fatalf("the fast writer took only %d of %d random interactions", fast, n)
	}
	t.Logf("fast writer wrote %d of %d", fast, n)
}

// Each piece alone in each place: the style decisions one by one.
func TestFastWriterScalars(t *testing.T) {
	for _, a := range scalarPieces {
		for _, b := range append(scalarPieces, "") {
			s := a + b
			it := &Interaction{Request: Request{Body: s, URL: s, Headers: http.Header{"K": {s}}}, Response: Response{Body: s, Status: s}}
			sameAsLibrary(t, it)
			sameAsLibrary(t, &Interaction{Request: Request{Headers: http.Header{s: {"v"}}}})
		}
	}
}

func FuzzFastWriter(f *testing.F) {
	f.Add("body", "value", "Key", "x\n")
	f.Add("a\n\tb", "\u2028", "X-Ms", "|")
	f.Fuzz(func(t *testing.T, body, value, key, other string) {
		sameAsLibrary(t, &Interaction{
			Request:  Request{Body: body, URL: other, Headers: http.Header{key: {value, other}}, HeaderNames: []string{value}},
			Response: Response{Body: other, Status: value, Headers: http.Header{"A": {body}, key: nil}, Duration: other},
		})
	})
}

// A whole file, several chunks long, with interactions of both writers and one missing: the bytes
// the library writes for the whole sequence at once.
func TestMarshalMatchesLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	c := &Cassette{Version: Version, Variables: map[string]string{"b": "2", "a": "x y"}}
	for i := range 3*saveChunk + 17 {
		it := randomInteraction(r)
		if i%3 == 0 { // mostly what recordings hold
			it = &Interaction{ID: i, Request: Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "h",
				Body: `{"a":1}`, Headers: http.Header{"Content-Type": {"application/json"}}, URL: "https://h/p", Method: "POST"},
				Response: Response{Proto: "HTTP/1.1", Body: "line\nline\n", Headers: http.Header{}, Status: "200 OK", Code: 200}}
		}
		c.Interactions = append(c.Interactions, it)
	}
	c.Interactions[5] = nil
	want, err := encodeItems(c.Interactions)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := encode(struct {
		Variables map[string]string `yaml:"variables"`
	}{c.Variables})
	if err != nil {
		t.Fatal(err)
	}
	want = append(append(append([]byte("version: 2\n"), vars...), "interactions:\n"...), want...)
	for _, procs := range []int{1, 2, 4} { // one core too: the chunks are streamed all the same
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var w writeSizes
		if err := write(&w, c); err != nil {
			t.Fatal(err)
		}
		got := w.Bytes()
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%d cores: Marshal differs from the library at byte %d: %q vs %q", procs, i, got[max(0, i-80):min(len(got), i+80)], want[max(0, i-80):min(len(want), i+80)])
		}
		if w.writes < 5 { // the head, then a write per chunk
			t.Errorf("%d cores: the file was written in %d writes; want one per chunk of %d interactions", procs, w.writes, saveChunk)
		}
	}
}

// writeSizes is a buffer that counts the writes it gets.
type writeSizes struct {
	bytes.Buffer
	writes int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}
