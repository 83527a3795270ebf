package recorder

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	vcr "gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
)

// benchInteractions is the size of the cassette both recorders replay: half item reads, half
// Cosmos DB queries, each with a page-sized answer.
const benchInteractions = 1000

const benchDocs = "https://bench.documents.azure.com/dbs/db/colls/c/docs"

var benchPage = `{"_rid":"x","Documents":[` + strings.Repeat(`{"id":"item-00","pk":"tenant-a","n":0,"name":"widget"},`, 40) + `{}],"_count":41}`

// benchRequest is the i-th recorded request of a kind ("GET" reads an item, "query" posts a
// parameterised query), as the benchmark sends it and as the cassette holds it.
func benchRequest(kind string, i int) (method, url, body string, header http.Header) {
	if kind == "GET" {
		return "GET", fmt.Sprintf("%s/item-%04d", benchDocs, i), "", http.Header{
			"X-Ms-Documentdb-Partitionkey": {`["tenant-a"]`},
			"X-Ms-Version":                 {"2020-07-15"},
		}
	}
	return "POST", benchDocs, fmt.Sprintf(`{"query":"SELECT * FROM c WHERE c.n = @n","parameters":[{"name":"@n","value":%d}]}`, i), http.Header{
		"Content-Type":                 {"application/query+json"},
		"X-Ms-Documentdb-Isquery":      {"True"},
		"X-Ms-Documentdb-Partitionkey": {`["tenant-a"]`},
		"X-Ms-Max-Item-Count":          {"40"},
		"X-Ms-Version":                 {"2020-07-15"},
	}
}

// benchCassette writes the cassette: GETs and queries interleaved.
func benchCassette(b *testing.B) string {
	c := &cassette.Cassette{Version: cassette.Version}
	for i := range benchInteractions {
		kind := []string{"GET", "query"}[i%2]
		method, url, body, header := benchRequest(kind, i/2)
		c.Interactions = append(c.Interactions, &cassette.Interaction{
			ID: i,
			Request: cassette.Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, ContentLength: int64(len(body)),
				Host: "bench.documents.azure.com", Body: body, Headers: header, URL: url, Method: method},
			Response: cassette.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, ContentLength: int64(len(benchPage)),
				Body: benchPage, Headers: http.Header{"Content-Type": {"application/json"}}, Status: "200 OK", Code: 200},
		})
	}
	path := filepath.Join(b.TempDir(), "bench.yaml")
	if err := cassette.Save(path, c); err != nil {
		b.Fatal(err)
	}
	return path
}

// quietTB keeps the recorder's summary out of the benchmark output.
type quietTB struct{ testing.TB }

func (quietTB) Log(...any)          {}
func (quietTB) Logf(string, ...any) {}

// BenchmarkInProcessReplay replays the same 1,000-interaction cassette through azvcr's recorder
// and through go-vcr v4's, each as the transport of an http.Client: an item read and a Cosmos
// query, spread over the whole cassette. `make bench` prints the ratios.
func BenchmarkInProcessReplay(b *testing.B) {
	path := benchCassette(b)
	clients := map[string]func(b *testing.B, kind string) *http.Client{
		"azvcr": func(b *testing.B, kind string) *http.Client {
			c := Start(quietTB{b}, WithMode(ModeReplay), WithCassette(path), WithRepeat(matcher.RepeatAll)).Client()
			for i := range benchInteractions / 2 { // each recording answered once: from now on, repeats
				benchDo(b, c, kind, i)
			}
			return c
		},
		"go-vcr": func(b *testing.B, _ string) *http.Client { // replayable: nothing is used up
			r, err := vcr.New(strings.TrimSuffix(path, ".yaml"), vcr.WithMode(vcr.ModeReplayOnly),
				vcr.WithReplayableInteractions(true), vcr.WithSkipRequestLatency(true))
			if err != nil {
				b.Fatal(err)
			}
			return r.GetDefaultClient()
		},
	}
	for _, kind := range []string{"GET", "query"} {
		for _, name := range []string{"azvcr", "go-vcr"} {
			b.Run(kind+"/"+name, func(b *testing.B) {
				client := clients[name](b, kind)
				i := 0
				for b.Loop() {
					benchDo(b, client, kind, i%(benchInteractions/2))
					i++
				}
			})
		}
	}
}

func benchDo(b *testing.B, client *http.Client, kind string, i int) {
	method, url, body, header := benchRequest(kind, i)
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		b.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n != int64(len(benchPage)) {
		b.Fatalf("%s %s: status %d, %d bytes", method, url, resp.StatusCode, n)
	}
}
