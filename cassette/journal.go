package cassette

import (
	"fmt"
	"os"
	"sync"
)

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
	if err := WriteAtomic(path, []byte(header)); err != nil {
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
