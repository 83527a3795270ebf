package testproxy

import (
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/azvcr/azvcr/cassette"
)

// entries keeps a recording session's exchanges as compact bytes, one encoded exchange each, in
// blocks of blockSize allocated outside the Go heap where the system allows (blocks_unix.go): a
// large session then costs the garbage collector nothing to scan, and its memory is about its
// size. An exchange larger than a block gets a block of its own.
type entries struct {
	blocks   [][]byte // each full length; used up to the end of the last entry in it
	refs     []entryRef
	used     int // bytes used in the last block
	buf      []byte
	released int        // blocks before this one were given back (release)
	reuse    *blockPool // where release gives blocks back, if not to the system
}

type entryRef struct{ block, off, n uint32 }

const blockSize = 1 << 20

// Len is the number of exchanges kept.
func (e *entries) Len() int { return len(e.refs) }

// add keeps it.
func (e *entries) add(it *cassette.Interaction) {
	e.buf = appendInteraction(e.buf[:0], it)
	n := len(e.buf)
	if len(e.blocks) == 0 || e.used+n > len(e.blocks[len(e.blocks)-1]) {
		e.blocks = append(e.blocks, allocBlock(max(n, blockSize)))
		e.used = 0
	}
	b := len(e.blocks) - 1
	copy(e.blocks[b][e.used:], e.buf)
	e.refs = append(e.refs, entryRef{block: uint32(b), off: uint32(e.used), n: uint32(n)})
	e.used += n
	if cap(e.buf) > blockSize {
		e.buf = nil
	}
}

// get decodes exchange i; nothing in it refers to the blocks.
func (e *entries) get(i int) *cassette.Interaction {
	r := e.refs[i]
	return decodeInteraction(e.blocks[r.block][r.off : r.off+r.n])
}

// release gives back the blocks that hold only exchanges before i, which will not be read again
// (exchanges are kept in order, so later ones are in the same block or later ones).
func (e *entries) release(i int) {
	last := len(e.blocks)
	if i < len(e.refs) {
		last = int(e.refs[i].block)
	}
	for ; e.released < last; e.released++ {
		e.reuse.put(e.blocks[e.released])
		e.blocks[e.released] = nil
	}
}

// free gives the blocks back; e is empty afterwards.
func (e *entries) free() {
	for _, b := range e.blocks[e.released:] {
		freeBlock(b)
	}
	*e = entries{}
}

// spool is bytes written in blocks outside the Go heap, like entries: a recording being saved,
// held until it may be written.
type spool struct {
	blocks [][]byte
	used   int        // bytes used in the last block
	reuse  *blockPool // where blocks are taken from first
}

// blockPool hands blocks given back by one user (the exchanges being saved) to another (the
// spool they are saved into): a block already in memory is written without the page faults and
// zeroing of a new map, which cost a /Record/Stop of 200 MB about a quarter of a second. A nil
// pool takes and gives blocks straight from and to the system.
type blockPool struct {
	mu     sync.Mutex
	blocks [][]byte // each blockSize long
}

// get returns a block of blockSize bytes (of any content).
func (p *blockPool) get() []byte {
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		if n := len(p.blocks); n > 0 {
			b := p.blocks[n-1]
			p.blocks[n-1] = nil
			p.blocks = p.blocks[:n-1]
			return b
		}
	}
	return allocBlock(blockSize)
}

// put gives back a block; one not of blockSize goes back to the system.
func (p *blockPool) put(b []byte) {
	if p == nil || len(b) != blockSize {
		freeBlock(b)
		return
	}
	p.mu.Lock()
	p.blocks = append(p.blocks, b)
	p.mu.Unlock()
}

// free gives the pool's blocks back to the system.
func (p *blockPool) free() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.blocks {
		freeBlock(b)
	}
	p.blocks = nil
}

func (s *spool) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(s.blocks) == 0 || s.used == len(s.blocks[len(s.blocks)-1]) {
			s.blocks = append(s.blocks, s.reuse.get())
			s.used = 0
		}
		c := copy(s.blocks[len(s.blocks)-1][s.used:], p)
		s.used += c
		p = p[c:]
	}
	return n, nil
}

