package redact

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// SanitizeAll applies rules to one exchange in order, as calling Sanitize for each does, working
// out once what the rules keep asking of the exchange (is a body text, which keys a JSON body
// holds, its tokens) and again only when a rule has changed what it depends on.
func SanitizeAll(rules []*SanitizerRule, it *cassette.Interaction, o SanitizeOptions) {
	var x exchangeFacts
	for _, r := range rules {
		r.sanitize(it, o, &x)
	}
}

// exchangeFacts is what is known of an exchange's request and response while rules edit it;
// fast says the rules run in a compiled set, which takes the shortcuts replaceFast takes.
type exchangeFacts struct {
	request, response partFacts
	fast              bool
	lits              litTexts
}

// partFacts is what is known of one side's header and body.
type partFacts struct {
	text int8 // o.IsText of the header: 0 not known, 1 text, 2 not
	// names maps the header's ASCII keys, lowercased, to the keys; odd lists the others (a
	// non-ASCII letter can fold to an ASCII one). nil: not known.
	names map[string][]string
	odd   []string
	// nameBits has the nameBit of each key of the header (all bits for a non-ASCII key), when
	// bitsKnown.
	nameBits  [4]uint64
	bitsKnown bool
	body      string
	known     bool // the facts below are those of body
	// quoted holds each run of text from one '"' to the next (bounded in length): a JSON key
	// "k" is in the body exactly when k is in quoted, for the keys quotedKey keeps. nil: not
	// worked out yet.
	quoted  map[string]struct{}
	escaped int8 // keyEscapes(body): 0 not known, 1 yes, 2 no
	tokens  *tokenList
	data    []byte
}

// keyEscapes says whether a JSON text has escapes that can spell a character of a key quotedKey
// keeps (\u and \/): without them, such a key is in the text as it is, between quotes.
func keyEscapes(body string) bool {
	return strings.Contains(body, `\u`) || strings.Contains(body, `\/`)
}

// keyEscapes is keyEscapes of the known body, worked out once.
func (f *partFacts) keyEscapes() bool {
	if f.escaped == 0 {
		f.escaped = 2
		if keyEscapes(f.body) {
			f.escaped = 1
		}
	}
	return f.escaped == 1
}

// maxQuoted bounds the runs quoted keeps; longer needles are looked for in the text.
const maxQuoted = 128

// isText is o.IsText(h), worked out once while the header stays as it is (f nil: every time).
func (f *partFacts) isText(h http.Header, o SanitizeOptions) bool {
	if f == nil {
		return o.IsText(h)
	}
	if f.text == 0 {
		f.text = 2
		if o.IsText(h) {
			f.text = 1
		}
	}
	return f.text == 1
}

// headerChanged forgets what depended on the header.
func (f *partFacts) headerChanged() {
	if f != nil {
		f.text = 0
	}
}

// namesChanged forgets the header's names.
func (f *partFacts) namesChanged() {
	if f != nil {
		f.names, f.odd, f.bitsKnown = nil, nil, false
	}
}

// nameBit is a bit (of 256) for an ASCII header name, a hash of its length and its first,
// middle and last bytes lower-cased: names equal but for case have the same bit.
func nameBit(name string) int {
	if name == "" {
		return 0
	}
	x := uint32(len(name))<<24 | uint32(lowerByte(name[0]))<<16 | uint32(lowerByte(name[len(name)/2]))<<8 | uint32(lowerByte(name[len(name)-1]))
	return int(x * 2654435761 >> 24)
}

