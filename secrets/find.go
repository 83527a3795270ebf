package secrets

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Match is a secret found in a text: the byte range it takes in the text as given (whole escape
// sequences included when it was found encoded, the whole base64 run when it was found inside
// one) and the rule that found it.
type Match struct {
	Start, End int
	Rule       string
}

// MinSecretLen is the shortest text any detector can match ("REDACTED" and six characters
// left of a secret); shorter texts are not looked at.
const MinSecretLen = 14

// Find reports the secrets in s, found as written, with JSON/YAML escapes and URL encoding
// undone, and inside base64 runs that decode to text. Matches are in order and do not overlap.
func Find(s string) []Match {
	return matches(findHits(s, 0))
}

// FindValue reports the secrets in value, the value of a field, header or parameter called
// name: what Find reports, and the whole value when the name says it is a secret
// (SecretName) and the value looks generated.
func FindValue(name, value string) []Match {
	hits := findHits(value, 0)
	if h, ok := namedHit(name, value); ok && !covered(hits, h.value) {
		hits = append(hits, h)
	}
	return matches(hits)
}

// namedHit is value as a secret given away by its name, or false.
func namedHit(name, value string) (hit, bool) {
	if !SecretName(name) {
		return hit{}, false
	}
	v := strings.TrimSpace(value)
	if pre := namedValuePre.FindString(v); pre == "" || !namedValid(namedRule(name), pre) {
		return hit{}, false
	}
	return hit{rule: namedRule(name), value: v, start: 0, end: len(value), excerpt: name + ": " + mask(v, "")}, true
}

func matches(hits []hit) []Match {
	if len(hits) == 0 {
		return nil
	}
	out := make([]Match, 0, len(hits))
	for _, h := range hits {
		out = append(out, Match{Start: h.start, End: h.end, Rule: h.rule})
	}
	slices.SortFunc(out, func(a, b Match) int { return a.Start - b.Start })
	merged := out[:1]
	for _, m := range out[1:] {
		last := &merged[len(merged)-1]
		if m.Start < last.End {
			last.End = max(last.End, m.End)
			continue
		}
		merged = append(merged, m)
	}
	return merged
}

type hit struct {
	rule, value, excerpt string
	start, end           int // the value's byte range in the text given to findHits
}

// maxDecodeDepth bounds base64 inside base64.
const maxDecodeDepth = 2

// findHits runs every detector over every view of s, then looks inside base64 runs.
func findHits(s string, depth int) []hit {
	if len(s) < MinSecretLen {
		return nil
	}
	var hits []hit
	var viewBuf [5]View
	views := appendViews(viewBuf[:0], s)
	var runBuf [5]int
	runs := runBuf[:0] // per view, its longest run of base64 characters of either alphabet and padding
	for _, v := range views {
		var buf [512]byte
		lower, run, anyRun := lowerAndRun(buf[:0], v.Text)
		runs = append(runs, anyRun)
		present := findHints(lower)
		if present&detectorHints != 0 || run >= hintlessRun { // else none applies (most lines)
			for i := range detectors { // by pointer: a detector is too large to copy for each text
				if d := &detectors[i]; d.applies(v.Text, lower, run, present) {
					hits = d.find(v, hits)
				}
			}
		}
		if run >= 88 {
			hits = slashBoundedKeys(v, hits)
		}
	}
	if depth < maxDecodeDepth {
		hits = append(hits, base64Hits(views, runs, hits, depth)...)
	}
	return hits
}

func (d *detector) applies(text string, lower []byte, run int, present hintMask) bool {
	if d.minRun > 0 && run < d.minRun {
		return false
	}
	return (d.hintMask == 0 || present&d.hintMask != 0) && d.may.passes(text, lower, present)
}

// find appends the valid matches in view that no earlier hit already covers.
func (d *detector) find(view View, hits []hit) []hit {
	s := view.Text
	vIdx, kIdx, cIdx := d.re.SubexpIndex("v"), d.re.SubexpIndex("kind"), d.re.SubexpIndex("ctx")
	for pos := 0; pos < len(s); {
		m := d.re.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += pos
			}
		}
		start, end := m[2*vIdx], m[2*vIdx+1]
		if (start > 0 && strings.IndexByte(d.notBefore, s[start-1]) >= 0) || (end < len(s) && strings.IndexByte(d.notAfter, s[end]) >= 0 && !sentenceEnd(s[end:], d.notAfter)) {
			pos = m[0] + 1 // part of a longer run; a real one may start further on
			continue
		}
		pos = max(m[1], m[0]+1)
		if cutByEncoding(s[end:]) {
			continue // the value goes on encoded (%2B, \/): the decoded view reports all of it
		}
		v, kind := s[start:end], ""
		if kIdx >= 0 && m[2*kIdx] >= 0 {
			kind = strings.ToLower(s[m[2*kIdx]:m[2*kIdx+1]])
		}
		from, to := view.Source(start, end)
		// Found already where it stands (by another detector, or in another view of the same
		// bytes): once is enough. The same value elsewhere in the text is a hit of its own.
		if !d.valid(kind, v) || isEmulatorKey(v) || coveredRange(hits, from, to) {
			continue
		}
		ctx := ""
		if cIdx >= 0 && m[2*cIdx] >= 0 {
			ctx = context(s[m[2*cIdx]:m[2*cIdx+1]])
		}
		hits = append(hits, hit{rule: d.rule, value: v, start: from, end: to, excerpt: ctx + mask(v, view.Label)})
	}
	return hits
}