// writeTo writes what was spooled, in order.
func (s *spool) writeTo(w io.Writer) error {
	for i, b := range s.blocks {
		if i == len(s.blocks)-1 {
			b = b[:s.used]
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (s *spool) free() {
	for _, b := range s.blocks {
		freeBlock(b)
	}
	*s = spool{}
}

// ---- the encoding: uvarints, strings as length and bytes; a map or slice as 0 for nil, else
// its length + 1 and its elements; first, how many strings the lists hold in all (the decoder
// makes them in one allocation) ----

func appendInteraction(b []byte, it *cassette.Interaction) []byte {
	q, r := &it.Request, &it.Response
	b = binary.AppendUvarint(b, uint64(listStrings(q.Form)+listStrings(q.Headers)+len(q.HeaderNames)+
		listStrings(r.Headers)+len(r.HeaderNames)))
	b = binary.AppendVarint(b, int64(it.ID))
	b = appendString(b, q.Proto)
	b = binary.AppendVarint(b, int64(q.ProtoMajor))
	b = binary.AppendVarint(b, int64(q.ProtoMinor))
	b = binary.AppendVarint(b, q.ContentLength)
	b = appendString(b, q.Host)
	b = appendString(b, q.Body)
	b = appendValues(b, q.Form)
	b = appendValues(b, q.Headers)
	b = appendStrings(b, q.HeaderNames)
	b = appendString(b, q.URL)
	b = appendString(b, q.Method)
	b = appendString(b, r.Proto)
	b = binary.AppendVarint(b, int64(r.ProtoMajor))
	b = binary.AppendVarint(b, int64(r.ProtoMinor))
	b = binary.AppendVarint(b, r.ContentLength)
	b = appendString(b, r.Body)
	b = appendValues(b, r.Headers)
	b = appendStrings(b, r.HeaderNames)
	b = appendString(b, r.Status)
	b = binary.AppendVarint(b, int64(r.Code))
	return appendString(b, r.Duration)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1)
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func listStrings(m map[string][]string) int {
	n := 0
	for _, vs := range m {
		n += len(vs)
	}
	return n
}

func appendValues(b []byte, m map[string][]string) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	for k, vs := range m {
		b = appendString(b, k)
		b = appendStrings(b, vs)
	}
	return b
}

// decoder reads what appendInteraction wrote (and nothing else: the bytes are azvcr's own). The
// exchange's strings are cut from one copy of its bytes, and its lists from one slice: a few
// allocations an exchange instead of one a string, which a /Record/Stop of many exchanges pays in
// garbage collection.
type decoder struct {
	b     []byte   // the encoded exchange, where its numbers are read
	s     string   // the same bytes, copied once, where its strings are cut from
	i     int      // read so far
	lists []string // what the lists are cut from
}

func decodeInteraction(b []byte) *cassette.Interaction {
	d := decoder{b: b, s: string(b)}
	d.lists = make([]string, d.uint())
	return d.interaction()
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b[d.i:])
	d.i += n
	return v
}

func (d *decoder) uint() int {
	v, n := binary.Uvarint(d.b[d.i:])
	d.i += n
	return int(v)
}

func (d *decoder) string() string {
	n := d.uint()
	s := d.s[d.i : d.i+n]
	d.i += n
	return s
}

func (d *decoder) strings() []string {
	n := d.uint()
	if n == 0 {
		return nil
	}
	ss := d.lists[: n-1 : n-1] // capped: an append gets its own array
	d.lists = d.lists[n-1:]
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
}

func (d *decoder) values() map[string][]string {
	n := d.uint()
	if n == 0 {
		return nil
	}
	m := make(map[string][]string, n-1)
	for range n - 1 {
		k := d.string()
		m[k] = d.strings()
	}
	return m
}

func (d *decoder) interaction() *cassette.Interaction {
	it := &cassette.Interaction{ID: int(d.int())}
	q, r := &it.Request, &it.Response
	q.Proto = d.string()
	q.ProtoMajor = int(d.int())
	q.ProtoMinor = int(d.int())
	q.ContentLength = d.int()
	q.Host = d.string()
	q.Body = d.string()
	if f := d.values(); f != nil {
		q.Form = url.Values(f)
	}
	if h := d.values(); h != nil {
		q.Headers = http.Header(h)
	}
	q.HeaderNames = d.strings()
	q.URL = d.string()
	q.Method = d.string()
	r.Proto = d.string()
	r.ProtoMajor = int(d.int())
	r.ProtoMinor = int(d.int())
	r.ContentLength = d.int()
	r.Body = d.string()
	if h := d.values(); h != nil {
		r.Headers = http.Header(h)
	}
	r.HeaderNames = d.strings()
	r.Status = d.string()
	r.Code = int(d.int())
	r.Duration = d.string()
	return it
}
