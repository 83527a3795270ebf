package testproxy

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// TestEntriesRoundTrip: every exchange kept comes back equal, nil and empty maps and lists told
// apart, across block boundaries and in blocks of their own when larger than a block.
func TestEntriesRoundTrip(t *testing.T) {
	full := &cassette.Interaction{ID: 3,
		Request: cassette.Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, ContentLength: -1, Host: "h", Body: "b\x00\xff",
			Form: url.Values{"a": {"1", "2"}}, Headers: http.Header{"X-A": {"1"}, "X-Empty": {}, "X-Nil": nil},
			HeaderNames: []string{"x-a"}, URL: "https://h/p?q=ü", Method: "PUT"},
		Response: cassette.Response{Proto: "HTTP/2.0", ProtoMajor: 2, ContentLength: 1 << 40, Body: "{}",
			Headers: http.Header{}, HeaderNames: []string{}, Status: "200 Ok", Code: 200, Duration: "1ms"},
	}
	bare := &cassette.Interaction{}
	big := &cassette.Interaction{Response: cassette.Response{Body: strings.Repeat("x", 3*blockSize/2), Code: 201}}
	mid := &cassette.Interaction{Request: cassette.Request{Body: strings.Repeat("y", blockSize/3)}}
	cases := []struct {
		name string
		its  []*cassette.Interaction
	}{
		{"one full", []*cassette.Interaction{full}},
		{"zero values", []*cassette.Interaction{bare}},
		{"larger than a block", []*cassette.Interaction{full, big, full}},
		{"across blocks", []*cassette.Interaction{mid, mid, mid, mid, full, mid}},
		{"only empty lists", []*cassette.Interaction{{Request: cassette.Request{Headers: http.Header{"X-E": {}}, HeaderNames: []string{}},
			Response: cassette.Response{Headers: http.Header{}, HeaderNames: []string{}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e entries
			defer e.free()
			for _, it := range tc.its {
				e.add(it)
			}
			if e.Len() != len(tc.its) {
				t.Fatalf("Len %d, want %d", e.Len(), len(tc.its))
			}
			for i, want := range tc.its {
				if got := e.get(i); !reflect.DeepEqual(got, want) {
					t.Errorf("entry %d:\ngot  %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

// TestEntriesListsApart: the lists of a decoded exchange share one array, capped so that
// appending to one leaves the others alone.
func TestEntriesListsApart(t *testing.T) {
	var e entries
	defer e.free()
	e.add(&cassette.Interaction{Request: cassette.Request{Headers: http.Header{"A": {"1"}, "B": {"2", "3"}}, HeaderNames: []string{"a", "b"}},
		Response: cassette.Response{Headers: http.Header{"C": {"4"}}, HeaderNames: []string{"c"}}})
	it := e.get(0)
	for k := range it.Request.Headers {
		it.Request.Headers[k] = append(it.Request.Headers[k], "x")
	}
	it.Request.HeaderNames = append(it.Request.HeaderNames, "x")
	want := &cassette.Interaction{Request: cassette.Request{Headers: http.Header{"A": {"1", "x"}, "B": {"2", "3", "x"}}, HeaderNames: []string{"a", "b", "x"}},
		Response: cassette.Response{Headers: http.Header{"C": {"4"}}, HeaderNames: []string{"c"}}}
	if !reflect.DeepEqual(it, want) {
		t.Errorf("got  %+v\nwant %+v", it, want)
	}
}

// BenchmarkEntriesGet decodes 1,000 kept exchanges, as /Record/Stop does.
func BenchmarkEntriesGet(b *testing.B) {
	var e entries
	defer e.free()
	for i := range 1000 {
		e.add(stopExchange(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range e.Len() {
			e.get(i)
		}
	}
}
