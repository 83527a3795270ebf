package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Durations of the throughput windows: long enough for several GC cycles at 100,000
// interactions, short enough for the whole run to stay near ten minutes.
const (
	warmUp  = time.Second
	window  = 4 * time.Second
	latency = 3 * time.Second
)

// startProxy starts `azvcr MODE --listen 127.0.0.1:0 ARGS...` and returns it with the dialer its
// clients use (CONNECT, then TLS trusting azvcr's CA) once it prints HTTPS_PROXY.
func (h *harness) startProxy(name, mode string, args ...string) (*proc, dialer, error) {
	p, err := h.start(name, nil, append([]string{h.azvcr, mode, "--listen", "127.0.0.1:0"}, args...)...)
	if err != nil {
		return nil, dialer{}, err
	}
	addr, err := p.waitLine("HTTPS_PROXY=http://", 10*time.Minute)
	if err != nil {
		return nil, dialer{}, err
	}
	ca, err := p.waitLine("AZVCR_CA_CERT=", 10*time.Second)
	if err != nil {
		return nil, dialer{}, err
	}
	roots, err := rootsFrom(ca)
	if err != nil {
		return nil, dialer{}, err
	}
	return p, dialer{addr: addr, proxy: true, host: cosmosHost, tls: &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}}, nil
}

// startReplay starts `azvcr replay` with every answer repeatable (the load repeats requests).
func (h *harness) startReplay(name, cassettePath string) (*proc, dialer, error) {
	return h.startProxy(name, "replay", "--cassette", cassettePath, "--repeat", "all")
}

// corpusCassette writes the first n interactions as name.yaml in the work directory.
func (h *harness) corpusCassette(name string, n int) (string, error) {
	path := filepath.Join(h.work, name+".yaml")
	_, err := writeCassette(path, n)
	return path, err
}

func corpusRequest(i int) *request {
	resp := live(i).Response
	return &request{wire: wire(i), code: resp.Code, length: len(resp.Body)}
}

// cosmosRequests are n Cosmos DB requests (no ARM: one host, one CONNECT per connection) spread
// evenly over the first size interactions, in the corpus's mix of kinds.
func cosmosRequests(size, n int) []*request {
	var reqs []*request
	period := len(kindPattern)
	stride := max(1, size/(n+n/(period-1)+1)) // room for the ARM interactions passed over
	// A stride one more than a multiple of the kinds' period steps through every kind in turn
	// (a stride of 24 took reads and creates only, so 100,000 interactions were replayed without
	// the queries 100 were replayed with).
	if stride >= period {
		stride -= (stride - 1) % period
	}
	for i := 0; i < size && len(reqs) < n; i += stride {
		if kindOf(i) != kindARM {
			reqs = append(reqs, corpusRequest(i))
		}
	}
	return reqs
}

// measured is a throughput window: the load result and the CPU the server side used in it.
type measured struct {
	loadResult
	cpuPerReq time.Duration // server-side CPU per answer
	busy      float64       // server-side CPU over wall time (1.0 = one core)
	client    float64       // the load generator's CPU over wall time
}

func (m measured) note(who string) string {
	return fmt.Sprintf("%s %.0f µs CPU per answer (%.0f%% of a core, load generator %.0f%%)", who, float64(m.cpuPerReq.Nanoseconds())/1e3, 100*m.busy, 100*m.client)
}

// load runs a window against d and meters the server side (procs) over it; with measure 0, the
// whole run is the window. With profiling on, CPU and allocation profiles of a timed window are
// taken from each profiled process among procs and written as label.
func (h *harness) load(label string, d dialer, conns int, src source, warm, measure time.Duration, procs ...*proc) (measured, error) {
	var used, client time.Duration
	var profiles []chan error
	open := func() func() {
		meter := meterCPU(procs...)
		if measure > 0 {
			profiles = h.captureProfiles(label, measure, procs)
		}
		return func() { used, client = meter.used(), meter.client() }
	}
	var res loadResult
	var err error
	if measure > 0 {
		res, err = drive(d, conns, src, warm, measure, open)
	} else {
		closed := open()
		res, err = drive(d, conns, src, 0, 0, nil)
		closed()
	}
	for _, p := range profiles {
		if perr := <-p; perr != nil {
			fmt.Fprintf(h.progress, "bench: profile of %s: %v\n", label, perr)
		}
	}
	m := measured{loadResult: res}
	if err != nil {
		return m, fmt.Errorf("%s: %w", label, err)
	}
	if res.done > 0 {
		m.cpuPerReq = used / time.Duration(res.done)
		m.busy = used.Seconds() / res.elapsed.Seconds()
		m.client = client.Seconds() / res.elapsed.Seconds()
	}
	return m, nil
}

