package cores

import (
	"sync/atomic"
	"testing"
)

// Every index is visited exactly once, whatever n and chunk, on one goroutine or several.
func TestEachVisitsEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, chunk int }{{0, 4}, {1, 4}, {4, 4}, {5, 4}, {1000, 7}, {4096, 256}} {
		seen := make([]atomic.Int32, tc.n)
		var funcs atomic.Int32
		Each(tc.n, tc.chunk, func() func(int) {
			funcs.Add(1)
			return func(i int) { seen[i].Add(1) }
		})
		for i := range seen {
			if got := seen[i].Load(); got != 1 {
				t.Fatalf("n=%d chunk=%d: index %d visited %d times", tc.n, tc.chunk, i, got)
			}
		}
		if funcs.Load() < 1 {
			t.Errorf("n=%d chunk=%d: no function made", tc.n, tc.chunk)
		}
	}
}
