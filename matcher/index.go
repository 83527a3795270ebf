package matcher

import (
	"fmt"
	"hash/maphash"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cores"
	"github.com/azvcr/azvcr/internal/hostport"
)

// Index answers live requests from recorded interactions. Each key has its own queue, served
// first-in-first-out, so identical requests (polls, retries, a query run twice) get the recorded
// answers in recorded order however other requests interleave. Lookup is one map access: the cost
// per request does not grow with the cassette.
type Index struct {
	mu       sync.Mutex
	queues   map[keyHash]queue
	seed     maphash.Seed
	all      []*entry    // in cassette order, for summaries and miss diagnostics
	near     *nearTables // for explaining misses: built at the first, kept up to date after it
	misses   int
	repeated int
	repeat   Repeat
	ignore   Ignore
	rm       *RecordMatcher  // when set, requests are compared as the Azure SDK test-proxy does
	hosts    map[string]bool // lower-case host names (no port) the recordings are addressed to
}

// Ignore leaves parts of requests out of matching, for harnesses that ask for it (the Azure SDK
// test-proxy's BodilessMatcher, HeaderlessMatcher and CustomDefaultMatcher).
type Ignore struct {
	Body        bool     // bodies are not compared
	Headers     bool     // no header is compared
	HeaderNames []string // these significant headers are not compared
	QueryParams []string // these query parameters are not compared
}

// WithIgnore sets what matching leaves out.
func WithIgnore(ig Ignore) Option { return func(x *Index) { x.ignore = ig } }

// apply removes the ignored parts from p.
func (ig Ignore) apply(p parts) parts {
	if ig.Body {
		p.body, p.sql = body{}, nil
	}
	if ig.Headers {
		p.headers = sigHeaders{}
	}
	for _, h := range ig.HeaderNames {
		if i := significant[http.CanonicalHeaderKey(h)]; i > 0 {
			p.headers[i-1] = ""
		}
	}
	if len(ig.QueryParams) > 0 {
		q := url.Values{}
		for k, v := range p.query {
			if !slices.ContainsFunc(ig.QueryParams, func(s string) bool { return strings.EqualFold(s, k) }) {
				q[k] = v
			}
		}
		p.query = q
	}
	return p
}

// Repeat says which requests may get their last recorded answer again once all are used.
type Repeat int

const (
	// RepeatMetadata repeats idempotent metadata reads: the account read (GET /), database and
	// container reads, and partition-key-range reads with the same headers. SDKs repeat those on
	// their own schedule (caches, refreshes, several clients), so their count varies run to run.
	RepeatMetadata Repeat = iota
	// RepeatNone serves every recording exactly once.
	RepeatNone
	// RepeatAll repeats the last answer for any request.
	RepeatAll
)

// ParseRepeat reads "metadata", "none" or "all".
func ParseRepeat(s string) (Repeat, error) {
	switch s {
	case "metadata":
		return RepeatMetadata, nil
	case "none":
		return RepeatNone, nil
	case "all":
		return RepeatAll, nil
	}
	return 0, fmt.Errorf("unknown repeat policy %q (want metadata, none or all)", s)
}

// Option configures an Index.
type Option func(*Index)

// WithRepeat sets the repeat policy; the default is RepeatMetadata.
func WithRepeat(r Repeat) Option { return func(x *Index) { x.repeat = r } }

func (x *Index) repeats(p parts) bool {
	switch x.repeat {
	case RepeatAll:
		return true
	case RepeatMetadata:
		return isMetadataRead(p)
	}
	return false
}

// isMetadataRead: GET of the account, a database, a container, or a container's pk ranges.
func isMetadataRead(p parts) bool {
	if p.method != "GET" {
		return false
	}
	segs := strings.Split(strings.Trim(p.path, "/"), "/")
	switch {
	case p.path == "/":
		return true
	case len(segs) == 2 && segs[0] == "dbs":
		return true
	case len(segs) == 4 && segs[0] == "dbs" && segs[2] == "colls":
		return true
	case len(segs) == 5 && segs[0] == "dbs" && segs[2] == "colls" && segs[4] == "pkranges":
		return true
	}
	return false
}

