package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// startAndScale: exec to first answer at 1,000 and 100,000 interactions with peak RSS, then
// throughput at 100,000 interactions against 100 (the same load, the same process kind).
func (h *harness) startAndScale() error {
	small, err := h.corpusCassette("c1000", 1000)
	if err != nil {
		return err
	}
	if err := h.writeBig(); err != nil {
		return err
	}
	first := corpusRequest(getInteraction)
	startOnce := func(name, path string) (*proc, dialer, time.Duration, error) {
		p, d, err := h.startReplay(name, path)
		if err != nil {
			return nil, d, 0, err
		}
		if err := once(d, first); err != nil {
			p.stop()
			return nil, d, 0, err
		}
		return p, d, time.Since(p.started), nil
	}
	// starts starts azvcr over path n times, each to its first answer: the times, sorted, and the
	// highest peak RSS.
	starts := func(name, path string, n int) ([]time.Duration, int64, error) {
		var took []time.Duration
		var peak int64
		for range n {
			p, _, t, err := startOnce(name, path)
			if err != nil {
				return nil, 0, err
			}
			took = append(took, t)
			peak = max(peak, p.statusKB("VmHWM"))
			p.stop()
		}
		slices.Sort(took)
		return took, peak, nil
	}
	// The floor of any start: exec of /bin/true the way azvcr is exec'd (through taskset).
	floorStart, err := h.execFloor()
	if err != nil {
		return err
	}
	if err := h.machineFloors(floorStart); err != nil {
		return err
	}
	// What any azvcr start costs (exec, CA, listener, first CONNECT and handshake): two interactions.
	two, err := h.corpusCassette("start2", 2)
	if err != nil {
		return err
	}
	base, _, err := starts("replay-2", two, 5)
	if err != nil {
		return err
	}
	h.add(row{measure: "start to first answer, 2 interactions", floor: dur(floorStart), azvcr: dur(base[len(base)/2]), ratio: signed(base[len(base)/2] - floorStart),
		note: "what starting costs apart from the cassette: exec through taskset, the CA, the listener, the first CONNECT and TLS handshake (median of 5); the floor column of the start rows is exec of /bin/true through taskset, to its exit"})

	took, peak, err := starts("replay-1000", small, 7)
	if err != nil {
		return err
	}
	st, _ := os.Stat(small)
	h.add(row{measure: "start to first answer, 1,000 interactions", floor: dur(floorStart), azvcr: dur(took[len(took)/2]), ratio: signed(took[len(took)/2] - floorStart),
		target: "≤ 30 ms", checked: true, ok: took[len(took)/2] <= 30*time.Millisecond,
		note: fmt.Sprintf("median of %d (fastest %s, slowest %s); cassette %s; peak RSS %s; exec through taskset and the first CONNECT and TLS handshake included", len(took), dur(took[0]), dur(took[len(took)-1]), mb(st.Size()), mib(peak))})

	bigProc, bigDial, t, err := startOnce("replay-100000", h.big)
	if err != nil {
		return err
	}
	defer bigProc.stop()
	hwm, rss := bigProc.statusKB("VmHWM"), bigProc.statusKB("VmRSS")
	h.add(row{measure: "start to first answer, 100,000 interactions", floor: dur(floorStart), azvcr: dur(t), ratio: signed(t - floorStart), target: "≤ 1.5 s", checked: true, ok: t <= 1500*time.Millisecond,
		note: fmt.Sprintf("cassette %s; RSS after the first answer %s", mb(h.bigSize), mib(rss))})
	h.add(row{measure: "peak RSS at start, 100,000 interactions", azvcr: mib(hwm), ratio: fmt.Sprintf("%.2f× the file", float64(hwm*1024)/float64(h.bigSize)),
		target: "≤ 2× the file", checked: true, ok: hwm*1024 <= 2*h.bigSize})

	if err := h.profileOpen(small, "start-1000"); err != nil {
		return err
	}
	if err := h.profileOpen(h.big, "start-100000"); err != nil {
		return err
	}

	hundred, err := h.corpusCassette("c100", 100)
	if err != nil {
		return err
	}
	smallProc, smallDial, err := h.startReplay("replay-100", hundred)
	if err != nil {
		return err
	}
	defer smallProc.stop()
	// The two cassettes get the same requests but for where they lie: as many distinct ones, in
	// the same mix of kinds, spread over the whole of each cassette. Only the cassette's size
	// differs. A third window replays 4,096 distinct requests from the large one, which shows
	// what a larger working set costs (caches of the processor and of azvcr) apart from it.
	const conns = 16
	few := cosmosRequests(100, 100)
	s, b, err := h.compare(side{"replay 100 interactions, 16 connections", smallDial, cycle(few), []*proc{smallProc}},
		side{"replay 100,000 interactions, 16 connections", bigDial, cycle(cosmosRequests(100_000, len(few))), []*proc{bigProc}}, conns, 2*warmUp, 2*window)
	if err != nil {
		return err
	}
	ratio := b.rate() / s.rate()
	h.add(row{measure: "replay throughput, 100,000 ÷ 100 interactions, 16 connections", floor: rate(s.rate()), azvcr: rate(b.rate()),
		ratio: times(ratio), target: "≥ 0.9×", checked: true, ok: ratio >= 0.9,
		note: fmt.Sprintf("the floor column is azvcr at 100 interactions; %d distinct requests cycled on each, in the same mix, spread over each cassette; p99 %s at 100, %s at 100,000; %s; %s",
			len(few), dur(s.percentile(0.99)), dur(b.percentile(0.99)), s.note("100:"), b.note("100,000:"))})
	many := cosmosRequests(100_000, 4096)
	w, err := h.load("replay 4,096 distinct requests, 100,000 interactions", bigDial, conns, cycle(many), 2*warmUp, 2*window, bigProc)
	if err != nil {
		return err
	}
	h.add(row{measure: fmt.Sprintf("replay throughput, 4,096 ÷ %d distinct requests, 100,000 interactions", len(few)), floor: rate(b.rate()), azvcr: rate(w.rate()),
		ratio: times(w.rate() / b.rate()),
		note:  fmt.Sprintf("the floor column is the row above's 100,000; what a working set larger than the processor's caches and azvcr's memos costs, whatever the cassette's size; p99 %s; %s", dur(w.percentile(0.99)), w.note("4,096:"))})
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

// execFloor is the median time to exec /bin/true and see it exit, pinned as azvcr is: what
// starting any process costs on this machine.
func (h *harness) execFloor() (time.Duration, error) {
	argv := []string{"/bin/true"}
	if h.pinned {
		argv = []string{"taskset", "-c", serverCore, "/bin/true"}
	}
	var took []time.Duration
	for range 7 {
		t0 := time.Now()
		if err := exec.Command(argv[0], argv[1:]...).Run(); err != nil {
			return 0, err
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	return took[len(took)/2], nil
}
