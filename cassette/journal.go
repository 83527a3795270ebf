package cassette

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Journal appends interactions to a cassette file as they complete. Each interaction is written
// to the file in one write before Add returns (Adds that come while another writes share the next
// write: see writeBatch), so a process killed at any moment (kill -9 included:
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

	// Items added while another Add writes are written together, by one of those Adds (group
	// commit): one write for many, each Add still returning only once its item is in the file.
	queued   []byte     // numbered items waiting to be written, in id order
	queuedN  int        // how many items queued holds
	spare    []byte     // the buffer being written, or free for the next batch
	writing  bool       // an Add is writing a batch, without the lock
	batch    uint64     // the batch queued items go out in
	written  uint64     // batches done (written or failed)
	writeErr error      // the first failed write; every later batch fails too (see writeBatch)
	failed   uint64     // the batch writeErr failed
	wrote    *sync.Cond // on mu, signalled as each batch is done
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
	j.wrote = sync.NewCond(&j.mu)
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
	if j.writeErr != nil {
		return fmt.Errorf("cassette %s: %w", j.path, j.writeErr)
	}
	if j.f == nil { // the first interaction replaces the file that was there
		it.ID = j.nextID
		data := withID(body, it.ID)
		if err := WriteAtomic(j.path, append([]byte(header), data...)); err != nil {
			return fmt.Errorf("cassette %s: %w", j.path, err)
		}
		f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("cassette %s: %w", j.path, err)
		}
		j.setFile(f)
		j.replace = false
		j.nextID++
		j.added++
		return nil
	}
	it.ID = j.nextID
	j.nextID++
	j.queued = append(j.queued, withID(body, it.ID)...)
	j.queuedN++
	mine := j.batch
	for j.written <= mine {
		if j.writing {
			j.wrote.Wait()
		} else {
			j.writeBatch()
		}
	}
	if j.writeErr != nil && mine >= j.failed {
		return fmt.Errorf("cassette %s: %w", j.path, j.writeErr)
	}
	return nil
}

// writeBatch writes the queued items in one write; the lock is held, and released while it
// writes. It first lets the other goroutines ready to run go first, so that those about to add
// queue their items into this batch (with one processor, nothing else runs during a write).
// A write that fails may have left part of the batch in the file, after which nothing more may be
// appended: every later batch fails with the same error.
func (j *Journal) writeBatch() {
	j.writing = true
	j.mu.Unlock()
	runtime.Gosched()
	j.mu.Lock()
	data, n, b := j.queued, j.queuedN, j.batch
	j.queued, j.queuedN, j.batch = j.spare[:0], 0, j.batch+1
	j.spare = nil
	var err error
	if j.writeErr != nil {
		err = j.writeErr
	} else {
		j.mu.Unlock()
		if beforeWrite != nil {
			beforeWrite()
		}
		_, err = j.f.Write(data)
		j.mu.Lock()
	}
	if cap(data) <= 1<<20 { // a large batch's buffer is not kept
		j.spare = data[:0]
	}
	j.writing = false
	j.written = b + 1
	switch {
	case err != nil && j.writeErr == nil:
		j.writeErr, j.failed = err, b
	case err == nil:
		j.added += n
		select {
		case j.kick <- struct{}{}:
		default: // a round is already due; it will cover this write
		}
	}
	j.wrote.Broadcast()
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
	for j.writing || j.queuedN > 0 { // Adds under way finish first
		j.wrote.Wait()
	}
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
