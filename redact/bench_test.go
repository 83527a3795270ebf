package redact_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/internal/cputime"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// largeQueryBody is a Cosmos DB query answer of about 1 MiB: documents with ids, partition
// keys, text, numbers, nested objects and the system fields.
func largeQueryBody() string {
	var docs []string
	for i, n := 0, 0; n < 1<<20; i++ {
		docs = append(docs, fmt.Sprintf(`{"id":"order-%06d","customerId":"cust-%04d","pk":"tenant-%02d","status":"shipped",`+
			`"note":"Deliver to the back door; ring twice and wait. Order placed through the mobile app.",`+
			`"lines":[{"sku":"SKU-%05d","qty":%d,"price":%d.99},{"sku":"SKU-%05d","qty":1,"price":5.49}],`+
			`"address":{"street":"%d Main Street","city":"Springfield","zip":"%05d"},"placedAt":"2024-03-%02dT10:%02d:00Z",`+
			`"_rid":"gAABAIAAAAE%08dAA==","_self":"dbs/gAABAA==/colls/gAABAIAAAAE=/docs/gAABAIAAAAE%08dAA==/",`+
			`"_etag":"\"0000d917-0000-0000-0000-65e5b0c8%04d\"","_attachments":"attachments/","_ts":17000%05d}`,
			i, i%1000, i%16, i%50000, i%7+1, i%90+10, (i+1)%50000, i, i%99999, i%28+1, i%60, i, i, i%10000, i))
		n += len(docs[len(docs)-1]) + 1
	}
	return `{"_rid":"gAABAIAAAAE=","Documents":[` + strings.Join(docs, ",") + `],"_count":` + fmt.Sprint(len(docs)) + `}`
}

// liveRequest is what a Cosmos DB SDK sends to create a document, as replay redacts it on every
// request before matching.
func liveRequest() cassette.Request {
	return cassette.Request{
		Method: "POST", URL: "https://acct.documents.azure.com/dbs/db/colls/orders/docs",
		Headers: http.Header{
			"Authorization":                         {"type%3Dmaster%26ver%3D1.0%26sig%3DGh2Yd8zq5J1mD0kq1Xo7kV0N6m9y3m3O8vY9xw2l0sE%3D"},
			"X-Ms-Date":                             {"Tue, 04 Mar 2025 10:00:00 GMT"},
			"X-Ms-Version":                          {"2020-07-15"},
			"X-Ms-Documentdb-Partitionkey":          {`["tenant-01"]`},
			"X-Ms-Activity-Id":                      {"d5b1f7a2-0c44-4e1b-8f3a-9a6b2c1d0e9f"},
			"X-Ms-Session-Token":                    {"0:-1#12"},
			"Content-Type":                          {"application/json"},
			"User-Agent":                            {"azsdk-go-azcosmos/v1.3.0 (go1.26; linux)"},
			"Accept":                                {"application/json"},
			"X-Ms-Cosmos-Sdk-Supportedcapabilities": {"1"},
		},
		Body: `{"id":"order-000042","customerId":"cust-0042","pk":"tenant-01","status":"new","note":"Deliver to the back door; ring twice and wait.",` +
			`"lines":[{"sku":"SKU-00042","qty":2,"price":19.99}],"address":{"street":"42 Main Street","city":"Springfield","zip":"00042"}}`,
	}
}

func BenchmarkRedactLiveRequest(b *testing.B) {
	r := redact.DefaultRules()
	defer cputime.Report(b)()
	for b.Loop() {
		req := liveRequest()
		r.Request(&req)
	}
}

func BenchmarkRedactLargeResponse(b *testing.B) {
	r := redact.DefaultRules()
	body := largeQueryBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		resp := cassette.Response{Code: 200, Body: body, Headers: http.Header{"Content-Type": {"application/json"}}}
		r.Response(&resp)
	}
}

// BenchmarkJSONValidLargeBody is the baseline for BenchmarkRedactLargeResponse: reading the
// same body once with the standard library's JSON scanner.
func BenchmarkJSONValidLargeBody(b *testing.B) {
	body := []byte(largeQueryBody())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !json.Valid(body) {
			b.Fatal("not JSON")
		}
	}
}

// probeRequests are replay's match probes (see engine.matchProbe): the live request with only
// the headers a match reads, as redacted on every replayed request. A Cosmos point read, a Cosmos
// query and an ARM GET.
func probeRequests() map[string]func() cassette.Request {
	return map[string]func() cassette.Request{
		"GET": func() cassette.Request {
			return cassette.Request{
				Method: "GET", URL: "https://acct.documents.azure.com/dbs/db/colls/orders/docs/item-000001", Host: "acct.documents.azure.com",
				Headers: http.Header{"X-Ms-Documentdb-Partitionkey": {`["tenant-01"]`}},
			}
		},
		"Query": func() cassette.Request {
			body := `{"query":"SELECT * FROM c WHERE c.pk = @pk","parameters":[{"name":"@pk","value":"tenant-01"}]}`
			return cassette.Request{
				Method: "POST", URL: "https://acct.documents.azure.com/dbs/db/colls/orders/docs", Host: "acct.documents.azure.com",
				Headers: http.Header{
					"Content-Type":                 {"application/query+json"},
					"X-Ms-Documentdb-Partitionkey": {`["tenant-01"]`},
					"X-Ms-Documentdb-Isquery":      {"True"},
				},
				Body: body, ContentLength: int64(len(body)),
			}
		},
		"ARM": func() cassette.Request {
			return cassette.Request{
				Method: "GET", Host: "management.azure.com",
				URL:     "https://management.azure.com/subscriptions/6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/acct?api-version=2024-11-15",
				Headers: http.Header{},
			}
		},
	}
}

func BenchmarkRedactProbe(b *testing.B) {
	probes := probeRequests()
	for _, name := range []string{"GET", "Query", "ARM"} {
		b.Run(name, func(b *testing.B) {
			r := redact.DefaultRules()
			mk := probes[name]
			b.ReportAllocs()
			defer cputime.Report(b)()
			for b.Loop() {
				req := mk()
				r.Request(&req)
			}
		})
	}
}
