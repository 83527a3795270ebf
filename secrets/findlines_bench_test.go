package secrets

import (
	"fmt"
	"testing"

	"github.com/azvcr/azvcr/internal/cputime"
)

// recordingLines are lines of a test-proxy recording of Cosmos DB queries that differ from entry
// to entry (ids, etags, self links, timestamps, URIs), which a Scanner's memo never holds: each
// costs a findHits.
func recordingLines(n int) []string {
	var out []string
	for i := range n {
		out = append(out,
			fmt.Sprintf(`            "n": %d,`, 1000000+i),
			fmt.Sprintf(`        "_rid": "gAABAIAAAAE%07dAA==",`, i),
			fmt.Sprintf(`            "_self": "dbs/gAABAA==/colls/gAABAIAAAAE=/docs/gAABAIAAAAE%07dAA==/",`, i),
			fmt.Sprintf(`            "_etag": "\"0000d21c-0000-0800-0000-%07dabcde0000\"",`, i),
			fmt.Sprintf(`            "_ts": %d`, 1700000000+i),
			fmt.Sprintf(`        "Etag": "\"0000d21c-0000-0800-0000-%07dabcde0000\"",`, i),
			fmt.Sprintf(`      "RequestUri": "https://Sanitized.documents.azure.com/dbs/benchdb/colls/orders/docs/item-%07d",`, i),
			fmt.Sprintf(`            "value": "tenant-%d"`, i),
			fmt.Sprintf(`          "documentEndpoint": "https://acct-%07d.documents.azure.com:443/",`, i),
			fmt.Sprintf(`          "instanceId": "5b1c7e2a-8f3d-4a6b-9c0e-%012d",`, i),
			fmt.Sprintf(`        "X-Ms-Session-Token": "0:-1#%d"`, i),
		)
	}
	return out
}

// BenchmarkFindHitsLines is findHits over lines seen once each, as a Scanner reads the lines its
// memo does not hold.
func BenchmarkFindHitsLines(b *testing.B) {
	lines := recordingLines(1000)
	b.ReportAllocs()
	c0 := cputime.Now()
	for b.Loop() {
		for _, l := range lines {
			if hits := findHits(l, 0); len(hits) > 0 {
				b.Fatalf("%q: %v", l, hits)
			}
		}
	}
	b.ReportMetric(float64((cputime.Now()-c0).Nanoseconds())/float64(b.N*len(lines)), "cpu-ns/line")
}
