package testproxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// BenchmarkCentralSanitizers is the cost of the 153 central sanitizers over one ARM exchange (a
// 4 KB JSON answer), as /Record/Stop and a playback load pay it per entry; the live-request
// benchmark is what each proxied playback request pays.
func BenchmarkCentralSanitizers(b *testing.B) {
	g := newRegistry()
	sans := g.resolve(g.serverList())
	body := `{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a","name":"a","properties":{` +
		strings.Repeat(`"field":"value with some text in it","locations":[{"id":"a-westus","locationName":"West US","failoverPriority":0}],`, 30) + `"x":1}}`
	exchange := func() *cassette.Interaction {
		return &cassette.Interaction{
			Request: cassette.Request{Method: "GET", URL: "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a?api-version=2025-10-15",
				Headers: http.Header{"Authorization": {"Bearer x"}, "Accept": {"application/json"}, "User-Agent": {"ua"}, "X-Ms-Client-Request-Id": {"c"}}},
			Response: cassette.Response{Code: 200, Body: body, Headers: http.Header{"Content-Type": {"application/json"}, "X-Ms-Request-Id": {"r"}, "Date": {"d"}}},
		}
	}
	b.Run("recorded entry", func(b *testing.B) {
		for b.Loop() {
			sanitizeRecording(sans, []*cassette.Interaction{exchange()})
		}
	})
	b.Run("realistic entries, per entry", func(b *testing.B) {
		entries := benchEntries(b)
		copies := make([][]*cassette.Interaction, 0, 64)
		for b.Loop() {
			if len(copies) == 0 {
				b.StopTimer()
				for range 64 {
					copies = append(copies, deepCopy(entries))
				}
				b.StartTimer()
			}
			its := copies[len(copies)-1]
			copies = copies[:len(copies)-1]
			for _, it := range its { // one by one: the cost of an entry, not of sharing out
				sanitizeRecording(sans, []*cassette.Interaction{it})
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(entries)), "ns/entry")
	})
	b.Run("live request", func(b *testing.B) {
		rule := requestRule{plan: compilePlan(sans), bodies: true}
		for b.Loop() {
			req := exchange().Request
			rule.RedactRequest(&req)
		}
	})
}
