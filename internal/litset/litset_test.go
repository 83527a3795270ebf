package litset

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// heldOneByOne is what Held returns, worked out literal by literal.
func heldOneByOne(lits []string, t string) uint64 {
	var m uint64
	for i, lit := range lits {
		if strings.Contains(t, lit) {
			m |= 1 << i
		}
	}
	return m
}

func TestHeldIsContains(t *testing.T) {
	sets := [][]string{
		{"SharedAccessKey=", "AccountKey=", "accesskey=", "Secret=", "common/userrealm/", "/identities/", "sig", "sv", "=", "token="},
		{"", "a", "ab", "ba", "aba", "abab", "b"},
		{"aa", "aaa", "aaaa"},
		{"-----BEGIN PRIVATE KEY-----\n", "<Value>", "</Value>", ";", "User ID="},
		{"\xff\xfe", "é", "\x00"},
		{"sig", "key", "q~", "bearer", "eyj", "private key-----", "sanitized", "redacted", "token", "pwd"},
	}
	texts := []string{"", "a", "aa", "aaaaa", "abab", "xSecret=", "sig=1&sv=2", "AccountKey=x;SharedAccessKey=y", "https://h/common/userrealm/x",
		"<UserDelegationKey><Value>v</Value></UserDelegationKey>", "-----BEGIN PRIVATE KEY-----\nA\n", "\xff\xfe\x00é", "token", "token=", "=token",
		`"x-ms-documentdb-partitionkey": "[\"tenant-9\"]"`, "authorization: bearer eyjhbg"}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abAB=/;<>-sigvtokenSecrt \n\xff\xfe"
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		texts = append(texts, string(b))
	}
	for _, lits := range sets {
		s := New(lits)
		for _, text := range texts {
			want := heldOneByOne(lits, text)
			if got := s.Held(text); got != want {
				t.Errorf("lits %q, text %q: Held %b, want %b", lits, text, got, want)
			}
			if got := s.HeldBytes([]byte(text)); got != want {
				t.Errorf("lits %q, text %q: HeldBytes %b, want %b", lits, text, got, want)
			}
		}
	}
}

func FuzzHeld(f *testing.F) {
	f.Add("ab", "=", "xyz", "sig=ab&xyz")
	f.Add("", "aa", "aaa", "aaaa")
	f.Fuzz(func(t *testing.T, a, b, c, text string) {
		if a == b || b == c || a == c {
			return // a set's literals are distinct
		}
		lits := []string{a, b, c}
		s := New(lits)
		want := heldOneByOne(lits, text)
		if got := s.Held(text); got != want {
			t.Fatalf("Held %b, want %b", got, want)
		}
		if got := s.HeldBytes([]byte(text)); got != want {
			t.Fatalf("HeldBytes %b, want %b", got, want)
		}
	})
}
