package redact

import (
	"strings"
	"unicode/utf8"
)

// afterLeads is a regex of the form (?<=L1|L2|...)(?<g>[^C]+), whose group g is replaced (or
// (?<=L1|...)[^C]+ replaced whole, with a value without substitutions): each run of characters
// outside the class C that follows one of the literal leads. test-proxy's host sanitizer,
// (?<=http://|https://)(?<host>[^/?\.]+), is one. Replacing is done without the regex engine, with
// its result: the text between replacements is the regex engine's, decoded to runes and back
// (an invalid UTF-8 byte becomes U+FFFD), as soon as one run is replaced.
type afterLeads struct {
	leads []string
	stop  [128]bool // the class's ASCII characters: they end a run
	end   byte      // the last byte of every lead, or 0 when they differ
}

// parseAfterLeads reads expr as an afterLeads whose group is group ("" for the whole match), or
// returns nil.
func parseAfterLeads(expr, group string) *afterLeads {
	rest, ok := strings.CutPrefix(expr, "(?<=")
	if !ok {
		return nil
	}
	a := &afterLeads{}
	var lead strings.Builder
	for {
		if rest == "" {
			return nil
		}
		c := rest[0]
		switch {
		case c == '|' || c == ')':
			if lead.Len() == 0 {
				return nil
			}
			a.leads = append(a.leads, lead.String())
			lead.Reset()
			rest = rest[1:]
		case c == '\\':
			if len(rest) < 2 || rest[1] >= 0x80 || isWordByte(rest[1]) || rest[1] == ' ' {
				return nil
			}
			lead.WriteByte(rest[1])
			rest = rest[2:]
		case c >= 0x80 || c < 0x20 || strings.IndexByte(`^$.?*+([]{} #`, c) >= 0:
			return nil
		default:
			lead.WriteByte(c)
			rest = rest[1:]
		}
		if c == ')' {
			break
		}
	}
	closing := ""
	if group != "" {
		if rest, ok = strings.CutPrefix(rest, "(?<"+group+">"); !ok {
			return nil
		}
		closing = ")"
	}
	if rest, ok = strings.CutPrefix(rest, "[^"); !ok {
		return nil
	}
	for n := 0; ; n++ {
		if rest == "" {
			return nil
		}
		c := rest[0]
		if c == ']' && n > 0 {
			rest = rest[1:]
			break
		}
		switch {
		case c == '\\':
			if len(rest) < 2 {
				return nil
			}
			switch e := rest[1]; {
			case e == 'n':
				a.stop['\n'] = true
			case e == 't':
				a.stop['\t'] = true
			case e == 'r':
				a.stop['\r'] = true
			case e < 0x80 && !isWordByte(e) && e != ' ':
				a.stop[e] = true
			default:
				return nil
			}
			rest = rest[2:]
		case c >= 0x80 || c < 0x20 || c == '-' || c == '[' || c == '^' || c == ' ' || c == ']':
			return nil
		default:
			a.stop[c] = true
			rest = rest[1:]
		}
	}
	if rest != "+"+closing {
		return nil
	}
	a.end = a.leads[0][len(a.leads[0])-1]
	for _, l := range a.leads {
		if l[len(l)-1] != a.end {
			a.end = 0
		}
	}
	return a
}

// replace replaces each run by value, as the regex would.
func (a *afterLeads) replace(s, value string) string {
	var b strings.Builder
	written, q := 0, 0 // s[:written] is handled; runs are looked for at q and after
	for q < len(s) {
		if a.end != 0 && (q == 0 || s[q-1] != a.end) {
			i := strings.IndexByte(s[q:], a.end)
			if i < 0 {
				break
			}
			q += i + 1
			continue
		}
		if !a.follows(s, q) || s[q] < 0x80 && a.stop[s[q]] {
			q++
			continue
		}
		e := q + 1
		for e < len(s) && (s[e] >= 0x80 || !a.stop[s[e]]) {
			e++
		}
		if written == 0 {
			b.Grow(len(s) + len(value)) // most texts hold one run: one allocation
		}
		b.WriteString(asRunes(s[written:q]))
		b.WriteString(value)
		written, q = e, e
	}
	if written == 0 {
		return s
	}
	b.WriteString(asRunes(s[written:]))
	return b.String()
}

// follows says whether s[:q] ends with a lead.
func (a *afterLeads) follows(s string, q int) bool {
	for _, l := range a.leads {
		if strings.HasSuffix(s[:q], l) {
			return true
		}
	}
	return false
}

// asRunes is s decoded to runes and back: s itself when it is valid UTF-8.
func asRunes(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}
