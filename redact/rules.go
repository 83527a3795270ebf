package redact

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/jsonlex"
)

// Where a regexRule looks.
const (
	inURL = 1 << iota
	inHeaders
	inBodies
	everywhere = inURL | inHeaders | inBodies
)

// regexRule replaces matches of a regular expression in URLs, header values and bodies.
type regexRule struct {
	name    string
	re      *regexp.Regexp
	replace string
	where   int
}

func (g regexRule) Name() string { return g.name }
func (g regexRule) RedactRequest(r *cassette.Request) {
	if g.where&inURL != 0 {
		r.URL = g.re.ReplaceAllString(r.URL, g.replace)
		r.Host = g.re.ReplaceAllString(r.Host, g.replace)
	}
	g.headers(r.Headers)
	if g.where&inBodies != 0 {
		r.Body = g.re.ReplaceAllString(r.Body, g.replace)
	}
}

func (g regexRule) RedactResponse(r *cassette.Response) {
	g.headers(r.Headers)
	if g.where&inBodies != 0 {
		r.Body = g.re.ReplaceAllString(r.Body, g.replace)
	}
}

func (g regexRule) headers(h map[string][]string) {
	if g.where&inHeaders != 0 {
		replaceHeaders(h, g.re, g.replace)
	}
}

// azureIDRule replaces subscription and tenant ids with the zero GUID everywhere: URLs, headers
// (Location, Azure-AsyncOperation) and bodies. It learns the ids where they are unambiguous —
// /subscriptions/{id}, /tenants/{id}, the tenant segment of Entra ID URLs, subscriptionId and
// tenantId fields — and then replaces them wherever they appear, so the same id is the same
// placeholder in every interaction of the session.
type azureIDRule struct {
	mu   sync.Mutex
	ids  map[string]bool               // lower case
	re   atomic.Pointer[regexp.Regexp] // alternation of the learned ids, case-insensitive
	seen map[string]struct{}           // hinted texts learned from already: they teach nothing new
}

// maxSeen bounds azureIDRule.seen (it starts again when full), maxSeenText the texts it holds.
const (
	maxSeen     = 256
	maxSeenText = 4 << 10
)

var (
	guid = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	// learnIDHints: a text holds one of these, in any case, or no id to learn. learnable counts
	// on none holding "%" or "+" or starting with a hex digit (TestLearnIDHintsDecode).
	learnIDHints = newFoldSet("subscriptions/", "tenants/", "login.microsoftonline.com", "subscriptionid", "tenantid", `"tid"`)
	learnIDRes   = []*regexp.Regexp{
		regexp.MustCompile(`(?i)/subscriptions/(` + guid + `)`),
		regexp.MustCompile(`(?i)/tenants/(` + guid + `)`),
		regexp.MustCompile(`(?i)login\.microsoftonline\.com(?::\d+)?(?:/|%2F)(` + guid + `)`), // also URL-encoded, as in MSAL's instance discovery
		regexp.MustCompile(`(?i)"(?:subscriptionId|tenantId|homeTenantId|tid)"\s*:\s*"(` + guid + `)"`),
	}
)

func newAzureIDRule() *azureIDRule { return &azureIDRule{ids: map[string]bool{}} }

func (*azureIDRule) Name() string { return "azure-ids" }

func (a *azureIDRule) RedactRequest(r *cassette.Request)   { a.redact(r.Headers, &r.URL, &r.Body) }
func (a *azureIDRule) RedactResponse(r *cassette.Response) { a.redact(r.Headers, &r.Body) }

// redact learns ids from the texts and header values, then replaces every id learned so far.
func (a *azureIDRule) redact(h map[string][]string, texts ...*string) {
	var k headerKeys
	if k.load(h) {
		a.redactKeys(&k, texts...)
		return
	}
	a.redactValues(slices.Collect(maps.Values(h)), texts...) // a header too large to list
}

// redactKeys is redact with the header's keys and values listed.
func (a *azureIDRule) redactKeys(h *headerKeys, texts ...*string) {
	a.redactValues(h.values(), texts...)
}

// redactValues is redact over a header's values.
func (a *azureIDRule) redactValues(values [][]string, texts ...*string) {
	for _, t := range texts {
		a.learn(*t)
	}
	for _, vals := range values {
		a.learn(vals...)
	}
	re := a.current()
	if re == nil {
		return
	}
	for _, t := range texts {
		*t = replaceIDs(re, *t)
	}
	for _, vals := range values {
		replaceIDsIn(re, vals)
	}
}

// learn learns the ids in texts. Most texts hold no hint: they are passed over without the lock.
func (a *azureIDRule) learn(texts ...string) {
	for i, t := range texts {
		if learnIDHints.in(t) {
			a.learnHinted(texts[i:])
			return
		}
	}
}

func (a *azureIDRule) learnHinted(texts []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	grew := false
	for _, t := range texts {
		if !learnIDHints.in(t) {
			continue
		}
		if _, ok := a.seen[t]; ok {
			continue // ids only grow: what t taught is known
		}
		for _, re := range learnIDRes {
			for _, m := range re.FindAllStringSubmatch(t, -1) {
				if id := strings.ToLower(m[1]); id != ZeroGUID && !a.ids[id] {
					a.ids[id] = true
					grew = true
				}
			}
		}
		if len(t) <= maxSeenText {
			if a.seen == nil || len(a.seen) >= maxSeen {
				a.seen = make(map[string]struct{})
			}
			a.seen[t] = struct{}{}
		}
	}
	if grew {
		var alts []string
		for id := range a.ids {
			alts = append(alts, regexp.QuoteMeta(id))
		}
		a.re.Store(regexp.MustCompile(`(?i)` + strings.Join(alts, "|")))
	}
}