// An entry keeps of its request's parts only the body's digest: the index of a large cassette
// is most of what replay holds in memory, and only a miss reads the other parts, which are
// cheap to make again (the near tables do, see nearTables.parts); a body's digest is not.
type entry struct {
	it     *cassette.Interaction
	full   atomic.Pointer[cassette.Interaction] // it whole, once read: later answers go straight to it
	memo   Memo
	body   body       // its raw text is the recording's own (no copy)
	tp     *tpRequest // the request as the test-proxy matcher sees it, when one is in use
	used   bool
	peeked bool // answered, but left for the next request (Peek)
}

// queue is the recordings of one key, in cassette order. It is kept in the map by value, and its
// first recording (most keys have one) outside any array: a lookup in a large index is a chain
// of cache misses, and each pointer less is one miss less.
type queue struct {
	first *entry
	more  []*entry // the others
	next  int      // the first not handed out yet, when the earlier ones were
}

func (q queue) len() int {
	if q.first == nil {
		return 0
	}
	return 1 + len(q.more)
}

func (q queue) at(i int) *entry {
	if i == 0 {
		return q.first
	}
	return q.more[i-1]
}

// New indexes interactions. A recorded request that cannot be keyed is an error naming its id.
func New(interactions []*cassette.Interaction, opts ...Option) (*Index, error) {
	x := &Index{queues: make(map[keyHash]queue, len(interactions)), hosts: map[string]bool{}, all: make([]*entry, 0, len(interactions)), seed: maphash.MakeSeed()}
	for _, o := range opts {
		o(x)
	}
	entries, keys, err := x.entriesOf(interactions)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		x.insert(&entries[i], keys[i])
	}
	return x, nil
}

// entriesOf reads recordings for the index on every core, into one allocation: keying them
// (URLs, bodies, queries) is most of what indexing a large cassette costs. The error is the
// first recording's in order.
func (x *Index) entriesOf(its []*cassette.Interaction) ([]entry, []indexed, error) {
	entries := make([]entry, len(its))
	keys := make([]indexed, len(its))
	errs := make([]error, len(its))
	cores.Each(len(its), 256, func() func(int) {
		memo := urlMemo{} // recordings of one resource are often near one another
		return func(i int) { keys[i], errs[i] = x.fill(&entries[i], its[i], memo) }
	})
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return entries, keys, nil
}

// entryOf reads a recording for the index; it needs no lock.
func (x *Index) entryOf(it *cassette.Interaction, used bool) (*entry, indexed, error) {
	e := &entry{used: used}
	k, err := x.fill(e, it, nil)
	if err != nil {
		return nil, indexed{}, err
	}
	return e, k, nil
}

// indexed is what inserting a recording needs of its parts: its key and its host.
type indexed struct {
	key  keyHash
	host string
}

// fill reads it into e and returns its key and host; memo, when not nil, keeps what URLs were
// read as.
func (x *Index) fill(e *entry, it *cassette.Interaction, memo urlMemo) (indexed, error) {
	p, tp, k, err := x.keyed(&it.Request, readBody, memo)
	if err != nil {
		return indexed{}, &cassette.Error{File: "interaction", Msg: err.Error()}
	}
	if p.sql != nil { // a recording keeps only its digest; a miss that compares it reads it again
		p.sql, p.body.query = nil, true
	}
	e.it, e.body, e.tp = it, p.body, tp
	return indexed{k, p.host}, nil
}

// keyHash is a key reduced to 128 bits: the queues are found by it, and the key itself (a
// request's canonical text, its body included) is not kept. Two different keys would have to
// agree in 128 bits of a seeded hash to be confused.
type keyHash [2]uint64

func (x *Index) hash(k string) keyHash {
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.WriteString(k)
	return sum128(&h)
}

// hashParts is x.hash(p.key()), with the key made in place when it is short.
func (x *Index) hashParts(p parts) keyHash {
	var buf [512]byte
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.Write(p.appendKey(buf[:0]))
	return sum128(&h)
}

func sum128(h *maphash.Hash) keyHash {
	first := h.Sum64()
	h.WriteByte(0) // the second half goes on from the first
	return keyHash{first, h.Sum64()}
}

// partsOf makes a recording's parts again, as they were when it was indexed (a Cosmos query's
// parsed form is read again only if a miss compares it: parts.sqlOf).
func (x *Index) partsOf(e *entry) parts {
	p, _ := head(&e.it.Request, nil) // it was read without error when indexed
	p = x.ignore.apply(p)
	p.body = e.body
	return p
}

