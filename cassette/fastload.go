package cassette

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"unicode/utf8"
)

// Reading a large cassette fast: the file is cut at interactions into a part per core, each part
// read in blocks and decoded by its own decoder, the parts joined in order. A part that holds
// anything the fast reader does not take stops it, and the YAML library reads the whole file.

// source is the file being read: in memory, or on disk and read a block at a time.
type source interface {
	size() int64
	// read returns the n bytes at off, in buf when it has to copy them.
	read(off int64, n int, buf *[]byte) ([]byte, error)
}

type memSource []byte

func (m memSource) size() int64 { return int64(len(m)) }
func (m memSource) read(off int64, n int, _ *[]byte) ([]byte, error) {
	return m[off : off+int64(n)], nil
}

type fileSource struct {
	f *os.File
	n int64
}

func (f fileSource) size() int64 { return f.n }
func (f fileSource) read(off int64, n int, buf *[]byte) ([]byte, error) {
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	_, err := f.f.ReadAt(b, off)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the file shrank while being read
	}
	return b, err
}

// The sizes the fast reader reads in (variables: tests make them small to cut small files).
// A block is new memory, and on some machines (virtual ones that fault every page in from the
// host) touching new memory costs more than the reads a larger block would save: a 2 MB
// cassette read in 4 MiB blocks spent a third of its load faulting the buffers in.
var (
	headBlock int64 = 64 << 10  // the top of the file, before the first interaction, is read in one
	partBlock int64 = 256 << 10 // what a part decoder reads at a time (more for a larger interaction)
	minPart   int64 = 1 << 20   // smaller files are read by one decoder
	maxParts        = 0         // parts at most; 0 for one per core
)

var errSlowPath = errors.New("cassette: not in the layout the fast reader takes")

// fastRead decodes the cassette in src, or returns errSlowPath when the YAML library must (the
// file is not in the layout the fast reader takes, or is not a valid cassette: the library says
// why). Any other error is from reading the file.
//
// With light set, interactions keep only what matching reads, and where they are in the file.
func fastRead(src source, light ...*lightSpec) (c *Cassette, err error) {
	var spec *lightSpec
	if len(light) > 0 {
		spec = light[0]
	}
	d := newDecoder()
	if spec != nil {
		d.light = newLightDecode(spec)
	}
	var buf []byte
	head, err := src.read(0, int(min(src.size(), headBlock)), &buf)
	if err != nil {
		return nil, err
	}
	top, ok := d.top(head, src.size() <= headBlock)
	if !ok {
		return nil, errSlowPath
	}
	c = &Cassette{Version: Version, Variables: top.variables}
	if top.items < 0 { // interactions: [], or none in the file
		c.Interactions = top.empty
		return c, finish(c, top.version)
	}
	firstLine := 0 // of the interactions, in a light decode
	if spec != nil {
		firstLine = 1 + bytes.Count(head[:top.items], []byte{'\n'})
		spec.source.indent = top.indent
	}
	parts := split(src, top.items, top.indent)
	results := make([]partResult, len(parts)-1)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			pd := d
			if i > 0 {
				pd = newDecoder()
				if spec != nil {
					pd.light = newLightDecode(spec)
				}
			}
			results[i] = pd.part(src, parts[i], parts[i+1], top.indent, i == len(results)-1)
		})
	}
	wg.Wait()
	n := 0
	for i, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		if !r.ok || i < len(results)-1 && r.stop != parts[i+1] {
			return nil, errSlowPath
		}
		n += len(r.items)
	}
	c.Interactions = make([]*Interaction, 0, n)
	for _, r := range results {
		if spec != nil {
			for _, it := range r.items {
				it.lazy.line += firstLine
			}
			firstLine += r.newlines
		}
		c.Interactions = append(c.Interactions, r.items...)
	}
	if last := results[len(results)-1]; last.stop < src.size() {
		// Top-level keys after the interactions: read like the ones before them.
		rest, err := src.read(last.stop, int(src.size()-last.stop), &buf)
		if err != nil {
			return nil, err
		}
		if !d.tail(rest, &top) {
			return nil, errSlowPath
		}
		c.Variables = top.variables
	}
	return c, finish(c, top.version)
}

