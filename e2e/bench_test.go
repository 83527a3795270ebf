package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/forwardproxy"
)

// benchBody is the size of a typical Cosmos DB query page.
var benchBody = `{"_rid":"x","Documents":[` + strings.Repeat(`{"id":"item-00","pk":"tenant-a","n":0,"name":"widget"},`, 40) + `{}],"_count":41}`

// BenchmarkDirectTLS is the baseline: the same keep-alive HTTPS client and body, served by a plain
// Go TLS server with no proxy in between.
func BenchmarkDirectTLS(b *testing.B) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, benchBody)
	}))
	defer srv.Close()
	client := srv.Client()
	runGets(b, client, srv.URL+"/dbs/db/colls/c/docs")
}

// BenchmarkReplay measures azvcr replay through the MITM proxy: TLS to azvcr, match, answer.
func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	const url = "https://bench.documents.azure.com/dbs/db/colls/c/docs"
	cas := &cassette.Cassette{Version: cassette.Version}
	it := &cassette.Interaction{
		Request:  cassette.Request{Method: "GET", URL: url, Headers: http.Header{}},
		Response: cassette.Response{Code: 200, Status: "200 OK", Body: benchBody, Headers: http.Header{"Content-Type": {"application/json"}}},
	}
	path := filepath.Join(dir, "bench.yaml")
	if err := cassette.Save(path, cas); err != nil {
		b.Fatal(err)
	}
	cas.Interactions = []*cassette.Interaction{it}
	// One recording per request the benchmark makes; FIFO hands each out once.
	for range b.N + 64 {
		cp := *it
		cas.Interactions = append(cas.Interactions, &cp)
	}
	if err := cassette.Save(path, cas); err != nil {
		b.Fatal(err)
	}
	ca, _, err := certs.InitCA(filepath.Join(dir, "ca"), false)
	if err != nil {
		b.Fatal(err)
	}
	srv := startProxy(b, engine.Replay, ca, forwardproxy.WithCassette(path))
	client := clientVia(srv)
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	runGets(b, client, url)
}

func runGets(b *testing.B, client *http.Client, url string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || n != int64(len(benchBody)) {
				b.Errorf("status %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
