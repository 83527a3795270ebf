package cassette

import (
	"hash/maphash"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// How the YAML library writes a string, worked out ahead of it so that a whole file can be written
// without it (emit.go). The rules are the library's (go.yaml.in/yaml/v3, encode.go and emitterc.go),
// restated: a string is plain when it would read back as a string and no character forbids it,
// else single-quoted, else double-quoted; a string with "\n" is a literal block when a block can
// hold it. Strings the fast writer does not handle (flagged unsure) go to the library itself;
// emit_test.go holds the two to the same bytes.

type scalarStyle uint8

const (
	plainStyle scalarStyle = iota
	singleStyle
	doubleStyle
	literalStyle
	unsure // the library is asked instead
)

// scalarFacts is what the library's scanner of a scalar finds: which presentations may hold it.
type scalarFacts struct {
	multiline    bool // holds a line break
	plainOK      bool // may be written plain in block context
	singleOK     bool
	blockOK      bool // may be a literal block
	otherBreaks  bool // a break other than "\n" (\r is special anyway; U+2028, U+2029)
	notPrintable bool
}

// analyze reads s (valid UTF-8) as the library's analysis does.
func analyze(s string) scalarFacts {
	if s == "" {
		return scalarFacts{plainOK: true, singleOK: true}
	}
	var (
		indicators, lineBreaks, special, tabs                  bool
		leadingSpace, leadingBreak, trailingSpace, trailingBrk bool
		breakSpace, spaceBreak, prevSpace, prevBreak           bool
		otherBreaks                                            bool
	)
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		indicators = true
	}
	afterBlank := true // the previous character was blank, a break, or there was none
	for i := 0; i < len(s); {
		if i > 0 && quietByte[s[i]] { // a run of them changes nothing but what came before
			for i++; i < len(s) && quietByte[s[i]]; i++ {
			}
			prevSpace, prevBreak, afterBlank = false, false, false
			continue
		}
		r, w := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		last := i+w == len(s)
		nextBlank := last || s[i+w] == ' ' || s[i+w] == '\t'
		switch {
		case i == 0 && strings.ContainsRune("#,[]{}&*!|>'\"%@`", r):
			indicators = true
		case i == 0 && (r == '?' || r == ':' || r == '-') && nextBlank:
			indicators = true
		case i > 0 && r == ':' && nextBlank:
			indicators = true
		case i > 0 && r == '#' && afterBlank:
			indicators = true
		}
		if r == '\t' {
			tabs = true
		} else if !printable(r) {
			special = true
		}
		isBreak := r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
		switch {
		case r == ' ':
			leadingSpace = leadingSpace || i == 0
			trailingSpace = trailingSpace || last
			breakSpace = breakSpace || prevBreak
			prevSpace, prevBreak = true, false
		case isBreak:
			lineBreaks = true
			otherBreaks = otherBreaks || r != '\n'
			leadingBreak = leadingBreak || i == 0
			trailingBrk = trailingBrk || last
			spaceBreak = spaceBreak || prevSpace
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		afterBlank = r == ' ' || r == '\t' || isBreak || r == 0
		i += w
	}
	f := scalarFacts{multiline: lineBreaks, otherBreaks: otherBreaks, notPrintable: special}
	f.plainOK = !(leadingSpace || leadingBreak || trailingSpace || trailingBrk || breakSpace || spaceBreak ||
		tabs || special || lineBreaks || indicators)
	f.singleOK = !(breakSpace || spaceBreak || tabs || special)
	f.blockOK = !(trailingSpace || spaceBreak || special)
	return f
}

// quietByte marks the ASCII characters that, past a string's first, decide nothing in analyze but
// that they are neither blank nor a break: printable, and not ':' or '#' (whose meaning depends on
// their neighbours).
var quietByte = func() (t [256]bool) {
	for c := 0x21; c <= 0x7E; c++ {
		t[c] = c != ':' && c != '#'
	}
	return t
}()

// printable is the library's set of characters written as they are.
func printable(r rune) bool {
	return r == '\n' || r >= 0x20 && r <= 0x7E || r >= 0xA0 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF
}

// valueStyle is how the library writes the string s as a block mapping value or sequence item.
// quoteTabbed is the body rule of text.MarshalYAML: a multi-line string with a line starting with
// a tab is double-quoted.
func valueStyle(s string, quoteTabbed bool) scalarStyle {
	if len(s) > styleMemoMax || quoteTabbed {
		return findValueStyle(s, quoteTabbed)
	}
	return styleMemo.of(s, findValueStyle)
}

// styleMemo keeps the styles of short strings: a cassette repeats its header values (dates,
// versions, charges) thousands of times, and asking the library how it reads one costs more
// than writing it.
var styleMemo memo

const styleMemoMax = 64

// memo is a fixed table of recent answers, safe for any number of writers at once.
type memo struct {
	seed  maphash.Seed
	slots [4096]atomic.Pointer[memoSlot]
	once  sync.Once
}

type memoSlot struct {
	s  string
	st scalarStyle
}

func (m *memo) of(s string, find func(string, bool) scalarStyle) scalarStyle {
	m.once.Do(func() { m.seed = maphash.MakeSeed() })
	slot := &m.slots[maphash.String(m.seed, s)%uint64(len(m.slots))]
	if e := slot.Load(); e != nil && e.s == s {
		return e.st
	}
	st := find(s, false)
	slot.Store(&memoSlot{strings.Clone(s), st})
	return st
}

func findValueStyle(s string, quoteTabbed bool) scalarStyle {
	if !utf8.ValidString(s) || strings.HasPrefix(s, "\uFEFF") {
		return unsure // !!binary; a leading BOM makes the library escape every character
	}
	newline := strings.Contains(s, "\n")
	if quoteTabbed && newline && (strings.HasPrefix(s, "\t") || strings.Contains(s, "\n\t")) {
		return doubleStyle
	}
	f := analyze(s)
	switch {
	case newline && f.blockOK:
		if f.otherBreaks {
			return unsure
		}
		return literalStyle
	case newline:
		return doubleStyle
	case !readsAsString(s):
		return doubleStyle
	case f.plainOK:
		return plainStyle
	case f.singleOK:
		if f.multiline {
			return unsure // a break inside single quotes is folded over lines
		}
		return singleStyle
	}
	return doubleStyle
}

// keyStyle is how a mapping key is written; only plain keys are handled here.
func keyStyle(s string) scalarStyle {
	if len(s) > styleMemoMax {
		return findKeyStyle(s)
	}
	return keyMemo.of(s, func(s string, _ bool) scalarStyle { return findKeyStyle(s) })
}

var keyMemo memo

func findKeyStyle(s string) scalarStyle {
	if s == "" || len(s) > 128 || !utf8.ValidString(s) || strings.HasPrefix(s, "\uFEFF") {
		return unsure
	}
	if f := analyze(s); f.plainOK && readsAsString(s) {
		return plainStyle
	}
	return unsure
}

// readsAsString: written plain, s would read back as a string (not null, a number, a boolean, a
// timestamp, or a YAML 1.1 boolean or base-60 float, which the library quotes too).
func readsAsString(s string) bool {
	if s != "" && !strings.ContainsRune("+-0123456789yYnNtTfFoO~<.", rune(s[0])) {
		return true // the library's own shortcut: nothing else starts this way
	}
	if oldBool[s] || base60Float(s) {
		return false
	}
	n := yaml.Node{Kind: yaml.ScalarNode, Value: s}
	return n.ShortTag() == "!!str"
}

var oldBool = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true, "off": true, "Off": true, "OFF": true,
}

