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
}

// nearby returns the tables, building them first if no miss has yet. The lock is held.
func (x *Index) nearby() *nearTables {
	if x.near == nil {
		t := &nearTables{byRoute: map[string][]*entry{}, byParent: map[string][]*entry{}, byShape: map[string][]*entry{},
			byHost: map[string][]*entry{}, issued: map[string]*entry{}, carried: map[string]bool{}}
		for _, e := range x.all {
			t.add(e)
		}
		x.near = t
	}
	return x.near
}

func (t *nearTables) add(e *entry) {
	p := e.parts
	t.byRoute[routeOf(p)] = append(t.byRoute[routeOf(p)], e)
	t.byParent[parentOf(p)] = append(t.byParent[parentOf(p)], e)
	t.byShape[shapeOf(p)] = append(t.byShape[shapeOf(p)], e)
	t.byHost[p.host] = append(t.byHost[p.host], e)
	if tok := p.headers[continuationHeader]; tok != "" {
		t.carried[tok] = true
	}
	if tok := responseContinuation(e.it); tok != "" && t.issued[tok] == nil {
		t.issued[tok] = e
	}
}

func routeOf(p parts) string  { return p.method + " " + p.host + p.path }
func shapeOf(p parts) string  { return p.host + " " + strconv.Itoa(strings.Count(p.path, "/")) }
func parentOf(p parts) string { return p.host + p.path[:strings.LastIndexByte(p.path, '/')+1] }
