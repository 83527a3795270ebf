package testproxyjson

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// refHeaderNames is headerNames as it was before the folded keys and the table of spellings:
// every header's name tried against every spelled name, each name and value checked for UTF-8.
func refHeaderNames(names []headerName, side string, h http.Header, spelled []string) ([]headerName, error) {
	for k, vs := range h {
		ok := utf8.ValidString(k)
		for _, v := range vs {
			ok = ok && utf8.ValidString(v)
		}
		if !ok {
			return names, fmt.Errorf("%s header %q is not UTF-8", side, k)
		}
		name := k
		for _, n := range spelled {
			if n != "" && sameCanonical(n, k) {
				name = n
				break
			}
		}
		hn := headerName{name: name, vals: vs, ascii: isASCII(name)}
		if !hn.ascii {
			hn.lower = strings.ToLower(name)
		}
		names = append(names, hn)
	}
	slices.SortFunc(names, compareHeaderNames) // with no keys, as it compared before them
	return names, nil
}

// sameHeaderNames checks headerNames against refHeaderNames for h and spelled: the same names in
// the same order, each with its values, and the same error. Headers written under one name (keys
// that differ only in case) may come in either order, as the map's order decides that.
func sameHeaderNames(t *testing.T, h http.Header, spelled []string) {
	t.Helper()
	want, werr := refHeaderNames(nil, "request", h, spelled)
	var tab spellings
	got, gerr := headerNames(nil, &tab, "request", h, spelled)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("headers %q spelled %q: error %v, the reference's %v", h, spelled, gerr, werr)
	}
	if werr != nil {
		return // which of several bad headers an error names depends on map order
	}
	if len(got) != len(want) {
		t.Fatalf("headers %q spelled %q: %d names, the reference %d", h, spelled, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.name != w.name {
			t.Fatalf("headers %q spelled %q: name %d is %q, the reference's %q", h, spelled, i, g.name, w.name)
		}
		if g.ascii != w.ascii || g.lower != w.lower {
			t.Fatalf("headers %q spelled %q: name %q folded as %v %q, the reference %v %q", h, spelled, g.name, g.ascii, g.lower, w.ascii, w.lower)
		}
		plain := isPlain(g.name)
		for _, v := range g.vals {
			plain = plain && isPlain(v)
		}
		if g.plain != plain {
			t.Fatalf("headers %q spelled %q: %q plain %v, is %v", h, spelled, g.name, g.plain, plain)
		}
	}
	// values: per name, the same lists (in the map's order among keys written under one name)
	group := func(ns []headerName) map[string][]string {
		m := map[string][]string{}
		for _, n := range ns {
			m[n.name] = append(m[n.name], strings.Join(n.vals, "\x00")+fmt.Sprint(len(n.vals)))
		}
		for _, v := range m {
			slices.Sort(v)
		}
		return m
	}
	if g, w := group(got), group(want); fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("headers %q spelled %q: values %q, the reference's %q", h, spelled, g, w)
	}
}

func TestHeaderNamesMatchReference(t *testing.T) {
	cosmos := http.Header{"Accept-Encoding": {"gzip"}, "Authorization": {"Sanitized"}, "Content-Type": {"application/query+json"},
		"X-Ms-Activity-Id": {"00000000-0000-0000-0000-000000000000"}, "X-Ms-Date": {"Thu, 13 Nov 2025 10:00:00 GMT"},
		"X-Ms-Documentdb-Isquery": {"True"}, "X-Ms-Documentdb-Partitionkey": {`["tenant-15"]`}, "X-Ms-Documentdb-Query-Enablecrosspartition": {"False"},
		"X-Ms-Max-Item-Count": {"2"}, "X-Ms-Version": {"2020-11-05"}}
	many := http.Header{}
	var manySpelled []string
	for i := range 100 {
		many[fmt.Sprintf("X-Header-%03d", (i*37)%100)] = []string{fmt.Sprint(i)}
		manySpelled = append(manySpelled, fmt.Sprintf("x-header-%03d", i))
	}
	cases := []struct {
		name    string
		h       http.Header
		spelled []string
	}{
		{"none", nil, nil},
		{"cosmos, canonical", cosmos, nil},
		{"cosmos, spelled in lower case", cosmos, []string{"accept-encoding", "x-ms-date", "X-MS-DATE", "x-ms-documentdb-isquery", "", "x-ms-version", "content-type"}},
		{"many, spelled", many, manySpelled},
		{"same first eight bytes", http.Header{"X-Ms-Doc": {"1"}, "X-Ms-Docu": {"2"}, "x-ms-doc\x00": {"3"}, "X-Ms-Doc-B": {"4"}, "X-MS-DOC-a": {"5"}}, []string{"x-ms-DOC"}},
		{"keys alike but for case", http.Header{"X-A": {"1"}, "x-a": {"2"}, "X-a": {"3", "4"}}, []string{"x-A"}},
		{"names CanonicalHeaderKey leaves alone", http.Header{"X A": {"1"}, "x a": {"2"}, "Ü-C": {"3"}, "ü-c": {"4"}, "": {"5"}}, []string{"x a", "ü-C", "", "X A"}},
		{"escapes and non-ASCII values", http.Header{"X-E": {"a\"b", "c\\d", "é", "\x01", "ok"}, "É": {"x"}, "e": {"y"}, "Z": {}}, nil},
		{"not UTF-8", http.Header{"X-Bad": {"\xff"}}, nil},
		{"name not UTF-8", http.Header{"X-\xfe": {"v"}}, nil},
		{"short names", http.Header{"a": {"1"}, "B": {"2"}, "a-": {"3"}, "A-b": {"4"}, "b": {"5"}}, []string{"A", "b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range 20 { // map orders differ run to run
				sameHeaderNames(t, c.h, c.spelled)
			}
		})
	}
}

