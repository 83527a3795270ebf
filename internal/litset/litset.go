// Package litset finds which of up to 64 literals a text holds, in one pass over the text: the
// sanitizers' literal runs and the secret detectors' hint words both ask it.
package litset

import (
	"bytes"
	"strings"
)

// Max is how many literals a Set holds at most: each is a bit of a uint64.
const Max = 64

// Set is a compiled list of literals. A literal of two bytes or more is looked for where its
// rarest-looking pair of bytes is.
type Set struct {
	lits []string
	// empty holds the bits of empty literals (held by every text), single those of one byte.
	empty  uint64
	single []int
	// pairs has a bit for each pair of bytes some literal is anchored at; anchors lists them.
	pairs   []uint64
	anchors []anchor
}

type anchor struct {
	pair uint16
	lit  int // the literal's index
	off  int // where the pair is in it
}

// New compiles lits, bit i for lits[i]. It panics with more than Max.
func New(lits []string) *Set {
	if len(lits) > Max {
		panic("litset: more than 64 literals")
	}
	s := &Set{lits: lits}
	for i, lit := range lits {
		switch len(lit) {
		case 0:
			s.empty |= 1 << i
		case 1:
			s.single = append(s.single, i)
		default:
			if s.pairs == nil {
				s.pairs = make([]uint64, 1<<16/64)
			}
			off := 0
			for k := 1; k+1 < len(lit); k++ {
				if pairRarity(lit[k], lit[k+1]) > pairRarity(lit[off], lit[off+1]) {
					off = k
				}
			}
			p := uint16(lit[off])<<8 | uint16(lit[off+1])
			s.pairs[p>>6] |= 1 << (p & 63)
			s.anchors = append(s.anchors, anchor{p, i, off})
		}
	}
	return s
}

// Lits is the literals, bit i for Lits()[i].
func (s *Set) Lits() []string { return s.lits }

// pairRarity guesses how rare a pair of bytes is in text: lower-case letters and spaces are
// common, punctuation is not.
func pairRarity(a, b byte) int {
	r := func(c byte) int {
		switch {
		case 'a' <= c && c <= 'z', c == ' ':
			return 0
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			return 1
		}
		return 2
	}
	return r(a) + r(b)
}

// Held has the bit of each literal t holds.
func (s *Set) Held(t string) uint64 {
	m := s.empty
	for _, i := range s.single {
		if strings.IndexByte(t, s.lits[i][0]) >= 0 {
			m |= 1 << i
		}
	}
	return pairsHeld(s, t, m)
}

// HeldBytes is Held of a text in bytes.
func (s *Set) HeldBytes(t []byte) uint64 {
	m := s.empty
	for _, i := range s.single {
		if bytes.IndexByte(t, s.lits[i][0]) >= 0 {
			m |= 1 << i
		}
	}
	return pairsHeld(s, t, m)
}

// pairsHeld adds to m the bits of the literals of two bytes or more that t holds.
func pairsHeld[T string | []byte](s *Set, t T, m uint64) uint64 {
	if s.pairs == nil || len(t) < 2 {
		return m
	}
	pairs := s.pairs[:1<<16/64]
	prev := uint16(t[0])
	for i := 1; i < len(t); i++ {
		p := prev<<8 | uint16(t[i])
		prev = uint16(t[i])
		if pairs[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		for _, a := range s.anchors {
			if a.pair != p || m&(1<<a.lit) != 0 {
				continue
			}
			lit := s.lits[a.lit]
			if start := i - 1 - a.off; start >= 0 && start+len(lit) <= len(t) && string(t[start:start+len(lit)]) == lit {
				m |= 1 << a.lit
			}
		}
	}
	return m
}