var base60 = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

func base60Float(s string) bool {
	if s == "" || !(s[0] == '+' || s[0] == '-' || s[0] >= '0' && s[0] <= '9') || !strings.Contains(s, ":") {
		return false
	}
	return base60.MatchString(s)
}

// appendDoubleQuoted writes s double-quoted with the library's escapes.
func appendDoubleQuoted(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, w := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		isBreak := r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
		if printable(r) && !isBreak && r != '"' && r != '\\' {
			b = append(b, s[i:i+w]...)
			i += w
			continue
		}
		i += w
		b = append(b, '\\')
		switch r {
		case 0:
			b = append(b, '0')
		case 7:
			b = append(b, 'a')
		case 8:
			b = append(b, 'b')
		case 9:
			b = append(b, 't')
		case '\n':
			b = append(b, 'n')
		case 0x0B:
			b = append(b, 'v')
		case 0x0C:
			b = append(b, 'f')
		case '\r':
			b = append(b, 'r')
		case 0x1B:
			b = append(b, 'e')
		case '"':
			b = append(b, '"')
		case '\\':
			b = append(b, '\\')
		case 0x85:
			b = append(b, 'N')
		case 0x2028:
			b = append(b, 'L')
		case 0x2029:
			b = append(b, 'P')
		default:
			digits := 8
			switch {
			case r <= 0xFF:
				b, digits = append(b, 'x'), 2
			case r <= 0xFFFF:
				b, digits = append(b, 'u'), 4
			default:
				b = append(b, 'U')
			}
			for k := (digits - 1) * 4; k >= 0; k -= 4 {
				b = append(b, hex[r>>k&0xF])
			}
		}
	}
	return append(b, '"')
}

// appendSingleQuoted writes s (no line breaks) single-quoted.
func appendSingleQuoted(b []byte, s string) []byte {
	b = append(b, '\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b = append(append(b, s[:i+1]...), '\'')
		s = s[i+1:]
	}
	return append(append(b, s...), '\'')
}

// appendLiteral writes s (lines ended by "\n" only) as a literal block whose lines are indented
// by indent spaces, ending at the start of a line.
func appendLiteral(b []byte, s string, indent int) []byte {
	b = append(b, '|')
	if s[0] == ' ' || s[0] == '\n' {
		b = append(b, '2') // the library's indentation indicator is its indent step
	}
	switch {
	case s[len(s)-1] != '\n':
		b = append(b, '-')
	case len(s) == 1 || s[len(s)-2] == '\n':
		b = append(b, '+')
	}
	b = append(b, '\n')
	for s != "" {
		line, rest, _ := strings.Cut(s, "\n")
		if line != "" {
			b = appendSpaces(b, indent)
			b = append(b, line...)
		}
		b = append(b, '\n') // after the last line too: the next key starts a line
		s = rest
	}
	return b
}

func appendSpaces(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}
