package testproxyjson

import (
	"strings"
	"testing"
)

// TestAppendDotNetString holds appendDotNetString, which looks for plain runs eight bytes at a
// time, to the byte-at-a-time version it replaced (refAppendDotNetString).
func TestAppendDotNetString(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", " ", "~", "\x7f", "\u0080", "é", "\u2028", "\U0001F600", "\xff", "\t", "\n", "a"}
	for _, sp := range specials {
		for pos := range 20 {
			for _, n := range []int{pos + 1, pos + 3, 17, 24} {
				if n <= pos {
					continue
				}
				s := strings.Repeat("x", pos) + sp + strings.Repeat("y", n-pos-1)
				checkDotNetString(t, s)
			}
		}
	}
	for _, s := range []string{"", "plain", "exactly8", "sixteen bytes ok", "a\"b", "Zm9vYmFy+/=~ !#$%&'()*,-./:;<=>?@[]^_`{|}"} {
		checkDotNetString(t, s)
	}
}

func checkDotNetString(t *testing.T, s string) {
	t.Helper()
	if got, want := appendDotNetString([]byte("<"), s), refAppendDotNetString([]byte("<"), s); string(got) != string(want) {
		t.Fatalf("appendDotNetString(%q) = %s, want %s", s, got, want)
	}
}

func FuzzDotNetString(f *testing.F) {
	f.Add("abc\"def\\ghi\x00jkl\x7fmnoé")
	f.Fuzz(func(t *testing.T, s string) { checkDotNetString(t, s) })
}
