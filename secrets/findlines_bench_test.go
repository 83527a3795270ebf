package secrets

import (
	"bytes"
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

// BenchmarkScannerRecording scans a recording of Cosmos DB queries as /Record/Stop does, written
// in pieces of 64 KB: per entry, lines that come back in every entry (headers, the shape of the
// bodies) and lines of its own.
func BenchmarkScannerRecording(b *testing.B) {
	const entries = 20000
	var text []byte
	own := recordingLines(entries)
	per := len(own) / entries
	for i := range entries {
		text = append(text, `    {
      "RequestMethod": "POST",
      "RequestHeaders": {
        "Accept-Encoding": "gzip",
        "Authorization": "Sanitized",
        "Content-Type": "application/query+json",
        "User-Agent": "azsdk-go-azcosmos/v1.5.0 (go1.26.8; linux)",
        "X-Ms-Activity-Id": "00000000-0000-0000-0000-000000000000",
        "X-Ms-Date": "Thu, 13 Nov 2025 10:00:00 GMT",
        "X-Ms-Documentdb-Isquery": "True",
        "X-Ms-Version": "2020-11-05"
      },
      "RequestBody": {
        "query": "SELECT * FROM c WHERE c.pk = @pk AND c.n >= @min ORDER BY c.n",
        "parameters": [
          {
            "name": "Sanitized",
      "StatusCode": 200,
      "ResponseHeaders": {
        "Content-Type": "application/json",
        "X-Ms-Activity-Id": "00000000-0000-0000-0000-000000000000",
        "X-Ms-Item-Count": "2",
        "X-Ms-Request-Charge": "1",
`...)
		for _, l := range own[i*per : (i+1)*per] {
			text = append(append(text, l...), '\n')
		}
	}
	lines := bytes.Count(text, []byte("\n"))
	b.SetBytes(int64(len(text)))
	c0 := cputime.Now()
	for b.Loop() {
		s := NewScanner("rec.json")
		for p := text; len(p) > 0; {
			n := min(len(p), 64<<10)
			s.Write(p[:n])
			p = p[n:]
		}
		if found := s.Close(); len(found) > 0 {
			b.Fatal(found[0])
		}
	}
	b.ReportMetric(float64((cputime.Now()-c0).Nanoseconds())/float64(b.N*lines), "cpu-ns/line")
}
