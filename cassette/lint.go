package cassette

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Finding is something in a file that looks like a secret. Excerpt names the context and masks
// the value (its first four characters and its length), so printing a finding in a public CI log
// does not leak what it found.
type Finding struct {
	File    string
	Line    int
	Rule    string
	Excerpt string
}

// String reads "file:line: rule: excerpt".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Excerpt)
}

// LintFile reads path and lints it.
func LintFile(path string) ([]Finding, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Lint(path, data), nil
}

// Lint reports everything in data that looks like a secret; name is used in findings only. It
// reads the raw text line by line, not the parsed cassette, so line numbers are exact and any
// file can be linted, a malformed cassette too. Each line is also read with JSON/YAML escapes
// (\/, \u002b) and URL encoding (%2B, sig%3D) undone, and YAML !!binary bodies are decoded and
// read as well. Values that azvcr's redaction writes (REDACTED, the zero GUID) and short
// placeholders are not findings: each rule wants a value of the length and shape of the real
// thing.
func Lint(name string, data []byte) []Finding {
	lines := strings.Split(string(data), "\n")
	var out []Finding
	pendingKey := "" // a YAML key whose values follow as "- value" items (go-vcr's form: map)
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		for _, h := range lintLine(line) {
			out = append(out, Finding{File: name, Line: i + 1, Rule: h.rule, Excerpt: h.excerpt})
		}
		if pendingKey != "" {
			if m := lintSeqItem.FindStringSubmatch(line); m != nil {
				if v := lintUnquote(m[1]); lintSecretValue.MatchString(v) && lintClientSecret(v) {
					out = append(out, Finding{File: name, Line: i + 1, Rule: "client-secret", Excerpt: pendingKey + ": - " + lintMask(v, "")})
				}
				continue
			}
			pendingKey = ""
		}
		if m := lintSecretKeyLine.FindStringSubmatch(line); m != nil {
			pendingKey = m[1]
		}
	}
	out = append(out, lintBinaryBlocks(name, lines)...)
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out
}

// A lintDetector is one rule: a regular expression whose group "v" is the secret value and whose
// group "ctx", if any, is the context shown before the masked value in the excerpt, and a check
// that the value has the length and shape of the real thing.
type lintDetector struct {
	rule string
	re   *regexp.Regexp
	// hint is a lower-case substring a line must contain for the rule to apply ("" for any line).
	hint string
	// notBefore and notAfter, when set, hold the characters that must not touch the value: a
	// base64 run inside a longer run is not a key.
	notBefore, notAfter string
	valid               func(kind, v string) bool
}

