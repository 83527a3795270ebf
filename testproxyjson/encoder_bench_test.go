package testproxyjson

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// benchExchange is a Cosmos DB item read as a test-proxy session records it.
func benchExchange(i int) *cassette.Interaction {
	doc := fmt.Sprintf(`{"id":"item-%07d","pk":"tenant-%d","n":%d,"name":"widget %07d","description":"a small blue widget","price":%d.95,"_rid":"gAABAIAAAAE%07dAA==","_self":"dbs/gAABAA==/colls/gAABAIAAAAE=/docs/gAABAIAAAAE%07dAA==/","_etag":"\"0000d21c-0000-0800-0000-%07dabcde0000\"","_attachments":"attachments/","_ts":%d}`,
		i, i%16, 1000000+i, i, 10+i%90, i, i, i, 1700000000+i)
	return &cassette.Interaction{ID: i,
		Request: cassette.Request{Method: "GET", URL: fmt.Sprintf("https://bench.documents.azure.com/dbs/benchdb/colls/orders/docs/item-%07d", i),
			Headers: http.Header{"Accept-Encoding": {"gzip"}, "Authorization": {"Sanitized"},
				"User-Agent": {"azsdk-go-azcosmos/v1.5.0 (go1.26.8; linux)"}, "X-Ms-Activity-Id": {fmt.Sprintf("9b2e4c1a-0d3f-4e5a-8b6c-%012d", i)},
				"X-Ms-Date": {"Tue, 01 Jan 2030 00:00:00 GMT"}, "X-Ms-Version": {"2020-07-15"}, "X-Ms-Documentdb-Partitionkey": {fmt.Sprintf(`["tenant-%d"]`, i%16)}},
			HeaderNames: []string{"Accept-Encoding", "Authorization", "User-Agent", "x-ms-activity-id", "x-ms-date", "x-ms-version", "x-ms-documentdb-partitionkey"}},
		Response: cassette.Response{Code: 200, Status: "200 OK", Body: doc,
			Headers: http.Header{"Content-Type": {"application/json"}, "Content-Length": {fmt.Sprint(len(doc))}, "Date": {"Tue, 01 Jan 2030 00:00:00 GMT"},
				"Etag": {fmt.Sprintf(`"0000d21c-0000-0800-0000-%07dabcde0000"`, i)}, "X-Ms-Activity-Id": {"00000000-0000-0000-0000-000000000000"},
				"X-Ms-Request-Charge": {"1"}, "X-Ms-Session-Token": {fmt.Sprintf("0:-1#%d", 100+i%1000)}}},
	}
}

// BenchmarkEncoder writes 1,000 exchanges as a /Record/Stop does.
func BenchmarkEncoder(b *testing.B) {
	its := make([]*cassette.Interaction, 1000)
	for i := range its {
		its[i] = benchExchange(i)
	}
	its[1].Response.Body = strings.Replace(its[1].Response.Body, `"n"`, "\n  \"n\"", 1)
	b.ReportAllocs()
	for b.Loop() {
		enc := NewEncoder(io.Discard, map[string]string{"seed": "1"})
		for _, it := range its {
			if err := enc.Entry(it); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