// keyed reduces a request to its parts and the key it is queued under: azvcr's, or the
// test-proxy matcher's (whose body form is then the only one read).
func (x *Index) keyed(r *cassette.Request, read func(string, bool) (body, *cosmosQuery), memo urlMemo) (parts, *tpRequest, keyHash, error) {
	if x.rm == nil {
		p, err := splitWith(r, read, memo)
		if err != nil {
			return p, nil, keyHash{}, err
		}
		p = x.ignore.apply(p)
		return p, nil, x.hashParts(p), nil
	}
	p, err := head(r, memo)
	if err != nil {
		return p, nil, keyHash{}, err
	}
	tp, err := x.rm.request(r)
	if err != nil {
		return p, nil, keyHash{}, err
	}
	return x.ignore.apply(p), tp, x.hash(tp.key), nil
}

// insert queues an entry under key k. The lock is held, or the index is not yet shared.
func (x *Index) insert(e *entry, k indexed) {
	q := x.queues[k.key]
	if q.first == nil {
		q.first = e
	} else {
		q.more = append(q.more, e)
	}
	x.queues[k.key] = q
	x.all = append(x.all, e)
	_, authority, _ := strings.Cut(k.host, "://") // the host is scheme://host[:port], lower case
	x.hosts[strings.Trim(hostport.StripPort(authority), "[]")] = true
	if x.near != nil {
		x.near.add(e)
	}
}

// AddUsed indexes an interaction recorded during this session (auto mode) as already answered, so
// it counts in diagnostics but is not handed out again.
func (x *Index) AddUsed(it *cassette.Interaction) error {
	e, k, err := x.entryOf(it, true)
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.insert(e, k)
	x.mu.Unlock()
	return nil
}

// Next returns the next unused recorded interaction for r, or a Miss that explains why there is none.
func (x *Index) Next(r *cassette.Request) (*cassette.Interaction, *Miss) {
	it, _, miss := x.next(r, true)
	return it, miss
}

// Peek is Next that leaves the recording unused, to be answered again (test-proxy's
// x-recording-remove: false).
func (x *Index) Peek(r *cassette.Request) (*cassette.Interaction, *Miss) {
	it, _, miss := x.next(r, false)
	return it, miss
}

// Take is Next (consume) or Peek, with the recording's Memo.
func (x *Index) Take(r *cassette.Request, consume bool) (*cassette.Interaction, *Memo, *Miss) {
	return x.next(r, consume)
}

// Memo is where a caller keeps what it makes of a recording once, with the recording in the
// index: the engine keeps the answer it gives there. Finding it costs nothing more than finding
// the recording (a table of its own would be one more cache miss per request in a large index).
type Memo struct{ v atomic.Pointer[any] }

// Load returns what was kept, or nil.
func (m *Memo) Load() any {
	if p := m.v.Load(); p != nil {
		return *p
	}
	return nil
}

// Keep keeps v unless something is kept already, and returns what is kept.
func (m *Memo) Keep(v any) any {
	if m.v.CompareAndSwap(nil, &v) {
		return v
	}
	return *m.v.Load()
}

// next looks r up under the lock. A miss is explained after the lock is released, from what
// was gathered under it, so it never holds up other requests.
func (x *Index) next(r *cassette.Request, consume bool) (*cassette.Interaction, *Memo, *Miss) {
	p, tp, k, err := x.keyed(r, liveBodies.read, nil)
	if err != nil {
		x.mu.Lock()
		x.misses++
		x.mu.Unlock()
		return nil, nil, &Miss{Method: r.Method, URL: r.URL, Reason: err.Error()}
	}
	h := k
	x.mu.Lock()
	if e := x.lookup(h, p, consume); e != nil {
		x.mu.Unlock()
		it, miss := x.full(r, e)
		if miss != nil {
			return nil, nil, miss
		}
		return it, &e.memo, nil
	}
	x.misses++
	if x.rm == nil && x.near == nil { // the first miss: its tables are built off the lock
		x.mu.Unlock()
		x.ensureNear()
		x.mu.Lock()
	}
	if x.rm != nil {
		remaining := x.remaining()
		x.mu.Unlock()
		explaining()
		return nil, nil, x.rm.explain(r, tp, remaining)
	}
	c := x.missCase(p, h)
	x.mu.Unlock()
	explaining()
	return nil, nil, c.explain(r, p)
}

