package cassette

import (
	"errors"
	"hash/maphash"
	"io"
	"net/http"
	"os"
	"sync"

	"golang.org/x/net/http/httpguts"

	"github.com/azvcr/azvcr/wire"
)

// Replay reads every interaction of a cassette to index it, but answers only some of them, each
// once. LoadForReplay reads the file as Load does (the same checks, the same fast reader) but keeps
// only what matching reads: the request's method, URL, host, form, body and the headers asked for,
// and the response's code and continuation token. Each interaction remembers where it is in the
// file, its line and a hash of its bytes; Full reads it again, whole, the first time it is asked.

// ContinuationHeader is the one response header a light decode keeps: miss diagnostics follow
// continuation tokens from the responses that issued them.
const ContinuationHeader = "X-Ms-Continuation"

// LoadForReplay reads the cassette at path for replay: its interactions carry what matching reads
// (the request headers named in headers, in any case, and no other), and Full reads one whole. The
// closer closes the file Full reads from; close it when replay ends. A file the fast reader does
// not take is loaded whole, as by Load (Full then returns the interaction itself).
func LoadForReplay(path string, headers []string) (*Cassette, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	keep, torn, err := findTorn(path, fileSource{f, st.Size()})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	c, err := readLight(path, fileSource{f, keep}, headers)
	if err == nil {
		c.Torn = torn
		return c, f, nil
	}
	f.Close()
	if !errors.Is(err, errSlowPath) {
		return nil, nil, err
	}
	c, err = Load(path)
	return c, nopCloser{}, err
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// parseForReplay is LoadForReplay of a file's bytes (name in errors): Full reads from data, which
// must not change. ok is false when the fast reader does not take the file (Parse reads it).
func parseForReplay(name string, data []byte, headers []string) (c *Cassette, ok bool, err error) {
	keep, torn, _ := findTorn(name, memSource(data)) // reading memory does not fail
	c, err = readLight(name, memSource(data[:keep]), headers)
	if errors.Is(err, errSlowPath) {
		return nil, false, nil
	}
	if c != nil {
		c.Torn = torn
	}
	return c, true, err
}

func readLight(name string, src source, headers []string) (*Cassette, error) {
	reads := make(map[string]bool, len(headers))
	for _, h := range headers {
		reads[http.CanonicalHeaderKey(h)] = true
	}
	ls := &lazySource{src: src, name: name, seed: maphash.MakeSeed()}
	return fastRead(src, &lightSpec{source: ls, reads: reads})
}

// lightSpec is what a light decode keeps, shared by the decoders of a file's parts.
type lightSpec struct {
	source *lazySource
	reads  map[string]bool // canonical names of the request headers kept
}

// lazySource is the file light interactions are read again from.
type lazySource struct {
	src    source
	name   string
	indent int // of the interactions' "- "
	seed   maphash.Seed
}

// lazyRef is where a light interaction is in its file, or what makes it whole (complete), and
// its full form once made.
type lazyRef struct {
	complete func() (*Interaction, error)
	source   *lazySource
	off      int64
	n        int
	line     int
	sum      uint64
	once     sync.Once
	full     *Interaction
	err      error
}

// lightDecode is one decoder's state in a light decode.
type lightDecode struct {
	spec     *lightSpec
	request  keepSet
	response keepSet
	// keepRequest and keepResponse are request.keeps and response.keeps, made once
	keepRequest, keepResponse func(name string) bool
	dups                      map[string]struct{}
	key                       []byte
	headerSet                 map[string]http.Header // request header sets seen, each map shared by all that have it
	refs                      []lazyRef
}

const (
	headerSetMax = 4096 // distinct request header sets shared
	keepMemoMax  = 4096 // header names as spelled whose verdict is remembered
	refSlab      = 256
)

// keepSet tells the headers kept by canonical name, remembering the verdict for names as spelled.
type keepSet struct {
	canonical map[string]bool
	spelled   map[string]bool
}

func (k *keepSet) keeps(name string) bool {
	if v, ok := k.spelled[name]; ok {
		return v
	}
	v := k.canonical[http.CanonicalHeaderKey(name)]
	if len(k.spelled) < keepMemoMax {
		k.spelled[name] = v
	}
	return v
}

var continuationOnly = map[string]bool{ContinuationHeader: true}

func newLightDecode(spec *lightSpec) *lightDecode {
	ld := &lightDecode{
		spec:      spec,
		request:   keepSet{canonical: spec.reads, spelled: map[string]bool{}},
		response:  keepSet{canonical: continuationOnly, spelled: map[string]bool{}},
		dups:      map[string]struct{}{},
		headerSet: map[string]http.Header{},
	}
	ld.keepRequest, ld.keepResponse = ld.request.keeps, ld.response.keeps
	return ld
}

// refer makes it light: its bytes are b, at off in the file, after newlines line breaks of its
// part (the part's first line is added when the parts are joined).
func (l *lightDecode) refer(it *Interaction, off int64, b []byte, newlines int) {
	if len(l.refs) == 0 {
		l.refs = make([]lazyRef, refSlab)
	}
	r := &l.refs[0]
	l.refs = l.refs[1:]
	r.source, r.off, r.n, r.line = l.spec.source, off, len(b), newlines
	r.sum = maphash.Bytes(l.spec.source.seed, b)
	it.lazy = r
}

// Full is the interaction with every field. For one loaded by LoadForReplay it reads the
// interaction again from the file, once, and fails, naming the file and line, when the file no
// longer holds the same bytes there (or is closed); for one made by Deferred it is what complete
// returns, called once; for any other it is the interaction itself.
func (it *Interaction) Full() (*Interaction, error) {
	r := it.lazy
	if r == nil {
		return it, nil
	}
	r.once.Do(func() {
		if r.complete != nil {
			r.full, r.err = r.complete()
			return
		}
		r.full, r.err = r.read(it.ID)
	})
	return r.full, r.err
}

// Deferred makes it light: what matching reads is in it now, and Full is complete's answer,
// asked for once, when it is first wanted (test-proxy playback sanitizes a recorded response
// only when it is served).
func Deferred(it *Interaction, complete func() (*Interaction, error)) *Interaction {
	it.lazy = &lazyRef{complete: complete}
	return it
}

// Light reports whether the interaction holds only what matching reads (Full has the rest).
func (it *Interaction) Light() bool { return it.lazy != nil }

// Line is the line of the file an interaction loaded by LoadForReplay starts at; 0 for any other.
func (it *Interaction) Line() int {
	if it.lazy == nil {
		return 0
	}
	return it.lazy.line
}

var fullDecoders = sync.Pool{New: func() any { return newDecoder() }}

func (r *lazyRef) read(id int) (*Interaction, error) {
	s := r.source
	var buf []byte
	b, err := s.src.read(r.off, r.n, &buf)
	if err != nil {
		return nil, &Error{File: s.name, Line: r.line, Msg: "reading the interaction again: " + err.Error()}
	}
	if maphash.Bytes(s.seed, b) != r.sum {
		return nil, &Error{File: s.name, Line: r.line, Msg: "the interaction changed in the file since it was opened for replay"}
	}
	d := fullDecoders.Get().(*decoder)
	defer fullDecoders.Put(d)
	it, ok := d.one(b, s.indent)
	if !ok {
		return nil, &Error{File: s.name, Line: r.line, Msg: "the interaction does not read again as it did when the file was opened"}
	}
	it.ID = id
	return it, nil
}

// one decodes b, one interactions item at indent, fully.
func (d *decoder) one(b []byte, indent int) (it *Interaction, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, fail := p.(scanFail); !fail {
				panic(p)
			}
			it, ok = nil, false
		}
	}()
	d.lines = lines{data: b}
	if !d.lines.peek() || d.lines.indent != indent {
		giveUp()
	}
	it = d.item(indent)
	if d.lines.peek() || problem(it) != "" {
		giveUp()
	}
	normalize(it)
	return it, true
}

