package matcher

import (
	"fmt"
	"sort"
	"strings"

	"github.com/azvcr/azvcr/cassette"
)

// explain is test-proxy's miss: its report against the recordings still unused. It runs with
// the index unlocked, on requests already reduced (the live one once, recordings when indexed).
func (m RecordMatcher) explain(r *cassette.Request, live *tpRequest, remaining []*entry) *Miss {
	miss := &Miss{Method: r.Method, URL: r.URL, Reason: "no recorded interaction matches this request", Detail: m.report(live, remaining)}
	if len(remaining) == 0 {
		miss.Reason = "every recorded interaction was already used"
	}
	return miss
}

// report is test-proxy's mismatch message: the closest remaining recording (fewest differences,
// the earliest on a tie), what differs from it, and every recording not yet used.
func (m RecordMatcher) report(live *tpRequest, remaining []*entry) string {
	r := live.r
	var b strings.Builder
	fmt.Fprintf(&b, "Unable to find a record for the request %s %s\n", r.Method, r.URL)
	if len(remaining) == 0 {
		b.WriteString("No records to match.\n")
		return b.String()
	}
	var best *tpRequest
	bestScore := -1
	for _, e := range remaining {
		if s := m.score(live, e.tp); best == nil || s < bestScore {
			best, bestScore = e.tp, s
		}
	}
	if !strings.EqualFold(r.Method, best.r.Method) {
		fmt.Fprintf(&b, "Method doesn't match, request <%s> record <%s>\n", r.Method, best.r.Method)
	}
	if live.uri != best.uri {
		fmt.Fprintf(&b, "Uri doesn't match:\n    request <%s>\n    record  <%s>\n", r.URL, best.r.URL)
	}
	b.WriteString("Header differences:\n")
	m.headerDiffs(live, best, func(d string) { b.WriteString("    " + d + "\n") })
	b.WriteString("Body differences:\n")
	for _, d := range m.bodyDiffs(live, best) {
		b.WriteString(d + "\n")
	}
	b.WriteString("Remaining Entries:\n")
	for i, e := range remaining {
		fmt.Fprintf(&b, "%d: %s\n", i, e.it.Request.URL)
	}
	return b.String()
}

func (m RecordMatcher) score(live, rec *tpRequest) int {
	s := m.headerDiffs(live, rec, nil)
	if live.uri != rec.uri {
		s++
	}
	if !strings.EqualFold(live.r.Method, rec.r.Method) {
		s++
	}
	if m.bodiesDiffer(live, rec) {
		s++
	}
	return s
}

// headerDiffs counts the header differences and, given emit, names each in test-proxy's words.
func (m RecordMatcher) headerDiffs(live, rec *tpRequest, emit func(string)) int {
	if m.IgnoreHeaders {
		return 0
	}
	n := 0
	say := func(f func() string) {
		n++
		if emit != nil {
			emit(f())
		}
	}
	for _, k := range sortedNames(live.headers, emit != nil) {
		a := live.headers[k]
		b, ok := rec.headers[k]
		switch {
		case !ok:
			say(func() string { return fmt.Sprintf("<%s> is absent in record, value <%s>", a.sent, a.value) })
		case !a.ignored && a.value != b.value:
			say(func() string {
				return fmt.Sprintf("<%s> values differ, request <%s>, record <%s>", a.sent, a.value, b.value)
			})
		}
	}
	for _, k := range sortedNames(rec.headers, emit != nil) {
		if _, ok := live.headers[k]; !ok {
			b := rec.headers[k]
			say(func() string { return fmt.Sprintf("<%s> is absent in request, value <%s>", b.sent, b.value) })
		}
	}
	return n
}

// sortedNames lists a header map's names, in order when the order shows.
func sortedNames(h map[string]tpHeader, ordered bool) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	if ordered {
		sort.Strings(names)
	}
	return names
}

func (m RecordMatcher) bodiesDiffer(live, rec *tpRequest) bool {
	return m.CompareBodies && (live.body.present != rec.body.present || live.body.sum != rec.body.sum)
}