// lintDetectors run in this order; a value found by one rule is not reported again by a later
// one (a Cosmos key after AccountKey= is a connection-string-key, a JWT after Bearer a
// bearer-token).
var lintDetectors = []lintDetector{
	{
		// Cosmos DB Authorization: type=master&ver=1.0&sig=<base64 HMAC-SHA256>, usually sent
		// URL-encoded; resource tokens and Entra ID (aad) tokens are signed differently.
		rule:  "cosmos-signature",
		re:    regexp.MustCompile(`(?i)\b(?P<ctx>type=(?P<kind>master|resource|aad)&ver=[0-9.]{1,8}&sig=)(?P<v>[A-Za-z0-9+/_.;=-]+)`),
		hint:  "sig",
		valid: lintCosmosSig,
	},
	{
		// SAS tokens (Storage, Service Bus, Event Hubs): sig=<base64 HMAC-SHA256>.
		rule:  "sas-signature",
		re:    regexp.MustCompile(`(?i)\b(?P<ctx>sig=)(?P<v>[A-Za-z0-9+/_-]+={0,2})`),
		hint:  "sig",
		valid: func(_, v string) bool { return lintBase64Len(v) == 32 && lintRandom(v) },
	},
	{
		// Connection strings: AccountKey= (Storage, Cosmos DB), SharedAccessKey= (Service Bus,
		// Event Hubs, IoT Hub).
		rule:  "connection-string-key",
		re:    regexp.MustCompile(`(?i)\b(?P<ctx>(?:AccountKey|SharedAccessKey)=)(?P<v>[A-Za-z0-9+/_-]+={0,2})`),
		hint:  "key",
		valid: func(_, v string) bool { return lintBase64Len(v) >= 16 && lintRandom(v) },
	},
	{
		// Entra ID client secrets: in token request forms, JSON and YAML.
		rule:  "client-secret",
		re:    regexp.MustCompile(`(?i)\b(?P<ctx>client_secret(?:=|["']?\s*:\s*["']?))(?P<v>` + lintSecretChars + `+)`),
		hint:  "client_secret",
		valid: func(_, v string) bool { return lintClientSecret(v) },
	},
	{
		// Authorization: Bearer <token> (RFC 6750 b64token).
		rule:  "bearer-token",
		re:    regexp.MustCompile(`(?i)\b(?P<ctx>Bearer)\s+(?P<v>[A-Za-z0-9._~+/-]+=*)`),
		hint:  "bearer",
		valid: func(_, v string) bool { return len(v) >= 20 && !lintPlaceholder(v) && lintMixed(v) && lintRandom(v) },
	},
	{
		// JWT: three base64url segments, the first two JSON objects.
		rule:      "jwt",
		re:        regexp.MustCompile(`(?P<v>eyJ[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]*)`),
		hint:      "eyj",
		notBefore: lintB64URLChars,
		notAfter:  lintB64URLChars,
		valid:     func(_, v string) bool { return lintJWT(v) },
	},
	{
		// Cosmos DB account key: 88 base64 characters decoding to exactly 64 bytes, standing alone.
		// (The start is anchored so that a long base64 run costs linear time.)
		rule:      "cosmos-key",
		re:        regexp.MustCompile(`(?:^|[^A-Za-z0-9+/])(?P<v>[A-Za-z0-9+/]{86}==)`),
		notBefore: lintB64Chars,
		notAfter:  lintB64Chars + "=",
		valid:     func(_, v string) bool { return lintBase64Len(v) == 64 && lintRandom(v) },
	},
}

// LintRules lists the lint rules in the order they run.
func LintRules() []string {
	var out []string
	for _, d := range lintDetectors {
		out = append(out, d.rule)
	}
	return out
}

// lintEmulatorKey is the Cosmos DB emulator's well-known key, published by Microsoft (and azvcr's
// default playback key). It unlocks nothing and is not reported.
const lintEmulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// lintSecretChars is what a client secret may hold: not space, quotes, separators, brackets
// (placeholders such as <secret> and ${SECRET}), or % (it is read URL-decoded).
const lintSecretChars = `[^\s&"',;\\\[\]{}()<>%]`

var lintSecretValue = regexp.MustCompile(`^` + lintSecretChars + `+$`)

const lintZeroGUID = "00000000-0000-0000-0000-000000000000"

const (
	lintB64Chars    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	lintB64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
)

var (
	// go-vcr records token request forms as a YAML map: "client_secret:" then "- value" items.
	lintSecretKeyLine = regexp.MustCompile(`(?i)^\s*(?:-\s+)?["']?(client_secret)["']?:\s*$`)
	lintSeqItem       = regexp.MustCompile(`^\s*-\s+("[^"]*"|'[^']*'|[^\s#"']\S*)`)
	// A YAML !!binary scalar: inline, or a block whose lines are indented deeper than its key.
	lintBinaryTag = regexp.MustCompile(`^(\s*)(?:-\s+)?(?:[^\s#][^#]*?:\s+)?!!binary(?:\s+(.*?))?\s*$`)
)

type lintHit struct {
	rule, value, excerpt string
	off                  int // byte offset of the value in the line (exact in the raw text)
}

type lintView struct {
	text, label string
}