// lightResponse reads a response keeping its code and continuation token; every other value is
// read only to be checked, as the full decoder checks it.
func (d *decoder) lightResponse(r *Response, indent int) {
	m := message{proto: &r.Proto, major: &r.ProtoMajor, minor: &r.ProtoMinor, length: &r.ContentLength, body: &r.Body, headers: &r.Headers, names: &r.HeaderNames,
		light: true, response: true}
	d.fields(m, indent, func(key, rest []byte, fields int, seen *uint32) bool {
		switch string(key) {
		case "status":
			once(seen, 128)
			d.value(rest, fields)
		case "code":
			once(seen, 256)
			r.Code = int(d.integer(rest))
		case "duration":
			once(seen, 512)
			d.value(rest, fields)
		default:
			return false
		}
		return true
	})
}

// someHeaders is multiMap keeping only some headers, with canonical keys; nil when none is kept.
// The file is checked as multiMap checks it.
func (d *decoder) someHeaders(rest []byte, indent int, response bool) http.Header {
	if s := inline(rest); len(s) > 0 {
		if string(s) != "{}" || rest[0] != ' ' {
			giveUp()
		}
		return nil
	}
	ld := d.light
	keep := ld.keepRequest
	if response {
		keep = ld.keepResponse
	}
	d.readPairs(indent, keep)
	kept := 0
	for _, p := range d.pairs {
		if p.values != notKept {
			kept++
		}
	}
	d.refuseDuplicates()
	if kept == 0 {
		return nil
	}
	if response {
		return d.keptHeaders()
	}
	// Identical sets share a map: requests repeat the same few significant headers.
	b := ld.key[:0]
	vals := d.values
	for _, p := range d.pairs {
		if p.values == notKept {
			continue
		}
		b = append(b, p.key...)
		b = append(b, 0)
		for _, v := range vals[:max(p.values, 0)] {
			b = append(b, v...)
			b = append(b, 1)
		}
		vals = vals[max(p.values, 0):]
		b = append(b, 2)
	}
	ld.key = b
	if h, ok := ld.headerSet[string(b)]; ok {
		return h
	}
	h := d.keptHeaders()
	if len(ld.headerSet) < headerSetMax {
		ld.headerSet[string(b)] = h
	}
	return h
}

