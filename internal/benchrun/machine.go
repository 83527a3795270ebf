package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// machineFloors measures what any program pays on this machine before it does its own work, so
// the start rows can be read against it: exec of the smallest Go program to its exit, and the
// first touch of fresh memory (on some virtual machines a page fault costs many microseconds,
// and a start that reads a file into memory pays it for every page).
func (h *harness) machineFloors(execTrue time.Duration) error {
	dir, err := filepath.Abs(filepath.Join(h.work, "hello")) // built in dir, run from here
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o644); err != nil {
		return err
	}
	bin := filepath.Join(dir, "hello")
	build := exec.Command(h.goTool, "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the smallest Go program: %v: %s", err, out)
	}
	argv := []string{bin}
	if h.pinned {
		argv = []string{"taskset", "-c", serverCore, bin}
	}
	var took []time.Duration
	for range 9 {
		t0 := time.Now()
		if err := exec.Command(argv[0], argv[1:]...).Run(); err != nil {
			return err
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	h.add(row{measure: "exec of the smallest Go program, to its exit", floor: dur(execTrue), azvcr: dur(took[len(took)/2]), ratio: signed(took[len(took)/2] - execTrue),
		note: "the floor column is /bin/true; the difference is the Go runtime's own start, which any Go proxy pays"})

	perMiB, err := firstTouchPerMiB()
	if err != nil {
		return err
	}
	h.add(row{measure: "first touch of fresh memory, per MiB", azvcr: dur(perMiB),
		note: "anonymous memory mapped and written a page at a time (64 MiB, best of 3): what reading or decoding into new memory pays per MiB before any work"})
	return nil
}

func firstTouchPerMiB() (time.Duration, error) {
	const size = 64 << 20
	best := time.Duration(1 << 62)
	for range 3 {
		b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		for i := 0; i < size; i += os.Getpagesize() {
			b[i] = 1
		}
		best = min(best, time.Since(t0))
		if err := syscall.Munmap(b); err != nil {
			return 0, err
		}
	}
	return best / (size >> 20), nil
}
