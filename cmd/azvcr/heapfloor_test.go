package main

import (
	"os"
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

// TestHeapFloorCostsNoMemory: the floor raises the collector's goal by its size and adds nothing
// to the memory the process holds.
func TestHeapFloorCostsNoMemory(t *testing.T) {
	releaseHeapFloor()
	runtime.GC()
	before := rssKB(t)
	holdHeapFloor()
	defer releaseHeapFloor()
	runtime.GC()
	if grew := rssKB(t) - before; grew > 4<<10 {
		t.Errorf("RSS grew by %d kB holding a %d MiB floor", grew, heapFloorSize>>20)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.NextGC < 2*heapFloorSize {
		t.Errorf("next collection at %d bytes, want at least %d", ms.NextGC, 2*heapFloorSize)
	}
}
