package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
)

// chunk is how many interactions one worker encodes at a time.
const chunk = 500

// writeCassette writes interactions 0..n-1, as recorded, to path: the bytes cassette.Save writes
// for them (a test holds it to that), encoded in parallel because cassette.Save of 100,000
// interactions is itself one of the things measured to be slow. It returns the file's size.
func writeCassette(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("version: 2\ninteractions:\n")

	chunks := (n + chunk - 1) / chunk
	out := make([]chan []byte, chunks)
	for c := range out {
		out[c] = make(chan []byte, 1)
	}
	var next sync.Mutex
	todo := 0
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			rules := redact.DefaultRules()
			for {
				next.Lock()
				c := todo
				todo++
				next.Unlock()
				if c >= chunks {
					return
				}
				out[c] <- encodeRange(rules, c*chunk, min(n, (c+1)*chunk))
			}
		})
	}
	var werr error
	for c := range out {
		data := <-out[c]
		if werr == nil {
			_, werr = w.Write(data)
		}
	}
	wg.Wait()
	if werr != nil {
		return 0, werr
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// cachedCassette is a cassette of n interactions, written once and kept in cacheDir for later
// runs: at 100,000 interactions writing takes longer than most measures. The file is named by
// the hash of its first chunk, so a change to the corpus or to how cassettes are written names a
// new file (and older ones are removed).
func cachedCassette(cacheDir string, n int) (string, int64, error) {
	sum := sha256.Sum256(encodeRange(redact.DefaultRules(), 0, min(n, chunk)))
	path := filepath.Join(cacheDir, fmt.Sprintf("c%d-%s.yaml", n, hex.EncodeToString(sum[:6])))
	if st, err := os.Stat(path); err == nil {
		return path, st.Size(), nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", 0, err
	}
	old, _ := filepath.Glob(filepath.Join(cacheDir, fmt.Sprintf("c%d-*.yaml", n)))
	for _, f := range old {
		os.Remove(f)
	}
	tmp := path + ".partial"
	size, err := writeCassette(tmp, n)
	if err != nil {
		os.Remove(tmp)
		return "", 0, err
	}
	return path, size, os.Rename(tmp, path)
}

// encodeRange is interactions from..to-1 as items of the interactions sequence.
func encodeRange(rules redact.Redactor, from, to int) []byte {
	items := make([]*cassette.Interaction, 0, to-from)
	for i := from; i < to; i++ {
		items = append(items, recorded(i, rules))
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(items); err != nil {
		panic(err) // the corpus is ours: it always encodes
	}
	enc.Close()
	return buf.Bytes()
}

// writeRecording writes interactions 0..n-1 as a test-proxy JSON recording.
func writeRecording(path string, n int) (int64, error) {
	rules := redact.DefaultRules()
	c := &cassette.Cassette{Version: cassette.Version}
	for i := range n {
		c.Interactions = append(c.Interactions, recorded(i, rules))
	}
	if err := testproxyjson.Save(path, c, map[string]string{"seed": "bench"}); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
