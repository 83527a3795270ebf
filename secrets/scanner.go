package secrets

import (
	"bytes"
	"encoding/base64"
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Scanner is Lint's reading of a file written a piece at a time: it reads each line as it is
// completed and keeps only what spans lines (an open YAML !!binary block, a private key's BEGIN
// line, the YAML key of a "- value" list), so a large file is never held whole. Write the file's
// bytes in any pieces, then Close: it returns the findings as Lint reports them.
type Scanner struct {
	name    string
	pending []byte   // the bytes of the lines not read yet, and of the line being written
	ends    []int    // where each complete line in pending ends (its newline)
	batch   []string // the complete lines, while a batch is read
	size    int      // bytes of complete lines in pending
	limit   [2]int   // a batch is read at this many bytes or lines
	next    int      // index of batch[0] in the file
	memos   []*lineMemo
	hits    [][]hit

	inBinary   bool // inside a !!binary scalar's block
	binIndent  int
	block      *binaryBlock // the !!binary block being gathered
	pendingKey string
	pems       []*pemBlock
	found      []Finding // what Lint finds line by line
	binFound   []Finding // in !!binary scalars
	pemFound   []Finding // private keys over several lines
	closed     bool
}

// lineMemo is what lines were found to hold, by the depth they were read at: plain lines, and
// lines of !!binary blocks (read decoded). Maps keyed by the line alone are the fast kind.
//
// Most plain lines are not looked up in the map, whose tens of thousands of lines do not stay in
// the cache: front is the entry last met by each slot of a hash of the line, where a recording's
// lines that come back (its headers, the shapes of its bodies) are found; held has a bit for each
// line in the map by another part of the hash, so that most lines the map does not hold (ids,
// etags, timestamps: one of their own in every entry) are not looked for there.
type lineMemo struct {
	lines [2]map[string]*memoEntry
	front [1 << frontBits]*memoEntry
	held  [1 << heldBits / 64]uint64
	seed  maphash.Seed
}

type memoEntry struct {
	line string // held by the memo, not by the batch's text
	hits []hit
}

const (
	frontBits = 12
	heldBits  = 20
)

// lineHash hashes a line with the memo's seed: its top frontBits are the line's slot in front,
// the heldBits below them its bit in held. All of the line counts: lines of a recording differ
// anywhere (an id in the middle of a self link, a digit before a constant tail).
func (memo *lineMemo) lineHash(line string) uint64 { return maphash.String(memo.seed, line) }

type binaryBlock struct {
	indent int
	b64    strings.Builder
	chunks []binaryChunk
}

type binaryChunk struct{ line, end int } // file line, and end offset in the joined base64

type pemBlock struct {
	line  int    // of the BEGIN line, from 1
	begin string // the BEGIN line
	body  strings.Builder
}

// A Scanner reads its lines in batches of about this many bytes or lines, shared out over the
// cores.
const (
	scanBatchBytes = 1 << 20
	scanBatchLines = 8192
)

// NewScanner starts a scan of the file called name (used in findings only).
func NewScanner(name string) *Scanner {
	return &Scanner{name: name, limit: [2]int{scanBatchBytes, scanBatchLines}}
}

// Write reads p as the next bytes of the file. It never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.pending = append(s.pending, p...)
			break
		}
		s.pending = append(s.pending, p[:i+1]...)
		s.ends = append(s.ends, len(s.pending)-1)
		p = p[i+1:]
		s.size += i
		if s.size >= s.limit[0] || len(s.ends) >= s.limit[1] {
			s.flush()
		}
	}
	return n, nil
}

// takeLines cuts the complete lines out of pending: one string for all of them, which the
// lines share (a string per line was a tenth of the scan), and the partial line kept.
func (s *Scanner) takeLines() {
	if len(s.ends) == 0 {
		return
	}
	last := s.ends[len(s.ends)-1]
	text := string(s.pending[:last+1])
	from := 0
	for _, end := range s.ends {
		s.batch = append(s.batch, text[from:end])
		from = end + 1
	}
	s.pending = s.pending[:copy(s.pending, s.pending[last+1:])]
	s.ends = s.ends[:0]
}

