package cassette

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Journal appends interactions to a cassette file as they complete. Each interaction is written
// to the file in one write before Add returns, so a process killed at any moment (kill -9 included:
// the kernel keeps what was written) leaves a file that loads with every interaction whose Add
// returned. (A kill can cut that one write short; loaders leave the torn interaction out: see
// TornItem.) fsync, which only matters if the machine itself goes down, runs in the background,
// one call covering every write since the last (group commit), rounds at least syncPause apart,
// and once more at Close.
type Journal struct {
	mu      sync.Mutex // orders writes; guards the fields below
	path    string
	f       *os.File
	replace bool // a file was at path: it stays until the first interaction replaces it
	closed  bool
	nextID  int
	added   int
	syncErr error         // the first background fsync failure, reported by Add and Close
	kick    chan struct{} // a write awaits fsync
	synced  chan struct{} // closed when the fsync goroutine has stopped
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
	j := &Journal{path: path, nextID: nextID}
	j.setFile(f)
	return j, nil
}

// setFile starts appending to f, with its fsync goroutine. The lock is held, or j is not shared.
func (j *Journal) setFile(f *os.File) {
	j.f = f
	j.kick = make(chan struct{}, 1)
	j.synced = make(chan struct{})
	go j.syncLoop(f, j.kick, j.synced)
}

// syncLoop fsyncs f whenever writes are waiting; writes that come while it syncs are covered by
// the next round. It stops when kick is closed.
func (j *Journal) syncLoop(f *os.File, kick <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for range kick {
		if err := f.Sync(); err != nil {
			j.mu.Lock()
			if j.syncErr == nil {
				j.syncErr = err
			}
			j.mu.Unlock()
		}
		// Rounds back to back cost a disk flush per few writes and hold up the writes
		// themselves; a pause lets more of them share the next round.
		time.Sleep(syncPause)
	}
}

// syncPause is the least time between two fsync rounds.
const syncPause = 10 * time.Millisecond

// Add assigns it the next id and appends it: written to the file before Add returns, synced
// to disk soon after (see Journal).
func (j *Journal) Add(it *Interaction) error {
	buf := itemBuffers.Get().(*[]byte)
	defer itemBuffers.Put(buf)
	// The text is made outside the lock, with room for its "- id: N" line in front.
	body, err := appendItemBody((*buf)[:idRoom], it)
	if cap(body) <= 1<<20 { // a large body's buffer is not kept
		*buf = body[:0]
	}
	if err != nil {
		return fmt.Errorf("cassette %s: encode interaction: %w", j.path, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("cassette %s: journal is closed", j.path)
	}
	if j.syncErr != nil {
		return fmt.Errorf("cassette %s: %w", j.path, j.syncErr)
	}
	it.ID = j.nextID
	data := withID(body, it.ID)
	if j.f == nil { // the first interaction replaces the file that was there
		if err := WriteAtomic(j.path, append([]byte(header), data...)); err != nil {
			return fmt.Errorf("cassette %s: %w", j.path, err)
		}
		f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("cassette %s: %w", j.path, err)
		}
		j.setFile(f)
		j.replace = false
	} else {
		if beforeWrite != nil {
			beforeWrite()
		}
		if _, err := j.f.Write(data); err != nil {
			return fmt.Errorf("cassette %s: %w", j.path, err)
		}
		select {
		case j.kick <- struct{}{}:
		default: // a round is already due; it will cover this write
		}
	}
	j.nextID++
	j.added++
	return nil
}

// beforeWrite, when set, runs as Add is about to append (tests kill the process there).
var beforeWrite func()

// Added reports how many interactions this journal wrote.
func (j *Journal) Added() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.added
}

// Path is the cassette file the journal writes.
func (j *Journal) Path() string { return j.path }

// Close waits for the background fsync, syncs the file a last time and closes it. It is safe
// to call more than once.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed || j.f == nil {
		j.closed = true
		return nil
	}
	j.closed = true
	close(j.kick)
	j.mu.Unlock() // the fsync goroutine may want the lock to report an error
	<-j.synced
	j.mu.Lock()
	err := j.syncErr
	if serr := j.f.Sync(); err == nil {
		err = serr
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	return err
}
