package redact

import (
	"net/http"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/litset"
)

// litRun is a run of rules that each change a text only when it holds literals (byLiterals says
// which): which of the run's literals each text holds is found in one pass over it, for all the
// rules at once, and a rule that no text it edits holds what it needs for would change nothing
// and is skipped. Most exchanges hold nothing the General and Body regex sanitizers look for.
type litRun struct {
	rules []*SanitizerRule
	set   *litset.Set // shared by the set's runs when their literals fit
	need  [][]uint64  // by rule: for each set of literals (one of which must be held), their bits
	// The rules that edit the URI, the first value of every header, and bodies.
	uri, first, body []int
}

// maxLitRun bounds the rules of a run and its distinct literals: both are bits of a uint64.
const maxLitRun = litset.Max

// byLiterals says whether the rule edits only the URI, the first value of headers and whole
// bodies (not JSON values) of every exchange, each text only where it holds literals the rule
// knows: a target (the String sanitizers) or what every match of its regex needs.
func (r *SanitizerRule) byLiterals() bool {
	return r.always() && len(r.spec.Remove) == 0 && !r.spec.AuthHeader && r.path == nil && r.spec.Header == "" &&
		len(r.literalNeed()) > 0
}

// literalNeed is what a text must hold for replaceFast to change it: of each set, one member.
// nil: nothing is known.
func (r *SanitizerRule) literalNeed() [][]string {
	switch {
	case r.spec.Literal != "":
		return [][]string{{r.spec.Literal}}
	case r.re != nil && !r.lines:
		return r.need
	}
	return nil
}

// litRunOf is how many rules at the start of rules make one litRun: rules byLiterals says are,
// up to maxLitRun of them and of their distinct literals.
func litRunOf(rules []*SanitizerRule) int {
	seen := map[string]struct{}{}
	n := 0
	for ; n < len(rules) && n < maxLitRun && rules[n].byLiterals(); n++ {
		for _, alts := range rules[n].literalNeed() {
			for _, a := range alts {
				seen[a] = struct{}{}
			}
		}
		if len(seen) > maxLitRun {
			break
		}
	}
	return n
}

func newLitRun(rules []*SanitizerRule) *litRun {
	l := &litRun{rules: rules}
	var lits []string
	index := map[string]int{}
	for i, r := range rules {
		var need []uint64
		for _, alts := range r.literalNeed() {
			var m uint64
			for _, a := range alts {
				j, ok := index[a]
				if !ok {
					j = len(lits)
					index[a] = j
					lits = append(lits, a)
				}
				m |= 1 << j
			}
			need = append(need, m)
		}
		l.need = append(l.need, need)
		if r.spec.Parts&PartURI != 0 {
			l.uri = append(l.uri, i)
		}
		if r.spec.Parts&PartHeaders != 0 && r.spec.FirstValue {
			l.first = append(l.first, i)
		}
		if r.spec.Parts&PartBody != 0 {
			l.body = append(l.body, i)
		}
	}
	l.set = litset.New(lits)
	return l
}

// apply edits the exchange as each rule's sanitize, in order, does.
func (l *litRun) apply(it *cassette.Interaction, o SanitizeOptions, x *exchangeFacts) {
	may := l.may(it, x)
	for i, r := range l.rules {
		if may&(1<<i) == 0 {
			continue
		}
		if r.sanitize(it, o, x) && i+1 < len(l.rules) {
			may = l.may(it, x) // the edit may give later rules what they need
		}
	}
}

// may has a bit for each rule that a text it edits holds what it needs for: the others would
// change nothing.
func (l *litRun) may(it *cassette.Interaction, x *exchangeFacts) uint64 {
	var may uint64
	if len(l.uri) > 0 {
		may |= l.holders(l.uri, x.held(l.set, 0, it.Request.URL))
	}
	if len(l.first) > 0 {
		for _, h := range []http.Header{it.Request.Headers, it.Response.Headers} {
			for _, vals := range h {
				if len(vals) > 0 {
					may |= l.holders(l.first, l.set.Held(vals[0]))
				}
			}
		}
	}
	if len(l.body) > 0 {
		may |= l.holders(l.body, x.held(l.set, 1, it.Request.Body))
		may |= l.holders(l.body, x.held(l.set, 2, it.Response.Body))
	}
	return may
}

// litTexts remembers which literals of a set the URI and the bodies of an exchange hold, for
// the next run that shares the set.
type litTexts struct {
	set   *litset.Set
	texts [3]string // the URI, the request body, the response body
	held  [3]uint64
	known [3]bool
}

// held is set.Held(t), for t the URI (slot 0) or a body (1, 2), remembered while it stays the same.
func (x *exchangeFacts) held(set *litset.Set, slot int, t string) uint64 {
	c := &x.lits
	if c.set != set {
		*c = litTexts{set: set}
	}
	if !c.known[slot] || c.texts[slot] != t {
		c.texts[slot], c.held[slot], c.known[slot] = t, set.Held(t), true
	}
	return c.held[slot]
}

// shareLitSets gives runs one literal set when their literals fit, so that a text is scanned once
// for all of them.
func shareLitSets(runs []*litRun) {
	var lits []string
	index := map[string]int{}
	for _, l := range runs {
		for _, lit := range l.set.Lits() {
			if _, ok := index[lit]; !ok {
				index[lit] = len(lits)
				lits = append(lits, lit)
			}
		}
	}
	if len(runs) < 2 || len(lits) > maxLitRun {
		return
	}
	shared := litset.New(lits)
	for _, l := range runs {
		for _, need := range l.need {
			for k, m := range need {
				var nm uint64
				for j, lit := range l.set.Lits() {
					if m&(1<<j) != 0 {
						nm |= 1 << index[lit]
					}
				}
				need[k] = nm
			}
		}
		l.set = shared
	}
}

// holders has a bit for each of rules that a text holding the literals held holds what it
// needs for.
func (l *litRun) holders(rules []int, held uint64) uint64 {
	if held == 0 {
		return 0
	}
	var may uint64
	for _, i := range rules {
		if holdsAll(held, l.need[i]) {
			may |= 1 << i
		}
	}
	return may
}

// holdsAll says whether held has a bit of each of need.
func holdsAll(held uint64, need []uint64) bool {
	for _, m := range need {
		if held&m == 0 {
			return false
		}
	}
	return true
}