// base64Hits decodes the base64 runs of each view that hold text and reports what they hide;
// a secret inside a run is reported as the whole run, which is what has to go. runs[i] is the
// longest run of base64 characters and padding in views[i] (lowerAndRun's anyRun): a view with
// none as long as a base64 run must be has none.
func base64Hits(views []View, runs []int, found []hit, depth int) []hit {
	var out []hit
	var runBuf [8][2]int
	for i, v := range views {
		if runs[i] < minBase64Run {
			continue
		}
		for _, r := range base64Runs(runBuf[:0], v.Text, minBase64Run) {
			// Where the run stands in the original is wanted only when there is a hit it could
			// overlap or one to report: mapping a decoded view back costs more than the rest.
			var from, to int
			mapped := len(found) > 0 || len(out) > 0
			if mapped {
				from, to = v.Source(r[0], r[1])
				if coveredRange(found, from, to) || coveredRange(out, from, to) {
					continue
				}
			}
			text, ok := decodeBase64Text(v.Text[r[0]:r[1]])
			if !ok {
				continue
			}
			if inner := findHits(text, depth+1); len(inner) > 0 {
				if !mapped {
					from, to = v.Source(r[0], r[1])
				}
				label := "base64"
				if v.Label != "" {
					label = v.Label + ", base64"
				}
				out = append(out, hit{rule: inner[0].rule, value: v.Text[r[0]:r[1]], start: from, end: to,
					excerpt: strings.TrimSuffix(inner[0].excerpt, ")") + ", in " + label + ")"})
			}
		}
	}
	return out
}

// minBase64Run is the shortest base64 run base64Hits decodes.
const minBase64Run = 24

// base64Runs appends to out the runs of base64 characters (either alphabet, with their padding)
// at least min long, bounded by other characters.
func base64Runs(out [][2]int, s string, min int) [][2]int {
	for i := 0; i < len(s); {
		if !isB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		for j < len(s) && s[j] == '=' {
			j++
		}
		if j-i >= min {
			out = append(out, [2]int{i, j})
		}
		i = j
		for i < len(s) && s[i] == '=' {
			i++
		}
	}
	return out
}

func isB64(c byte) bool { return byteClass[c]&classB64 != 0 }

// byteClass sorts bytes for lowerAndRun and isB64.
var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/':
			t[c] = classStd | classB64 | classAny
		case c == '-' || c == '_':
			t[c] = classB64 | classAny
		case c == '=':
			t[c] = classStd | classAny
		}
		if c >= 'A' && c <= 'Z' {
			t[c] |= classUpper
		}
	}
	return t
}()

const (
	classStd   = 1 << iota // standard base64 or its padding
	classB64               // base64 of either alphabet (isB64)
	classAny               // either, or padding
	classUpper             // an ASCII capital: 1<<3 << 2 is 'a' - 'A'
)

// lowerAndRun appends s with ASCII letters in lower case to b (for hints, which are ASCII), and
// says how long the longest run of standard base64 characters in s is (run), and the longest of
// base64 characters of either alphabet and padding (anyRun, which bounds base64Runs): one pass.
func lowerAndRun(b []byte, s string) (lower []byte, run, anyRun int) {
	n := len(b)
	b = slices.Grow(b, len(s))[:n+len(s)]
	out := b[n:]
	cur, curAny := 0, 0
	for i := 0; i < len(s) && i < len(out); i++ {
		c := s[i]
		k := byteClass[c]
		out[i] = c + (k&classUpper)<<2
		if k&classStd != 0 {
			cur++
			run = max(run, cur)
		} else {
			cur = 0
		}
		if k&classAny != 0 {
			curAny++
			anyRun = max(anyRun, curAny)
		} else {
			curAny = 0
		}
	}
	return b, run, anyRun
}

