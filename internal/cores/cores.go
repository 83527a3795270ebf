// Package cores shares independent pieces of work out over the machine's cores.
package cores

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Each calls a function for every i in [0, n), on as many goroutines as there are cores (one
// when n is at most chunk), handing out chunk consecutive indices at a time. Each goroutine
// gets its own function from newF, for state it keeps between calls.
func Each(n, chunk int, newF func() func(int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	if workers <= 1 {
		f := newF()
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			f := newF()
			for {
				end := int(next.Add(int64(chunk)))
				for i := end - chunk; i < min(end, n); i++ {
					f(i)
				}
				if end >= n {
					return
				}
			}
		})
	}
	wg.Wait()
}
