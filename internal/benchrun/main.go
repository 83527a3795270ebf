// Command benchrun is `make bench`: it starts the floor (a bare Go HTTPS server answering with the
// recorded bytes) and azvcr as separate processes, drives them with keep-alive clients from this
// process, and prints each measure of issue 13 beside the floor or baseline measured in the same
// run, with its target. Server side and load generator are pinned to different cores when the
// machine has two and taskset is installed. With -profile DIR it runs a profiling build of azvcr
// (-tags benchprof) and writes CPU and allocation profiles of each measure into DIR.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type harness struct {
	azvcr    string        // the binary measured
	goTool   string        // go, for the in-process benchmarks
	work     string        // cassettes, recordings, logs
	cache    string        // generated cassettes kept between runs
	profile  string        // where profiles go; "" when not profiling
	patience time.Duration // the longest a single save is waited for
	rounds   int           // windows per side of each comparison; the best is kept
	pinned   bool
	only     map[string]bool
	progress io.Writer

	pki       pki
	floor     *proc
	floorAddr string
	procs     []*proc
	rows      []row
	big       string // the 100,000-interaction cassette, once written
	bigSize   int64
}

func main() {
	if len(os.Args) > 1 {
		child := map[string]func([]string) error{"floor": runFloor, "save": runSave, "open": runOpen}[os.Args[1]]
		if child != nil {
			if err := child(os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, "benchrun", os.Args[1]+":", err)
				os.Exit(1)
			}
			return
		}
	}
	os.Exit(run())
}

func run() int {
	h := &harness{progress: os.Stderr}
	out := flag.String("out", "bin/bench", "directory for the table, logs and the work files")
	flag.StringVar(&h.azvcr, "azvcr", "bin/azvcr", "the azvcr binary to measure")
	flag.StringVar(&h.goTool, "go", "go", "the go command, for the in-process benchmarks")
	flag.StringVar(&h.profile, "profile", "", "write CPU and allocation profiles of each measure here (builds azvcr with -tags benchprof)")
	flag.IntVar(&h.rounds, "rounds", 2, "windows per side of each comparison, alternating; each side's best is kept")
	flag.DurationVar(&h.patience, "patience", time.Minute, "how long a whole-file save is waited for before it counts as too slow")
	only := flag.String("only", "", "run only these measure groups, comma-separated: proxy, start, testproxy, record, save, tpsave, inprocess")
	flag.Parse()
	if *only != "" {
		h.only = map[string]bool{}
		for _, g := range strings.Split(*only, ",") {
			h.only[strings.TrimSpace(g)] = true
		}
	}
	if code, done := pinSelf(); done {
		return code
	}
	_, h.pinned = os.LookupEnv(pinnedEnv)
	if err := h.setUp(*out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer h.tearDown()

	groups := []struct {
		name string
		run  func() error
	}{
		{"proxy", h.replayVsFloor},
		{"start", h.startAndScale},
		{"testproxy", h.playbackStart},
		{"record", h.recordVsPassthrough},
		{"save", h.cassetteSave},
		{"tpsave", h.testProxySave},
		{"inprocess", h.inProcess},
	}
	began, loadBefore := time.Now(), loadAverage()
	for _, g := range groups {
		if h.only != nil && !h.only[g.name] {
			continue
		}
		fmt.Fprintf(h.progress, "bench: -- %s (%s in)\n", g.name, time.Since(began).Round(time.Second))
		if err := g.run(); err != nil {
			h.fail(g.name, err)
		}
	}

	var table strings.Builder
	fmt.Fprintf(&table, "azvcr performance, %s, %s\n", time.Now().Format("2006-01-02 15:04"), machine(h.pinned))
	fmt.Fprintf(&table, "whole run: %s; load average %s before, %s after (other work on the machine skews every figure)\n\n",
		time.Since(began).Round(time.Second), loadBefore, loadAverage())
	short := printTable(&table, h.rows)
	if short > 0 {
		fmt.Fprintf(&table, "\nbench: %d of the targets fall short\n", short)
	}
	fmt.Print(table.String())
	os.WriteFile(filepath.Join(*out, "table.txt"), []byte(table.String()), 0o644)
	if short > 0 && h.profile == "" { // a profiling run is for the profiles, not a verdict
		return 1
	}
	return 0
}

const pinnedEnv = "AZVCR_BENCH_PINNED"

// pinSelf runs this harness again on the client core, when the machine allows pinning; the first
// run waits for it and reports its exit code (done is then true).
func pinSelf() (int, bool) {
	if _, ok := os.LookupEnv(pinnedEnv); ok || runtime.NumCPU() < 2 {
		return 0, false
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: taskset (util-linux) not found: server and load generator share the cores")
		return 0, false
	}
	self, err := os.Executable()
	if err != nil {
		return 0, false
	}
	cmd := exec.Command(taskset, append([]string{"-c", clientCore, self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), pinnedEnv+"="+strconv.Itoa(runtime.NumCPU()))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), true
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1, true
	}
	return 0, true
}

func machine(pinned bool) string {
	cores := runtime.NumCPU()
	if n, err := strconv.Atoi(os.Getenv(pinnedEnv)); err == nil {
		cores = n // this process sees only its own core
	}
	s := fmt.Sprintf("%d cores, %s", cores, runtime.Version())
	if pinned {
		return s + "; azvcr and the floor on core " + serverCore + ", the load generator on core " + clientCore
	}
	return s + "; not pinned"
}

func (h *harness) setUp(out string) error {
	h.work, h.cache = filepath.Join(out, "work"), filepath.Join(out, "cache")
	os.RemoveAll(h.work)
	if err := os.MkdirAll(h.work, 0o755); err != nil {
		return err
	}
	var err error
	if h.azvcr, err = filepath.Abs(h.azvcr); err != nil {
		return err
	}
	if h.profile != "" {
		if err := os.MkdirAll(h.profile, 0o755); err != nil {
			return err
		}
		prof := filepath.Join(h.work, "azvcr-prof")
		build := exec.Command(h.goTool, "build", "-tags", "benchprof,netgo,osusergo", "-o", prof, "./cmd/azvcr") // the tags of make build, and the profiler
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building azvcr with -tags benchprof,netgo,osusergo: %w", err)
		}
		h.azvcr = prof
	}
	if _, err := os.Stat(h.azvcr); err != nil {
		return fmt.Errorf("no azvcr binary (make build): %w", err)
	}
	if h.pki, err = makePKI(h.work); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if h.floor, err = h.start("floor", nil, self, "floor", "-cert", h.pki.certFile, "-key", h.pki.keyFile); err != nil {
		return err
	}
	h.floorAddr, err = h.floor.waitLine("LISTEN ", 10*time.Second)
	return err
}

func (h *harness) tearDown() {
	for _, p := range h.procs {
		p.stop()
	}
}

// floorDialer reaches the floor directly, as a client with no proxy would reach the service.
func (h *harness) floorDialer(host string) (dialer, error) {
	roots, err := rootsFrom(h.pki.caFile)
	if err != nil {
		return dialer{}, err
	}
	return dialer{addr: h.floorAddr, host: host, tls: &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}}, nil
}

// loadAverage is the one-minute load average, as /proc/loadavg gives it.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data))[0]
}
