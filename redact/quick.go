package redact

import (
	"math/bits"
	"strings"

	"github.com/azvcr/azvcr/secrets"
)

// Most values a live request holds are short and plain (path segments such as "dbs", "colls",
// "item-000001"; api-version=2024-11-15; a partition key) and no rule edits them. Offering each
// to every rule costs more than the rest of redacting a replay's match probe, so a value rule may
// say cheaply that it leaves a value alone, and the walker skips it then — and skips the value
// altogether when no rule is left and the value cannot hold parameters, a URL or JSON. A quick
// test only ever says "leaves it" when redactValue would make no edit: quick_test.go and
// FuzzQuickWalk hold the quick walk to the slow one (walker.slow).

// quickRule is a value rule with quick tests.
type quickRule interface {
	valueRule
	// idle is the set of places (bit p) where the rule leaves every value alone, whatever its
	// name and text.
	idle() uint8
	// leaves reports whether the rule leaves the value alone; false when it cannot tell cheaply.
	leaves(p place, name, text string) bool
}

const numPlaces = int(inText) + 1

// quickMasks are, by place, the rules (bit i: w.rules[i]) that are not idle there; and the rules
// with a quick test.
type quickMasks struct {
	made   bool
	places [numPlaces]uint64
	tests  uint64
	rules  [8]quickRule // the first rules as quickRules (tests' bits), not looked up again
}

// allRules is a mask of every rule of a walker.
func allRules(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// acting is the mask of the rules that may edit the value. Rules past the 64th are always
// offered every value (visit does not look them up in the mask).
func (w *walker) acting(p place, name, text string) uint64 {
	if w.slow || len(w.rules) > 64 {
		return allRules(len(w.rules))
	}
	if !w.quick.made {
		w.makeQuick()
	}
	m := w.quick.places[p]
	for rest := m & w.quick.tests; rest != 0; rest &= rest - 1 {
		i := bits.TrailingZeros64(rest)
		var q quickRule
		if i < len(w.quick.rules) {
			q = w.quick.rules[i]
		} else {
			q = w.rules[i].(quickRule)
		}
		if q.leaves(p, name, text) {
			m &^= 1 << i
		}
	}
	return m
}

func (w *walker) makeQuick() {
	w.quick = quickMasks{made: true}
	for i, r := range w.rules {
		busy := ^uint8(0) // the places where the rule may edit
		if q, ok := r.(quickRule); ok {
			busy = ^q.idle()
			w.quick.tests |= 1 << i
			if i < len(w.quick.rules) {
				w.quick.rules[i] = q
			}
		}
		for p := range w.quick.places {
			w.quick.places[p] |= uint64(busy>>p&1) << i
		}
	}
}

// forget drops what the walker holds of the last message (its values' texts), so that a pooled
// walker keeps nothing alive.
func (w *walker) forget() {
	clear(w.valueBuf[:min(len(w.values), len(w.valueBuf))])
	clear(w.ptrBuf[:min(len(w.values), len(w.ptrBuf))])
	w.values, w.level = nil, 0
}

// mayHoldInside reports whether visit at this depth might look inside text: it does unless
// inside's own tests (JSON, a parameter's "=", a URL's "://") all fail.
func mayHoldInside(text string, p place, depth int) bool {
	if depth >= maxNesting || p == inUserinfo {
		return false
	}
	return looksJSON(text) || hasParamEquals(text) || strings.Contains(text, "://")
}

// hasParamEquals: text holds an "=" other than base64 padding at its end.
func hasParamEquals(text string) bool {
	return strings.IndexByte(strings.TrimRight(text, "="), '=') >= 0
}

// The quick tests of the default value rules.

func (authorizationRule) idle() uint8 { return ^uint8(1 << inHeader) }
func (authorizationRule) leaves(_ place, name, text string) bool {
	return !isAuthorizationHeader(name) || text == ""
}

func (n *nameRule) list(p place) (*nameList, bool) {
	switch p {
	case inHeader:
		return &n.headers, true
	case inParam, inUserinfo:
		return &n.params, true
	case inJSON:
		return &n.fields, true
	}
	return nil, false
}

// idle is worked out once, by withIdle, for the rule as made.
func (n *nameRule) idle() uint8 { return n.idlePlaces }

// withIdle is the rule with its idle places worked out.
func (n nameRule) withIdle() nameRule {
	n.idlePlaces = 0
	for p := range numPlaces {
		if list, ok := n.list(place(p)); !ok || (len(list.names) == 0 && !n.words) {
			n.idlePlaces |= 1 << p
		}
	}
	return n
}

// leaves is redactValue's own test, made before a value is: it is cheap already.
func (n *nameRule) leaves(p place, name, text string) bool {
	if text == "" || text == Redacted {
		return true // replaceAll would not edit it
	}
	list, ok := n.list(p)
	return !ok || !(list.has(name) || (n.words && name != "" && isSecretName(name)))
}

func (shapeRule) idle() uint8 { return 0 }
func (shapeRule) leaves(p place, name, text string) bool {
	// The detectors find a secret by its shape in nothing shorter (a value with a secret's name
	// is found whatever its length); TestShortestSecret holds secrets.FindValue to it.
	if len(text) >= secrets.MinSecretLen {
		return false
	}
	if p != inHeader && p != inParam && p != inJSON {
		name = ""
	}
	return name == "" || !isSecretName(name)
}
