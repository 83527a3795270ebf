package testproxy

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azvcr/azvcr/internal/cputime"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/secrets"
	"github.com/azvcr/azvcr/testproxyjson"
)

// BenchmarkRecordStop saves a 20,000-exchange session with the central sanitizers: whole (sanitize
// all, Marshal, Lint, write) and streamed (saveStream). cpu-s/op is the process's CPU time.
func BenchmarkRecordStop(b *testing.B) {
	const n = 20_000
	s := New(WithStorage(b.TempDir()))
	sans := s.reg.resolve(s.reg.serverList())
	dir := b.TempDir()
	b.Run("whole", func(b *testing.B) {
		c0 := cputime.Now()
		for b.Loop() {
			its := make([]*cassette.Interaction, n)
			for i := range its {
				its[i] = stopExchange(i)
			}
			its = sanitizeRecording(sans, its)
			data, err := testproxyjson.Marshal(&cassette.Cassette{Interactions: its}, map[string]string{"seed": "1"})
			if err != nil {
				b.Fatal(err)
			}
			if found := secrets.Lint("f", data); len(found) > 0 {
				b.Fatal(found[0])
			}
			cassette.WriteAtomic(filepath.Join(dir, "whole.json"), data)
		}
		b.ReportMetric((cputime.Now()-c0).Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run("stream", func(b *testing.B) {
		c0 := cputime.Now()
		for b.Loop() {
			var rec entries
			for i := range n {
				rec.add(stopExchange(i))
			}
			if _, herr := s.saveStream(filepath.Join(dir, "stream.json"), compilePlan(sans), &rec, map[string]string{"seed": "1"}); herr != nil {
				b.Fatal(herr.msg)
			}
			rec.free()
		}
		b.ReportMetric((cputime.Now()-c0).Seconds()/float64(b.N), "cpu-s/op")
	})
}

// BenchmarkPlaybackPrepare is what a playback session of 1,000 entries costs before its first
// answer: the recording parsed (/Playback/Start), sanitized with the central sanitizers (the
// requests; each response when it is served) and indexed (the first request). cpu-ms/op is the process's CPU time.
func BenchmarkPlaybackPrepare(b *testing.B) {
	const n = 1000
	its := make([]*cassette.Interaction, n)
	for i := range its {
		its[i] = stopExchange(i)
	}
	data, err := testproxyjson.Marshal(&cassette.Cassette{Interactions: its}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := New(WithStorage(b.TempDir()))
	p := compilePlan(s.reg.resolve(s.reg.serverList()))
	var parse, sanitize, index time.Duration
	c0 := cputime.Now()
	for b.Loop() {
		t0 := time.Now()
		c, _, err := testproxyjson.Parse("rec.json", data)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		loaded := p.Playback(c.Interactions)
		t2 := time.Now()
		if _, err := matcher.New(loaded, matcher.WithRecordMatcher(s.matcher)); err != nil {
			b.Fatal(err)
		}
		parse, sanitize, index = parse+t1.Sub(t0), sanitize+t2.Sub(t1), index+time.Since(t2)
	}
	b.ReportMetric(float64((cputime.Now()-c0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(parse.Microseconds())/1e3/float64(b.N), "parse-ms/op")
	b.ReportMetric(float64(sanitize.Microseconds())/1e3/float64(b.N), "sanitize-ms/op")
	b.ReportMetric(float64(index.Microseconds())/1e3/float64(b.N), "index-ms/op")
}

// stopExchange is a Cosmos DB item read as a test-proxy session records it, signed.
func stopExchange(i int) *cassette.Interaction {
	return cassettetest.CosmosItemRead(i, "type%3Dmaster%26ver%3D1.0%26sig%3D"+strings.Repeat("Zm9vYmFy", 5)+"MTIz%3D")
}
