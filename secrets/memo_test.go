package secrets

import (
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestScannerMemo: a Scanner finds what lintWhole finds in a text whose lines come back (clean
// and with a key) among more lines of their own than its memo holds, so that lines are found in
// its front, in its map past the front, and not at all once it is full.
func TestScannerMemo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	key := func() string {
		b := make([]byte, 64)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	keys := []string{key(), key(), key()}
	var b strings.Builder
	for i := range maxMemoLines + 20000 {
		fmt.Fprintf(&b, "        \"X-Ms-Item-%d\": \"value %07d\",\n", i%300, i) // its own
		fmt.Fprintf(&b, "        \"X-Ms-Version\": \"2020-%02d-05\"\n", i%7)     // comes back
		if i%1000 == 0 {
			fmt.Fprintf(&b, "        \"primaryMasterKey\": \"%s\",\n", keys[i/1000%len(keys)])
		}
		if i%5000 == 1 {
			fmt.Fprintf(&b, "        \"k%d\": \"%s\",\n", i, key()) // a key of its own
		}
	}
	data := []byte(b.String())
	want := lintWhole("f", data)
	if len(want) < 100 {
		t.Fatalf("the text holds %d findings; want the keys found", len(want))
	}
	for _, piece := range []int{0, 4096} {
		s := NewScanner("f")
		if piece == 0 {
			s.Write(data)
		} else {
			for p := data; len(p) > 0; p = p[min(piece, len(p)):] {
				s.Write(p[:min(piece, len(p))])
			}
		}
		if got := s.Close(); !reflect.DeepEqual(got, want) {
			t.Fatalf("pieces of %d: %d findings, lintWhole %d", piece, len(got), len(want))
		}
	}
}

// TestLineHash: lines of a recording that differ only in a few bytes, at the end, in the middle
// or before a constant tail, hash apart in both the front's bits and held's.
func TestLineHash(t *testing.T) {
	memo := &lineMemo{seed: maphash.MakeSeed()}
	for _, form := range []string{`            "n": %d,`, `            "_self": "dbs/gAABAA==/colls/gAABAIAAAAE=/docs/gAABAIAAAAE%07dAA==/",`,
		`            "_etag": "\"0000d21c-0000-0800-0000-%07dabcde0000\"",`} {
		front, held := map[uint64]bool{}, map[uint64]bool{}
		const n = 1000
		for i := range n {
			h := memo.lineHash(fmt.Sprintf(form, 1000000+i))
			front[h>>(64-frontBits)] = true
			held[h>>(64-frontBits-heldBits)&(1<<heldBits-1)] = true
		}
		if len(front) < n*8/10 || len(held) < n*99/100 {
			t.Errorf("%s: %d lines in %d front slots and %d held bits", form, n, len(front), len(held))
		}
	}
}
