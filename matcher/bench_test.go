package matcher

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// benchRequest is a realistic Cosmos request: a parameterised query page with a continuation.
func benchRequest(i int) *cassette.Request {
	return &cassette.Request{
		Method: "POST",
		URL:    fmt.Sprintf("https://acct.documents.azure.com/dbs/db/colls/c%d/docs", i%50),
		Body:   fmt.Sprintf(`{"query":"SELECT * FROM c WHERE c.n >= @min AND c.pk = @pk ORDER BY c.n","parameters":[{"name":"@min","value":%d},{"name":"@pk","value":"tenant-%d"}]}`, i, i%7),
		Headers: http.Header{
			"Content-Type":                 {"application/query+json"},
			"X-Ms-Documentdb-Isquery":      {"True"},
			"X-Ms-Documentdb-Partitionkey": {fmt.Sprintf(`["tenant-%d"]`, i%7)},
			"X-Ms-Continuation":            {fmt.Sprintf(`{"token":"+RID:~gAABAI%06d","range":{"min":"","max":"FF"}}`, i)},
			"X-Ms-Max-Item-Count":          {"7"},
			"Authorization":                {"REDACTED"},
			"X-Ms-Date":                    {"Sat, 01 Jan 2000 00:00:00 GMT"},
		},
	}
}

// BenchmarkNext measures the cost of answering one request against cassettes of 100, 10k and
// 100k interactions. The index is a hash map keyed by the canonical request, so the cost per
// request should be flat in the cassette size: canonicalising the live request dominates.
func BenchmarkNext(b *testing.B) {
	for _, size := range []int{100, 10_000, 100_000} {
		its := make([]*cassette.Interaction, size)
		for i := range its {
			its[i] = &cassette.Interaction{ID: i, Request: *benchRequest(i), Response: cassette.Response{Code: 200}}
		}
		x, err := New(its, WithRepeat(RepeatAll)) // every lookup is a hit, however many run
		if err != nil {
			b.Fatal(err)
		}
		// Live requests are prepared up front; matching, not building them, is measured.
		live := make([]*cassette.Request, 1024)
		for i := range live {
			live[i] = benchRequest((i * 7919) % size)
		}
		b.Run(fmt.Sprintf("interactions=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if it, miss := x.Next(live[i%len(live)]); it == nil {
					b.Fatalf("miss: %s", miss)
				}
				i++
			}
		})
	}
}

// BenchmarkKeyDeepJSON keys a JSON body nested 20,000 and 200,000 levels deep, with numbers and
// keys to sort at every level; make bench checks the times stay near ten times apart (linear).
// (Below 20,000 levels the body fits the processor's caches and runs faster per byte.)
func BenchmarkKeyDeepJSON(b *testing.B) {
	for _, depth := range []int{20_000, 200_000} {
		body := strings.Repeat(`{"z":1e21,"a":[-0.50,`, depth) + "1" + strings.Repeat("]}", depth)
		r := &cassette.Request{Method: "PUT", URL: "https://acct.documents.azure.com/dbs/d/colls/c/docs/x", Body: body,
			Headers: http.Header{"Content-Type": {"application/json"}}}
		b.Run(fmt.Sprintf("depth=%dk", depth/1000), func(b *testing.B) {
			for b.Loop() {
				if _, err := Key(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
