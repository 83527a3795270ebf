package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/internal/cputime"

	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/matcher"
)

// The replay measures of `make bench`, in process: the corpus's recorded GET and query replayed
// through the forward proxy (CONNECT, TLS, wire) and through the engine alone. They are for
// profiling (go test -bench -cpuprofile); the ratios against the floor are benchrun's.

var replayKinds = []struct {
	name string
	i    int
}{{"GET", getInteraction}, {"query", queryInteraction}}

func BenchmarkEngineReplay(b *testing.B) {
	path := filepath.Join(b.TempDir(), "two.yaml")
	if _, err := writeCassette(path, 2); err != nil {
		b.Fatal(err)
	}
	e, err := engine.Open(engine.Replay, path, matcher.RepeatAll, engine.WithSharedAnswers()) // as the forward proxy builds it
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range replayKinds {
		b.Run(k.name, func(b *testing.B) {
			raw := wire(k.i)
			src := bytes.NewReader(raw)
			br := bufio.NewReader(src)
			b.ReportAllocs()
			defer cputime.Report(b)()
			for b.Loop() {
				src.Reset(raw)
				br.Reset(src)
				r, err := http.ReadRequest(br)
				if err != nil {
					b.Fatal(err)
				}
				r.URL.Scheme, r.URL.Host = "https", r.Host
				resp := e.Handle(r)
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				io.Copy(io.Discard, resp.Body)
			}
		})
	}
}

func BenchmarkProxyReplay(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "two.yaml")
	if _, err := writeCassette(path, 2); err != nil {
		b.Fatal(err)
	}
	ca, _, err := certs.InitCA(filepath.Join(dir, "ca"), false)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := forwardproxy.New(engine.Replay, forwardproxy.WithCassette(path), forwardproxy.WithCA(ca),
		forwardproxy.WithRepeat(matcher.RepeatAll), forwardproxy.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	roots, err := rootsFrom(ca.CertPath)
	if err != nil {
		b.Fatal(err)
	}
	d := dialer{addr: srv.Addr(), proxy: true, host: cosmosHost, tls: &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}}
	driveReplay(b, d)
}

// BenchmarkFloorReplay is the same load against the floor, in process.
func BenchmarkFloorReplay(b *testing.B) {
	p, err := makePKI(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: &floor{}}
	go srv.Serve(ln)
	defer srv.Close()
	roots, err := rootsFrom(p.caFile)
	if err != nil {
		b.Fatal(err)
	}
	driveReplay(b, dialer{addr: ln.Addr().String(), host: cosmosHost, tls: &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}})
}

func driveReplay(b *testing.B, d dialer) {
	for _, k := range replayKinds {
		for _, conns := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/%d", k.name, conns), func(b *testing.B) {
				req := corpusRequest(k.i)
				b.ReportAllocs()
				defer cputime.Report(b)()
				var mu sync.Mutex
				n := 0
				_, err := drive(d, conns, func(int64) *request {
					mu.Lock()
					defer mu.Unlock()
					if n >= b.N {
						return nil
					}
					n++
					return req
				}, 0, 0, nil)
				if err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
