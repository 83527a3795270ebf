package matcher

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/azvcr/azvcr/cassette"
)

// Miss explains why a live request has no recorded answer.
type Miss struct {
	Method      string   `json:"method"`
	URL         string   `json:"url"`
	Reason      string   `json:"reason"`
	Closest     *Closest `json:"closest,omitempty"`
	Differences []string `json:"differences,omitempty"`
	Detail      string   `json:"detail,omitempty"` // test-proxy's full mismatch report (RecordMatcher)
}

// Closest names the recorded interaction most like the missed request.
type Closest struct {
	ID     int    `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"`
}

// String is the one-line form used in logs and headers.
func (m *Miss) String() string {
	s := fmt.Sprintf("%s %s: %s", m.Method, m.URL, m.Reason)
	if m.Closest != nil {
		s += fmt.Sprintf("; closest recorded #%d %s %s", m.Closest.ID, m.Closest.Method, m.Closest.URL)
	}
	if len(m.Differences) > 0 {
		s += "; differs in " + strings.Join(m.Differences, "; ")
	}
	return s
}

// Weights rank how far a recording is from a request: a different method or resource matters more
// than a different header.
const (
	weightHost        = 1000
	weightMethod      = 400
	weightPathShape   = 300 // a different number of path segments: another kind of resource
	weightPathSegment = 100 // each differing segment: another resource of the same kind
	weightBody        = 20
	weightOther       = 10
)

// maxCandidates bounds the recordings a miss is compared with, whatever the cassette's size.
const maxCandidates = 256

// missCase is what explaining a miss needs from the index, taken under its lock; the
// explanation itself runs after the lock is released, so a miss never slows other requests.
type missCase struct {
	empty      bool
	usedUp     *entry // the first recording of the request's own key, when all were used
	usedCount  int
	candidates []candidate
	reason     string // a continuation token's story, when it has one
}

type candidate struct {
	e     *entry
	parts parts
	used  bool
}

// missCase gathers, under the lock, the recordings most like p: those of the same method, host
// and path first, then those in the same collection (the path but its last segment), of the
// same path shape, of the same host, then any, up to maxCandidates in all. k is the hash of p's key.
func (x *Index) missCase(p parts, k keyHash) missCase {
	c := missCase{empty: len(x.all) == 0}
	if c.empty {
		return c
	}
	if q := x.queues[k]; q.len() > 0 {
		c.usedUp, c.usedCount = q.at(0), q.len()
		return c
	}
	near := x.nearby()
	seen := map[*entry]bool{}
	add := func(group []*entry) {
		for _, e := range group {
			if len(c.candidates) == maxCandidates {
				return
			}
			if !seen[e] {
				seen[e] = true
				c.candidates = append(c.candidates, candidate{e, near.parts[e], e.used})
			}
		}
	}
	add(near.byRoute[routeOf(p)])
	add(near.byParent[parentOf(p)])
	add(near.byShape[shapeOf(p)])
	add(near.byHost[p.host])
	if len(c.candidates) == 0 {
		add(x.all)
	}
	c.reason = x.explainContinuation(p)
	return c
}

// explain names the closest candidate and what differs from it. Only the closest one's body is
// compared in detail; the live body was parsed once, when the request was keyed.
func (c missCase) explain(r *cassette.Request, p parts) *Miss {
	m := &Miss{Method: r.Method, URL: r.URL}
	switch {
	case c.empty:
		m.Reason = "the cassette has no recorded interactions"
		return m
	case c.usedUp != nil:
		it := c.usedUp.it
		m.Closest = &Closest{ID: it.ID, Method: it.Request.Method, URL: it.Request.URL}
		m.Reason = fmt.Sprintf("all %d recorded answers for this request were already used", c.usedCount)
		return m
	}
	var best candidate
	bestScore := -1
	for _, cand := range c.candidates {
		score := distance(p, cand.parts)
		if better := best.e == nil || score < bestScore || (score == bestScore && best.used && !cand.used); better {
			best, bestScore = cand, score
		}
	}
	m.Closest = &Closest{ID: best.e.it.ID, Method: best.e.it.Request.Method, URL: best.e.it.Request.URL}
	m.Reason = "no recorded interaction matches this request"
	m.Differences = differences(p, best.parts)
	if c.reason != "" {
		m.Reason = c.reason
	}
	return m
}