// full is the whole recording it (read again from its file when it was loaded light, see
// cassette.LoadForReplay); a recording that cannot be read is a miss that says why.
func (x *Index) full(r *cassette.Request, e *entry) (*cassette.Interaction, *Miss) {
	if full := e.full.Load(); full != nil {
		return full, nil
	}
	it := e.it
	full, err := it.Full()
	if err != nil {
		x.mu.Lock()
		x.misses++
		x.mu.Unlock()
		return nil, &Miss{Method: r.Method, URL: r.URL, Reason: fmt.Sprintf("recorded interaction #%d matches, but %v", it.ID, err),
			Closest: &Closest{ID: it.ID, Method: it.Request.Method, URL: it.Request.URL}}
	}
	e.full.Store(full)
	return full, nil
}

// explaining is called as a miss starts being explained, with the lock released (tests hold
// it there to show other requests go on).
var explaining = func() {}

// lookup hands out the next unused recording of key k, or its last one again when the repeat
// policy allows; nil when there is none. The lock is held.
func (x *Index) lookup(k keyHash, p parts, consume bool) *entry {
	q, ok := x.queues[k]
	if !ok {
		return nil
	}
	for i := q.next; i < q.len(); i++ {
		e := q.at(i)
		if e.used { // entries recorded this session (AddUsed) are skipped
			continue
		}
		if consume {
			e.used = true
			q.next = i + 1
			x.queues[k] = q
		} else {
			e.peeked = true
		}
		return e
	}
	if q.len() > 0 && x.repeats(p) {
		x.repeated++
		return q.at(q.len() - 1)
	}
	return nil
}

// remaining lists the recordings not yet consumed, in cassette order. The lock is held.
func (x *Index) remaining() []*entry {
	var out []*entry
	for _, e := range x.all {
		if !e.used {
			out = append(out, e)
		}
	}
	return out
}

// Stats counts what happened to the recorded interactions.
type Stats struct {
	Recorded int // interactions in the index
	Replayed int // handed out at least once
	Unused   int // never handed out
	Misses   int // live requests with no answer
	Repeated int // answers given again under the repeat policy
}

// Stats reports replayed, unused and missed counts.
func (x *Index) Stats() Stats {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := Stats{Recorded: len(x.all), Misses: x.misses, Repeated: x.repeated}
	for _, e := range x.all {
		if e.used || e.peeked {
			s.Replayed++
		} else {
			s.Unused++
		}
	}
	return s
}

// Unused is a recorded interaction never handed out, as reports name it.
type Unused struct {
	ID     int
	Method string
	URL    string
}

// Unused lists the recorded interactions never handed out, in cassette order. It reads no
// recording again (those loaded light stay light).
func (x *Index) Unused() []Unused {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []Unused
	for _, e := range x.all {
		if !e.used && !e.peeked {
			out = append(out, Unused{ID: e.it.ID, Method: e.it.Request.Method, URL: e.it.Request.URL})
		}
	}
	return out
}

func mapsKeys[K comparable, V any](m map[K]V) iter.Seq[K] { return maps.Keys(m) }

// Remaining lists the recorded interactions not yet consumed, in cassette order (those only
// peeked at included): what a matcher change re-indexes. They are as indexed: an index over
// recordings loaded light (cassette.LoadForReplay, for azvcr's matcher) hands out light ones.
func (x *Index) Remaining() []*cassette.Interaction {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []*cassette.Interaction
	for _, e := range x.all {
		if !e.used {
			out = append(out, e.it)
		}
	}
	return out
}

// RecordsHost reports whether a recorded interaction is addressed to host (a name or address,
// with or without a port; ports are not compared).
func (x *Index) RecordsHost(host string) bool {
	name := strings.ToLower(strings.Trim(strings.TrimSuffix(hostport.StripPort(host), "."), "[]"))
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.hosts[name]
}

// HeaderReads returns a test of whether the key of a request reads its header with this
// canonical name (a significant header, or Content-Type, which tells a Cosmos query): what else
// a request carries does not change what it matches. It returns nil when any header may be read
// (the test-proxy matcher compares them all).
func (x *Index) HeaderReads() func(canonical string) bool {
	if x.rm != nil {
		return nil
	}
	return readsHeader
}

func readsHeader(h string) bool { return h == "Content-Type" || significant[h] > 0 }

// Reads lists the canonical names of the request headers azvcr's key reads (readsHeader): all a
// recording needs to be indexed, for cassette.LoadForReplay.
var Reads = append([]string{"Content-Type"}, SignificantHeaders...)
