package testproxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// BenchmarkCentralSanitizers is the cost of the 153 central sanitizers, compiled as a session
// compiles them: over one ARM exchange (a 4 KB JSON answer) and over each realistic entry
// (testdata/bench-entries.json), as /Record/Stop and a playback load pay it per entry, beside
// the rule-by-rule way (redact.SanitizeAll) for comparison; the live-request benchmark is what
// each proxied playback request pays.
func BenchmarkCentralSanitizers(b *testing.B) {
	g := newRegistry()
	sans := g.resolve(g.serverList())
	p := compilePlan(sans)
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
			p.Entry(exchange(), recordingOptions)
		}
	})
	entries := benchEntries(b)
	perEntry := func(b *testing.B, sanitize func(*cassette.Interaction)) {
		var copies [][]*cassette.Interaction
		for b.Loop() {
			if len(copies) == 0 {
				b.StopTimer()
				for range 64 {
					copies = append(copies, deepCopy(entries))
				}
				b.StartTimer()
			}
			for _, it := range copies[len(copies)-1] {
				sanitize(it)
			}
			copies = copies[:len(copies)-1]
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(entries)), "ns/entry")
	}
	b.Run("realistic entries", func(b *testing.B) {
		perEntry(b, func(it *cassette.Interaction) { p.Entry(it, recordingOptions) })
	})
	b.Run("stop exchanges", func(b *testing.B) {
		// The Cosmos DB item reads BenchmarkRecordStop saves, as /Record/Stop sanitizes them.
		its := make([]*cassette.Interaction, 256)
		for i := range its {
			its[i] = stopExchange(i)
		}
		var copies [][]*cassette.Interaction
		for b.Loop() {
			if len(copies) == 0 {
				b.StopTimer()
				for range 16 {
					copies = append(copies, deepCopy(its))
				}
				b.StartTimer()
			}
			for _, it := range copies[len(copies)-1] {
				p.Entry(it, recordingOptions)
			}
			copies = copies[:len(copies)-1]
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(its)), "ns/entry")
	})
	b.Run("realistic entries, rule by rule", func(b *testing.B) {
		rules := entryRules(sans)
		perEntry(b, func(it *cassette.Interaction) { redact.SanitizeAll(rules, it, recordingOptions) })
	})
	b.Run("live request", func(b *testing.B) {
		rule := requestRule{plan: g.plan(g.serverList()), bodies: true}
		for b.Loop() {
			req := exchange().Request
			rule.RedactRequest(&req)
		}
	})
}
