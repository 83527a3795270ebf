package redact

import (
	"slices"
	"strings"
)

// requiredLiteral returns ASCII text that every match of the .NET regular expression expr (no
// options) must find in the string it searches: a text without it cannot match, so the regex
// need not run. It understands a plain subset of the syntax (literals, escapes, classes,
// groups, lookarounds, quantifiers) and proves nothing, "", from anything else: inline options,
// backreferences, conditionals, alternation around the literal.
func requiredLiteral(expr string) string {
	best := ""
	for _, alts := range requiredLiterals(expr) {
		if len(alts) == 1 && len(alts[0]) > len(best) {
			best = alts[0]
		}
	}
	return best
}

// requiredLiterals returns what every match of expr must hold, as requiredLiteral proves it, and
// more: a list of sets of ASCII texts, each set a choice (an alternation whose every branch
// requires a text requires one of them). A text lacking every member of one set cannot match.
// nil proves nothing.
func requiredLiterals(expr string) [][]string {
	p := &literalParser{s: expr}
	lits := p.alternation()
	if p.bad || p.i != len(p.s) {
		return nil
	}
	return lits
}

// holdsRequired says whether s holds, of each set, a member.
func holdsRequired(s string, need [][]string) bool {
	for _, alts := range need {
		found := false
		for _, a := range alts {
			if strings.Contains(s, a) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

type literalParser struct {
	s          string
	i          int
	bad        bool // the expression uses syntax the parser does not follow
	quantified bool // the last item read had a quantifier
}

// alternation parses branches up to a ')' or the end; with more than one branch what is required
// is one of the branches' longest required texts, when every branch requires one.
func (p *literalParser) alternation() [][]string {
	lits := p.sequence()
	if p.bad || p.i >= len(p.s) || p.s[p.i] != '|' {
		return lits
	}
	choice := branchBest(lits)
	for !p.bad && p.i < len(p.s) && p.s[p.i] == '|' {
		p.i++
		alts := branchBest(p.sequence())
		if choice == nil || alts == nil {
			choice = nil
			continue
		}
		choice = append(choice, alts...)
	}
	if choice == nil {
		return nil
	}
	return [][]string{choice}
}

// branchBest is the set of a branch's required sets whose shortest member is longest (nil: the
// branch requires nothing).
func branchBest(lits [][]string) []string {
	var best []string
	bestLen := 0
	for _, alts := range lits {
		short := len(alts[0])
		for _, a := range alts {
			short = min(short, len(a))
		}
		if short > bestLen {
			best, bestLen = alts, short
		}
	}
	return slices.Clone(best)
}

// sequence parses items up to '|', ')' or the end and returns the literal runs they require.
func (p *literalParser) sequence() [][]string {
	var lits [][]string
	var run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			lits = append(lits, []string{run.String()})
			run.Reset()
		}
	}
	for !p.bad && p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '|', ')':
			flush()
			return lits
		case '(':
			inner, required := p.group()
			flush()
			if min := p.quantifier(); required && min > 0 {
				lits = append(lits, inner...)
			}
			continue
		case '[':
			p.class()
			flush()
			p.quantifier()
			continue
		case '.', '^', '$':
			p.i++
			flush()
			p.quantifier()
			continue
		case '*', '+', '?', '{':
			p.bad = true // a quantifier with nothing before it
			return nil
		case '\\':
			lit, ok := p.escape()
			if !ok {
				flush()
				p.quantifier()
				continue
			}
			c = lit
		default:
			p.i++
		}
		if c >= 0x80 { // a byte of a non-ASCII literal: required, but not proved here
			flush()
			p.quantifier()
			continue
		}
		switch min := p.quantifier(); {
		case min == 1 && !p.quantified:
			run.WriteByte(c)
		case min >= 1:
			run.WriteByte(c)
			flush()
		default:
			flush()
		}
	}
	flush()
	return lits
}

