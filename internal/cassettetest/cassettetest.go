// Package cassettetest holds test helpers shared by the format packages' tests: sample
// interactions covering every body kind, and load/read helpers that fail the test.
package cassettetest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// JSONBody is compact JSON with nested objects and (BMP) unicode and no apostrophe, so the YAML
// encoder can keep it verbatim on one line.
const JSONBody = `{"id":"doc1","nested":{"name":"Zoë 日本語","list":[1,2,{"deep":true,"q":null}],"o":{"p":{"r":"ünïcödé"}}},"_etag":"\"0000-1\""}`

// EmojiJSONBody holds a character outside the Basic Multilingual Plane.
const EmojiJSONBody = `{"greeting":"hi 🚀","n":{"m":[{"k":"v"}]}}`

const TextBody = "line one\nline two\n\n  indented line\nlast line with trailing newline\n"

var ShortBinary = string([]byte{0xff, 0x00, 0x80, 'a'})

// RandomBinary returns n deterministic pseudo-random bytes that are not valid UTF-8.
func RandomBinary(t testing.TB, n int, seed int64) string {
	t.Helper()
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	if utf8.Valid(b) {
		t.Fatalf("precondition: %d random bytes with seed %d are valid UTF-8", n, seed)
	}
	return string(b)
}

// SampleInteractions covers the body kinds the format must carry byte for byte. Every field is
// set (headers non-nil, duration non-empty) so a round trip can be compared with reflect.DeepEqual.
func SampleInteractions(t testing.TB) []*cassette.Interaction {
	t.Helper()
	mk := func(method, url, reqBody string, reqHdr http.Header, code int, status, respBody string, respHdr http.Header) *cassette.Interaction {
		return &cassette.Interaction{
			Request: cassette.Request{
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				ContentLength: int64(len(reqBody)),
				Host:          "acct.documents.azure.com:443",
				Body:          reqBody,
				Headers:       reqHdr,
				URL:           url,
				Method:        method,
			},
			Response: cassette.Response{
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				ContentLength: int64(len(respBody)),
				Body:          respBody,
				Headers:       respHdr,
				Status:        status,
				Code:          code,
				Duration:      "1.5ms",
			},
		}
	}
	base := "https://acct.documents.azure.com:443/dbs/db1/colls/c1"
	// The first interaction was seen on the wire: its names are spelled as sent (header_names).
	first := mk("POST", base+"/docs", JSONBody,
		http.Header{"Content-Type": {"application/json"}, "X-Ms-Documentdb-Partitionkey": {`["pk1"]`}, "X-Unicode": {"café ☕"}},
		201, "201 Created", JSONBody,
		http.Header{"Content-Type": {"application/json"}, "Etag": {`"0000-1"`}, "X-Ms-Request-Charge": {"6.29"}})
	first.Request.HeaderNames = []string{"content-type", "x-ms-documentdb-partitionkey", "X-Unicode"}
	first.Response.HeaderNames = []string{"Content-Type", "etag", "x-ms-request-charge"}
	return []*cassette.Interaction{
		first,
		mk("GET", base+"/docs/text?x=1&y=%20z", "",
			http.Header{"Accept": {"text/plain", "*/*"}, "X-Empty": {""}},
			200, "200 OK", TextBody,
			http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Set-Cookie": {"a=1", "b=2"}}),
		mk("PUT", base+"/docs/bin", ShortBinary,
			http.Header{"Content-Type": {"application/octet-stream"}},
			200, "200 OK", RandomBinary(t, 256, 42),
			http.Header{"Content-Type": {"application/octet-stream"}}),
		mk("POST", base+"/docs/emoji", EmojiJSONBody,
			http.Header{"Content-Type": {"application/json"}},
			404, "404 Not Found", EmojiJSONBody,
			http.Header{"Content-Type": {"application/json"}, "X-Ms-Substatus": {"0"}}),
	}
}

// WithIDs sets ids 0..n-1 in place and returns items.
func WithIDs(items []*cassette.Interaction) []*cassette.Interaction {
	for i, it := range items {
		it.ID = i
	}
	return items
}

// Clone copies an interaction with its own header maps.
func Clone(it *cassette.Interaction) *cassette.Interaction {
	c := *it
	c.Request.Headers = it.Request.Headers.Clone()
	c.Response.Headers = it.Response.Headers.Clone()
	c.Request.HeaderNames = slices.Clone(it.Request.HeaderNames)
	c.Response.HeaderNames = slices.Clone(it.Response.HeaderNames)
	return &c
}

// MustLoad loads a cassette or fails the test, printing the file.
func MustLoad(t testing.TB, path string) *cassette.Cassette {
	t.Helper()
	c, err := cassette.Load(path)
	if err != nil {
		data, _ := os.ReadFile(path)
		t.Fatalf("Load(%s): %v\nfile:\n%s", path, err, data)
	}
	return c
}

// MustRead reads a file or fails the test.
func MustRead(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// SameInteractions fails unless got equals want field for field, byte for byte. The one
// normalisation: an empty form is the same as none (the field is omitempty on disk).
func SameInteractions(t testing.TB, got, want []*cassette.Interaction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d interactions, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := *got[i], *want[i]
		if len(g.Request.Form) == 0 && len(w.Request.Form) == 0 {
			g.Request.Form, w.Request.Form = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("interaction %d differs:\n got %#v\nwant %#v", i, g, w)
		}
	}
}

// TempPath is a path named name in a fresh temporary directory.
func TempPath(t testing.TB, name string) string {
	return filepath.Join(t.TempDir(), name)
}

// Gzip compresses s, as a server sending Content-Encoding: gzip would.
func Gzip(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// CosmosItemRead is exchange i of a long session: a Cosmos DB item read as azcosmos sends it and
// the service answers it, sent with authorization as its Authorization header (the benchmarks of
// saving and loading test-proxy recordings write thousands of them).
func CosmosItemRead(i int, authorization string) *cassette.Interaction {
	doc := fmt.Sprintf(`{"id":"item-%07d","pk":"tenant-%d","n":%d,"name":"widget %07d","description":"a small blue widget","price":%d.95,"_rid":"gAABAIAAAAE%07dAA==","_self":"dbs/gAABAA==/colls/gAABAIAAAAE=/docs/gAABAIAAAAE%07dAA==/","_etag":"\"0000d21c-0000-0800-0000-%07dabcde0000\"","_attachments":"attachments/","_ts":%d}`,
		i, i%16, 1000000+i, i, 10+i%90, i, i, i, 1700000000+i)
	return &cassette.Interaction{ID: i,
		Request: cassette.Request{Method: "GET", URL: fmt.Sprintf("https://bench.documents.azure.com/dbs/benchdb/colls/orders/docs/item-%07d", i),
			Headers: http.Header{"Accept-Encoding": {"gzip"}, "Authorization": {authorization},
				"User-Agent": {"azsdk-go-azcosmos/v1.5.0 (go1.26.8; linux)"}, "X-Ms-Activity-Id": {fmt.Sprintf("9b2e4c1a-0d3f-4e5a-8b6c-%012d", i)},
				"X-Ms-Date": {"Tue, 01 Jan 2030 00:00:00 GMT"}, "X-Ms-Version": {"2020-07-15"}, "X-Ms-Documentdb-Partitionkey": {fmt.Sprintf(`["tenant-%d"]`, i%16)}},
			HeaderNames: []string{"Accept-Encoding", "Authorization", "User-Agent", "x-ms-activity-id", "x-ms-date", "x-ms-version", "x-ms-documentdb-partitionkey"}},
		Response: cassette.Response{Code: 200, Status: "200 OK", Body: doc,
			Headers: http.Header{"Content-Type": {"application/json"}, "Content-Length": {fmt.Sprint(len(doc))}, "Date": {"Tue, 01 Jan 2030 00:00:00 GMT"},
				"Etag": {fmt.Sprintf(`"0000d21c-0000-0800-0000-%07dabcde0000"`, i)}, "X-Ms-Activity-Id": {"00000000-0000-0000-0000-000000000000"},
				"X-Ms-Request-Charge": {"1"}, "X-Ms-Session-Token": {fmt.Sprintf("0:-1#%d", 100+i%1000)}}},
	}
}
