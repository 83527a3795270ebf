package recorder

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// spyT stands in for the *testing.T of a test using the recorder, so a test here can see what the
// recorder reported on it (errors, logs) and run its cleanups at a chosen moment. Anything it
// does not override (TempDir, say) goes to the real test.
type spyT struct {
	testing.TB
	name string

	mu       sync.Mutex
	errors   []string
	logs     []string
	failed   bool
	cleanups []func()
}

func newSpy(t *testing.T, name string) *spyT { return &spyT{TB: t, name: name} }

func (s *spyT) Name() string { return s.name }
func (s *spyT) Helper()      {}

func (s *spyT) Errorf(format string, args ...any) { s.Error(fmt.Sprintf(format, args...)) }
func (s *spyT) Error(args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors = append(s.errors, fmt.Sprint(args...))
	s.failed = true
}

func (s *spyT) Logf(format string, args ...any) { s.Log(fmt.Sprintf(format, args...)) }
func (s *spyT) Log(args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = append(s.logs, fmt.Sprint(args...))
}

func (s *spyT) Fail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = true
}

func (s *spyT) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// Fatalf would end the goroutine; recorder code under test calls it only from Start, which these
// tests reach through start instead.
func (s *spyT) Fatalf(format string, args ...any) {
	s.TB.Fatalf("spyT.Fatalf: "+format, args...)
}

func (s *spyT) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// finish runs the cleanups, last registered first, as the testing package does.
func (s *spyT) finish() {
	s.mu.Lock()
	fs := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func (s *spyT) errorText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.errors, "\n")
}

func (s *spyT) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.logs, "\n")
}
