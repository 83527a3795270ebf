package secrets

import (
	"reflect"
	"testing"
)

// FuzzLinePrefilters: the quick tests before the line expressions change nothing they find.
func FuzzLinePrefilters(f *testing.F) {
	for _, s := range []string{
		"body: !!binary |", "  - !!binary aGVsbG8=  # c", "key: value", "headers:", "  X-Api-Key:  \t", `"quoted-key": `,
		"- item:", "a:\v", "a:\u00a0", "-----BEGIN RSA PRIVATE KEY-----", "x-----BEGIN PRIVATE KEY-----y", "", ":",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if got, want := matchBinaryTag(line), binaryTag.FindStringSubmatch(line); !reflect.DeepEqual(got, want) {
			t.Errorf("matchBinaryTag(%q) = %q, want %q", line, got, want)
		}
		if got, want := matchSeqKey(line), seqKeyLine.FindStringSubmatch(line); !reflect.DeepEqual(got, want) {
			t.Errorf("matchSeqKey(%q) = %q, want %q", line, got, want)
		}
		if pemBegin.MatchString(line) && !containsBegin(line) {
			t.Errorf("pemBegin matches %q, which lacks -----BEGIN", line)
		}
	})
}