// refuseDuplicates gives up on a name given twice in d.pairs, as multiMap does.
func (d *decoder) refuseDuplicates() {
	if len(d.pairs) <= 16 {
		for i := 1; i < len(d.pairs); i++ {
			for j := range i {
				if d.pairs[i].key == d.pairs[j].key {
					giveUp()
				}
			}
		}
		return
	}
	dups := d.light.dups
	clear(dups)
	for _, p := range d.pairs {
		if _, dup := dups[p.key]; dup {
			giveUp()
		}
		dups[p.key] = struct{}{}
	}
}

// keptHeaders builds the map of the kept pairs in d.pairs, with canonical keys (as normalize
// gives them).
func (d *decoder) keptHeaders() http.Header {
	h := make(http.Header)
	all := make([]string, len(d.values))
	copy(all, d.values)
	for _, p := range d.pairs {
		switch {
		case p.values == notKept:
		case p.values < 0:
			h[p.key] = []string{}
		default:
			h[p.key] = all[:p.values:p.values]
			all = all[p.values:]
		}
	}
	return wire.Canonical(h)
}

// checkNames reads a header_names list only to check it: a list the full decoder reads, of
// names problem accepts.
func (d *decoder) checkNames(rest []byte, indent int) {
	if s := inline(rest); len(s) > 0 {
		if string(s) != "[]" || rest[0] != ' ' {
			giveUp()
		}
		return
	}
	at := d.seqIndent(indent)
	l := &d.lines
	for l.at(at) && isItem(l.text) {
		text := l.text
		l.take()
		if !httpguts.ValidHeaderFieldName(d.short(d.seqItem(text))) {
			giveUp()
		}
	}
	if l.peek() && l.indent > at {
		giveUp()
	}
}
