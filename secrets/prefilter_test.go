package secrets

import (
	"math"
	"reflect"
	"strings"
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

// FuzzDetectorPrefilters: a text a detector's quick tests (hints, minRun, may) turn away is one
// its expression cannot match. Texts are ASCII: the hints are compared in ASCII lower case, and
// (?i) also folds a few non-ASCII letters (the Kelvin sign for k) that they do not.
func FuzzDetectorPrefilters(f *testing.F) {
	for _, s := range []string{
		`"X-Ms-Documentdb-Partitionkey": "[\"tenant-9\"]"`, `"X-Ms-Session-Token": "0:-1#109"`, `"Authorization": "Sanitized",`,
		"AccountKey=REDACTED+oW7fAbCdEf", "xyzABC12Sanitized", "api_key: s3cr3tV4lue", "my-access.token=abc", "functionsKey",
		"sas-token", "Bearer-Token", "password", "passwd", "SharedAccessKey=abc", "client_secret=x", "type=master&ver=1.0&sig=abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for i := 0; i < len(text); i++ {
			if text[i] >= 0x80 {
				return
			}
		}
		lower := lowerASCII(nil, text)
		if got, want := findHints(lower), hintsByContains(lower); got != want {
			t.Errorf("findHints(%q) = %b, want %b", text, got, want)
		}
		for _, d := range detectors {
			if !d.applies(text, lower, longestBase64Run(text), findHints(lower)) && d.re.get().MatchString(text) {
				t.Errorf("%s: %q matches the expression but the quick tests turn it away", d.rule, text)
			}
		}
	})
}

func TestDetectorPrefilters(t *testing.T) {
	tests := []struct {
		text string
		rule string
		want bool // the rule's quick tests let the text through
	}{
		{`"X-Ms-Documentdb-Partitionkey": "[\"tenant-9\"]"`, "named-secret", false},
		{`"X-Ms-Session-Token": "0:-1#109"`, "named-secret", false},
		{`"x-api-key": "abc"`, "named-secret", true},
		{`"api.Key": "abc"`, "named-secret", true},
		{`"functionsKey": "abc"`, "named-secret", true},
		{`refresh_token=abc`, "named-secret", true},
		{`"myPassword": 1`, "named-secret", true},
		{`"Authorization": "Sanitized",`, "partial-redaction", false},
		{`"AccountKey=Sanitized;"`, "partial-redaction", false},
		{`AccountKey=REDACTEDoW7fAb`, "partial-redaction", true},
		{`oW7fAbSanitized`, "partial-redaction", true},
		{`https://Sanitized.documents.azure.com/x`, "partial-redaction", false},
		{`/x/Sanitized/y`, "partial-redaction", false},
		{`abcdeSanitizedabcde`, "partial-redaction", false},
		{`"Partitionkey=abc"`, "connection-string-key", false},
		{`accountKEY=abc`, "connection-string-key", true},
	}
	for _, tt := range tests {
		got := false
		for _, d := range detectors {
			if d.rule == tt.rule && d.applies(tt.text, lowerASCII(nil, tt.text), longestBase64Run(tt.text), findHints(lowerASCII(nil, tt.text))) {
				got = true
			}
		}
		if got != tt.want {
			t.Errorf("%s on %q: applies = %v, want %v", tt.rule, tt.text, got, tt.want)
		}
	}
}

func TestLowerAndRun(t *testing.T) {
	for _, s := range []string{"", "abc", "AbC+/=xyz", "a-b_c", "ÀÉ€ABC==", "x Y\tZ09+/", strings.Repeat("Q", 700), "a-b_c=d=e f-", "--__==", "{}[]\\%"} {
		lower, run, anyRun := lowerAndRun(nil, s)
		if string(lower) != string(lowerASCII(nil, s)) || run != longestBase64Run(s) || anyRun != longestRunOf(s, b64Chars+"-_=") {
			t.Errorf("lowerAndRun(%q) = %q, %d, %d; want %q, %d, %d", s, lower, run, anyRun, lowerASCII(nil, s), longestBase64Run(s), longestRunOf(s, b64Chars+"-_="))
		}
	}
}

