package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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

func corpusRequest(i int) *request {
	resp := live(i).Response
	return &request{wire: wire(i), code: resp.Code, length: len(resp.Body)}
}

// cosmosRequests are n Cosmos DB requests (no ARM: one host, one CONNECT per connection) spread
// evenly over the first size interactions.
func cosmosRequests(size, n int) []*request {
	var reqs []*request
	stride := max(1, size/n)
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
}

func (m measured) note(who string) string {
	return fmt.Sprintf("%s %.0f µs CPU per answer (%.0f%% of a core)", who, float64(m.cpuPerReq.Nanoseconds())/1e3, 100*m.busy)
}

// load runs a window against d and meters the server side (procs) over it; with measure 0, the
// whole run is the window. With profiling on, CPU and allocation profiles of a timed window are
// taken from each profiled process among procs and written as label.
func (h *harness) load(label string, d dialer, conns int, src source, warm, measure time.Duration, procs ...*proc) (measured, error) {
	var used time.Duration
	var profiles []chan error
	open := func() func() {
		meter := meterCPU(procs...)
		if measure > 0 {
			profiles = h.captureProfiles(label, measure, procs)
		}
		return func() { used = meter.used() }
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
	path := filepath.Join(h.work, "two.yaml")
	if _, err := writeCassette(path, 2); err != nil {
		return err
	}
	p, viaProxy, err := h.startProxy("replay-two", "replay", "--cassette", path, "--repeat", "all")
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

// startAndScale: exec to first answer at 1,000 and 100,000 interactions with peak RSS, then
// throughput at 100,000 interactions against 100 (the same load, the same process kind).
func (h *harness) startAndScale() error {
	small := filepath.Join(h.work, "c1000.yaml")
	if _, err := writeCassette(small, 1000); err != nil {
		return err
	}
	if err := h.writeBig(); err != nil {
		return err
	}
	first := corpusRequest(getInteraction)
	startOnce := func(name, path string) (*proc, dialer, time.Duration, error) {
		p, d, err := h.startProxy(name, "replay", "--cassette", path, "--repeat", "all")
		if err != nil {
			return nil, d, 0, err
		}
		if err := once(d, first); err != nil {
			p.stop()
			return nil, d, 0, err
		}
		return p, d, time.Since(p.started), nil
	}
	// What any start costs (exec, CA, listener, first CONNECT and handshake): two interactions.
	two := filepath.Join(h.work, "start2.yaml")
	if _, err := writeCassette(two, 2); err != nil {
		return err
	}
	var base []time.Duration
	for range 5 {
		p, _, t, err := startOnce("replay-2", two)
		if err != nil {
			return err
		}
		base = append(base, t)
		p.stop()
	}
	slices.Sort(base)
	h.add(row{measure: "start to first answer, 2 interactions", azvcr: dur(base[len(base)/2]),
		note: "what starting costs apart from the cassette: exec through taskset, the CA, the listener, the first CONNECT and TLS handshake (median of 5)"})

	var took []time.Duration
	var peak int64
	for range 7 {
		p, _, t, err := startOnce("replay-1000", small)
		if err != nil {
			return err
		}
		took = append(took, t)
		peak = max(peak, p.statusKB("VmHWM"))
		p.stop()
	}
	slices.Sort(took)
	st, _ := os.Stat(small)
	h.add(row{measure: "start to first answer, 1,000 interactions", azvcr: dur(took[len(took)/2]), ratio: "",
		target: "≤ 30 ms", checked: true, ok: took[len(took)/2] <= 30*time.Millisecond,
		note: fmt.Sprintf("median of %d (fastest %s, slowest %s); cassette %s; peak RSS %s; exec through taskset and the first CONNECT and TLS handshake included", len(took), dur(took[0]), dur(took[len(took)-1]), mb(st.Size()), mib(peak))})

	bigProc, bigDial, t, err := startOnce("replay-100000", h.big)
	if err != nil {
		return err
	}
	defer bigProc.stop()
	hwm, rss := bigProc.statusKB("VmHWM"), bigProc.statusKB("VmRSS")
	h.add(row{measure: "start to first answer, 100,000 interactions", azvcr: dur(t), target: "≤ 1.5 s", checked: true, ok: t <= 1500*time.Millisecond,
		note: fmt.Sprintf("cassette %s; RSS after the first answer %s", mb(h.bigSize), mib(rss))})
	h.add(row{measure: "peak RSS at start, 100,000 interactions", azvcr: mib(hwm), ratio: fmt.Sprintf("%.2f× the file", float64(hwm*1024)/float64(h.bigSize)),
		target: "≤ 2× the file", checked: true, ok: hwm*1024 <= 2*h.bigSize})

	if err := h.profileOpen(small, "start-1000"); err != nil {
		return err
	}
	if err := h.profileOpen(h.big, "start-100000"); err != nil {
		return err
	}

	hundred := filepath.Join(h.work, "c100.yaml")
	if _, err := writeCassette(hundred, 100); err != nil {
		return err
	}
	smallProc, smallDial, err := h.startProxy("replay-100", "replay", "--cassette", hundred, "--repeat", "all")
	if err != nil {
		return err
	}
	defer smallProc.stop()
	const conns = 16
	s, b, err := h.compare(side{"replay 100 interactions, 16 connections", smallDial, cycle(cosmosRequests(100, 100)), []*proc{smallProc}},
		side{"replay 100,000 interactions, 16 connections", bigDial, cycle(cosmosRequests(100_000, 4096)), []*proc{bigProc}}, conns, 2*warmUp, 2*window)
	if err != nil {
		return err
	}
	ratio := b.rate() / s.rate()
	h.add(row{measure: "replay throughput, 100,000 ÷ 100 interactions, 16 connections", floor: rate(s.rate()), azvcr: rate(b.rate()),
		ratio: times(ratio), target: "≥ 0.9×", checked: true, ok: ratio >= 0.9,
		note: fmt.Sprintf("the floor column is azvcr at 100 interactions; p99 %s at 100, %s at 100,000; %s; %s", dur(s.percentile(0.99)), dur(b.percentile(0.99)), s.note("100:"), b.note("100,000:"))})
	return nil
}

// writeBig makes the 100,000-interaction cassette, or finds it from an earlier run.
func (h *harness) writeBig() error {
	if h.big != "" {
		return nil
	}
	t0 := time.Now()
	path, size, err := cachedCassette(h.cache, 100_000)
	if err != nil {
		return err
	}
	fmt.Fprintf(h.progress, "bench: %s (%s) ready in %s\n", path, mb(size), time.Since(t0).Round(time.Millisecond))
	h.big, h.bigSize = path, size
	return nil
}

// profileOpen profiles start-up in process (engine.Open, as `azvcr replay` does it before it
// listens), when profiling.
func (h *harness) profileOpen(cassettePath, label string) error {
	if h.profile == "" {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	p, err := h.start("open-"+label, nil, self, "open", "-in", cassettePath,
		"-cpuprofile", filepath.Join(h.profile, label+".cpu.pprof"), "-memprofile", filepath.Join(h.profile, label+".allocs.pprof"))
	if err != nil {
		return err
	}
	line, err := p.waitLine("RESULT ", 10*time.Minute)
	p.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(h.progress, "bench: profiled engine.Open of %s: %s\n", cassettePath, line)
	return nil
}