// headerBits is nameBits of h, worked out once while its names stay as they are.
func (f *partFacts) headerBits(h http.Header) *[4]uint64 {
	if !f.bitsKnown {
		f.nameBits = [4]uint64{}
		for k := range h {
			if !isASCII(k) { // a non-ASCII letter may fold to an ASCII one
				f.nameBits = [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
				break
			}
			b := nameBit(k)
			f.nameBits[b>>6] |= 1 << (b & 63)
		}
		f.bitsKnown = true
	}
	return &f.nameBits
}

// mayHaveName says whether h may have a key equal to name but for case (f nil: it may).
func (f *partFacts) mayHaveName(h http.Header, name string) bool {
	if f == nil || !isASCII(name) {
		return true
	}
	b := nameBit(name)
	return f.headerBits(h)[b>>6]&(1<<(b&63)) != 0
}

// keys returns the keys of h that equal name (ASCII) but for case, as strings.EqualFold says.
func (f *partFacts) keys(h http.Header, name string) []string {
	if f.names == nil {
		f.names = make(map[string][]string, len(h))
		for k := range h {
			if isASCII(k) {
				l := strings.ToLower(k)
				f.names[l] = append(f.names[l], k)
			} else {
				f.odd = append(f.odd, k)
			}
		}
	}
	keys := f.names[strings.ToLower(name)]
	for _, k := range f.odd {
		if strings.EqualFold(k, name) {
			keys = append(slices.Clip(keys), k)
		}
	}
	return keys
}

// of makes the body facts those of body.
func (f *partFacts) of(body string) {
	if f.known && f.body == body {
		return
	}
	*f = partFacts{text: f.text, names: f.names, odd: f.odd, nameBits: f.nameBits, bitsKnown: f.bitsKnown, body: body, known: true}
}

// quotedRuns lists the runs of the known body from one '"' to the next, once.
func (f *partFacts) quotedRuns() map[string]struct{} {
	if f.quoted == nil {
		f.quoted = map[string]struct{}{}
		eachQuoted(f.body, func(run string) bool {
			f.quoted[run] = struct{}{}
			return true
		})
	}
	return f.quoted
}

// eachQuoted calls yield with each run of body from one '"' to the next, up to maxQuoted long,
// until it returns false.
func eachQuoted(body string, yield func(string) bool) {
	for i := strings.IndexByte(body, '"'); i >= 0; {
		j := strings.IndexByte(body[i+1:], '"')
		if j < 0 {
			return
		}
		if j <= maxQuoted && !yield(body[i+1:i+1+j]) {
			return
		}
		i += 1 + j
	}
}

// quotedKey is k when a body that has no keyEscapes holds the key k exactly when it holds "k": k
// is valid UTF-8 without U+FFFD (which invalid bytes decode to), has no quote, backslash or
// control character, and is not too long; otherwise "".
func quotedKey(k string) string {
	if k == "" || len(k) > maxQuoted || !utf8.ValidString(k) || strings.ContainsRune(k, utf8.RuneError) {
		return ""
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c == '"' || c == '\\' {
			return ""
		}
	}
	return k
}

// anyNeedle says whether the body (whose facts are known) holds one of r's needles.
func (r *SanitizerRule) anyNeedle(f *partFacts) bool {
	quoted := f.quotedRuns()
	for i, n := range r.needles {
		if k := r.keys[i]; k != "" {
			if _, ok := quoted[k]; ok {
				return true
			}
		} else if strings.Contains(f.body, n) {
			return true
		}
	}
	return false
}

// edited makes the facts those of body, which is the known body with edits made to values that
// the body's tokens hold whole: the tokens follow the edits rather than being listed again.
func (f *partFacts) edited(body string, edits []edit) {
	if f == nil {
		return
	}
	old := f.tokens
	f.of(body)
	if old == nil || old.err != io.EOF {
		return
	}
	toks := make([]listedToken, 0, len(old.toks))
	shift, e := 0, 0
	for _, t := range old.toks {
		if e < len(edits) && edits[e].start == t.before && edits[e].end == t.after {
			text := edits[e].with
			toks = append(toks, listedToken{unquoteJSON([]byte(text)), t.before + shift, t.before + shift + len(text)})
			shift += len(text) - (t.after - t.before)
			e++
			continue
		}
		if e < len(edits) && edits[e].start < t.after {
			return // not an edit of whole tokens: list them again when asked
		}
		toks = append(toks, listedToken{t.tok, t.before + shift, t.after + shift})
	}
	if e == len(edits) {
		f.data = []byte(body)
		f.tokens = &tokenList{toks: toks, err: io.EOF}
	}
}

// selectJSON is selectJSON(body, j, false) over the body's tokens, listed once.
func (f *partFacts) selectJSON(j *JSONPath) ([]jsonLeaf, bool) {
	if f.tokens == nil {
		f.data = []byte(f.body)
		f.tokens = listTokens(f.data)
	}
	return selectTokens(f.data, f.tokens, j, false)
}