const continuationHeader = "X-Ms-Continuation"

// responseContinuation is the continuation token a recorded response issued, if any.
func responseContinuation(it *cassette.Interaction) string {
	for k, v := range it.Response.Headers {
		if strings.EqualFold(k, continuationHeader) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// explainContinuation names what is wrong with a paged request's continuation token: one no
// recorded response issued, or a page past the end of what was recorded.
func (x *Index) explainContinuation(p parts) string {
	tok := p.headers.get(continuationHeader)
	if tok == "" {
		return ""
	}
	near := x.nearby()
	issuer := near.issued[tok]
	if issuer == nil {
		return fmt.Sprintf("continuation token %s was not issued by any recorded response", shortToken(tok))
	}
	if near.carried[tok] {
		return "" // a recorded request carries this token; the differences say what else differs
	}
	pages := x.pageOf(issuer)
	return fmt.Sprintf("page %d of this query was requested, but the recorded chain has %d: recording #%d (page %d) issued this continuation token and page %d was never recorded",
		pages+1, pages, issuer.it.ID, pages, pages+1)
}

// pageOf counts the pages of the chain that ends with e, following continuation tokens back.
func (x *Index) pageOf(e *entry) int {
	n := 1
	near := x.nearby()
	for seen := 0; seen < len(x.all); seen++ {
		prev := near.issued[near.parts[e].headers.get(continuationHeader)]
		if prev == nil || prev == e {
			break
		}
		e = prev
		n++
	}
	return n
}

func shortToken(tok string) string {
	if len(tok) > 60 {
		return strconv.Quote(tok[:57] + "...")
	}
	return strconv.Quote(tok)
}

// distance scores how far recording b is from request a.
func distance(a, b parts) int {
	score := 0
	if a.method != b.method {
		score += weightMethod
	}
	if a.host != b.host {
		score += weightHost
	}
	if a.path != b.path {
		score += pathDistance(a.path, b.path)
	}
	score += weightOther * len(queryDiff(a.query, b.query))
	for i := range a.headers {
		if a.headers[i] != b.headers[i] {
			score += weightOther
		}
	}
	if a.body.present != b.body.present || a.body.sum != b.body.sum {
		score += weightBody
	}
	return score
}

// differences names each way recording b differs from request a.
func differences(a, b parts) []string {
	var diffs []string
	differ := func(what string, av, bv string) {
		diffs = append(diffs, fmt.Sprintf("%s: request %s, recorded %s", what, quoteOrAbsent(av), quoteOrAbsent(bv)))
	}
	if a.method != b.method {
		differ("method", a.method, b.method)
	}
	if a.host != b.host {
		differ("host", a.host, b.host)
	}
	if a.path != b.path {
		differ("path", a.path, b.path)
	}
	diffs = append(diffs, queryDiff(a.query, b.query)...)
	for i, h := range SignificantHeaders {
		if av, bv := a.headers[i], b.headers[i]; av != bv {
			differ("header "+h, av, bv)
		}
	}
	if a.body.present != b.body.present || a.body.sum != b.body.sum {
		if asql, bsql := a.sqlOf(), b.sqlOf(); asql != nil && bsql != nil {
			diffs = append(diffs, asql.diff(bsql)...)
		} else {
			diffs = append(diffs, bodyDiff(a.body, b.body)...)
		}
	}
	return diffs
}

// pathDistance grades two different paths: /dbs/db/colls/c/docs/x is nearer to .../docs/y than
// to /dbs/db.
func pathDistance(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	d := 0
	if len(as) != len(bs) {
		d += weightPathShape
	}
	for i := range min(len(as), len(bs)) {
		if as[i] != bs[i] {
			d += weightPathSegment
		}
	}
	return max(d, weightPathSegment)
}

func quoteOrAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return strconv.Quote(s)
}

// maxBodyDiffs keeps a miss message readable when whole documents differ.
const maxBodyDiffs = 5

// maxDiffBody bounds the bodies compared value by value; larger ones are compared by bytes.
const maxDiffBody = 4 << 20

// bodyDiff names the JSON paths where two bodies differ, or the first differing byte of bodies
// that are not both JSON (or too large to compare value by value). Each is parsed here, once.
func bodyDiff(a, b body) []string {
	ra, rb := a.raw, b.raw
	if !a.present || !b.present {
		return []string{fmt.Sprintf("body: request has %d bytes, recorded %d bytes", len(strings.TrimSpace(ra)), len(strings.TrimSpace(rb)))}
	}
	if av, bv, ok := parseBoth(ra, rb); ok {
		d := jsonDiffs{capped{max: maxBodyDiffs}}
		d.walk(av, bv)
		out := d.out
		if d.more > 0 {
			out = append(out, fmt.Sprintf("body: %d more differences", d.more))
		}
		return out
	}
	i := 0
	for i < len(ra) && i < len(rb) && ra[i] == rb[i] {
		i++
	}
	return []string{fmt.Sprintf("body: first difference at byte %d: request %s, recorded %s", i, excerpt(ra, i), excerpt(rb, i))}
}

// parseBoth parses two bodies for a value-by-value comparison, when both are JSON and neither
// is too large for it.
func parseBoth(a, b string) (*jsonValue, *jsonValue, bool) {
	if len(a) > maxDiffBody || len(b) > maxDiffBody {
		return nil, nil, false
	}
	av, ok := parseJSON(a)
	if !ok {
		return nil, nil, false
	}
	bv, ok := parseJSON(b)
	return av, bv, ok
}

func excerpt(s string, at int) string {
	end := min(len(s), at+40)
	return strconv.Quote(s[at:end])
}

// capped keeps the first max lines given and counts the rest; a line is only written when kept.
type capped struct {
	max  int
	out  []string
	more int
}

func (c *capped) add(line func() string) {
	if len(c.out) < c.max {
		c.out = append(c.out, line())
	} else {
		c.more++
	}
}

// jsonDiffs walks two JSON values side by side, iteratively, naming the first max differences
// and counting the rest.
type jsonDiffs struct{ capped }

func (d *jsonDiffs) walk(a, b *jsonValue) {
	type work struct {
		path *jsonPath
		a, b *jsonValue // one is nil when that side lacks the member
	}
	stack := []work{{path: &jsonPath{}, a: a, b: b}}
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		at := func() string { return w.path.text("$") }
		switch {
		case w.a == nil:
			d.add(func() string { return fmt.Sprintf("body %s: request absent, recorded %s", at(), jsonText(w.b)) })
		case w.b == nil:
			d.add(func() string { return fmt.Sprintf("body %s: request %s, recorded absent", at(), jsonText(w.a)) })
		case w.a.kind == jObject && w.b.kind == jObject:
			var items []work // the union of member names, in order
			ka, kb := w.a.keys, w.b.keys
			for i, j := 0, 0; i < len(ka) || j < len(kb); {
				switch {
				case j == len(kb) || i < len(ka) && ka[i] < kb[j]:
					items = append(items, work{w.path.member(ka[i]), w.a.kids[i], nil})
					i++
				case i == len(ka) || kb[j] < ka[i]:
					items = append(items, work{w.path.member(kb[j]), nil, w.b.kids[j]})
					j++
				default:
					items = append(items, work{w.path.member(ka[i]), w.a.kids[i], w.b.kids[j]})
					i++
					j++
				}
			}
			for i := len(items) - 1; i >= 0; i-- {
				stack = append(stack, items[i])
			}
		case w.a.kind == jArray && w.b.kind == jArray:
			na, nb := len(w.a.kids), len(w.b.kids)
			if na != nb {
				d.add(func() string { return fmt.Sprintf("body %s: request has %d elements, recorded %d", at(), na, nb) })
			}
			for i := min(na, nb) - 1; i >= 0; i-- {
				stack = append(stack, work{w.path.element(i), w.a.kids[i], w.b.kids[i]})
			}
		case !sameScalar(w.a, w.b):
			d.add(func() string {
				return fmt.Sprintf("body %s: request %s, recorded %s", at(), jsonText(w.a), jsonText(w.b))
			})
		}
	}
}

// sameScalar: equal kinds and text; composite values are walked, never compared whole.
func sameScalar(a, b *jsonValue) bool {
	return a.kind == b.kind && a.kind != jObject && a.kind != jArray && a.text == b.text
}