// lowerASCII and longestBase64Run are what lowerAndRun does, a thing at a time.
// lowerASCII appends s with ASCII letters in lower case to b (for hints, which are ASCII).
func lowerASCII(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// longestBase64Run is the length of the longest run of standard base64 characters in s.
func longestBase64Run(s string) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// hintsByContains is findHints a word at a time.
func hintsByContains(lower []byte) hintMask {
	var m hintMask
	for i, w := range hintWords {
		if strings.Contains(string(lower), w) {
			m |= 1 << i
		}
	}
	return m
}

func TestFindHints(t *testing.T) {
	for _, s := range []string{"", "k", "ke", "key", "xkeyx", "sigsig", "partitionkey token", "q~", "private key-----", "passwordpwd", "sanitizedredacted", "accountkey=sharedaccesskey=", "client_secretassertioncredential", "bearer eyj"} {
		if got, want := findHints([]byte(s)), hintsByContains([]byte(s)); got != want {
			t.Errorf("findHints(%q) = %b, want %b", s, got, want)
		}
	}
	if len(hintWords) < 10 {
		t.Fatalf("%d hint words", len(hintWords))
	}
}

// TestSecretNameWordsPassQuickTest: every name secretNameWords matches (each alternative written
// out, with and without its optional parts) passes holdsSecretName, whose word lists come from
// secretNameParts: the two lists say the same.
func TestSecretNameWordsPassQuickTest(t *testing.T) {
	expand := func(words []string, opt, with string) []string {
		var out []string
		for _, w := range words {
			if i := strings.Index(w, opt); i >= 0 {
				out = append(out, w[:i]+w[i+len(opt):], w[:i]+with+w[i+len(opt):])
			} else {
				out = append(out, w)
			}
		}
		return out
	}
	words := strings.Split(secretNameWords, "|")
	words = expand(words, "[_.-]?", "_")
	words = expand(words, "(?:or)?", "or")
	words = expand(words, "s?", "s")
	for _, w := range words {
		if strings.ContainsAny(w, "[]()?|") {
			t.Fatalf("%q: an alternative this test does not write out", w)
		}
		lower := lowerASCII(nil, `"x-`+w+`": "v"`)
		if !holdsSecretName(lower, findHints(lower)) {
			t.Errorf("%q does not pass the named-secret quick test", w)
		}
	}
}

// longestRunOf is the length of the longest run of bytes of set in s.
func longestRunOf(s, set string) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) >= 0 {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// TestLowerAndRunRandom: lowerAndRun, which reads eight bytes at a time, against its definitions
// for texts of every length to 100 drawn from bytes of each kind, in runs and alone.
func TestLowerAndRunRandom(t *testing.T) {
	alphabet := "aZ09+/=-_ .\"\\%~\x00\xc3\xa9"
	seed := uint32(7)
	next := func(n int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>8) % n
	}
	for n := range 101 {
		for range 200 {
			b := make([]byte, 0, n)
			for len(b) < n {
				c := alphabet[next(len(alphabet))]
				for k := next(12) + 1; k > 0 && len(b) < n; k-- { // runs of one byte, long and short
					b = append(b, c)
				}
				if next(2) == 0 && len(b) > 0 {
					b[len(b)-1] = alphabet[next(len(alphabet))]
				}
			}
			s := string(b)
			lower, run, anyRun := lowerAndRun([]byte("pre"), s)
			if string(lower) != "pre"+string(lowerASCII(nil, s)) || run != longestBase64Run(s) || anyRun != longestRunOf(s, b64Chars+"-_=") {
				t.Fatalf("lowerAndRun(%q) = %q, %d, %d; want %q, %d, %d", s, lower, run, anyRun, lowerASCII(nil, s), longestBase64Run(s), longestRunOf(s, b64Chars+"-_="))
			}
		}
	}
}

// TestDetectorsNeed: a text with none of detectorHints and a run shorter than hintlessRun is one
// no detector applies to, for the lines of a recording and texts made to come close; and a
// detector without hints needs a run, so that most texts are let off.
func TestDetectorsNeed(t *testing.T) {
	if hintlessRun <= 0 || hintlessRun == math.MaxInt && detectorHints == 0 {
		t.Fatalf("hintlessRun %d, detectorHints %#x: no text is let off", hintlessRun, detectorHints)
	}
	if _, run := detectorsNeed([]detector{{minRun: 5}, {}}); run != 0 {
		t.Errorf("a detector with neither hints nor minRun: hintlessRun %d, want 0", run)
	}
	texts := recordingLines(50)
	texts = append(texts, strings.Split(string(sanitizedRecording(5)), "\n")...)
	texts = append(texts, strings.Repeat("A", hintlessRun-1), strings.Repeat("A", hintlessRun), strings.Repeat("A", 86)+"==",
		"x sig= y", "Bearer abc", "eyJhbGciOi", "q~", "Sanitized", "password", "AccountKey=", "private key-----")
	letOff := 0
	for _, text := range texts {
		lower, run, _ := lowerAndRun(nil, text)
		present := findHints(lower)
		if present&detectorHints != 0 || run >= hintlessRun {
			continue
		}
		letOff++
		for _, d := range detectors {
			if d.applies(text, lower, run, present) {
				t.Errorf("%q is let off, but %s applies", text, d.rule)
			}
		}
	}
	if letOff < len(texts)/2 {
		t.Errorf("%d of %d texts let off", letOff, len(texts))
	}
}
