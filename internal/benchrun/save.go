package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/matcher"
)

// memoryCap is where a child is stopped: 16 GiB, or less when the machine has less to spare (the
// issue saw cassette.Save of 100,000 interactions peak at 14.3 GiB, and the machine is shared).
func memoryCap() int64 {
	capKB := int64(16 << 20)
	if avail := statusField("/proc/meminfo", "MemAvailable"); avail > 0 {
		capKB = min(capKB, avail-2<<20)
	}
	return capKB
}

// cassetteSave: cassette.Save of 100,000 interactions (what `azvcr convert` and every whole-file
// YAML save call) in a process of its own.
func (h *harness) cassetteSave() error {
	if err := h.writeBig(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{self, "save", "-in", h.big, "-out", filepath.Join(h.work, "saved.yaml")}
	if h.profile != "" {
		args = append(args, "-cpuprofile", filepath.Join(h.profile, "cassette-save.cpu.pprof"), "-memprofile", filepath.Join(h.profile, "cassette-save.allocs.pprof"))
	}
	p, err := h.start("save", nil, args...)
	if err != nil {
		return err
	}
	defer p.stop()
	result := make(chan string, 1)
	go func() {
		line, err := p.waitLine("RESULT ", 10*time.Minute)
		if err != nil {
			line = "error " + err.Error()
		}
		result <- line
	}()
	var line string
	limit := memoryCap()
	deadline := time.After(h.patience)
	for line == "" {
		select {
		case line = <-result:
		case <-deadline:
			peak := p.statusKB("VmHWM")
			p.kill()
			h.add(row{measure: "cassette.Save, 100,000 interactions", azvcr: "> " + dur(h.patience), target: "≤ 3 s", checked: true,
				note: fmt.Sprintf("stopped after %s (loading included), peak RSS %s by then; -patience waits longer", dur(h.patience), mib(peak))})
			return nil
		case <-time.After(100 * time.Millisecond):
			if rss := p.statusKB("VmRSS"); rss > limit {
				p.kill()
				h.add(row{measure: "cassette.Save, 100,000 interactions", azvcr: "not finished", target: "≤ 3 s", checked: true,
					note: fmt.Sprintf("stopped when its RSS passed %s, what the machine could spare", mib(limit))})
				return nil
			}
		}
	}
	if rest, ok := strings.CutPrefix(line, "error "); ok {
		return fmt.Errorf("%s", rest)
	}
	f := map[string]int64{}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		f[k], _ = strconv.ParseInt(v, 10, 64)
	}
	took := time.Duration(f["save_ns"])
	h.add(row{measure: "cassette.Save, 100,000 interactions", azvcr: dur(took), target: "≤ 3 s", checked: true, ok: took <= 3*time.Second,
		note: fmt.Sprintf("file %s; loading it took %s", mb(f["size"]), dur(time.Duration(f["load_ns"])))})
	h.add(row{measure: "peak RSS in cassette.Save, 100,000 interactions", azvcr: mib(f["peak_kb"]), ratio: fmt.Sprintf("%.2f× the file", float64(f["peak_kb"]*1024)/float64(f["size"])),
		target: "≤ 2× the file", checked: true, ok: f["peak_kb"]*1024 <= 2*f["size"],
		note: fmt.Sprintf("RSS before the save, with the cassette loaded and collected: %s", mib(f["before_kb"]))})
	return nil
}

// runSave is the child: load a cassette, collect, then time cassette.Save alone, with the peak RSS
// from the start of the save (clear_refs resets VmHWM).
func runSave(args []string) error {
	fs := flag.NewFlagSet("save", flag.ContinueOnError)
	in := fs.String("in", "", "cassette to load")
	out := fs.String("out", "", "where to save it")
	cpu := fs.String("cpuprofile", "", "CPU profile of the save")
	mem := fs.String("memprofile", "", "allocation profile of the save")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t0 := time.Now()
	c, err := cassette.Load(*in)
	if err != nil {
		return err
	}
	loaded := time.Since(t0)
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return err
	}
	before := selfKB("VmRSS")
	stopProfiles, err := startProfiles(*cpu, *mem)
	if err != nil {
		return err
	}
	t1 := time.Now()
	if err := cassette.Save(*out, c); err != nil {
		return err
	}
	saved := time.Since(t1)
	peak := selfKB("VmHWM")
	stopProfiles()
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Printf("RESULT load_ns=%d save_ns=%d before_kb=%d peak_kb=%d size=%d\n", loaded, saved, before, peak, st.Size())
	return nil
}

// runOpen is the child that profiles start-up in process: engine.Open of a cassette for replay,
// which is what `azvcr replay` does before it listens.
func runOpen(args []string) error {
	fs := flag.NewFlagSet("open", flag.ContinueOnError)
	in := fs.String("in", "", "cassette to open")
	cpu := fs.String("cpuprofile", "", "CPU profile of the open")
	mem := fs.String("memprofile", "", "allocation profile of the open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfiles, err := startProfiles(*cpu, *mem)
	if err != nil {
		return err
	}
	t0 := time.Now()
	e, err := engine.Open(engine.Replay, *in, matcher.RepeatAll)
	if err != nil {
		return err
	}
	took := time.Since(t0)
	stopProfiles()
	fmt.Printf("RESULT open_ns=%d peak_kb=%d rss_kb=%d\n", took, selfKB("VmHWM"), selfKB("VmRSS"))
	runtime.KeepAlive(e)
	return nil
}

// startProfiles starts a CPU profile and an allocation profile; the returned func writes both.
// The allocation profile is cumulative, so its state now is written beside it as mem.base, for
// `go tool pprof -diff_base`.
func startProfiles(cpu, mem string) (func(), error) {
	if mem != "" {
		runtime.GC()
		if f, err := os.Create(mem + ".base"); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	var cpuFile *os.File
	if cpu != "" {
		var err error
		if cpuFile, err = os.Create(cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			return nil, err
		}
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			runtime.GC() // the profile shows allocations as of the last collection
			if f, err := os.Create(mem); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	}, nil
}

func selfKB(field string) int64 { return statusKB("self", field) }
