package cassette

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The light decode (LoadForReplay) is held to the full one: whatever file it takes, the full
// reader takes too, and every field matching reads is the same; Full is the full reader's
// interaction, field for field.

// testReads are request headers a matcher might read (the matcher's own list is above this
// package), in the case files spell them and not.
var testReads = []string{"Content-Type", "x-ms-documentdb-partitionkey", "X-Ms-Continuation", "If-None-Match", "Prefer", "X-Ms-Max-Item-Count"}

// lightAgrees fails when the light decode of data disagrees with the full one; it reports
// whether the light decode took the file.
func lightAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	light, ok, err := parseForReplay("f.yaml", data, testReads)
	if !ok {
		return false
	}
	full, ferr := Parse("f.yaml", data)
	if err != nil || ferr != nil {
		if (err == nil) != (ferr == nil) {
			t.Fatalf("light decode: %v, full decode: %v\nfile:\n%s", err, ferr, clip(data))
		}
		return true
	}
	if len(light.Interactions) != len(full.Interactions) || !reflect.DeepEqual(light.Variables, full.Variables) {
		t.Fatalf("light decode: %d interactions, variables %v; full: %d, %v", len(light.Interactions), light.Variables, len(full.Interactions), full.Variables)
	}
	lines := libraryLines(t, data)
	for i, l := range light.Interactions {
		f := full.Interactions[i]
		if diff := matchingDiff(l, f); diff != "" {
			t.Fatalf("interaction %d: light decode differs in %s\nfile:\n%s", i, diff, clip(data))
		}
		if !l.Light() || lines != nil && l.Line() != lines[i] {
			t.Fatalf("interaction %d: light %v, line %d, the library says line %d", i, l.Light(), l.Line(), lines[i])
		}
		got, err := l.Full()
		if err != nil {
			t.Fatalf("interaction %d: Full: %v\nfile:\n%s", i, err, clip(data))
		}
		if !reflect.DeepEqual(got, f) {
			t.Fatalf("interaction %d: Full\n%#v\nfull decode\n%#v\nfile:\n%s", i, got, f, clip(data))
		}
		if again, _ := l.Full(); again != got {
			t.Fatalf("interaction %d: Full decoded twice", i)
		}
	}
	return true
}

// matchingDiff names a field matching reads where a and b differ.
func matchingDiff(a, b *Interaction) string {
	switch {
	case a.ID != b.ID:
		return "id"
	case a.Request.Method != b.Request.Method:
		return "method"
	case a.Request.URL != b.Request.URL:
		return "url"
	case a.Request.Host != b.Request.Host:
		return "host"
	case a.Request.Body != b.Request.Body:
		return "body"
	case !reflect.DeepEqual(a.Request.Form, b.Request.Form):
		return "form"
	case a.Response.Code != b.Response.Code:
		return "code"
	case !sameValues(a.Response.Headers, b.Response.Headers, ContinuationHeader):
		return "the continuation header"
	}
	for _, h := range testReads {
		if !sameValues(a.Request.Headers, b.Request.Headers, http.CanonicalHeaderKey(h)) {
			return "header " + h
		}
	}
	for k := range a.Request.Headers {
		if !sameValues(a.Request.Headers, b.Request.Headers, k) {
			return "header " + k
		}
	}
	return ""
}

// sameValues: name has the same values in a and b, none (absent, or no values) alike.
func sameValues(a, b http.Header, name string) bool {
	x, y := a[name], b[name]
	return len(x) == 0 && len(y) == 0 || reflect.DeepEqual(x, y)
}

// libraryLines are the lines the YAML library places the interactions at, or nil when it cannot
// say (not a mapping with a sequence of interactions).
func libraryLines(t *testing.T, data []byte) []int {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil
	}
	return interactionLines(doc.Content[0])
}

// continuing is recordingLike with a significant header or two and a continuation token in the
// response, spelled in either case.
func continuing(r *rand.Rand, i int) *Interaction {
	it := recordingLike(r, i)
	if r.IntN(2) == 0 {
		it.Response.Headers["X-Ms-Continuation"] = []string{fmt.Sprintf("token-%d", i)}
	}
	if r.IntN(3) == 0 {
		it.Request.Headers["x-ms-continuation"] = []string{fmt.Sprintf("token-%d", i-1)}
		it.Request.Headers["Content-Type"] = []string{"application/query+json"}
	}
	if r.IntN(4) == 0 {
		it.Request.Headers["If-None-Match"] = []string{}
	}
	return it
}

