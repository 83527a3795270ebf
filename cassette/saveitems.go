package cassette

import (
	"io"
	"runtime"
	"sync"
)

// Writing many interactions: chunks of them are encoded by a worker per core and written in order
// as they come, with few chunks held at once, so saving a large cassette takes little more memory
// than the cassette itself.

// saveChunk is how many interactions one encoding holds (about half a megabyte of YAML).
const saveChunk = 256

func writeItems(w io.Writer, items []*Interaction) error {
	if len(items) <= saveChunk {
		b, err := encodeItemsFast(nil, items)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	// Even on one core: the file is written a chunk at a time, never held whole.
	workers := max(1, min(runtime.GOMAXPROCS(0), (len(items)+saveChunk-1)/saveChunk))
	type result struct {
		b   []byte
		err error
	}
	type job struct {
		items []*Interaction
		out   chan result
	}
	jobs := make(chan job)
	order := make(chan chan result, 2*workers) // results in file order; bounds what is held
	stop := make(chan struct{})
	var pool sync.Pool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				var buf []byte
				if p, ok := pool.Get().(*[]byte); ok {
					buf = (*p)[:0]
				}
				b, err := encodeItemsFast(buf, j.items)
				j.out <- result{b, err}
			}
		})
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for from := 0; from < len(items); from += saveChunk {
			out := make(chan result, 1)
			select {
			case order <- out:
			case <-stop:
				return
			}
			jobs <- job{items[from:min(from+saveChunk, len(items))], out}
		}
	}()
	var err error
	for out := range order {
		r := <-out
		if err == nil {
			err = r.err
		}
		if err == nil {
			_, err = w.Write(r.b)
		}
		if err != nil {
			select {
			case <-stop:
			default:
				close(stop)
			}
		}
		b := r.b[:0]
		pool.Put(&b)
	}
	wg.Wait()
	return err
}
