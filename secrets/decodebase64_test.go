package secrets

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// refDecodeBase64Text is decodeBase64Text before it looked at the first bytes alone.
func refDecodeBase64Text(run string) (string, bool) {
	raw := strings.TrimRight(run, "=")
	var b []byte
	var err error
	if strings.ContainsAny(raw, "-_") {
		b, err = base64.RawURLEncoding.DecodeString(raw)
	} else {
		b, err = base64.RawStdEncoding.DecodeString(raw)
	}
	if err != nil || !utf8.Valid(b) {
		return "", false
	}
	for _, r := range string(b) {
		if r < ' ' && r != '\n' && r != '\r' && r != '\t' || r == 0x7f || r == utf8.RuneError {
			return "", false
		}
	}
	return string(b), true
}

func sameDecodeBase64Text(t *testing.T, run string) {
	t.Helper()
	got, gok := decodeBase64Text(run)
	want, wok := refDecodeBase64Text(run)
	if got != want || gok != wok {
		t.Fatalf("decodeBase64Text(%q) = %q, %v; the reference %q, %v", run, got, gok, want, wok)
	}
}

// TestDecodeBase64TextMatchesReference: text, binary, and text whose first bytes alone look
// otherwise (a rune cut at the twelfth byte, U+FFFD, controls, newlines the decoder skips).
func TestDecodeBase64TextMatchesReference(t *testing.T) {
	texts := []string{
		"user:password1234567890", "héllo wörld, ça va très bien", "0123456789a\u00e9bcdefghijklmnop", "01234567890\u20acabcdefghijklmnop",
		"0123456789\U0001F600abcdefghijklmnop", "ab\ufffdcdefghijklmnopqrstuvwx", "tab\tnew\nline\rreturn and more text", "abc\x01defghijklmnopqrstuvwxyz",
		"abcdefghijklmnopqrstuvwxyz\x7f", "\xff\xfe binary start then text....", "ok text then \xc3 a cut rune here.", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	}
	var runs []string
	for _, s := range texts {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			runs = append(runs, enc.EncodeToString([]byte(s)))
		}
	}
	runs = append(runs, "0000d21c-0000-0800-0000-0000015abcde0000", "9b2e4c1a-0d3f-4e5a-8b6c-000000000015", "/docs/gAABAIAAAAE0000015AA==",
		"dXNlcjpwYXNz\nd29yZDEyMzQ1Njc4OTA=", "dXNl\r\ncjpwYXNzd29yZDEyMzQ1Njc4OTA", "dXNlcjp=wYXNzd29yZDEyMzQ1Njc4OTA", "abc", "", "====", "ab+c-d_e/fghijklmnopqrstuvwx")
	for _, r := range runs {
		sameDecodeBase64Text(t, r)
	}
}

// FuzzDecodeBase64Text: decodeBase64Text gives what the reference gives, for runs of base64 and
// for any text.
func FuzzDecodeBase64Text(f *testing.F) {
	f.Add([]byte("user:password1234567890"), "")
	f.Add([]byte("0123456789\u20acabcdefghijklmnop"), "")
	f.Add([]byte{0xff, 0xfe, 0, 1, 'a'}, "")
	f.Add([]byte(nil), "dXNl\ncjpwYXNzd29yZDEyMzQ1Njc4OTA=")
	f.Fuzz(func(t *testing.T, data []byte, run string) {
		sameDecodeBase64Text(t, run)
		sameDecodeBase64Text(t, base64.StdEncoding.EncodeToString(data))
		sameDecodeBase64Text(t, base64.RawURLEncoding.EncodeToString(data))
	})
}
