package matcher

import (
	"fmt"
	"slices"
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

// explain runs only on a miss, so a scan over the recordings is affordable.
func (x *Index) explain(r *cassette.Request, p parts) *Miss {
	m := &Miss{Method: r.Method, URL: r.URL}
	if len(x.all) == 0 {
		m.Reason = "the cassette has no recorded interactions"
		return m
	}
	var best *entry
	bestScore := -1
	var bestDiffs []string
	for _, e := range x.all {
		score, diffs := compare(p, e.parts)
		better := best == nil || score < bestScore || (score == bestScore && best.used && !e.used)
		if better {
			best, bestScore, bestDiffs = e, score, diffs
		}
	}
	m.Closest = &Closest{ID: best.it.ID, Method: best.it.Request.Method, URL: best.it.Request.URL}
	if q := x.queues[p.key()]; bestScore == 0 && q != nil {
		m.Reason = fmt.Sprintf("all %d recorded answers for this request were already used", len(q.entries))
		return m
	}
	m.Reason = "no recorded interaction matches this request"
	m.Differences = bestDiffs
	if why := x.explainContinuation(p); why != "" {
		m.Reason = why
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
	tok := p.headers[continuationHeader]
	if tok == "" {
		return ""
	}
	issuer := x.issued[tok]
	if issuer == nil {
		return fmt.Sprintf("continuation token %s was not issued by any recorded response", shortToken(tok))
	}
	if x.carried[tok] {
		return "" // a recorded request carries this token; the differences say what else differs
	}
	pages := x.pageOf(issuer)
	return fmt.Sprintf("page %d of this query was requested, but the recorded chain has %d: recording #%d (page %d) issued this continuation token and page %d was never recorded",
		pages+1, pages, issuer.it.ID, pages, pages+1)
}

// pageOf counts the pages of the chain that ends with e, following continuation tokens back.
func (x *Index) pageOf(e *entry) int {
	n := 1
	for seen := 0; seen < len(x.all); seen++ {
		prev := x.issued[e.parts.headers[continuationHeader]]
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

// compare scores the distance from request a to recording b and names each difference.
func compare(a, b parts) (int, []string) {
	score := 0
	var diffs []string
	differ := func(w int, what string, av, bv string) {
		score += w
		diffs = append(diffs, fmt.Sprintf("%s: request %s, recorded %s", what, quoteOrAbsent(av), quoteOrAbsent(bv)))
	}
	if a.method != b.method {
		differ(weightMethod, "method", a.method, b.method)
	}
	if a.host != b.host {
		differ(weightHost, "host", a.host, b.host)
	}
	if a.path != b.path {
		differ(pathDistance(a.path, b.path), "path", a.path, b.path)
	}
	for _, d := range queryDiff(a.query, b.query) {
		score += weightOther
		diffs = append(diffs, d)
	}
	for _, h := range SignificantHeaders {
		if av, bv := a.headers[h], b.headers[h]; av != bv {
			differ(weightOther, "header "+h, av, bv)
		}
	}
	if a.body != b.body {
		score += weightBody
		if a.sql != nil && b.sql != nil {
			diffs = append(diffs, a.sql.diff(b.sql)...)
		} else {
			diffs = append(diffs, bodyDiff(a.body, b.body)...)
		}
	}
	return score, diffs
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

// bodyDiff names the JSON paths where two canonical bodies differ, or the first differing byte
// of non-JSON bodies.
func bodyDiff(a, b string) []string {
	av, aok := decodeJSON([]byte(a))
	bv, bok := decodeJSON([]byte(b))
	if aok && bok {
		var out []string
		jsonDiff("$", av, bv, &out)
		if len(out) > maxBodyDiffs {
			out = append(out[:maxBodyDiffs], fmt.Sprintf("body: %d more differences", len(out)-maxBodyDiffs))
		}
		return out
	}
	if a == "" || b == "" {
		return []string{fmt.Sprintf("body: request has %d bytes, recorded %d bytes", len(a), len(b))}
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return []string{fmt.Sprintf("body: first difference at byte %d: request %s, recorded %s", i, excerpt(a, i), excerpt(b, i))}
}

func excerpt(s string, at int) string {
	end := min(len(s), at+40)
	return strconv.Quote(s[at:end])
}

func jsonDiff(path string, a, b any, out *[]string) {
	switch at := a.(type) {
	case map[string]any:
		bt, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range at {
			keys[k] = true
		}
		for k := range bt {
			keys[k] = true
		}
		for _, k := range slices.Sorted(mapsKeys(keys)) {
			av, aok := at[k]
			bv, bok := bt[k]
			sub := path + "." + k
			switch {
			case !aok:
				*out = append(*out, fmt.Sprintf("body %s: request absent, recorded %s", sub, jsonText(bv)))
			case !bok:
				*out = append(*out, fmt.Sprintf("body %s: request %s, recorded absent", sub, jsonText(av)))
			default:
				jsonDiff(sub, av, bv, out)
			}
		}
		return
	case []any:
		bt, ok := b.([]any)
		if !ok {
			break
		}
		if len(at) != len(bt) {
			*out = append(*out, fmt.Sprintf("body %s: request has %d elements, recorded %d", path, len(at), len(bt)))
		}
		for i := 0; i < min(len(at), len(bt)); i++ {
			jsonDiff(fmt.Sprintf("%s[%d]", path, i), at[i], bt[i], out)
		}
		return
	}
	if ja, jb := jsonText(a), jsonText(b); ja != jb {
		*out = append(*out, fmt.Sprintf("body %s: request %s, recorded %s", path, ja, jb))
	}
}

func jsonText(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	s := b.String()
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
