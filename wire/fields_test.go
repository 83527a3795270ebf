package wire

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// fieldsByMap is Fields as first written, with a map of queues: the reference the faster one is
// held to. With keys that differ only in case, its spelling and order of values followed the
// map's order; Fields sorts them.
func fieldsByMap(h http.Header, names []string) []Field {
	type queue struct {
		key  string
		vals []string
	}
	queues := make(map[string]*queue, len(h))
	keys := make([]string, 0, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		q := queues[ck]
		if q == nil {
			q = &queue{key: k}
			queues[ck] = q
			keys = append(keys, ck)
		}
		q.vals = append(q.vals, v...)
	}
	slices.Sort(keys)
	out := make([]Field, 0, len(names)+len(h))
	for _, n := range names {
		q := queues[http.CanonicalHeaderKey(n)]
		if q == nil || len(q.vals) == 0 || !httpguts.ValidHeaderFieldName(n) {
			continue
		}
		out = append(out, Field{n, q.vals[0]})
		q.vals = q.vals[1:]
	}
	for _, ck := range keys {
		q := queues[ck]
		if !httpguts.ValidHeaderFieldName(q.key) {
			continue
		}
		for _, v := range q.vals {
			out = append(out, Field{q.key, v})
		}
	}
	return out
}

// headerFrom builds a header and names from fuzz text: "name=value" lines make the header (no
// two keys the same but for case, where the reference's order is the map's), "@name" lines the
// names.
func headerFrom(text string) (http.Header, []string) {
	h := http.Header{}
	var names []string
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if n, ok := strings.CutPrefix(line, "@"); ok {
			names = append(names, n)
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		ck := http.CanonicalHeaderKey(k)
		if seen[ck] && h[k] == nil {
			continue
		}
		seen[ck] = true
		h[k] = append(h[k], v)
	}
	return h, names
}

// FuzzFields: Fields lists what the map-based reference lists, and a value is written on one
// line as before.
func FuzzFields(f *testing.F) {
	f.Add("Content-Type=application/json\nx-ms-continuation=c\nX-Ms-Continuation=d\n@x-ms-continuation\n@content-type\n@etag\nEtag=e\nbad name=v\n@bad name")
	f.Add("set-cookie=a\nset-cookie=b\n@Set-Cookie\n@set-cookie\n@set-cookie\nHost= spaced \r\nout\n@host")
	f.Add("A=\u00a0x\u00a0\nb=\t\n@a\n@B\n@b")
	f.Fuzz(func(t *testing.T, text string) {
		h, names := headerFrom(text)
		if got, want := Fields(h, names), fieldsByMap(h, names); !reflect.DeepEqual(got, want) {
			t.Errorf("Fields(%q, %q)\n = %q\nwant %q", h, names, got, want)
		}
		for _, v := range strings.Split(text, "\n") {
			if got, want := oneLine(v), strings.TrimSpace(valueReplacer.Replace(v)); got != want {
				t.Errorf("oneLine(%q) = %q, want %q", v, got, want)
			}
		}
	})
}

// Keys that differ only in case become one header, spelled and ordered as the sorted keys.
func TestFieldsJoinsKeysBySortedSpelling(t *testing.T) {
	h := http.Header{"x-ms-a": {"3"}, "X-Ms-A": {"1", "2"}, "X-MS-A": {"0"}, "Etag": {"e"}}
	got := Fields(h, []string{"X-Ms-A"})
	want := []Field{{"X-Ms-A", "0"}, {"Etag", "e"}, {"X-MS-A", "1"}, {"X-MS-A", "2"}, {"X-MS-A", "3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	if h["X-Ms-A"][0] != "1" || len(h["X-MS-A"]) != 1 {
		t.Errorf("Fields changed its header: %v", h)
	}
}

// FuzzCompareCanonical: comparing with a name is comparing with its canonical form.
func FuzzCompareCanonical(f *testing.F) {
	for _, s := range [][2]string{{"X-Ms-Version", "x-ms-version"}, {"Etag", "ETAG"}, {"Content-Length", "content-length-"}, {"A", "-a"}, {"X-1a", "x-1A"}, {"", "b"}, {"Www-Authenticate", "www-authenticate"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, ck, name string) {
		if !httpguts.ValidHeaderFieldName(name) {
			return
		}
		got, want := compareCanonical(queue{ck: ck}, name), strings.Compare(ck, http.CanonicalHeaderKey(name))
		if got != want {
			t.Errorf("compareCanonical(%q, %q) = %d, want %d", ck, name, got, want)
		}
	})
}
