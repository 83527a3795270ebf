package main

import "runtime"

// heapFloor is allocated once and never touched: it counts as live heap, so the collector's goal
// (twice the live heap) never falls below twice its size. A short test-proxy session or a small
// cassette then replays without collecting at every few megabytes, and a large one collects a
// little less often. Its pages are never written, so the kernel never backs them: it costs
// address space, not memory. (GOGC would scale the garbage allowed with the live heap, which
// at 100,000 interactions is what the peak-memory limits watch.)
const heapFloorSize = 64 << 20

var heapFloor []byte

func holdHeapFloor() {
	if heapFloor == nil {
		heapFloor = make([]byte, heapFloorSize)
	}
}

// releaseHeapFloor lets the collector have it back (at exit; and keeps it reachable until then).
func releaseHeapFloor() { runtime.KeepAlive(heapFloor); heapFloor = nil }
