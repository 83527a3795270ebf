package secrets

import (
	"fmt"
	"strings"
	"testing"
)

// sanitizedRecording is text shaped like a test-proxy recording after its sanitizers: header
// values and body keys replaced by "Sanitized", Cosmos session tokens, GUIDs, escaped JSON bodies.
func sanitizedRecording(entries int) []byte {
	var b strings.Builder
	b.WriteString("{\n  \"Entries\": [\n")
	for i := range entries {
		fmt.Fprintf(&b, `    {
      "RequestUri": "https://Sanitized.documents.azure.com/dbs/db/colls/c%d/docs?sig=Sanitized",
      "RequestMethod": "POST",
      "RequestHeaders": {
        "Authorization": "Sanitized",
        "x-ms-session-token": "0:-1#%d",
        "x-ms-activity-id": "00000000-0000-0000-0000-000000000000",
        "x-ms-documentdb-partitionkey": "[\u0022pk%d\u0022]",
        "User-Agent": "azsdk-go-azcosmos/v1.4.1 (go1.26.8; linux)"
      },
      "RequestBody": {"query": "SELECT * FROM c WHERE c.pk = @pk", "parameters": [{"name": "@pk", "value": "pk%d"}]},
      "StatusCode": 200,
      "ResponseHeaders": {
        "Content-Type": "application/json",
        "x-ms-request-charge": "2.83",
        "x-ms-session-token": "0:-1#%d",
        "etag": "\u00220000d4a1-0000-0700-0000-65a1b2c30000\u0022",
        "x-ms-request-id": "Sanitized",
        "x-ms-continuation": "Sanitized"
      },
      "ResponseBody": {"_rid": "Sanitized", "Documents": [{"id": "Sanitized", "primaryKey": "Sanitized", "accountKey": "Sanitized", "_etag": "\u00220000d4a1-0000-0700-0000-65a1b2c30000\u0022", "_ts": 1700000000, "value": "some text with a passwordless word and key=Sanitized;"}], "_count": 1}
    },
`, i, i, i, i, i)
	}
	b.WriteString("  ]\n}\n")
	return []byte(b.String())
}

func BenchmarkLintSanitizedRecording(b *testing.B) {
	data := sanitizedRecording(2000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if fs := Lint("rec.json", data); len(fs) != 0 {
			b.Fatalf("findings: %v", fs[0])
		}
	}
}

func BenchmarkLintDetectors(b *testing.B) {
	lines := strings.Split(string(sanitizedRecording(500)), "\n")
	for _, d := range detectors {
		b.Run(d.rule, func(b *testing.B) {
			for b.Loop() {
				for _, l := range lines {
					for _, v := range Views(l) {
						var buf [512]byte
						if d.applies(v.Text, lowerASCII(buf[:0], v.Text), longestBase64Run(v.Text), findHints(lowerASCII(nil, v.Text))) {
							d.find(v, nil)
						}
					}
				}
			}
		})
	}
}
