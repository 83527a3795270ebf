package testproxyjson

import (
	"fmt"
	"math/bits"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// headerNames appends h's headers to names, sorted as the proxy's case-insensitive dictionary
// sorts (letters ignoring case; approximated ordinally on lower case), each name spelled as the
// first of spelled (the names as on the wire) that is the same ignoring case, else as h's key.
// A name or value that is not UTF-8 is an error naming side. tab is scratch.
//
// Each name is read once: one pass folds it to lower case eight bytes at a time, giving its sort
// key and a hash that finds its spelling in a table of spelled, instead of trying every spelled
// name against every header. Printable ASCII is valid UTF-8, so most names and values need no
// UTF-8 check of their own, and are then written without looking for escapes.
func headerNames(names []headerName, tab *spellings, side string, h http.Header, spelled []string) ([]headerName, error) {
	few := len(spelled) <= fewSpellings
	if !few {
		tab.index(spelled)
	}
	for k, vs := range h {
		key, plain := foldKey(k)
		ok := plain || utf8.ValidString(k)
		for _, v := range vs {
			if !isPlain(v) {
				plain = false
				ok = ok && utf8.ValidString(v)
			}
		}
		if !ok {
			return names, fmt.Errorf("%s header %q is not UTF-8", side, k)
		}
		// a spelling the same as k canonically differs from it at most in the case of ASCII
		// letters: it has the same key, is as plain, and is as ASCII
		name := k
		if few {
			for _, n := range spelled {
				if len(n) == len(k) && n != "" && sameCanonical(n, k) {
					name = n
					break
				}
			}
		} else {
			name = tab.spelling(spelled, k, foldHash(k))
		}
		hn := headerName{name: name, vals: vs, key: key, plain: plain}
		hn.ascii = plain || isASCII(k)
		if !hn.ascii {
			hn.lower = strings.ToLower(hn.name)
		}
		names = append(names, hn)
	}
	sortHeaderNames(names)
	return names, nil
}

// fewSpellings is how many spelled names are tried one by one against each header (most fail at
// once on the length); more are looked up in a table by hash.
const fewSpellings = 24

// sortHeaderNames sorts by compareHeaderNames: a few headers by insertion, which moves the least.
// Names that compare equal are the same name, so their order is the map's either way.
func sortHeaderNames(names []headerName) {
	if len(names) > 32 {
		slices.SortFunc(names, compareHeaderNames)
		return
	}
	for i := 1; i < len(names); i++ {
		x := names[i]
		j := i
		for ; j > 0; j-- {
			p := &names[j-1]
			if p.ascii && x.ascii && p.key != x.key { // decided by the first eight bytes
				if p.key < x.key {
					break
				}
			} else if compareHeaderNames(*p, x) <= 0 {
				break
			}
		}
		if j < i {
			copy(names[j+1:i+1], names[j:i])
			names[j] = x
		}
	}
}

// spellings is an open-addressed table of the spelled header names by foldHash, so the
// first spelling of a header is found without trying each.
type spellings struct {
	slots []spellSlot
	mask  uint64
}

type spellSlot struct {
	hash uint64
	at   int // 1 + the name's index in spelled; 0 is an empty slot
}

// index fills the table with spelled, in order: a name's slot comes after the slots of the names
// before it with its hash, so a lookup meets the first spelling first.
func (t *spellings) index(spelled []string) {
	size := 8
	for size < 2*len(spelled) {
		size *= 2
	}
	if cap(t.slots) < size {
		t.slots = make([]spellSlot, size)
	}
	t.slots = t.slots[:size]
	clear(t.slots)
	t.mask = uint64(size - 1)
	for i, n := range spelled {
		if n == "" {
			continue
		}
		hash := foldHash(n)
		j := hash & t.mask
		for t.slots[j].at != 0 {
			j = (j + 1) & t.mask
		}
		t.slots[j] = spellSlot{hash: hash, at: i + 1}
	}
}

// spelling is the first of spelled (as indexed) that is the same as k canonically, else k; hash is
// foldHash(k).
func (t *spellings) spelling(spelled []string, k string, hash uint64) string {
	for j := hash & t.mask; t.slots[j].at != 0; j = (j + 1) & t.mask {
		if s := t.slots[j]; s.hash == hash {
			if n := spelled[s.at-1]; sameCanonical(n, k) {
				return n
			}
		}
	}
	return k
}

// foldKey is s's first eight bytes in lower case (ASCII letters only), big-endian and padded with
// zeros, so that for ASCII names a different key orders as compareLowerASCII does, and whether s
// is plain (isPlain).
func foldKey(s string) (key uint64, plain bool) {
	if len(s) < 8 {
		w := shortWord(s)
		return bits.ReverseBytes64(lowerWord(w)), notPlain(w|fill<<(8*len(s)))&highBits == 0
	}
	return bits.ReverseBytes64(lowerWord(load8(s, 0))), isPlain(s)
}

// foldHash hashes s's length and its bytes in lower case (ASCII letters only), so names that
// differ only in the case of ASCII letters hash alike. It reads eight bytes at a time: the last
// word of a name that is not a whole number of words overlaps the one before, and a shorter name
// is gathered from loads that overlap.
func foldHash(s string) uint64 {
	const mul = 0x9E3779B97F4A7C15
	n := len(s)
	hash := uint64(n) * mul
	if n < 8 {
		hash = bits.RotateLeft64((hash^lowerWord(shortWord(s)))*mul, 29)
	} else {
		for i := 0; i < n; i += 8 {
			hash = bits.RotateLeft64((hash^lowerWord(load8(s, min(i, n-8))))*mul, 29)
		}
	}
	hash *= mul
	return hash ^ hash>>32
}

const (
	highBits = 0x8080808080808080
	fill     = 0x6161616161616161 // "aaaaaaaa", plain: what pads a short string's word
)

// isPlain: s is all printable ASCII other than '"' and '\\', which a JSON string holds as it is.
func isPlain(s string) bool {
	n := len(s)
	if n < 8 {
		return notPlain(shortWord(s)|fill<<(8*n))&highBits == 0
	}
	var bad uint64
	for i := 0; i < n; i += 8 {
		bad |= notPlain(load8(s, min(i, n-8)))
	}
	return bad&highBits == 0
}

// notPlain has a high bit set if and only if some byte of x is not one isPlain accepts.
func notPlain(x uint64) uint64 {
	const ones = 0x0101010101010101
	return x | (x - 0x20*ones) | zeroByte(x^0x7F*ones) | zeroByte(x^'"'*ones) | zeroByte(x^'\\'*ones)
}

// shortWord is s, shorter than eight bytes, as a little-endian word padded with zeros.
func shortWord(s string) uint64 {
	switch n := len(s); {
	case n >= 4: // two loads of four that overlap: the bytes they share are the same
		return uint64(load4(s, 0)) | uint64(load4(s, n-4))<<(8*(n-4))
	case n > 0: // bytes 0, n/2 and n-1 are every byte of one to three
		return uint64(s[0]) | uint64(s[n/2])<<(8*(n/2)) | uint64(s[n-1])<<(8*(n-1))
	}
	return 0
}

func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load4(s string, i int) uint32 {
	s = s[i : i+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// lowerWord turns the ASCII capitals among x's eight bytes to lower case, leaving other bytes.
func lowerWord(x uint64) uint64 {
	const ones = 0x0101010101010101
	low7 := x &^ highBits               // each byte below 0x80: sums below cannot carry into the next
	geA := low7 + (0x80-'A')*ones       // high bit set where the byte's low seven bits ≥ 'A'
	gtZ := low7 + (0x80-'Z'-1)*ones     // … > 'Z'
	upper := geA &^ gtZ &^ x & highBits // and the byte itself is below 0x80
	return x | upper>>2                 // 0x80 >> 2 is 0x20, the case bit
}
