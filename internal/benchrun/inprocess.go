package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// inProcessBenchmarks are the Go benchmarks `make bench` has always run, with what each is
// compared with. They run in `go test`, on both cores.
var inProcessBenchmarks = []struct{ pkg, pattern string }{
	{"./recorder", "^BenchmarkInProcessReplay$"},
	{"./matcher", "^(BenchmarkNext|BenchmarkKeyDeepJSON)$"},
	{"./redact", "^(BenchmarkRedactLargeResponse|BenchmarkJSONValidLargeBody|BenchmarkRedactDeepJSON)$"},
	{"./cassette", "^BenchmarkParseMalformed$"},
}

// inProcess: the in-process recorder against go-vcr v4 on the same cassette (kept ≥ 10× faster),
// matching at 100,000 interactions against 100, and redaction of a 1 MiB answer against
// json.Valid over it.
func (h *harness) inProcess() error {
	ns := map[string]float64{}
	var log bytes.Buffer
	for _, b := range inProcessBenchmarks {
		args := []string{"test", "-run", "^$", "-bench", b.pattern, "-benchmem", "-count", "1", "-benchtime", "1s", b.pkg}
		if h.profile != "" {
			name := strings.TrimPrefix(b.pkg, "./")
			args = append(args, "-cpuprofile", filepath.Join(h.profile, "inprocess-"+name+".cpu.pprof"),
				"-memprofile", filepath.Join(h.profile, "inprocess-"+name+".allocs.pprof"), "-o", filepath.Join(h.work, name+".test"))
		}
		argv := append([]string{h.goTool}, args...)
		if h.pinned { // benchmarks in process measure one thing against another: both cores
			argv = append([]string{"taskset", "-c", serverCore + "," + clientCore}, argv...)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		out, err := cmd.CombinedOutput()
		log.Write(out)
		if err != nil {
			return fmt.Errorf("go test %s: %v\n%s", b.pkg, err, out)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark") && f[3] == "ns/op" {
				name := f[0][:strings.LastIndexByte(f[0], '-')] // drop -GOMAXPROCS
				ns[name], _ = strconv.ParseFloat(f[2], 64)
			}
		}
	}
	os.WriteFile(filepath.Join(h.work, "..", "bench-go.txt"), log.Bytes(), 0o644)
	need := func(names ...string) error {
		for _, n := range names {
			if ns[n] == 0 {
				return fmt.Errorf("no result for %s", n)
			}
		}
		return nil
	}
	for _, kind := range []string{"GET", "query"} {
		a, v := "BenchmarkInProcessReplay/"+kind+"/azvcr", "BenchmarkInProcessReplay/"+kind+"/go-vcr"
		if err := need(a, v); err != nil {
			return err
		}
		x := ns[v] / ns[a]
		h.add(row{measure: "in-process replay per request, " + kind + ", vs go-vcr v4", floor: nsop(ns[v]), azvcr: nsop(ns[a]),
			ratio: fmt.Sprintf("%.1f× faster", x), target: "≥ 10× faster", checked: true, ok: x >= 10,
			note: "the floor column is go-vcr v4 in process on the same 1,000-interaction cassette"})
	}
	small, large := "BenchmarkNext/interactions=100", "BenchmarkNext/interactions=100000"
	redactNs, validNs := "BenchmarkRedactLargeResponse", "BenchmarkJSONValidLargeBody"
	if err := need(small, large, redactNs, validNs); err != nil {
		return err
	}
	h.add(row{measure: "matching one request, 100,000 ÷ 100 interactions", floor: nsop(ns[small]), azvcr: nsop(ns[large]), ratio: times(ns[large] / ns[small]),
		note: "flat means no scan of the cassette; the floor column is 100 interactions"})
	h.add(row{measure: "redacting a 1 MiB query answer, vs json.Valid over it", floor: nsop(ns[validNs]), azvcr: nsop(ns[redactNs]), ratio: times(ns[redactNs] / ns[validNs]),
		note: "the floor column is json.Valid over the same body"})
	return h.hostileInput(ns)
}

// hostileInput: work that stays linear in hostile input. JSON ten times deeper should take
// about ten times longer (quadratic would be a hundred), and a cassette with a syntax error on
// its last line should fail in about the time it takes to load (locating the line by halving
// took eighteen parses).
func (h *harness) hostileInput(ns map[string]float64) error {
	for _, c := range []struct{ measure, small, large, note string }{
		{"keying JSON 200,000 ÷ 20,000 levels deep", "BenchmarkKeyDeepJSON/depth=20k", "BenchmarkKeyDeepJSON/depth=200k",
			"linear is about 10×; the floor column is 20,000 levels"},
		{"redacting JSON 20,000 ÷ 2,000 levels deep", "BenchmarkRedactDeepJSON/depth=2k", "BenchmarkRedactDeepJSON/depth=20k",
			"default rules and a $..name sanitizer; linear is about 10×; the floor column is 2,000 levels"},
	} {
		if ns[c.small] == 0 || ns[c.large] == 0 {
			return fmt.Errorf("no result for %s", c.measure)
		}
		x := ns[c.large] / ns[c.small]
		h.add(row{measure: c.measure, floor: nsop(ns[c.small]), azvcr: nsop(ns[c.large]), ratio: times(x), target: "≤ 30×", checked: true, ok: x <= 30, note: c.note})
	}
	fast, valid, bad := "BenchmarkParseMalformed/valid", "BenchmarkParseMalformed/valid-library", "BenchmarkParseMalformed/error-at-end"
	if ns[fast] == 0 || ns[valid] == 0 || ns[bad] == 0 {
		return fmt.Errorf("no result for %s", bad)
	}
	x := ns[bad] / ns[valid]
	h.add(row{measure: "a 1 MB cassette failing on its last line, vs the YAML library loading it", floor: nsop(ns[valid]), azvcr: nsop(ns[bad]), ratio: times(x),
		target: "≤ 5×", checked: true, ok: x <= 5,
		note: fmt.Sprintf("errors are the YAML library's (file:line as it reads them), so the floor column is the library loading the same cassette without the error; the fast reader loads it in %s (%s)", nsop(ns[fast]), times(ns[bad]/ns[fast]))})
	return nil
}

func nsop(ns float64) string {
	if ns >= 1e6 {
		return fmt.Sprintf("%.1f ms/op", ns/1e6)
	}
	return fmt.Sprintf("%.1f µs/op", ns/1e3)
}