// Close reads the last line and returns the findings, as Lint returns them.
func (s *Scanner) Close() []Finding {
	if !s.closed {
		s.closed = true
		s.pending = append(s.pending, '\n') // Lint's last line, empty after a final newline
		s.ends = append(s.ends, len(s.pending)-1)
		s.flush()
		s.pending = nil
		s.endBinaryBlock()
	}
	out := slices.Clone(s.found)
	out = append(out, s.binFound...)
	for _, f := range s.pemFound { // Lint looks for these only where no private key was found already
		if !slices.ContainsFunc(out[:len(s.found)+len(s.binFound)], func(g Finding) bool { return g.Line == f.Line && g.Rule == "private-key" }) {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out
}

// flush reads the batch: which lines lie in !!binary scalars, each line's hits (over the cores),
// then what spans lines, in order.
func (s *Scanner) flush() {
	s.takeLines()
	lines := s.batch
	if len(lines) == 0 {
		return
	}
	binary := make([]bool, len(lines))
	tagged := make([]bool, len(lines)) // holds "!!binary": looked for once, read twice
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		tagged[i] = hasBinaryTag(l)
		binary[i] = s.binaryLine(l, tagged[i])
	}
	if cap(s.hits) < len(lines) {
		s.hits = make([][]hit, len(lines))
	}
	hits := s.hits[:len(lines)]
	s.eachLine(len(lines), func(memo *lineMemo, i int) {
		line := strings.TrimSuffix(lines[i], "\r")
		if len(line) < MinSecretLen { // findHits passes over it: no need to look it up
			hits[i] = nil
			return
		}
		depth, m := 0, memo.lines[0]
		if binary[i] {
			depth, m = maxDecodeDepth, memo.lines[1]
		}
		if len(line) > maxMemoLine { // never kept: not looked up either
			hits[i] = findHits(line, depth)
			return
		}
		if binary[i] {
			if e, ok := m[line]; ok {
				hits[i] = e.hits
				return
			}
			hits[i] = findHits(line, depth)
			memo.add(m, nil, 0, line, hits[i])
			return
		}
		h := memo.lineHash(line)
		slot := &memo.front[h>>(64-frontBits)]
		if e := *slot; e != nil && e.line == line {
			hits[i] = e.hits
			return
		}
		bit := h >> (64 - frontBits - heldBits) & (1<<heldBits - 1)
		if memo.held[bit/64]&(1<<(bit%64)) != 0 {
			if e, ok := m[line]; ok {
				hits[i], *slot = e.hits, e
				return
			}
		}
		hits[i] = findHits(line, depth)
		memo.add(m, slot, bit, line, hits[i])
	})
	for i, raw := range lines {
		n := s.next + i + 1 // the line's number
		line := strings.TrimSuffix(raw, "\r")
		for _, h := range hits[i] {
			s.found = append(s.found, Finding{File: s.name, Line: n, Rule: h.rule, Excerpt: h.excerpt})
		}
		hits[i] = nil
		s.seqLine(line, n)
		s.binaryBlockLine(line, n, tagged[i])
		s.pemLine(raw, n)
	}
	s.next += len(lines)
	clear(s.batch)
	s.batch, s.size = s.batch[:0], 0
}

// add keeps line's hits in m, while the memo has room; slot and bit are the line's in front and
// held, for a plain line (else slot is nil).
func (memo *lineMemo) add(m map[string]*memoEntry, slot **memoEntry, bit uint64, line string, hits []hit) {
	if len(memo.lines[0])+len(memo.lines[1]) >= maxMemoLines {
		return
	}
	e := &memoEntry{line: strings.Clone(line), hits: cloneHits(hits)} // not the batch's text, which it would keep
	m[e.line] = e
	if slot != nil {
		*slot = e
		memo.held[bit/64] |= 1 << (bit % 64)
	}
}

// eachLine calls f for every i in [0, n) on as many goroutines as there are cores, each with a
// memo of its own that it keeps from batch to batch.
func (s *Scanner) eachLine(n int, f func(*lineMemo, int)) {
	const chunk = 256
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	for len(s.memos) < max(workers, 1) {
		s.memos = append(s.memos, &lineMemo{lines: [2]map[string]*memoEntry{{}, {}}, seed: maphash.MakeSeed()})
	}
	if workers <= 1 {
		for i := range n {
			f(s.memos[0], i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		memo := s.memos[w]
		wg.Go(func() {
			for {
				end := int(next.Add(chunk))
				for i := end - chunk; i < min(end, n); i++ {
					f(memo, i)
				}
				if end >= n {
					return
				}
			}
		})
	}
	wg.Wait()
}

// binaryLine reports whether the next line, l (without its "\r"), is part of a !!binary scalar,
// read decoded; tagged says whether l holds "!!binary".
func (s *Scanner) binaryLine(l string, tagged bool) bool {
	if s.inBinary {
		if t := strings.TrimSpace(l); t == "" || len(l)-len(strings.TrimLeft(l, " \t")) > s.binIndent {
			return true
		}
		s.inBinary = false
	}
	m := matchTagged(l, tagged)
	if m == nil {
		return false
	}
	s.inBinary, s.binIndent = true, len(m[1])
	return true
}

// seqLine reads YAML keys whose values follow as "- value" items: X-Api-Key's value is read as a
// named secret.
func (s *Scanner) seqLine(line string, n int) {
	if s.pendingKey != "" {
		if m := seqItem.FindStringSubmatch(line); m != nil {
			if h, ok := namedHit(s.pendingKey, unquote(m[1])); ok && !coveredLine(s.found, n) {
				s.found = append(s.found, Finding{File: s.name, Line: n, Rule: h.rule, Excerpt: s.pendingKey + ": - " + mask(h.value, "")})
			}
			return
		}
		s.pendingKey = ""
	}
	if m := matchSeqKey(line); m != nil {
		s.pendingKey = strings.Clone(m[1])
	}
}

// binaryBlockLine gathers the base64 of !!binary scalars (bodies that are not UTF-8, which azvcr
// writes as base64) to read what they hold: a secret inside a binary body is still a secret.
// tagged says whether line holds "!!binary".
func (s *Scanner) binaryBlockLine(line string, n int, tagged bool) {
	if b := s.block; b != nil {
		t := strings.TrimSpace(line)
		if t == "" || len(line)-len(strings.TrimLeft(line, " \t")) > b.indent {
			b.b64.WriteString(t)
			b.chunks = append(b.chunks, binaryChunk{n, b.b64.Len()})
			return
		}
		s.endBinaryBlock()
	}
	m := matchTagged(line, tagged)
	if m == nil {
		return
	}
	indent, rest := len(m[1]), m[2]
	if rest == "" || rest[0] == '|' || rest[0] == '>' {
		s.block = &binaryBlock{indent: indent}
		return
	}
	if b64, ok := inlineBinary(rest); ok {
		s.binFound = append(s.binFound, binaryFindings(s.name, b64, []binaryChunk{{n, len(b64)}})...)
	}
}

func (s *Scanner) endBinaryBlock() {
	if b := s.block; b != nil {
		s.block = nil
		s.binFound = append(s.binFound, binaryFindings(s.name, b.b64.String(), b.chunks)...)
	}
}

// pemLine finds private keys written over several lines (a body in a YAML block scalar): it
// ends the open BEGIN lines' bodies at an END line, else adds to them, and opens one at a BEGIN
// line.
func (s *Scanner) pemLine(raw string, n int) {
	if len(s.pems) > 0 {
		if strings.Contains(raw, "-----END") {
			for _, p := range s.pems {
				if v := p.body.String(); len(v) >= 40 && looksRandom(v) {
					s.pemFound = append(s.pemFound, Finding{File: s.name, Line: p.line, Rule: "private-key", Excerpt: context(pemBegin.FindString(p.begin)) + mask(v, "")})
				}
			}
			clear(s.pems)
			s.pems = s.pems[:0]
		} else {
			t := strings.TrimSpace(raw)
			for _, p := range s.pems {
				p.body.WriteString(t)
			}
		}
	}
	if containsBegin(raw) && pemBegin.MatchString(raw) {
		s.pems = append(s.pems, &pemBlock{line: n, begin: strings.Clone(raw)})
	}
}

// binaryFindings decodes the base64 of a !!binary scalar, gathered from the lines chunks name,
// and reads what it holds line by line; a finding is on the line holding the base64 that
// encodes it.
func binaryFindings(name, b64 string, chunks []binaryChunk) []Finding {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(data) == 0 {
		return nil
	}
	lineAt := func(off int) int { // file line of decoded byte offset off
		c := off / 3 * 4
		for _, ch := range chunks {
			if c < ch.end {
				return ch.line
			}
		}
		return chunks[len(chunks)-1].line
	}
	var out []Finding
	off := 0
	for _, dl := range strings.SplitAfter(string(data), "\n") {
		for _, h := range findHits(strings.TrimRight(dl, "\r\n"), 0) {
			out = append(out, Finding{File: name, Line: lineAt(off + h.start), Rule: h.rule, Excerpt: h.excerpt + " in !!binary"})
		}
		off += len(dl)
	}
	return out
}

// inlineBinary is the base64 of an inline !!binary scalar: the first word of what follows the
// tag (a comment may follow it), unquoted. A tag followed only by spaces that are not ASCII has
// none.
func inlineBinary(rest string) (string, bool) {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", false
	}
	return unquote(f[0]), true
}

// cloneHits copies hits with their values out of the text they were found in.
func cloneHits(hits []hit) []hit {
	if len(hits) == 0 {
		return hits
	}
	out := slices.Clone(hits)
	for i := range out {
		out[i].value, out[i].excerpt = strings.Clone(out[i].value), strings.Clone(out[i].excerpt)
	}
	return out
}
