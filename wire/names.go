// Package wire is HTTP/1.1 as it is on the wire: header names spelled and ordered as the peer sent
// them, which Go's net/http forgets (it canonicalises names when it parses, and sorts them when it
// writes). It reads requests and responses with the names of their header lines, writes them back
// in a given spelling and order, serves connections with that (Serve), and sends requests upstream
// with it (Transport). The names travel beside an http.Header, never in it: the header map keeps
// canonical keys, so every Get and Set in Go code works as before.
package wire

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Field is one header line.
type Field struct {
	Name, Value string
}

// Fields lists h as header lines in the order and spelling names give: names are header names as
// on the wire, one per line (a name twice for a header sent twice). Each name takes the next
// value of its header from h; a name whose header has no value left is skipped, and values no
// name claims follow in the order Go writes headers (sorted by name), spelled as h's keys are.
// With names nil, that is all of h. Names that are not valid header names are dropped.
func Fields(h http.Header, names []string) []Field {
	var buf [24]queue // most heads: no allocation for the queues
	qs := queues(buf[:0], h)
	out := make([]Field, 0, len(names)+len(h))
	for _, n := range names {
		if !httpguts.ValidHeaderFieldName(n) {
			continue
		}
		i, found := slices.BinarySearchFunc(qs, n, compareCanonical)
		if !found || len(qs[i].vals) == 0 {
			continue
		}
		out = append(out, Field{n, qs[i].vals[0]})
		qs[i].vals = qs[i].vals[1:]
	}
	for _, q := range qs {
		if !httpguts.ValidHeaderFieldName(q.key) {
			continue
		}
		for _, v := range q.vals {
			out = append(out, Field{q.key, v})
		}
	}
	return out
}

// compareCanonical is strings.Compare(q.ck, http.CanonicalHeaderKey(name)) for a valid header
// name, without making the canonical name: names as sent are often all lower case.
func compareCanonical(q queue, name string) int {
	ck := q.ck
	for i := 0; i < len(ck) && i < len(name); i++ {
		c := name[i]
		if i == 0 || name[i-1] == '-' {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
		} else if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if ck[i] != c {
			if ck[i] < c {
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(len(ck), len(name))
}

// queue is the values of one header, by its canonical name, that no name has taken yet.
type queue struct {
	ck   string // canonical
	key  string // the key in the header
	vals []string
}

// queues appends h's headers to qs, sorted by canonical name; keys that differ only in case
// become one queue, their values in the order of the sorted keys, spelled as the first.
func queues(qs []queue, h http.Header) []queue {
	canonical := true
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		canonical = canonical && ck == k
		qs = append(qs, queue{ck, k, v})
	}
	slices.SortFunc(qs, func(a, b queue) int {
		if c := strings.Compare(a.ck, b.ck); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	if canonical { // no two keys share a canonical name
		return qs
	}
	out := qs[:0]
	for _, q := range qs {
		if last := len(out) - 1; last >= 0 && out[last].ck == q.ck {
			out[last].vals = append(slices.Clip(out[last].vals), q.vals...)
			continue
		}
		out = append(out, q)
	}
	return out
}

// Fit returns the names that describe h exactly: those of Fields(h, names). It is what a recording
// keeps, after hop-by-hop headers are dropped and redaction or shaping has edited the header.
func Fit(h http.Header, names []string) []string {
	fields := Fields(h, names)
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}

// Canonical returns h with canonical keys, values of keys that differ only in case joined in the
// order of the sorted keys. h itself is returned when its keys are canonical already.
func Canonical(h http.Header) http.Header {
	canon := true
	for k := range h {
		if http.CanonicalHeaderKey(k) != k {
			canon = false
			break
		}
	}
	if canon {
		return h
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(http.Header, len(h))
	for _, k := range keys {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], h[k]...)
	}
	return out
}

// SpelledNames lists h's keys that are not canonical, one per value, sorted: the spelling a
// recording kept in its header map, when it has no list of names.
func SpelledNames(h http.Header) []string {
	var keys []string
	for k := range h {
		if http.CanonicalHeaderKey(k) != k {
			keys = append(keys, k)
		}
	}
	if keys == nil {
		return nil
	}
	for k := range h {
		if http.CanonicalHeaderKey(k) == k {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := strings.Compare(http.CanonicalHeaderKey(a), http.CanonicalHeaderKey(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var out []string
	for _, k := range keys {
		for range h[k] {
			out = append(out, k)
		}
	}
	return out
}

// Exchange carries the header names of one request and its response between the layers that
// handle it: the way in sets Request (the client's names) and reads Response (the names to answer
// with); a transport reads Request (the names to send upstream) and sets Response (the upstream's).
// A nil *Exchange takes no names and gives none.
type Exchange struct {
	Request  []string
	Response []string
	head     *Head // the response's head written out, if made once (SetResponseHead)
}

type exchangeKey struct{}

// With returns ctx carrying x.
func With(ctx context.Context, x *Exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// exchangeCtx is With(ctx, &x) in one allocation with the Exchange.
type exchangeCtx struct {
	context.Context
	x Exchange
}

func (c *exchangeCtx) Value(key any) any {
	if key == (exchangeKey{}) {
		return &c.x
	}
	return c.Context.Value(key)
}

// From returns the Exchange ctx carries, or nil.
func From(ctx context.Context) *Exchange {
	x, _ := ctx.Value(exchangeKey{}).(*Exchange)
	return x
}

// RequestNames returns the request's names, or nil.
func (x *Exchange) RequestNames() []string {
	if x == nil {
		return nil
	}
	return x.Request
}

// ResponseNames returns the response's names, or nil.
func (x *Exchange) ResponseNames() []string {
	if x == nil {
		return nil
	}
	return x.Response
}

// SetResponse records the names of the response.
func (x *Exchange) SetResponse(names []string) {
	if x != nil {
		x.Response = names
	}
}
