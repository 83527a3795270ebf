package cassette

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Journal appends interactions to a cassette file as they complete. Each interaction goes to disk
// in one write followed by fsync, so a process killed at any moment leaves a file that loads with
// every interaction whose Add returned.
type Journal struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	replace bool // a file was at path: it stays until the first interaction replaces it
	closed  bool
	nextID  int
	added   int
}

// Create starts a new cassette at path. Where there is no file, an empty cassette is written at
// once; a file already there is left as it is until the first interaction is added, which
// replaces it atomically: a recording that records nothing destroys nothing. (Whether an
// existing cassette may be replaced at all is the caller's to decide: see CheckReplace.)
func Create(path string) (*Journal, error) {
	if _, err := os.Stat(path); err == nil {
		if err := checkWritable(filepath.Dir(path)); err != nil {
			return nil, err
		}
		return &Journal{path: path, replace: true}, nil
	}
	if err := WriteAtomic(path, []byte(header)); err != nil {
		return nil, err
	}
	return openJournal(path, 0)
}

// checkWritable fails now, rather than at the first interaction, when dir takes no new file.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".azvcr-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// ReplaceError says what recording over a file would destroy.
type ReplaceError struct {
	Path         string
	Interactions int   // recorded interactions the file holds
	Unreadable   error // set when the file is not a cassette at all
}

func (e *ReplaceError) Error() string {
	if e.Unreadable != nil {
		return fmt.Sprintf("%s exists and is not a cassette (%v)", e.Path, e.Unreadable)
	}
	if e.Interactions == 1 {
		return fmt.Sprintf("%s already holds 1 recorded interaction", e.Path)
	}
	return fmt.Sprintf("%s already holds %d recorded interactions", e.Path, e.Interactions)
}

// CheckReplace reports, as a *ReplaceError, a file at path that a new recording would destroy:
// a cassette with interactions, or a file that is not a cassette. No file, an empty file and a
// cassette with no interactions are nil.
func CheckReplace(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return nil
	}
	c, err := Load(path)
	if err != nil {
		return &ReplaceError{Path: path, Unreadable: err}
	}
	if len(c.Interactions) == 0 {
		return nil
	}
	return &ReplaceError{Path: path, Interactions: len(c.Interactions)}
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
	if j.closed {
		return fmt.Errorf("cassette %s: journal is closed", j.path)
	}
	it.ID = j.nextID
	data, err := encodeItems([]*Interaction{it})
	if err != nil {
		return fmt.Errorf("cassette %s: encode interaction %d: %w", j.path, it.ID, err)
	}
	if j.f == nil { // the first interaction replaces the file that was there
		if err := WriteAtomic(j.path, append([]byte(header), data...)); err != nil {
			return fmt.Errorf("cassette %s: %w", j.path, err)
		}
		if j.f, err = os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
			return fmt.Errorf("cassette %s: %w", j.path, err)
		}
		j.replace = false
		j.nextID++
		j.added++
		return nil
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
	if j.closed || j.f == nil {
		j.closed = true
		return nil
	}
	j.closed = true
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	return err
}