// maxContentShown bounds a body quoted in a report.
const maxContentShown = 1024

// bodyDiffs describes how the bodies differ, as test-proxy does: JSON paths for JSON requests,
// the first differing byte otherwise.
func (m RecordMatcher) bodyDiffs(live, rec *tpRequest) []string {
	if !m.bodiesDiffer(live, rec) {
		return nil
	}
	a, b := live.r.Body, rec.r.Body
	switch {
	case b == "":
		return []string{"Request has body but record doesn't"}
	case a == "":
		return []string{"Record has body but request doesn't"}
	}
	if live.jsonish && len(a) <= maxDiffBody && len(b) <= maxDiffBody {
		av, aok := parseJSON(a)
		if !aok {
			return []string{fmt.Sprintf("Unable to parse the request json body. Content %q.", cut(a, maxContentShown))}
		}
		bv, bok := parseJSON(b)
		if !bok {
			return []string{fmt.Sprintf("Unable to parse the record json body. Content %q.", cut(b, maxContentShown))}
		}
		d := tpDiffs{capped{max: maxTPDiffs + 1, out: []string{"There are differences between request and recordentry bodies:"}}}
		d.walk(av, bv)
		if d.more > 0 {
			d.out = append(d.out, fmt.Sprintf("... and %d more differences", d.more))
		}
		return d.out
	}
	i := 0
	for i < min(len(a), len(b))-1 && a[i] == b[i] {
		i++
	}
	before := max(0, i-10)
	return []string{
		fmt.Sprintf("Request and record bodies do not match at index %d:", i),
		fmt.Sprintf("     request: %q", a[before:min(i+20, len(a))]),
		fmt.Sprintf("     record:  %q", b[before:min(i+20, len(b))]),
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// maxTPDiffs bounds the JSON differences a report lists; the rest are counted.
const maxTPDiffs = 100

// tpDiffs walks two JSON values as test-proxy's JsonComparer does, in its words ("Missing in
// request JSON" is said of a key the request has and the record lacks), iteratively.
type tpDiffs struct{ capped }

func (d *tpDiffs) walk(a, b *jsonValue) {
	type work struct {
		path *jsonPath
		a, b *jsonValue
		note string // set: report path + note instead of comparing
	}
	stack := []work{{path: &jsonPath{}, a: a, b: b}}
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		at := func() string { return w.path.text("") }
		if w.note != "" {
			d.add(func() string { return at() + ": " + w.note })
			continue
		}
		var items []work
		switch {
		case w.a.kind == jObject && w.b.kind == jObject:
			for i, k := range w.a.keys {
				if bv := w.b.member(k); bv != nil {
					items = append(items, work{path: w.path.member(k), a: w.a.kids[i], b: bv})
				} else {
					items = append(items, work{path: w.path.member(k), note: "Missing in request JSON"})
				}
			}
			for _, k := range w.b.keys {
				if w.a.member(k) == nil {
					items = append(items, work{path: w.path.member(k), note: "Missing in record JSON"})
				}
			}
		case w.a.kind == jArray && w.b.kind == jArray:
			for i := 0; i < max(len(w.a.kids), len(w.b.kids)); i++ {
				switch {
				case i >= len(w.b.kids):
					items = append(items, work{path: w.path.element(i), note: "Extra element in request JSON"})
				case i >= len(w.a.kids):
					items = append(items, work{path: w.path.element(i), note: "Extra element in record JSON"})
				default:
					items = append(items, work{path: w.path.element(i), a: w.a.kids[i], b: w.b.kids[i]})
				}
			}
		case w.a.kind != w.b.kind:
			d.add(func() string { return at() + ": Request and record have different types." })
		case w.a.text != w.b.text:
			d.add(func() string { return fmt.Sprintf("%s: %s != %s", at(), jsonText(w.a), jsonText(w.b)) })
		}
		for i := len(items) - 1; i >= 0; i-- {
			stack = append(stack, items[i])
		}
	}
}
