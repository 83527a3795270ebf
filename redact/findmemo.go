package redact

import (
	"sync"

	"github.com/azvcr/azvcr/secrets"
)

// findings remembers what secrets.FindValue made of the short values seen last. Clients send
// the same values again and again (API versions, user agents, the text of each query, ids), and
// looking for every shape of secret in them is most of what redacting a live request costs.
// FindValue depends on nothing but its arguments, so a remembered answer is the answer.
var findings findMemo

// A value is remembered when it is this short, and up to this many of them.
const (
	maxMemoValue  = 1 << 10
	maxMemoValues = 8192
)

type findMemo struct {
	mu sync.RWMutex
	m  map[findKey][]secrets.Match // the slices are shared: read only
}

type findKey struct{ name, value string }

// find is secrets.FindValue(name, value), remembered. The result must not be changed.
func (f *findMemo) find(name, value string) []secrets.Match {
	if len(value) > maxMemoValue || len(name) > maxMemoValue {
		return secrets.FindValue(name, value)
	}
	k := findKey{name, value}
	f.mu.RLock()
	ms, ok := f.m[k]
	f.mu.RUnlock()
	if ok {
		return ms
	}
	ms = secrets.FindValue(name, value)
	f.mu.Lock()
	if len(f.m) >= maxMemoValues || f.m == nil {
		f.m = make(map[findKey][]secrets.Match, 256) // start afresh rather than track age
	}
	f.m[k] = ms
	f.mu.Unlock()
	return ms
}
