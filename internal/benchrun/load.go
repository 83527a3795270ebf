package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator: keep-alive connections, each a goroutine sending one request and reading
// its answer whole before the next. Requests are bytes prepared up front and answers are parsed
// with http.ReadResponse, so the client costs the same whatever serves it, and little.

// dialer opens one client connection: direct TLS to addr, TLS through an HTTP proxy's CONNECT
// (the way HTTPS_PROXY clients reach azvcr), or plain HTTP (the test-proxy protocol).
type dialer struct {
	addr  string      // where to connect: the server, or the proxy
	proxy bool        // send CONNECT host:443 first
	host  string      // the TLS server name and CONNECT target
	tls   *tls.Config // nil: plain HTTP
}

func (d dialer) dial() (net.Conn, *bufio.Reader, error) {
	c, err := net.Dial("tcp", d.addr)
	if err != nil {
		return nil, nil, err
	}
	if d.proxy {
		fmt.Fprintf(c, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", d.host, d.host)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("CONNECT: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || br.Buffered() > 0 {
			c.Close()
			return nil, nil, fmt.Errorf("CONNECT: %s", resp.Status)
		}
	}
	if d.tls != nil {
		cfg := d.tls.Clone()
		cfg.ServerName = d.host
		tc := tls.Client(c, cfg)
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("TLS: %w", err)
		}
		c = tc
	}
	return c, bufio.NewReaderSize(c, 32<<10), nil
}

// request is one prepared request and what its answer must be.
type request struct {
	wire   []byte
	code   int
	length int // -1: any
}

// source hands out the n-th request of a run (n counts from 0 across all connections), or nil
// when the run is over.
type source func(n int64) *request

func cycle(reqs []*request) source {
	return func(n int64) *request { return reqs[n%int64(len(reqs))] }
}

type loadResult struct {
	done    int             // answers received in the measured window
	elapsed time.Duration   // the measured window
	lat     []time.Duration // latency of each, sorted
	total   int             // answers received in all
}

func (r loadResult) rate() float64 { return float64(r.done) / r.elapsed.Seconds() }

func (r loadResult) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// drive runs conns connections over src: warm first, then a measured window of measure (or, when
// measure is 0, until src runs out, all of it measured). onWindow, if set, is called as the
// measured window opens, and what it returns as it closes. The first failure ends the run and is
// returned, with the count of answers received until then.
func drive(d dialer, conns int, src source, warm, measure time.Duration, onWindow func() func()) (loadResult, error) {
	var (
		seq      atomic.Int64
		measured atomic.Bool
		stop     atomic.Bool
		total    atomic.Int64
		mu       sync.Mutex
		firstErr error
		lats     [][]time.Duration
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		stop.Store(true)
	}
	if measure == 0 {
		measured.Store(true)
	}
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for range conns {
		c, br, err := d.dial()
		if err != nil {
			return loadResult{}, err
		}
		defer c.Close()
		lat := make([]time.Duration, 0, 1<<16)
		idx := len(lats)
		lats = append(lats, nil)
		wg.Go(func() {
			<-ready
			defer func() {
				mu.Lock()
				lats[idx] = lat
				mu.Unlock()
			}()
			for !stop.Load() {
				req := src(seq.Add(1) - 1)
				if req == nil {
					return
				}
				t0 := time.Now()
				if _, err := c.Write(req.wire); err != nil {
					fail(err)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					fail(err)
					return
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != req.code || req.length >= 0 && n != int64(req.length) {
					fail(fmt.Errorf("answer %d with %d bytes, want %d with %d (%v): %s", resp.StatusCode, n, req.code, req.length, err, firstLine(req.wire)))
					return
				}
				total.Add(1)
				if measured.Load() {
					lat = append(lat, time.Since(t0))
				}
			}
		})
	}
	start := time.Now()
	close(ready)
	var elapsed time.Duration
	if measure > 0 {
		time.Sleep(warm)
		closed := func() {}
		if onWindow != nil {
			closed = onWindow()
		}
		start = time.Now()
		measured.Store(true)
		time.Sleep(measure)
		measured.Store(false)
		elapsed = time.Since(start)
		closed()
		stop.Store(true)
	}
	wg.Wait() // with no window, until the source runs out or a connection fails
	if measure == 0 {
		elapsed = time.Since(start)
	}
	if firstErr != nil {
		return loadResult{total: int(total.Load())}, firstErr
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	return loadResult{done: len(all), elapsed: elapsed, lat: all, total: int(total.Load())}, nil
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\r' || c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}

// once sends one request on a fresh connection and waits for its answer.
func once(d dialer, req *request) error {
	_, err := drive(d, 1, func(n int64) *request {
		if n > 0 {
			return nil
		}
		return req
	}, 0, 0, nil)
	return err
}