// side is one side of a comparison: where its clients connect and which processes serve them.
type side struct {
	label string
	d     dialer
	src   source
	procs []*proc
}

// compare measures two sides in alternation, h.rounds times each, and keeps each side's best
// window: the highest throughput, or with one connection the lowest median. Other work on the
// machine only ever slows a window down. The kept results' total counts every answer of every
// round.
func (h *harness) compare(a, b side, conns int, warm, measure time.Duration) (measured, measured, error) {
	var best [2]measured
	var total [2]int
	for round := range h.rounds {
		for k, s := range []side{a, b} {
			m, err := h.load(s.label, s.d, conns, s.src, warm, measure, s.procs...)
			total[k] += m.total
			if err != nil {
				return best[0], best[1], err
			}
			if round == 0 || conns == 1 && m.percentile(0.5) < best[k].percentile(0.5) || conns > 1 && m.rate() > best[k].rate() {
				best[k] = m
			}
		}
	}
	best[0].total, best[1].total = total[0], total[1]
	return best[0], best[1], nil
}

// captureProfiles fetches a CPU profile and an allocation delta over the next d from each
// profiled process (azvcr built with -tags benchprof).
func (h *harness) captureProfiles(label string, d time.Duration, procs []*proc) []chan error {
	if h.profile == "" {
		return nil
	}
	var out []chan error
	secs := max(1, int(d.Seconds()))
	for _, p := range procs {
		if p.pprof == "" || p == h.floor {
			continue
		}
		for _, kind := range []string{"profile", "allocs"} {
			done := make(chan error, 1)
			out = append(out, done)
			url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", p.pprof, kind, secs)
			file := filepath.Join(h.profile, fileName(label)+"."+map[string]string{"profile": "cpu", "allocs": "allocs"}[kind]+".pprof")
			go func() { done <- fetch(url, file) }()
		}
	}
	return out
}

func fileName(label string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, label), "-")
}

func fetch(url, file string) error {
	resp, err := (&http.Client{Timeout: 15 * time.Minute}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// replayVsFloor: one recorded GET and one recorded query, replayed through the forward proxy at 16
// and 64 connections and at one, against the floor serving the same bytes.
func (h *harness) replayVsFloor() error {
	path, err := h.corpusCassette("two", 2)
	if err != nil {
		return err
	}
	p, viaProxy, err := h.startReplay("replay-two", path)
	if err != nil {
		return err
	}
	defer p.stop()
	direct, err := h.floorDialer(cosmosHost)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		name   string
		i      int
		target float64
	}{{"GET", getInteraction, 0.8}, {"query POST", queryInteraction, 0.6}} {
		src := cycle([]*request{corpusRequest(c.i)})
		for _, conns := range []int{16, 64} {
			label := fmt.Sprintf("replay one recorded %s, %d connections", c.name, conns)
			f, a, err := h.compare(side{"floor " + label, direct, src, []*proc{h.floor}}, side{label, viaProxy, src, []*proc{p}}, conns, warmUp, window)
			if err != nil {
				return err
			}
			ratio := a.rate() / f.rate()
			h.add(row{measure: label, floor: rate(f.rate()), azvcr: rate(a.rate()), ratio: times(ratio),
				target: fmt.Sprintf("≥ %.1f×", c.target), checked: true, ok: ratio >= c.target,
				note: f.note("floor") + "; " + a.note("azvcr")})
		}
		label := fmt.Sprintf("p50 added over the floor, %s, 1 connection", c.name)
		f, a, err := h.compare(side{"floor " + label, direct, src, []*proc{h.floor}}, side{label, viaProxy, src, []*proc{p}}, 1, warmUp, latency)
		if err != nil {
			return err
		}
		added := a.percentile(0.5) - f.percentile(0.5)
		h.add(row{measure: label, floor: dur(f.percentile(0.5)), azvcr: dur(a.percentile(0.5)), ratio: signed(added),
			target: "≤ +100 µs", checked: true, ok: added <= 100*time.Microsecond,
			note: fmt.Sprintf("p99 floor %s, azvcr %s; %s; %s", dur(f.percentile(0.99)), dur(a.percentile(0.99)), f.note("floor"), a.note("azvcr"))})
	}
	return nil
}