// lintViews returns the line as written and, when it holds escapes or percent signs, with them
// undone, each labelled with what was undone.
func lintViews(line string) []lintView {
	views := []lintView{{line, ""}}
	add := func(text, label string) {
		for _, v := range views {
			if v.text == text {
				return
			}
		}
		views = append(views, lintView{text, label})
	}
	hasEsc, hasPct := strings.Contains(line, `\`), strings.Contains(line, "%")
	if hasEsc {
		e := lintRepeat(lintUnescape, line)
		add(e, "escaped")
		if strings.Contains(e, "%") {
			add(lintRepeat(lintPercentDecode, e), "escaped, URL-encoded")
		}
	}
	if hasPct {
		u := lintRepeat(lintPercentDecode, line)
		add(u, "URL-encoded")
		if strings.Contains(u, `\`) {
			add(lintRepeat(lintUnescape, u), "URL-encoded, escaped")
		}
	}
	return views
}

func lintLine(line string) []lintHit {
	views := lintViews(line)
	lower := make([]string, len(views))
	for i, v := range views {
		lower[i] = strings.ToLower(v.text)
	}
	var hits []lintHit
	for _, d := range lintDetectors {
		for i, v := range views {
			if d.hint == "" || strings.Contains(lower[i], d.hint) {
				hits = d.find(v, hits)
			}
		}
	}
	return hits
}

// find appends the valid matches in view that no earlier hit already covers.
func (d lintDetector) find(view lintView, hits []lintHit) []lintHit {
	s := view.text
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
		if (start > 0 && strings.IndexByte(d.notBefore, s[start-1]) >= 0) || (end < len(s) && strings.IndexByte(d.notAfter, s[end]) >= 0) {
			pos = m[0] + 1 // part of a longer run; a real one may start further on
			continue
		}
		pos = max(m[1], m[0]+1)
		if lintCutByEncoding(s[end:]) {
			continue // the value goes on encoded (%2B, \/): the decoded view reports all of it
		}
		v, kind := s[start:end], ""
		if kIdx >= 0 && m[2*kIdx] >= 0 {
			kind = strings.ToLower(s[m[2*kIdx]:m[2*kIdx+1]])
		}
		if !d.valid(kind, v) || lintIsEmulatorKey(v) || lintCovered(hits, v) {
			continue
		}
		ctx := ""
		if cIdx >= 0 && m[2*cIdx] >= 0 {
			ctx = lintContext(s[m[2*cIdx]:m[2*cIdx+1]])
		}
		hits = append(hits, lintHit{rule: d.rule, value: v, off: start, excerpt: ctx + lintMask(v, view.label)})
	}
	return hits
}

// lintCutByEncoding reports whether rest, the text after a value, starts with a percent-encoded
// or backslash-escaped character that could belong to the value (%2B, \/, \u002b): the value
// then goes on, and the view with the encoding undone reports all of it.
func lintCutByEncoding(rest string) bool {
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

func lintCovered(hits []lintHit, v string) bool {
	for _, h := range hits {
		if strings.Contains(h.value, v) || strings.Contains(v, h.value) {
			return true
		}
	}
	return false
}

// lintContext is the text before a value, shortened and on one line.
func lintContext(s string) string {
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

// lintMask shows the first four characters of a secret and its length, never the rest.
func lintMask(v, label string) string {
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

// lintBase64Len is the number of bytes v decodes to as base64 (standard or URL alphabet, padded or
// not, with no stray bits), or -1.
func lintBase64Len(v string) int {
	raw := strings.TrimRight(v, "=")
	if len(v)-len(raw) > 2 {
		return -1
	}
	if len(v) != len(raw) && len(v)%4 != 0 {
		return -1 // padding in the wrong place
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(raw); err == nil {
			return len(b)
		}
	}
	return -1
}

// lintRandom rejects low-entropy fill such as AAAA...== or xxxx: a real key, signature or token
// uses many distinct characters.
func lintRandom(v string) bool {
	var seen [256]bool
	n := 0
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			n++
		}
	}
	return n >= min(10, len(v)/3)
}

// lintMixed wants at least two of lower case, upper case and digits, as generated secrets have and
// placeholders such as your-client-secret-here or authorization_uri= do not.
func lintMixed(v string) bool {
	var lo, up, dg int
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'a' && c <= 'z':
			lo = 1
		case c >= 'A' && c <= 'Z':
			up = 1
		case c >= '0' && c <= '9':
			dg = 1
		}
	}
	return lo+up+dg >= 2
}

func lintPlaceholder(v string) bool {
	u := strings.ToUpper(v)
	return strings.Contains(u, Redacted) || strings.Contains(u, "PLACEHOLDER") || strings.Contains(v, lintZeroGUID)
}

func lintClientSecret(v string) bool {
	return len(v) >= 16 && !lintPlaceholder(v) && lintMixed(v) && lintRandom(v)
}

func lintCosmosSig(kind, v string) bool {
	if kind == "master" {
		sig, _, _ := strings.Cut(v, ";")
		return lintBase64Len(sig) == 32 && lintRandom(sig)
	}
	// Resource tokens and Entra ID tokens: long, and not a placeholder.
	return len(v) >= 32 && !lintPlaceholder(v) && lintRandom(v)
}

func lintIsEmulatorKey(v string) bool {
	return v == lintEmulatorKey || v == strings.TrimRight(lintEmulatorKey, "=")
}

// lintJWT: the header and payload decode to JSON objects.
func lintJWT(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts[:2] {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		if err != nil {
			return false
		}
		b = bytes.TrimSpace(b)
		if len(b) < 2 || b[0] != '{' || !json.Valid(b) {
			return false
		}
	}
	return true
}

// lintUnescape undoes JSON and YAML double-quoted escapes: \/ \" \\ \n \t \r \uXXXX \xXX.
// Anything else stays as written.
func lintUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; n {
		case '/', '"', '\\', '\'':
			b.WriteByte(n)
			i++
		case 'n':
			b.WriteByte('\n')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case 'r':
			b.WriteByte('\r')
			i++
		case 'u', 'x':
			width := 4
			if n == 'x' {
				width = 2
			}
			if i+2+width <= len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+2+width], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 1 + width
					continue
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lintPercentDecode decodes every valid %XX; unlike url.QueryUnescape it keeps + and tolerates
// stray percent signs.
func lintPercentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// lintRepeat applies f until the text stops changing (double-encoded values), at most 3 times.
func lintRepeat(f func(string) string, s string) string {
	for range 3 {
		t := f(s)
		if t == s {
			break
		}
		s = t
	}
	return s
}

func lintUnquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// lintBinaryBlocks decodes YAML !!binary scalars (bodies that are not UTF-8, which azvcr writes
// as base64) and lints what they hold: a secret inside a binary body is still a secret. A finding
// is reported on the line holding the base64 that encodes it.
func lintBinaryBlocks(name string, lines []string) []Finding {
	var out []Finding
	for i := 0; i < len(lines); i++ {
		m := lintBinaryTag.FindStringSubmatch(strings.TrimSuffix(lines[i], "\r"))
		if m == nil {
			continue
		}
		indent, rest := len(m[1]), m[2]
		type chunk struct{ line, end int } // file line, and end offset in the joined base64
		var b64 strings.Builder
		var chunks []chunk
		if rest != "" && rest[0] != '|' && rest[0] != '>' {
			b64.WriteString(lintUnquote(strings.Fields(rest)[0])) // a comment may follow
			chunks = append(chunks, chunk{i + 1, b64.Len()})
		} else {
			for j := i + 1; j < len(lines); j++ {
				l := strings.TrimSuffix(lines[j], "\r")
				t := strings.TrimSpace(l)
				if t != "" && len(l)-len(strings.TrimLeft(l, " \t")) <= indent {
					break
				}
				b64.WriteString(t)
				chunks = append(chunks, chunk{j + 1, b64.Len()})
				i = j
			}
		}
		data, err := base64.StdEncoding.DecodeString(b64.String())
		if err != nil || len(data) == 0 {
			continue
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
		off := 0
		for _, dl := range strings.SplitAfter(string(data), "\n") {
			for _, h := range lintLine(strings.TrimRight(dl, "\r\n")) {
				out = append(out, Finding{File: name, Line: lineAt(off + h.off), Rule: h.rule, Excerpt: h.excerpt + " in !!binary"})
			}
			off += len(dl)
		}
	}
	return out
}