func TestLightDecodeAgrees(t *testing.T) {
	var files []string
	paths, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("../fixtures/cassettes/*.yaml")
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, string(data))
	}
	files = append(files, layoutVariants...)
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 5, 40} {
		c := &Cassette{Version: Version}
		for i := range n {
			c.Interactions = append(c.Interactions, continuing(r, i))
		}
		data, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, string(data))
		// Top-level keys after the interactions, and items indented under their key.
		files = append(files, string(data)+"variables:\n  after: x\n")
		files = append(files, "version: 1\ninteractions:\n"+strings.ReplaceAll(strings.SplitN(string(data), "interactions:\n", 2)[1], "\n", "\n  "))
	}
	for _, blocks := range []string{"default", "small"} {
		t.Run(blocks, func(t *testing.T) {
			if blocks == "small" {
				smallBlocks(t)
			}
			took := 0
			for _, f := range files {
				if lightAgrees(t, []byte(f)) {
					took++
				}
			}
			if took < len(files)/2 {
				t.Errorf("the light decode took %d of %d files", took, len(files))
			}
		})
	}
}

// The repository's real recording is taken by the light decode, not left to the library.
func TestLightDecodeTakesRecordings(t *testing.T) {
	for _, p := range []string{"testdata/govcr_v2.yaml", "../fixtures/cassettes/cosmos-e2e.yaml"} {
		c, closer, err := LoadForReplay(p, testReads)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Interactions) == 0 || !c.Interactions[0].Light() {
			t.Errorf("%s: not read light", p)
		}
		if err := closer.Close(); err != nil {
			t.Error(err)
		}
	}
}

// Full reads the file again: a file changed since it was opened, or closed, is an error naming
// the file and the interaction's line.
func TestFullAfterTheFileChanged(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	c := &Cassette{Version: Version}
	for i := range 3 {
		c.Interactions = append(c.Interactions, continuing(r, i))
	}
	c.Interactions[1].Request.URL = "https://acct.documents.azure.com/dbs/db/original"
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	second := 1 + bytes.Count(data[:bytes.Index(data, []byte("\n- id: 1\n"))+1], []byte("\n"))
	for _, tc := range []struct {
		name   string
		change func(path string, closer func() error)
		want   string
	}{
		{"bytes changed", func(path string, _ func() error) {
			os.WriteFile(path, bytes.Replace(data, []byte("/original"), []byte("/replaced"), 1), 0o644)
		}, "changed in the file"},
		{"file shrank", func(path string, _ func() error) { os.Truncate(path, int64(bytes.Index(data, []byte("/original")))) }, "reading the interaction again"},
		{"file closed", func(_ string, closer func() error) { closer() }, "reading the interaction again"},
		{"unchanged", func(string, func() error) {}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			light, closer, err := LoadForReplay(path, testReads)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			it := light.Interactions[1]
			if it.Line() != second {
				t.Fatalf("line %d, want %d", it.Line(), second)
			}
			tc.change(path, closer.Close)
			full, err := it.Full()
			if tc.want == "" {
				if err != nil || full.Request.URL != c.Interactions[1].Request.URL || full.Response.Body != c.Interactions[1].Response.Body {
					t.Fatalf("Full: %v, %+v", err, full)
				}
				return
			}
			prefix := fmt.Sprintf("%s:%d: ", path, second)
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Full: %v, want an error starting %q saying %q", err, prefix, tc.want)
			}
			if _, again := it.Full(); again == nil || again.Error() != err.Error() {
				t.Fatalf("Full again: %v", again)
			}
		})
	}
}

// Identical request header sets share one map; response headers keep only the continuation.
func TestLightHeaderSets(t *testing.T) {
	c := &Cassette{Version: Version}
	for i := range 4 {
		c.Interactions = append(c.Interactions, &Interaction{ID: i,
			Request:  Request{Method: "GET", URL: "https://h/", Headers: http.Header{"Prefer": {"x"}, "Authorization": {fmt.Sprint(i)}}},
			Response: Response{Code: 200, Headers: http.Header{"Etag": {"e"}, "X-Ms-Continuation": {fmt.Sprint(i)}}}})
	}
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	light, ok, err := parseForReplay("f.yaml", data, testReads)
	if !ok || err != nil {
		t.Fatalf("parseForReplay: %v %v", ok, err)
	}
	for i, it := range light.Interactions {
		if !reflect.DeepEqual(it.Request.Headers, http.Header{"Prefer": {"x"}}) {
			t.Errorf("interaction %d: request headers %v", i, it.Request.Headers)
		}
		if !reflect.DeepEqual(it.Response.Headers, http.Header{"X-Ms-Continuation": {fmt.Sprint(i)}}) {
			t.Errorf("interaction %d: response headers %v", i, it.Response.Headers)
		}
		if it.Response.Body != "" || it.Request.Proto != "" {
			t.Errorf("interaction %d: light decode kept what matching does not read", i)
		}
	}
	if reflect.ValueOf(light.Interactions[0].Request.Headers).UnsafePointer() != reflect.ValueOf(light.Interactions[3].Request.Headers).UnsafePointer() {
		t.Error("identical header sets are separate maps")
	}
}

