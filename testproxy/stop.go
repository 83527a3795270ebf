package testproxy

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/secrets"
	"github.com/azvcr/azvcr/testproxyjson"
)

// batchable says whether sanitizing a recording a batch of exchanges at a time gives what
// sanitizing it whole gives: every sanitizer edits or drops each exchange on its own (a
// ContinuationSanitizer carries a value from one exchange to the next, so it needs them all).
func batchable(sans []*registered) bool {
	for _, r := range sans {
		switch r.san.(type) {
		case entrySanitizer, regexEntry:
		default:
			return false
		}
	}
	return true
}

// stopBatch is how many exchanges /Record/Stop decodes and sanitizes at a time.
const stopBatch = 256

// saveStream writes a recording as test-proxy JSON without holding it whole in the Go heap: the
// exchanges are decoded and sanitized a batch at a time (on another goroutine, a batch ahead), and
// written by an Encoder into a spool outside the heap, read by a secrets.Scanner on the way. The
// exchanges' own blocks are given back as they are read, so the recording is held about once.
// Only when the scan is clean is anything written: the spool goes to a temporary file beside
// file, renamed over it. Otherwise no file is touched, and the answer names what was found
// (masked) so the harness can add a sanitizer: no secret reaches the disk, not even for a moment.
// It returns the number of exchanges written.
func (s *Server) saveStream(file string, p *plan, rec *entries, vars map[string]string) (int, *httpError) {
	var reuse blockPool // rec's blocks, given back as they are read, hold the spool
	defer reuse.free()
	rec.reuse = &reuse
	defer func() { rec.reuse = nil }()
	out := spool{reuse: &reuse}
	defer out.free()
	scan := secrets.NewScanner(file)
	enc := testproxyjson.NewEncoder(io.MultiWriter(&out, scan), vars)
	batches := make(chan []*cassette.Interaction, 1)
	done := make(chan struct{})
	go func() {
		defer close(batches)
		for i := 0; i < rec.Len(); i += stopBatch {
			batch := make([]*cassette.Interaction, 0, stopBatch)
			for j := i; j < min(i+stopBatch, rec.Len()); j++ {
				batch = append(batch, rec.get(j))
			}
			rec.release(min(i+stopBatch, rec.Len())) // decoded: nothing in the batch refers to them
			select {
			case batches <- p.Recording(batch):
			case <-done:
				return
			}
		}
	}()
	drain := func() { // the batches read rec: wait for the goroutine before rec is freed
		close(done)
		for range batches {
		}
	}
	written := 0
	for batch := range batches {
		for _, it := range batch {
			if err := enc.Entry(it); err != nil {
				drain()
				return 0, errorf(http.StatusInternalServerError, "Record/Stop: %s: %v", file, err)
			}
		}
		written += len(batch)
	}
	drain()
	if err := enc.Close(); err != nil {
		return 0, errorf(http.StatusInternalServerError, "Record/Stop: %s: %v", file, err)
	}
	if found := scan.Close(); len(found) > 0 {
		return 0, s.refuse(file, found)
	}
	writing(file)
	made, err := mkdirs(filepath.Dir(file))
	if err != nil {
		return 0, errorf(http.StatusInternalServerError, "Record/Stop: %v", err)
	}
	if err := cassette.WriteAtomicFunc(file, func(f io.Writer) error { return out.writeTo(f) }); err != nil {
		unmake(made)
		return 0, errorf(http.StatusInternalServerError, "Record/Stop: saving %s: %v", file, err)
	}
	return written, nil
}

// writing is called as a streamed save starts touching the disk (tests check a refused save
// never gets there).
var writing = func(file string) {}

// refuse is the answer to a save the secret scan refused.
func (s *Server) refuse(file string, found []secrets.Finding) *httpError {
	lines := make([]string, 0, len(found))
	for _, f := range found {
		lines = append(lines, f.String())
	}
	s.log.Error("test-proxy recording not saved: secrets left after sanitizing", "file", file, "findings", len(found))
	return errorf(http.StatusBadRequest, "azvcr did not save %s: %d secret(s) remain after the session's sanitizers; add a sanitizer for each:\n%s",
		file, len(found), strings.Join(lines, "\n"))
}

// mkdirs is os.MkdirAll, returning the folders it made, deepest first.
func mkdirs(dir string) ([]string, error) {
	var made []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		made = append(made, d)
	}
	return made, os.MkdirAll(dir, 0o755)
}

// unmake removes the folders mkdirs made, where they are still empty: a refused save leaves
// nothing behind.
func unmake(made []string) {
	for _, d := range made {
		os.Remove(d)
	}
}
