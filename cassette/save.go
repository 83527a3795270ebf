package cassette

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// header starts every file azvcr writes. interactions comes last so that appending one YAML
// sequence item at a time keeps the file a complete, loadable cassette after every write.
const header = "version: 2\ninteractions:\n"

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeItems renders interactions as the items of the interactions sequence.
func encodeItems(items []*Interaction) ([]byte, error) {
	if len(items) == 0 {
		return nil, nil
	}
	return encode(items)
}

// normalizeDuration writes durations the way go-vcr reads them: a Go duration string, "0s" when
// unknown, and integer nanoseconds (as some version 1 files hold) converted.
func normalizeDuration(d string) string {
	if d == "" {
		return "0s"
	}
	if n, err := strconv.ParseInt(d, 10, 64); err == nil {
		return time.Duration(n).String()
	}
	return d
}

// Save writes c to path atomically: a reader sees the old file or the new one, never a mix.
// The layout is version, then variables (when there are any), then interactions, last, so a
// journal can go on appending to the file.
func Save(path string, c *Cassette) error {
	items, err := encodeItems(c.Interactions)
	if err != nil {
		return err
	}
	data := []byte(header)
	if len(c.Variables) > 0 {
		vars, err := encode(struct {
			Variables map[string]string `yaml:"variables"`
		}{c.Variables})
		if err != nil {
			return err
		}
		data = append(append([]byte("version: 2\n"), vars...), "interactions:\n"...)
	}
	return writeAtomic(path, append(data, items...))
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Journal appends interactions to a cassette file as they complete. Each interaction goes to disk
// in one write followed by fsync, so a process killed at any moment leaves a file that loads with
// every interaction whose Add returned.
type Journal struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	nextID int
	added  int
}

// Create starts a new, empty cassette at path, replacing any file there.
func Create(path string) (*Journal, error) {
	if err := writeAtomic(path, []byte(header)); err != nil {
		return nil, err
	}
	return openJournal(path, 0)
}

// OpenAppend continues the cassette at path, creating it when it does not exist. The existing
// interactions are returned. A file in another layout (go-vcr's, version 1) is first rewritten in
// azvcr's append-safe layout, atomically.
func OpenAppend(path string) (*Journal, *Cassette, error) {
	c, err := Load(path)
	if os.IsNotExist(err) {
		j, err := Create(path)
		return j, &Cassette{Version: Version}, err
	}
	if err != nil {
		return nil, nil, err
	}
	if err := Save(path, c); err != nil {
		return nil, nil, err
	}
	next := 0
	for _, it := range c.Interactions {
		next = max(next, it.ID+1)
	}
	j, err := openJournal(path, next)
	return j, c, err
}

func openJournal(path string, nextID int) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return &Journal{path: path, f: f, nextID: nextID}, nil
}

// Add assigns it the next id and appends it durably.
func (j *Journal) Add(it *Interaction) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return fmt.Errorf("cassette %s: journal is closed", j.path)
	}
	it.ID = j.nextID
	data, err := encodeItems([]*Interaction{it})
	if err != nil {
		return fmt.Errorf("cassette %s: encode interaction %d: %w", j.path, it.ID, err)
	}
	if _, err := j.f.Write(data); err != nil {
		return fmt.Errorf("cassette %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("cassette %s: %w", j.path, err)
	}
	j.nextID++
	j.added++
	return nil
}

// Added reports how many interactions this journal wrote.
func (j *Journal) Added() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.added
}

// Path is the cassette file the journal writes.
func (j *Journal) Path() string { return j.path }

// Close flushes and closes the file. It is safe to call more than once.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	return err
}