func FuzzLoadForReplay(f *testing.F) {
	r := rand.New(rand.NewPCG(41, 42))
	c := &Cassette{Version: Version}
	for i := range 3 {
		c.Interactions = append(c.Interactions, continuing(r, i))
	}
	data, _ := Marshal(c)
	f.Add(data)
	for _, s := range layoutVariants {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lightAgrees(t, data)
		smallBlocks(t) // and again cut into parts and blocks
		lightAgrees(t, data)
	})
}

// checkTextByChar is checkText as it was, a character at a time: the checks done eight bytes at
// once must refuse exactly what it refuses.
func checkTextByChar(b []byte) {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7F {
				giveUp()
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
			giveUp()
		}
		i += n
	}
}

func refuses(check func([]byte), b []byte) (refused bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(scanFail); !ok {
				panic(p)
			}
			refused = true
		}
	}()
	check(b)
	return false
}

func TestCheckTextAsByChar(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	alphabet := []string{"a", "Z", " ", "\n", "\t", "\r", "\x00", "\x1f", "\x7f", "\x80", "é", "\u0085", "\u00a0", "\u2028", "\ufeff", "✓", "\xff", "~", "\x0b", "\x0a\x0b"}
	counts := map[bool]int{}
	for range 20000 {
		var b []byte
		for range r.IntN(40) {
			if r.IntN(4) == 0 {
				b = append(b, alphabet[r.IntN(len(alphabet))]...)
			} else {
				b = append(b, "plain text "[r.IntN(11)])
			}
		}
		want := refuses(checkTextByChar, b)
		if got := refuses(checkText, b); got != want {
			t.Fatalf("checkText(%q) refuses: %v, a character at a time: %v", b, got, want)
		}
		counts[want]++
	}
	for b := range 256 { // every byte, at every place in a word
		for at := range 9 {
			text := []byte("abcdefghijklmnop")
			text[at] = byte(b)
			if got, want := refuses(checkText, text), refuses(checkTextByChar, text); got != want {
				t.Fatalf("checkText(%q) refuses: %v, a character at a time: %v", text, got, want)
			}
		}
	}
	if counts[true] == 0 || counts[false] == 0 {
		t.Errorf("refused %d, took %d: the test compares too little", counts[true], counts[false])
	}
}

// BenchmarkLoadForReplay compares loading a cassette for replay light with loading it whole.
func BenchmarkLoadForReplay(b *testing.B) {
	r := rand.New(rand.NewPCG(61, 62))
	c := &Cassette{Version: Version}
	for i := range 5000 {
		c.Interactions = append(c.Interactions, continuing(r, i))
	}
	path := filepath.Join(b.TempDir(), "c.yaml")
	if err := Save(path, c); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	for _, bc := range []struct {
		name string
		load func() error
	}{
		{"light", func() error {
			c, closer, err := LoadForReplay(path, testReads)
			if err == nil && !c.Interactions[0].Light() {
				err = fmt.Errorf("not light")
			}
			if closer != nil {
				closer.Close()
			}
			return err
		}},
		{"whole", func() error { _, err := Load(path); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.load(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// plainTextSearches is plainText as it was, with three searches for what a plain scalar may
// not hold: the one pass over short ones must say the same.
func plainTextSearches(b []byte) bool {
	if len(b) == 0 || b[len(b)-1] == ' ' || b[len(b)-1] == ':' {
		return false
	}
	switch c := b[0]; c {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	case '-', '?', ':':
		if len(b) == 1 || b[1] == ' ' {
			return false
		}
	}
	if bytes.Contains(b, []byte(": ")) || bytes.Contains(b, []byte(" #")) || bytes.IndexByte(b, '\t') >= 0 {
		return false
	}
	return !(len(b) >= 3 && (bytes.HasPrefix(b, []byte("---")) || bytes.HasPrefix(b, []byte("..."))))
}

func TestPlainTextOnePass(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	parts := []string{"a", ":", " ", "#", "\t", "b:c", ": ", " #", "-", "?", "..", "x", "[", "'", strings.Repeat("y", 30)}
	counts := map[bool]int{}
	for range 50000 {
		var b []byte
		for range r.IntN(12) {
			b = append(b, parts[r.IntN(len(parts))]...)
		}
		want := plainTextSearches(b)
		if got := plainText(b); got != want {
			t.Fatalf("plainText(%q) = %v, three searches say %v", b, got, want)
		}
		counts[want && len(b) <= 64]++
	}
	if counts[true] == 0 || counts[false] == 0 {
		t.Errorf("%v: the test compares too little", counts)
	}
}