// decodeBase64Text decodes a base64 run (standard or URL alphabet, padded or not) that holds
// printable UTF-8 text.
func decodeBase64Text(run string) (string, bool) {
	raw := strings.TrimRight(run, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(raw, "-_") {
		enc = base64.RawURLEncoding
	}
	// Most runs are not text (hex ids, GUIDs, hashes), which shows in the first bytes: decoded
	// alone (whole groups of four characters decode the same wherever they stand), a control
	// character or a byte that cannot start UTF-8 there is one in the whole.
	if k := min(len(raw), 16) &^ 3; k > 0 {
		var head [12]byte
		// (fewer bytes, or an error, where the decoder skipped newlines: the whole decides)
		if n, err := enc.Decode(head[:], []byte(raw[:k])); err == nil && n == k/4*3 && !textSoFar(head[:n]) {
			return "", false
		}
	}
	b, err := enc.DecodeString(raw)
	if err != nil || !utf8.Valid(b) {
		return "", false
	}
	for _, r := range string(b) {
		if !textRune(r) {
			return "", false
		}
	}
	return string(b), true
}

// textRune: r may stand in decodeBase64Text's printable text.
func textRune(r rune) bool {
	return !(r < ' ' && r != '\n' && r != '\r' && r != '\t' || r == 0x7f || r == utf8.RuneError)
}

// textSoFar: b, the start of some bytes, may start printable UTF-8 text: none of its runes is
// refused by textRune, and none of its bytes is not UTF-8 whatever follows.
func textSoFar(b []byte) bool {
	for i := 0; i < len(b); {
		if !utf8.FullRune(b[i:]) {
			return true // cut short: what follows decides
		}
		r, size := utf8.DecodeRune(b[i:])
		if !textRune(r) { // RuneError too: invalid bytes, or U+FFFD itself
			return false
		}
		i += size
	}
	return true
}

func coveredRange(hits []hit, start, end int) bool {
	for _, h := range hits {
		if h.start < end && start < h.end {
			return true
		}
	}
	return false
}

// sentenceEnd: rest starts with a full stop that ends the text or a sentence, not one inside a
// longer value ("Your secret is abc8Q~....").
func sentenceEnd(rest, notAfter string) bool {
	return rest[0] == '.' && (len(rest) == 1 || strings.IndexByte(notAfter, rest[1]) < 0)
}

// slashBoundedKeys finds Cosmos keys standing between slashes, as in a decoded path
// (/keys/<key>/x), where the regular expression cannot tell the key's own slashes from the
// path's: an 88-character window ending in "==" that is all base64 with a '/' before it, no
// base64 after it, and a short path before the '/' (not the rest of a long base64 text).
func slashBoundedKeys(v View, hits []hit) []hit {
	s := v.Text
	for off := 0; ; {
		i := strings.Index(s[off:], "==")
		if i < 0 {
			return hits
		}
		end := off + i + 2
		off = end
		start := end - 88
		if start < 1 || s[start-1] != '/' || (end < len(s) && s[end] != '/' && (isB64(s[end]) || s[end] == '=')) {
			continue
		}
		if before := start - 1 - len(strings.TrimRight(s[:start-1], b64Chars)); before > 40 {
			continue // the tail of a longer base64 text, not a path segment
		}
		key := s[start:end]
		if strings.Trim(key[:86], b64Chars) != "" || base64Len(key) != 64 || !looksRandom(key) || isEmulatorKey(key) {
			continue
		}
		from, to := v.Source(start, end)
		if coveredRange(hits, from, to) {
			continue
		}
		hits = append(hits, hit{rule: "cosmos-key", value: key, start: from, end: to, excerpt: mask(key, v.Label)})
	}
}

// cutByEncoding reports whether rest, the text after a value, starts with a percent-encoded
// or backslash-escaped character that could belong to the value (%2B, \/, \u002b): the value
// then goes on, and the view with the encoding undone reports all of it.
func cutByEncoding(rest string) bool {
	var c uint64 = ' '
	esc := strings.TrimLeft(rest, `\`) // \/ and \\u002b: JSON escaped inside a YAML string
	switch {
	case len(rest) >= 3 && rest[0] == '%':
		c, _ = strconv.ParseUint(rest[1:3], 16, 8)
	case len(esc) == len(rest):
	case strings.HasPrefix(esc, "/"):
		c = '/'
	case len(esc) >= 5 && esc[0] == 'u':
		c, _ = strconv.ParseUint(esc[1:5], 16, 16)
	case len(esc) >= 3 && esc[0] == 'x':
		c, _ = strconv.ParseUint(esc[1:3], 16, 8)
	}
	return c < 128 && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("+/=_-~.", byte(c)) >= 0)
}

func covered(hits []hit, v string) bool {
	for _, h := range hits {
		if strings.Contains(h.value, v) || strings.Contains(v, h.value) {
			return true
		}
	}
	return false
}

// context is the text before a value, shortened and on one line.
func context(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if strings.EqualFold(s, "bearer") {
		s += " "
	}
	if n := utf8.RuneCountInString(s); n > 40 {
		r := []rune(s)
		s = "…" + string(r[n-40:])
	}
	return s
}

// mask shows the first four characters of a secret and its length, never the rest.
func mask(v, label string) string {
	shown := v
	if len(v) > 4 {
		shown = v[:4]
	}
	if len(v) < 12 {
		shown = ""
	}
	note := strconv.Itoa(len(v)) + " chars"
	if label != "" {
		note += ", " + label
	}
	return shown + "…(" + note + ")"
}