// finish numbers a version 1 file's interactions, as Parse does.
func finish(c *Cassette, version int) error {
	if version == 1 {
		for i, it := range c.Interactions {
			it.ID = i
		}
	}
	return nil
}

func newDecoder() *decoder {
	return &decoder{intern: make(map[string]string, 1024)}
}

// split cuts the interactions, from offset start to the end of the file, into a part per core,
// each starting at an item ("- " at indent). It returns the parts' bounds.
func split(src source, start int64, indent int) []int64 {
	bounds := []int64{start}
	parts := maxParts
	if parts == 0 {
		parts = runtime.GOMAXPROCS(0)
	}
	parts = min(parts, int((src.size()-start)/minPart))
	var buf []byte
	for k := 1; k < parts; k++ {
		at := start + (src.size()-start)*int64(k)/int64(parts)
		if at <= bounds[len(bounds)-1] {
			continue
		}
		window, err := src.read(at, int(min(1<<20, src.size()-at)), &buf)
		if err != nil {
			break
		}
		if i := nextItem(window, indent); i >= 0 {
			bounds = append(bounds, at+int64(i))
		}
	}
	return append(bounds, src.size())
}

var itemMarks sync.Map // indent -> "\n" + spaces + "- "

func itemMark(indent int) []byte {
	if m, ok := itemMarks.Load(indent); ok {
		return m.([]byte)
	}
	m := append(append([]byte{'\n'}, bytes.Repeat([]byte{' '}, indent)...), '-', ' ')
	itemMarks.Store(indent, m)
	return m
}

// nextItem is the offset in b of the first line that starts an item, or -1.
func nextItem(b []byte, indent int) int {
	i := bytes.Index(b, itemMark(indent))
	if i < 0 {
		return -1
	}
	return i + 1
}

// lastItem is the offset in b of the last line that starts an item, or -1.
func lastItem(b []byte, indent int) int {
	i := bytes.LastIndex(b, itemMark(indent))
	if i < 0 {
		return -1
	}
	return i + 1
}

type partResult struct {
	items []*Interaction
	stop  int64 // where the items ended: the part's end, or a top-level key after them
	ok    bool
	// newlines counts the line breaks from the part's start to stop (light decode only).
	newlines int
	err      error
}

// part decodes the items from offset from to to, a block at a time.
func (d *decoder) part(src source, from, to int64, indent int, last bool) (r partResult) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(scanFail); !ok {
				panic(p)
			}
			r.ok = false
		}
	}()
	var buf []byte
	size := partBlock
	for off := from; off < to; {
		n := min(int64(size), to-off)
		blk, err := src.read(off, int(n), &buf)
		if err != nil {
			return partResult{err: err}
		}
		cut := len(blk)
		if off+n < to {
			if cut = lastItem(blk, indent); cut <= 0 {
				size *= 2 // an interaction larger than the block
				continue
			}
		}
		checkText(blk[:cut])
		d.lines = lines{data: blk[:cut]}
		counted := 0 // line breaks of blk counted in r.newlines up to here
		count := func(to int) {
			if d.light != nil {
				r.newlines += bytes.Count(blk[counted:to], []byte{'\n'})
				counted = to
			}
		}
		for d.lines.peek() {
			l := &d.lines
			if l.indent != indent || !bytes.HasPrefix(l.text, []byte("- ")) {
				if !last || l.indent > indent {
					giveUp()
				}
				count(l.start)
				r.stop = off + int64(l.start)
				r.ok = true
				return r
			}
			start := l.start
			it := d.item(indent)
			if problem(it) != "" {
				giveUp() // the library's reading reports it at its line
			}
			if d.light != nil {
				count(start)
				end := cut
				if l.peek() {
					end = l.start
				}
				d.light.refer(it, off+int64(start), blk[start:end], r.newlines)
			} else {
				normalize(it)
			}
			r.items = append(r.items, it)
		}
		count(cut)
		off += int64(cut)
	}
	r.stop, r.ok = to, true
	return r
}

