package matcher

import (
	"fmt"
	"sort"
	"strings"

	"github.com/azvcr/azvcr/cassette"
)

// report is test-proxy's mismatch message: the closest remaining recording (fewest differences,
// the earliest on a tie), what differs from it, and every recording not yet used.
func (m RecordMatcher) report(r *cassette.Request, remaining []*cassette.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Unable to find a record for the request %s %s\n", r.Method, r.URL)
	if len(remaining) == 0 {
		b.WriteString("No records to match.\n")
		return b.String()
	}
	var best *cassette.Request
	bestScore := -1
	for _, rec := range remaining {
		if s := m.score(r, rec); best == nil || s < bestScore {
			best, bestScore = rec, s
		}
	}
	if !strings.EqualFold(r.Method, best.Method) {
		fmt.Fprintf(&b, "Method doesn't match, request <%s> record <%s>\n", r.Method, best.Method)
	}
	if !m.sameURI(r, best) {
		fmt.Fprintf(&b, "Uri doesn't match:\n    request <%s>\n    record  <%s>\n", r.URL, best.URL)
	}
	b.WriteString("Header differences:\n")
	for _, d := range m.headerDiffs(r, best) {
		b.WriteString("    " + d + "\n")
	}
	b.WriteString("Body differences:\n")
	for _, d := range m.bodyDiffs(r, best) {
		b.WriteString(d + "\n")
	}
	b.WriteString("Remaining Entries:\n")
	for i, rec := range remaining {
		fmt.Fprintf(&b, "%d: %s\n", i, rec.URL)
	}
	return b.String()
}

func (m RecordMatcher) sameURI(a, b *cassette.Request) bool {
	ua, errA := m.normalizeURI(a.URL)
	ub, errB := m.normalizeURI(b.URL)
	return errA == nil && errB == nil && ua == ub
}

func (m RecordMatcher) score(r, rec *cassette.Request) int {
	s := len(m.headerDiffs(r, rec))
	if !m.sameURI(r, rec) {
		s++
	}
	if !strings.EqualFold(r.Method, rec.Method) {
		s++
	}
	if len(m.bodyDiffs(r, rec)) > 0 {
		s++
	}
	return s
}

// headerDiffs names each header difference in test-proxy's words.
func (m RecordMatcher) headerDiffs(r, rec *cassette.Request) []string {
	if m.IgnoreHeaders {
		return nil
	}
	type hv struct {
		name string
		h    tpHeader
	}
	index := func(req *cassette.Request) map[string]hv {
		out := map[string]hv{}
		names := map[string]string{}
		for name := range req.Headers {
			names[strings.ToLower(name)] = name
		}
		for _, h := range m.headers(req) {
			out[h.name] = hv{names[h.name], h}
		}
		return out
	}
	a, b := index(r), index(rec)
	var diffs []string
	var names []string
	for k := range a {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		av := a[k]
		bv, ok := b[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("<%s> is absent in record, value <%s>", av.name, av.h.value))
		case !av.h.ignored && av.h.value != bv.h.value:
			diffs = append(diffs, fmt.Sprintf("<%s> values differ, request <%s>, record <%s>", av.name, av.h.value, bv.h.value))
		}
	}
	names = names[:0]
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		diffs = append(diffs, fmt.Sprintf("<%s> is absent in request, value <%s>", b[k].name, b[k].h.value))
	}
	return diffs
}

// bodyDiffs describes how the bodies differ, as test-proxy does: JSON paths for JSON requests,
// the first differing byte otherwise.
func (m RecordMatcher) bodyDiffs(r, rec *cassette.Request) []string {
	if !m.CompareBodies || m.body(r) == m.body(rec) {
		return nil
	}
	switch {
	case rec.Body == "":
		return []string{"Request has body but record doesn't"}
	case r.Body == "":
		return []string{"Record has body but request doesn't"}
	}
	if strings.Contains(strings.Join(headerValues(r, "Content-Type"), ","), "json") {
		av, aok := decodeJSON([]byte(r.Body))
		bv, bok := decodeJSON([]byte(rec.Body))
		switch {
		case !aok:
			return []string{fmt.Sprintf("Unable to parse the request json body. Content %q.", r.Body)}
		case !bok:
			return []string{fmt.Sprintf("Unable to parse the record json body. Content %q.", rec.Body)}
		}
		out := []string{"There are differences between request and recordentry bodies:"}
		tpJSONDiff("", av, bv, &out)
		return out
	}
	a, b := r.Body, rec.Body
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

// tpJSONDiff walks two JSON values as test-proxy's JsonComparer does, in its words ("Missing in
// request JSON" is said of a key the request has and the record lacks).
func tpJSONDiff(path string, a, b any, out *[]string) {
	switch at := a.(type) {
	case map[string]any:
		bt, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(at))
		for k := range at {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if bv, ok := bt[k]; ok {
				tpJSONDiff(path+"."+k, at[k], bv, out)
			} else {
				*out = append(*out, path+"."+k+": Missing in request JSON")
			}
		}
		var extra []string
		for k := range bt {
			if _, ok := at[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			*out = append(*out, path+"."+k+": Missing in record JSON")
		}
		return
	case []any:
		bt, ok := b.([]any)
		if !ok {
			break
		}
		for i := 0; i < max(len(at), len(bt)); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(bt):
				*out = append(*out, p+": Extra element in request JSON")
			case i >= len(at):
				*out = append(*out, p+": Extra element in record JSON")
			default:
				tpJSONDiff(p, at[i], bt[i], out)
			}
		}
		return
	}
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		*out = append(*out, path+": Request and record have different types.")
		return
	}
	if ja, jb := jsonText(a), jsonText(b); ja != jb {
		*out = append(*out, fmt.Sprintf("%s: %s != %s", path, ja, jb))
	}
}
