package testproxyjson

import (
	"io"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
)

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

// benchExchange is a Cosmos DB item read as a test-proxy session saves it, sanitized.
func benchExchange(i int) *cassette.Interaction { return cassettetest.CosmosItemRead(i, "Sanitized") }