// checkText gives up on characters the YAML library refuses or reads as line breaks, and on
// carriage returns and byte order marks, which it reads but the fast reader does not handle.
//
// Eight bytes of plain ASCII text (no control character but line feed and tab) are checked at
// once; anything else a character at a time.
func checkText(b []byte) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(b); {
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if x&highs == 0 { // each byte below 0x80: no carry crosses a byte below
				low := ^(x + 0x60*ones) & highs              // bytes below 0x20
				lf := ^((x ^ 0x0A*ones) + 0x7F*ones) & highs // line feeds
				tab := ^((x ^ 0x09*ones) + 0x7F*ones) & highs
				del := (x + ones) & highs // 0x7F
				if low&^lf&^tab|del == 0 {
					i += 8
					continue
				}
			}
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7F {
				giveUp()
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
			giveUp()
		}
		i += n
	}
}

// topResult is what the top-level keys say.
type topResult struct {
	version   int
	variables map[string]string
	seen      uint32
	items     int64 // offset of the first interaction, or -1
	indent    int   // of the interactions' "- "
	empty     []*Interaction
	others    []string // top-level keys the cassette has no field for
}

// top reads the top of the file up to the first interaction. whole says head is the whole file.
func (d *decoder) top(head []byte, whole bool) (t topResult, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, fail := p.(scanFail); !fail {
				panic(p)
			}
			ok = false
		}
	}()
	t.items = -1
	if !whole {
		// Up to the last line break: a block may end inside a character.
		head = head[:bytes.LastIndexByte(head, '\n')+1]
	}
	skipped := 0
	if rest, found := bytes.CutPrefix(head, []byte("---\n")); found {
		head, skipped = rest, 4
	}
	end := d.topKeys(head, &t, true)
	checkText(head[:end])
	if t.items >= 0 {
		t.items += int64(skipped)
	} else if !whole {
		return t, false // the top of the file is longer than one block
	}
	if t.seen&1 == 0 || t.seen&4 == 0 {
		giveUp() // no version (the library says so), or no interactions
	}
	return t, true
}

// tail reads top-level keys after the interactions.
func (d *decoder) tail(rest []byte, t *topResult) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, fail := p.(scanFail); !fail {
				panic(p)
			}
			ok = false
		}
	}()
	checkText(rest)
	d.topKeys(rest, t, false)
	return t.seen&1 != 0
}

// topKeys reads the keys of the top-level mapping in b. With items, it stops at the first
// interaction and returns its offset; otherwise it reads to the end of b.
func (d *decoder) topKeys(b []byte, t *topResult, items bool) int {
	d.lines = lines{data: b}
	l := &d.lines
	for l.peek() {
		if l.indent != 0 {
			giveUp()
		}
		key, rest := splitKey(l.text)
		l.take()
		switch string(key) {
		case "version":
			once(&t.seen, 1)
			switch string(inline(rest)) {
			case "1":
				t.version = 1
			case "2":
				t.version = 2
			default:
				giveUp()
			}
		case "variables":
			once(&t.seen, 2)
			t.variables = d.stringMap(rest, 0)
		case "interactions":
			once(&t.seen, 4)
			if s := inline(rest); len(s) > 0 {
				if string(s) != "[]" {
					giveUp()
				}
				t.empty = []*Interaction{}
				continue
			}
			if !items || !l.peek() || !bytes.HasPrefix(l.text, []byte("- ")) {
				giveUp()
			}
			t.items, t.indent = int64(l.start), l.indent
			return l.start
		default:
			other(&t.others, key)
			d.skip(rest, 0, 0)
		}
	}
	return len(b)
}
