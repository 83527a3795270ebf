package cassette

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Adds that come while another writes are written together, one write per batch, each Add
// returning once its own item is in the file (TestJournalConcurrentAdds checks that).
func TestJournalWritesConcurrentAddsTogether(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // as a proxy pinned to one core runs
	j, err := Create(filepath.Join(t.TempDir(), "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	if err := j.Add(recordingLike(r, 0)); err != nil { // the first is written alone, replacing the file
		t.Fatal(err)
	}
	const workers, each = 16, 20
	var wg sync.WaitGroup
	for w := range workers {
		items := make([]*Interaction, each)
		for k := range items {
			items[k] = recordingLike(r, w*each+k)
		}
		wg.Go(func() {
			for _, it := range items {
				if err := j.Add(it); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if j.Added() != 1+workers*each {
		t.Fatalf("Added() = %d, want %d", j.Added(), 1+workers*each)
	}
	t.Logf("%d items in %d writes", workers*each, j.batch)
	if j.batch >= workers*each {
		t.Errorf("%d items took %d writes: none were written together", workers*each, j.batch)
	}
	c, err := Load(j.path)
	if err != nil || len(c.Interactions) != 1+workers*each {
		t.Fatalf("the file: %v, %d interactions", err, len(c.Interactions))
	}
}

// A failed write fails the Adds it held and every Add after it: part of the batch may be in the
// file, and nothing may follow it there.
func TestJournalWriteFailureSticks(t *testing.T) {
	j, err := Create(filepath.Join(t.TempDir(), "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	if err := j.Add(recordingLike(r, 0)); err != nil {
		t.Fatal(err)
	}
	j.f.Close() // every write from now on fails
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 8 {
		it := recordingLike(r, i+1)
		wg.Go(func() {
			if err := j.Add(it); err != nil && strings.Contains(err.Error(), "file already closed") {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 8 {
		t.Errorf("%d of 8 Adds failed", failed.Load())
	}
	if err := j.Add(recordingLike(r, 9)); err == nil {
		t.Error("an Add after a failed write succeeded")
	}
	if j.Added() != 1 {
		t.Errorf("Added() = %d, want 1", j.Added())
	}
}