// FuzzHeaderNames: for any header names, values and spellings, headerNames gives what the
// reference gives.
func FuzzHeaderNames(f *testing.F) {
	f.Add("X-A\x00x-a\x00Accept\x00x-ms-date", "v\x00w\"\\\x01", "X-MS-DATE\x00accept\x00\x00x-a")
	f.Add("X B\x00x b\x00x_c\x00Ü-C", "é\u2028", "x b\x00ü-c")
	f.Add("abcdefgh\x00ABCDEFGHI\x00abcdefgh\x00\x00", "\xff", "ABCDEFGH")
	var long []string // more spellings than are tried one by one
	for i := range 2 * fewSpellings {
		long = append(long, fmt.Sprintf("X-Name-%d", i%(fewSpellings+3)))
	}
	f.Add(strings.ToLower(strings.Join(long, "\x00")), "v", strings.Join(long, "\x00"))
	f.Fuzz(func(t *testing.T, names, values, spelled string) {
		h := http.Header{}
		vals := strings.Split(values, "\x00")
		for i, n := range strings.Split(names, "\x00") {
			h[n] = vals[:i%(len(vals)+1)]
		}
		sameHeaderNames(t, h, strings.Split(spelled, "\x00"))
	})
}

// TestLowerWord: lowerWord lowers exactly the ASCII capitals of each byte.
func TestLowerWord(t *testing.T) {
	for c := range 256 {
		for _, at := range []int{0, 3, 7} {
			const base = 0x4142_5A5B_6061_7AC1 // 'A' 'B' 'Z' '[' '`' 'a' 'z' 0xC1 (an 'A' with the high bit)
			x := uint64(base)&^(0xFF<<(8*at)) | uint64(c)<<(8*at)
			got := lowerWord(x)
			for i := range 8 {
				b := byte(x >> (8 * i))
				want := b
				if 'A' <= b && b <= 'Z' {
					want = b + 'a' - 'A'
				}
				if byte(got>>(8*i)) != want {
					t.Fatalf("lowerWord(%#x) byte %d: %#x, want %#x", x, i, byte(got>>(8*i)), want)
				}
			}
		}
	}
}

// BenchmarkHeaderNames orders a Cosmos DB query's request headers, spelled as on the wire, the
// reference way and headerNames' way.
func BenchmarkHeaderNames(b *testing.B) {
	h := http.Header{"Accept-Encoding": {"gzip"}, "Authorization": {"Sanitized"}, "Content-Length": {"166"}, "Content-Type": {"application/query+json"},
		"User-Agent": {"azsdk-go-azcosmos/v1.5.0 (go1.26.8; linux)"}, "X-Ms-Activity-Id": {"00000000-0000-0000-0000-000000000000"},
		"X-Ms-Cosmos-Sdk-Supportedcapabilities": {"1"}, "X-Ms-Date": {"Thu, 13 Nov 2025 10:00:00 GMT"}, "X-Ms-Documentdb-Isquery": {"True"},
		"X-Ms-Documentdb-Partitionkey": {`["tenant-15"]`}, "X-Ms-Documentdb-Query-Enablecrosspartition": {"False"}, "X-Ms-Max-Item-Count": {"2"},
		"X-Ms-Version": {"2020-11-05"}}
	var spelled []string
	for k := range h {
		spelled = append(spelled, k)
	}
	slices.Reverse(spelled)
	var scratch []headerName
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			scratch, _ = refHeaderNames(scratch[:0], "request", h, spelled)
		}
	})
	var tab spellings
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			scratch, _ = headerNames(scratch[:0], &tab, "request", h, spelled)
		}
	})
}

// TestFoldName: foldKey's key and plainness, isPlain, and foldHash, against their plain definitions,
// for strings of every length to 24 from bytes that matter.
func TestFoldName(t *testing.T) {
	alphabet := []byte{'a', 'A', 'z', 'Z', '@', '[', '`', '{', ' ', '"', '\\', 0x7F, 0x1F, 0, 0x80, 0xC1, 0xE1, 0xFF, '-', '0'}
	seed := uint32(1)
	for n := range 25 {
		for range 400 {
			b := make([]byte, n)
			for i := range b {
				seed = seed*1664525 + 1013904223
				b[i] = alphabet[seed>>24%uint32(len(alphabet))]
			}
			s := string(b)
			key, plain := foldKey(s)
			hash := foldHash(s)
			if want := plainPrefix(s) == len(s); plain != want || isPlain(s) != want {
				t.Fatalf("%q: plain %v, isPlain %v, want %v", s, plain, isPlain(s), want)
			}
			lower := make([]byte, n)
			for i, c := range b {
				lower[i] = lowerASCII(c)
			}
			var want uint64
			for i := range 8 {
				want <<= 8
				if i < len(lower) {
					want |= uint64(lower[i])
				}
			}
			if key != want {
				t.Fatalf("%q: key %#x, want %#x", s, key, want)
			}
			if h2 := foldHash(string(lower)); h2 != hash {
				t.Fatalf("%q: hash %#x, its lower case's %#x", s, hash, h2)
			}
		}
	}
}
