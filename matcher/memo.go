package matcher

import "sync"

// liveBodies remembers what readBody made of the live bodies read last: clients send the same
// body again and again (each page of a query, a retried write), and a query's SQL is worth
// reading once.
var liveBodies bodyMemo

// A body is remembered when it is this short, and up to this many of them.
const (
	maxMemoBody   = 4 << 10
	maxMemoBodies = 1024
)

type bodyMemo struct {
	mu sync.Mutex
	m  map[memoKey]memoed
}

type memoKey struct {
	raw   string
	query bool
}

type memoed struct {
	b   body
	sql *cosmosQuery // read only, shared
}

// read is readBody(raw, query), remembered.
func (m *bodyMemo) read(raw string, query bool) (body, *cosmosQuery) {
	if len(raw) > maxMemoBody {
		return readBody(raw, query)
	}
	k := memoKey{raw, query}
	m.mu.Lock()
	e, ok := m.m[k]
	m.mu.Unlock()
	if ok {
		e.b.raw = raw
		return e.b, e.sql
	}
	b, sql := readBody(raw, query)
	m.mu.Lock()
	if len(m.m) >= maxMemoBodies || m.m == nil {
		m.m = make(map[memoKey]memoed, maxMemoBodies) // start afresh rather than track age
	}
	m.m[k] = memoed{b, sql}
	m.mu.Unlock()
	return b, sql
}
