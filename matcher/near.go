package matcher

import (
	"strconv"
	"strings"
)

// nearTables find the recordings most like a request that missed, and the story of a
// continuation token. Only a miss needs them: they are built at the first one, from the
// recordings in cassette order, so a large cassette starts without them.
type nearTables struct {
	byRoute  map[string][]*entry // method, host and path: the first candidates a miss is compared with
	byParent map[string][]*entry // host and path without its last segment: the same collection
	byShape  map[string][]*entry // host and number of path segments
	byHost   map[string][]*entry
	issued   map[string]*entry // continuation token -> the recording whose response issued it
	carried  map[string]bool   // continuation tokens that recorded requests carry
	// parts are each recording's parts, made again from it: entries do not keep them.
	parts   map[*entry]parts
	partsOf func(*entry) parts
}

// nearby returns the tables, building them first if no miss has yet. The lock is held; next
// has built them off the lock already (see ensureNear), so this builds only for other callers.
func (x *Index) nearby() *nearTables {
	if x.near == nil {
		x.near = newNearTables(x.all, x.partsOf)
	}
	return x.near
}

// ensureNear builds the tables at the first miss without holding the lock, so that a first miss
// on a large cassette does not hold up other requests: from the recordings indexed so far, then,
// under the lock, from those added meanwhile. Entries are not changed once indexed (only their
// used mark, which the tables do not read). The lock is not held.
func (x *Index) ensureNear() {
	x.mu.Lock()
	if x.near != nil {
		x.mu.Unlock()
		return
	}
	seen := x.all[:len(x.all):len(x.all)]
	x.mu.Unlock()
	buildingNear()
	t := newNearTables(seen, x.partsOf)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.near != nil {
		return // another miss built them first
	}
	for _, e := range x.all[len(seen):] {
		t.add(e)
	}
	x.near = t
}

// buildingNear is called as the first miss starts building the tables, with the lock released
// (tests hold it there to show other requests go on, and add recordings meanwhile).
var buildingNear = func() {}

func newNearTables(entries []*entry, partsOf func(*entry) parts) *nearTables {
	t := &nearTables{byRoute: map[string][]*entry{}, byParent: map[string][]*entry{}, byShape: map[string][]*entry{},
		byHost: map[string][]*entry{}, issued: map[string]*entry{}, carried: map[string]bool{},
		parts: make(map[*entry]parts, len(entries)), partsOf: partsOf}
	for _, e := range entries {
		t.add(e)
	}
	return t
}

func (t *nearTables) add(e *entry) {
	p := t.partsOf(e)
	t.parts[e] = p
	t.byRoute[routeOf(p)] = append(t.byRoute[routeOf(p)], e)
	t.byParent[parentOf(p)] = append(t.byParent[parentOf(p)], e)
	t.byShape[shapeOf(p)] = append(t.byShape[shapeOf(p)], e)
	t.byHost[p.host] = append(t.byHost[p.host], e)
	if tok := p.headers.get(continuationHeader); tok != "" {
		t.carried[tok] = true
	}
	if tok := responseContinuation(e.it); tok != "" && t.issued[tok] == nil {
		t.issued[tok] = e
	}
}

func routeOf(p parts) string  { return p.method + " " + p.host + p.path }
func shapeOf(p parts) string  { return p.host + " " + strconv.Itoa(strings.Count(p.path, "/")) }
func parentOf(p parts) string { return p.host + p.path[:strings.LastIndexByte(p.path, '/')+1] }