// group parses a group from its '(' to its ')' and returns the literals it requires, and whether
// what it matches is required at all (false for negative lookarounds).
func (p *literalParser) group() ([][]string, bool) {
	p.i++ // '('
	required := true
	if strings.HasPrefix(p.s[p.i:], "?") {
		rest := p.s[p.i+1:]
		switch {
		case strings.HasPrefix(rest, ":"), strings.HasPrefix(rest, ">"), strings.HasPrefix(rest, "="):
			p.i += 2
		case strings.HasPrefix(rest, "<="):
			p.i += 3
		case strings.HasPrefix(rest, "!"):
			p.i += 2
			required = false
		case strings.HasPrefix(rest, "<!"):
			p.i += 3
			required = false
		case strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, "'"):
			end := byte('>')
			if rest[0] == '\'' {
				end = '\''
			}
			n := 1
			for n < len(rest) && isWordByte(rest[n]) {
				n++
			}
			if n == 1 || n >= len(rest) || rest[n] != end {
				p.bad = true // balancing groups and the like
				return nil, false
			}
			p.i += 1 + n + 1
		default:
			p.bad = true // inline options, comments, conditionals
			return nil, false
		}
	}
	inner := p.alternation()
	if p.bad || p.i >= len(p.s) || p.s[p.i] != ')' {
		p.bad = true
		return nil, false
	}
	p.i++
	return inner, required
}

// class skips a character class, "[...]", subtractions included.
func (p *literalParser) class() {
	p.i++ // '['
	if p.i < len(p.s) && p.s[p.i] == '^' {
		p.i++
	}
	first := true
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '\\':
			p.i += 2
		case c == '-' && strings.HasPrefix(p.s[p.i+1:], "["): // a subtraction, [a-z-[aeiou]]
			p.i++
			p.class()
			continue
		case c == ']' && !first:
			p.i++
			return
		default:
			p.i++
		}
		first = false
	}
	p.bad = true
}

// escape reads a backslash escape: the literal byte it stands for, or ok false for a class or an
// anchor (consumed). Backreferences and numeric escapes make the expression bad.
func (p *literalParser) escape() (byte, bool) {
	if p.i+1 >= len(p.s) {
		p.bad = true
		return 0, false
	}
	e := p.s[p.i+1]
	p.i += 2
	switch e {
	case 'n':
		return '\n', true
	case 't':
		return '\t', true
	case 'r':
		return '\r', true
	case 'f':
		return '\f', true
	case 'v':
		return '\v', true
	case 'e':
		return 0x1b, true
	case 'a':
		return 0x07, true
	case 'd', 'D', 'w', 'W', 's', 'S', 'b', 'B', 'A', 'Z', 'z', 'G':
		return 0, false
	case 'p', 'P':
		if end := strings.IndexByte(p.s[p.i:], '}'); strings.HasPrefix(p.s[p.i:], "{") && end > 0 {
			p.i += end + 1
			return 0, false
		}
	}
	if e < 0x80 && !isWordByte(e) {
		return e, true // escaped punctuation stands for itself
	}
	p.bad = true
	return 0, false
}

// quantifier reads the quantifier after an item, if any, and returns the fewest times it lets the
// item match (1 without one); p.quantified says whether there was one.
func (p *literalParser) quantifier() int {
	p.quantified = false
	if p.i >= len(p.s) {
		return 1
	}
	min := 1
	switch p.s[p.i] {
	case '*', '?':
		min = 0
		p.i++
	case '+':
		p.i++
	case '{':
		end := strings.IndexByte(p.s[p.i:], '}')
		if end < 0 {
			p.bad = true
			return 0
		}
		body := p.s[p.i+1 : p.i+end]
		lo, _, _ := strings.Cut(body, ",")
		if lo == "" || strings.Trim(body, "0123456789,") != "" || strings.Count(body, ",") > 1 {
			p.bad = true // .NET would read it as literal text; not followed here
			return 0
		}
		min = 0
		for _, d := range lo {
			min = min*10 + int(d-'0')
			if min > 1 {
				min = 2 // enough to know it is required
			}
		}
		p.i += end + 1
	default:
		return 1
	}
	p.quantified = true
	if p.i < len(p.s) && p.s[p.i] == '?' { // lazy
		p.i++
	}
	return min
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
