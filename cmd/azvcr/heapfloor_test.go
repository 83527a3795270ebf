package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func rssKB(t *testing.T) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status here")
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

const heapFloorChild = "AZVCR_HEAP_FLOOR_CHILD"

// TestHeapFloorCostsNoMemory: the floor, taken as azvcr takes it (first thing, in a fresh
// process), raises the collector's goal by its size and adds nothing to the memory the process
// holds. (In a process that has used and freed that much heap, the floor would reuse pages
// that must be zeroed: hence the child.)
func TestHeapFloorCostsNoMemory(t *testing.T) {
	if os.Getenv(heapFloorChild) == "1" {
		releaseHeapFloor()
		before := rssKB(t)
		holdHeapFloor()
		defer releaseHeapFloor()
		runtime.GC() // the goal is set at the end of a collection
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("grew=%d nextgc=%d\n", rssKB(t)-before, ms.NextGC)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeapFloorCostsNoMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), heapFloorChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var grew, next int
	i := strings.Index(string(out), "grew=")
	if i < 0 {
		t.Fatalf("child said:\n%s", out)
	}
	if _, err := fmt.Sscanf(string(out[i:]), "grew=%d nextgc=%d", &grew, &next); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	if grew > 4<<10 {
		t.Errorf("RSS grew by %d kB holding a %d MiB floor", grew, heapFloorSize>>20)
	}
	if next < 2*heapFloorSize {
		t.Errorf("next collection at %d bytes, want at least %d", next, 2*heapFloorSize)
	}
}