func (a *azureIDRule) current() *regexp.Regexp { return a.re.Load() }

// replaceIDs replaces the learned ids (re) in t. Every id is a GUID, matched in any case, and
// hex digits and "-" fold to nothing else: a text with no GUID-shaped run holds none.
func replaceIDs(re *regexp.Regexp, t string) string {
	if !hasGUIDShape(t) {
		return t
	}
	return re.ReplaceAllString(t, ZeroGUID)
}

func replaceIDsIn(re *regexp.Regexp, vals []string) {
	for i, v := range vals {
		vals[i] = replaceIDs(re, v)
	}
}

// hasGUIDShape reports whether s holds 8-4-4-4-12 hex digits.
func hasGUIDShape(s string) bool {
	if len(s) < 36 {
		return false
	}
	for from := 8; ; {
		d := strings.IndexByte(s[from:], '-')
		if d < 0 {
			return false
		}
		d += from
		if d+28 > len(s) {
			return false
		}
		if isGUIDAt(s, d-8) {
			return true
		}
		from = d + 1
	}
}

// isGUIDAt: s[i:i+36] is a GUID.
func isGUIDAt(s string, i int) bool {
	for j := 0; j < 36; j++ {
		c := s[i+j]
		switch j {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !jsonlex.IsHex(c) {
				return false
			}
		}
	}
	return true
}

func replaceHeaders(h map[string][]string, re *regexp.Regexp, with string) {
	for _, vals := range h {
		for i, v := range vals {
			vals[i] = re.ReplaceAllString(v, with)
		}
	}
}

// datesRule fixes date headers, and the timestamp and id inside ARM's x-ms-routing-request-id
// ("WESTUS2:20261122T181000Z:<guid>").
type datesRule struct{}

var (
	dateHeaders = []string{"X-Ms-Date", "Date", "X-Ms-Last-State-Change-Utc"}
	routingIDRe = regexp.MustCompile(`^([^:]*):\d{8}T\d{6}Z:` + guid + `$`)
)

func (datesRule) Name() string                        { return "dates" }
func (datesRule) RedactRequest(r *cassette.Request)   { fixDates(r.Headers) }
func (datesRule) RedactResponse(r *cassette.Response) { fixDates(r.Headers) }

// fixDatesKeys is fixDates with the header's keys and values listed.
func fixDatesKeys(h *headerKeys) {
	for j, key := range h.keys[:h.n] {
		fixDate(key, h.vals[j])
	}
}

func fixDates(h map[string][]string) {
	for key, vals := range h {
		fixDate(key, vals)
	}
}

// dateRule fixes the date headers' values.
var dateRule = HeaderRule{Headers: dateHeaders, Value: FixedDate}

// fixDate fixes the values of the header called key: a date, or the time in a routing id.
func fixDate(key string, vals []string) {
	dateRule.edit(key, vals)
	if strings.EqualFold(key, "X-Ms-Routing-Request-Id") {
		for i, v := range vals {
			vals[i] = routingIDRe.ReplaceAllString(v, "${1}:20000101T000000Z:"+ZeroGUID)
		}
	}
}

// requestIDHeaders change on every request and are normalised.
var requestIDHeaders = []string{
	"X-Ms-Activity-Id", "X-Ms-Request-Id", "X-Ms-Correlation-Request-Id", "X-Ms-Client-Request-Id",
	"X-Ms-Cosmos-Correlated-Activityid", "Client-Request-Id", "Request-Id", "X-Ms-Arm-Service-Request-Id",
	"X-Msedge-Ref",
}

// durationRule drops recorded timings: they differ on every run and replay never waits on them.
type durationRule struct{}

func (durationRule) Name() string                        { return "durations" }
func (durationRule) RedactRequest(*cassette.Request)     {}
func (durationRule) RedactResponse(r *cassette.Response) { r.Duration = "0s" }

// foldSet is a set of lower-case ASCII texts, each two bytes or longer, looked for in any case.
type foldSet struct {
	subs   []string
	first  [256]bool // the bytes a text of the set starts with, in either case
	second [256]bool // the bytes that follow one of them in a text of the set, in either case
}

func newFoldSet(subs ...string) *foldSet {
	f := &foldSet{subs: subs}
	for _, sub := range subs {
		if len(sub) < 2 {
			panic("foldSet: a text shorter than two bytes")
		}
		for j, set := range []*[256]bool{&f.first, &f.second} {
			c := sub[j]
			set[c] = true
			if c >= 'a' && c <= 'z' {
				set[c-'a'+'A'] = true
			}
		}
	}
	return f
}

// in reports whether s holds one of the set's texts, in any case.
func (f *foldSet) in(s string) bool { return foldIn(f, s) }

func foldIn[T string | []byte](f *foldSet, s T) bool {
	for i := 0; i+1 < len(s); i++ {
		if !f.first[s[i]] || !f.second[s[i+1]] {
			continue
		}
		for _, sub := range f.subs {
			if len(s)-i >= len(sub) && hasPrefixFold(s[i:], sub) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix, in any case.
func hasPrefixFold[T string | []byte](s T, prefix string) bool {
	for j := 0; j < len(prefix); j++ {
		if lowerByte(s[j]) != prefix[j] {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func looksJSON(body string) bool {
	t := strings.TrimLeft(body, " \t\r\n")
	return t != "" && (t[0] == '{' || t[0] == '[')
}
