package matcher

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/azvcr/azvcr/cassette"
)

// RecordMatcher compares requests the way the Azure SDK test-proxy's matcher does (its
// RecordMatcher, CustomDefaultMatcher, BodilessMatcher and HeaderlessMatcher): the method, the
// whole URI (query in its order unless told otherwise), every request header but the excluded
// ones (ignored ones for presence only), and the body, JSON structurally. Two requests it finds
// equal have equal keys, so an Index built with it serves, per key, the first unused recording in
// recorded order: test-proxy's first match.
type RecordMatcher struct {
	CompareBodies          bool
	IgnoreQueryOrdering    bool
	IgnoreHeaders          bool     // HeaderlessMatcher: no header is compared
	ExcludedHeaders        []string // not compared at all
	IgnoredHeaders         []string // compared for presence only
	IgnoredQueryParameters []string // compared for presence only
}

// Test-proxy's default header lists.
var (
	DefaultExcludedHeaders = []string{"Request-Id", "traceparent"}
	DefaultIgnoredHeaders  = []string{
		"Date", "x-ms-date", "x-ms-client-request-id", "x-ms-client-id", "User-Agent", "x-ms-useragent",
		"x-ms-version", "If-None-Match", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform",
		"Referrer", "Referer", "Origin", "Content-Length",
	}
)

// DefaultRecordMatcher is test-proxy's default: bodies compared, query order kept.
func DefaultRecordMatcher() RecordMatcher {
	return RecordMatcher{
		CompareBodies:   true,
		ExcludedHeaders: slices.Clone(DefaultExcludedHeaders),
		IgnoredHeaders:  slices.Clone(DefaultIgnoredHeaders),
	}
}

// WithRecordMatcher makes the index compare requests as test-proxy does instead of by azvcr's key.
func WithRecordMatcher(m RecordMatcher) Option {
	return func(x *Index) { x.rm = &m }
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(e string) bool { return strings.EqualFold(e, s) })
}

// tpRequest is a request reduced, once, to what the matcher compares: its key, and the parts a
// mismatch report names.
type tpRequest struct {
	r       *cassette.Request
	key     string
	uri     string              // normalized
	headers map[string]tpHeader // by lower-case name
	body    body                // the body as compared
	jsonish bool                // the Content-Type says JSON: bodies differ by JSON path
}

// request reads r for the matcher.
func (m RecordMatcher) request(r *cassette.Request) (*tpRequest, error) {
	uri, err := m.normalizeURI(r.URL)
	if err != nil {
		return nil, err
	}
	hs := m.headers(r)
	t := &tpRequest{r: r, uri: uri, headers: make(map[string]tpHeader, len(hs))}
	var b strings.Builder
	size := len(r.Method) + 1 + len(uri) + len("\nbody ") + 32
	for _, h := range hs {
		size += len(h.name) + len(h.value) + 3
	}
	b.Grow(size)
	b.WriteString(strings.ToUpper(r.Method))
	b.WriteString(" ")
	b.WriteString(uri)
	for _, h := range hs {
		t.headers[h.name] = h
		if !m.IgnoreHeaders {
			b.WriteString("\n")
			b.WriteString(h.name)
			if !h.ignored {
				b.WriteString(": ")
				b.WriteString(h.value)
			}
		}
	}
	ct := strings.Join(headerValues(r, "Content-Type"), ",")
	t.jsonish = strings.Contains(ct, "json")
	if m.CompareBodies {
		t.body = m.body(r, ct, t.jsonish)
		b.WriteString("\nbody ")
		b.WriteString(hex.EncodeToString(t.body.sum[:]))
	}
	t.key = b.String()
	return t, nil
}

// key is the request reduced to what the matcher compares.
func (m RecordMatcher) key(r *cassette.Request) (string, error) {
	t, err := m.request(r)
	if err != nil {
		return "", err
	}
	return t.key, nil
}

type tpHeader struct {
	name, value string
	sent        string // the name as the request spelled it
	ignored     bool
}

// headers lists the compared headers, names in lower case, sorted.
func (m RecordMatcher) headers(r *cassette.Request) []tpHeader {
	out := make([]tpHeader, 0, len(r.Headers))
	for name, vals := range r.Headers {
		if containsFold(m.ExcludedHeaders, name) {
			continue
		}
		h := tpHeader{name: strings.ToLower(name), sent: name, ignored: containsFold(m.IgnoredHeaders, name)}
		h.value = strings.Join(vals, ",")
		if h.name == "accept" || h.name == "content-type" {
			h.value = renormalize(vals)
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b tpHeader) int { return strings.Compare(a.name, b.name) })
	return out
}

var boundaryParam = regexp.MustCompile(`(?i);\s*boundary=("[^"]*"|[^;]*)`)

// renormalize spells Accept and Content-Type alike however the client spaced them; a multipart
// boundary is not compared.
func renormalize(vals []string) string {
	var parts []string
	for _, v := range vals {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "multipart/") {
			v = boundaryParam.ReplaceAllString(v, "")
		}
		var commas []string
		for _, c := range strings.Split(v, ",") {
			var semis []string
			for _, s := range strings.Split(strings.TrimSpace(c), ";") {
				semis = append(semis, strings.TrimSpace(s))
			}
			commas = append(commas, strings.Join(semis, "; "))
		}
		parts = append(parts, strings.Join(commas, ", "))
	}
	return strings.Join(parts, ", ")
}

// normalizeURI is scheme and host in lower case, the default port dropped, the path as sent, and
// the query rebuilt: parameters in order (sorted when asked), repeated names joined, ignored
// ones with a constant value.
func (m RecordMatcher) normalizeURI(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("request url %q: %w", raw, err)
	}
	var names []string
	values := map[string][]string{}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		seen := ""
		for _, n := range names {
			if strings.EqualFold(n, k) { // test-proxy's query collection ignores case
				seen = n
			}
		}
		if seen == "" {
			names = append(names, k)
			seen = k
		}
		values[seen] = append(values[seen], v)
	}
	if m.IgnoreQueryOrdering {
		sort.Strings(names)
	}
	var q []string
	for _, n := range names {
		v := strings.Join(values[n], ",")
		if containsFold(m.IgnoredQueryParameters, n) {
			v = "Volatile"
		}
		q = append(q, url.QueryEscape(n)+"="+url.QueryEscape(v))
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	out := canonicalHost(u) + path
	if len(q) > 0 {
		out += "?" + strings.Join(q, "&")
	}
	return out, nil
}

// body is the request body as compared: JSON structurally when the request says it is JSON,
// multipart without its boundary, anything else byte for byte.
func (m RecordMatcher) body(r *cassette.Request, ct string, jsonish bool) body {
	b := body{raw: r.Body, present: r.Body != ""}
	switch {
	case r.Body == "":
		b.sum = digest('r', "")
		return b
	case jsonish:
		if sum, ok := jsonDigest(r.Body); ok {
			b.sum = sum
			return b
		}
	case strings.HasPrefix(strings.ToLower(ct), "multipart/"):
		if mb := boundaryParam.FindStringSubmatch(ct); mb != nil && strings.Trim(mb[1], `"`) != "" {
			b.sum = digest('r', strings.ReplaceAll(r.Body, strings.Trim(mb[1], `"`), "BOUNDARY"))
			return b
		}
	}
	b.sum = digest('r', r.Body)
	return b
}
