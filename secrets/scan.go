// Package secrets recognises secrets by their shape: Cosmos DB keys and signatures, JWTs, bearer
// tokens, SAS signatures, connection-string keys and client secrets. azvcr lint reports what it
// finds in any file, line by line, through JSON escapes, URL encoding and !!binary bodies.
package secrets

import (
	"fmt"
	"os"
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
		for _, h := range scanLine(line) {
			out = append(out, Finding{File: name, Line: i + 1, Rule: h.rule, Excerpt: h.excerpt})
		}
		if pendingKey != "" {
			if m := seqItem.FindStringSubmatch(line); m != nil {
				if v := unquote(m[1]); secretValue.MatchString(v) && isClientSecret(v) {
					out = append(out, Finding{File: name, Line: i + 1, Rule: "client-secret", Excerpt: pendingKey + ": - " + mask(v, "")})
				}
				continue
			}
			pendingKey = ""
		}
		if m := secretKeyLine.FindStringSubmatch(line); m != nil {
			pendingKey = m[1]
		}
	}
	out = append(out, scanBinaryBlocks(name, lines)...)
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out
}

type hit struct {
	rule, value, excerpt string
	off                  int // byte offset of the value in the line (exact in the raw text)
}

type view struct {
	text, label string
}

// views returns the line as written and, when it holds escapes or percent signs, with them
// undone, each labelled with what was undone.
func views(line string) []view {
	views := []view{{line, ""}}
	add := func(text, label string) {
		for _, v := range views {
			if v.text == text {
				return
			}
		}
		views = append(views, view{text, label})
	}
	hasEsc, hasPct := strings.Contains(line, `\`), strings.Contains(line, "%")
	if hasEsc {
		e := repeatDecode(unescape, line)
		add(e, "escaped")
		if strings.Contains(e, "%") {
			add(repeatDecode(percentDecode, e), "escaped, URL-encoded")
		}
	}
	if hasPct {
		u := repeatDecode(percentDecode, line)
		add(u, "URL-encoded")
		if strings.Contains(u, `\`) {
			add(repeatDecode(unescape, u), "URL-encoded, escaped")
		}
	}
	return views
}

func scanLine(line string) []hit {
	views := views(line)
	lower := make([]string, len(views))
	for i, v := range views {
		lower[i] = strings.ToLower(v.text)
	}
	var hits []hit
	for _, d := range detectors {
		for i, v := range views {
			if d.hint == "" || strings.Contains(lower[i], d.hint) {
				hits = d.find(v, hits)
			}
		}
	}
	return hits
}

// find appends the valid matches in view that no earlier hit already covers.
func (d detector) find(view view, hits []hit) []hit {
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
		if cutByEncoding(s[end:]) {
			continue // the value goes on encoded (%2B, \/): the decoded view reports all of it
		}
		v, kind := s[start:end], ""
		if kIdx >= 0 && m[2*kIdx] >= 0 {
			kind = strings.ToLower(s[m[2*kIdx]:m[2*kIdx+1]])
		}
		if !d.valid(kind, v) || isEmulatorKey(v) || covered(hits, v) {
			continue
		}
		ctx := ""
		if cIdx >= 0 && m[2*cIdx] >= 0 {
			ctx = context(s[m[2*cIdx]:m[2*cIdx+1]])
		}
		hits = append(hits, hit{rule: d.rule, value: v, off: start, excerpt: ctx + mask(v, view.label)})
	}
	return hits
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
