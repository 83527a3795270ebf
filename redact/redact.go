// Package redact decides what reaches disk: redaction rules (Rule, Redactor), the default rules,
// the .azvcr.yaml config file with user rules, and the rules test-proxy sanitizers become. The same
// rules run on live requests in replay, so redacted recordings still match them.
package redact

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/azvcr/azvcr/cassette"
)

// Redacted replaces secret values on disk.
const Redacted = "REDACTED"

// FixedDate replaces every recorded date so re-recordings do not churn the file.
const FixedDate = "Sat, 01 Jan 2000 00:00:00 GMT"

// ZeroGUID replaces subscription and tenant ids and per-request ids.
const ZeroGUID = "00000000-0000-0000-0000-000000000000"

// Rule is one redaction: it edits a request or response in place before it is written, and the
// same rule runs on live requests in replay so that redacted recordings still match them. A rule
// may learn from what it sees (azure-ids learns subscription and tenant ids), so a Redactor is made
// per session.
type Rule interface {
	Name() string
	RedactRequest(*cassette.Request)
	RedactResponse(*cassette.Response)
}

// Redactor applies rules in order. A KeepHeaders rule in it protects the named headers from every
// other rule.
type Redactor []Rule

// DefaultRuleNames lists the default rules in the order they run.
var DefaultRuleNames = []string{
	"authorization", "arm-keys", "connection-strings", "permission-tokens", "entra-secrets",
	"entra-tokens", "secret-names", "secret-shapes", "cookies", "operation-identifier", "azure-ids",
	"dates", "request-ids", "durations",
}

// nameRules are the default rules that go by names, their lists indexed once.
var nameRules = [...]nameRule{
	{name: "arm-keys", fields: listOf(armKeyFields...)},
	{name: "connection-strings", params: listOf(connectionStringParams...)},
	{name: "permission-tokens", fields: listOf("_token")},
	{name: "entra-secrets", params: listOf(entraSecretParams...), fields: listOf(entraSecretFields...)},
	{name: "entra-tokens", params: listOf(entraTokenNames...), fields: listOf(entraTokenNames...)},
	{name: "secret-names", headers: listOf(secretHeaders...), params: listOf(secretParams...), fields: listOf(secretFields...), words: true},
}

func init() {
	for i := range nameRules {
		nameRules[i] = nameRules[i].withIdle()
	}
}

// DefaultRules are on unless turned off by name (Without). The rules up to secret-shapes work
// on decoded values (see value); no rule touches Cosmos DB's own fields (id, partitionKey, _rid,
// _self, _etag, _ts) or document content that does not look like a secret.
func DefaultRules() Redactor {
	return Redactor{
		authorizationRule{},
		&nameRules[0], &nameRules[1], &nameRules[2], &nameRules[3], &nameRules[4], &nameRules[5],
		shapeRule{},
		HeaderRule{RuleName: "cookies", Headers: []string{"Cookie", "Set-Cookie"}, Value: Redacted},
		HeaderRule{RuleName: "operation-identifier", Headers: []string{"X-Ms-Operation-Identifier"}, Value: Redacted},
		newAzureIDRule(),
		datesRule{},
		HeaderRule{RuleName: "request-ids", Headers: requestIDHeaders, Value: ZeroGUID},
		durationRule{},
	}
}

// Without returns the rules minus those named; an unknown name is an error.
func (r Redactor) Without(names ...string) (Redactor, error) {
	for _, n := range names {
		if !slices.ContainsFunc(r, func(rule Rule) bool { return rule.Name() == n }) {
			return nil, fmt.Errorf("no redaction rule named %q (rules: %s)", n, strings.Join(r.Names(), ", "))
		}
	}
	var out Redactor
	for _, rule := range r {
		if !slices.Contains(names, rule.Name()) {
			out = append(out, rule)
		}
	}
	return out, nil
}

// Names lists the rules' names in order.
func (r Redactor) Names() []string {
	var out []string
	for _, rule := range r {
		out = append(out, rule.Name())
	}
	return out
}

// Request redacts a request.
func (r Redactor) Request(req *cassette.Request) {
	restore := r.keep(req.Headers)
	before := len(req.Body)
	r.apply(&req.Headers, []*string{&req.URL, &req.Body}, func(rule Rule) { rule.RedactRequest(req) }, func(w *walker) { w.request(req) })
	restore()
	fixLength(req.Headers, &req.ContentLength, before, len(req.Body))
}

// Response redacts a response.
func (r Redactor) Response(resp *cassette.Response) {
	restore := r.keep(resp.Headers)
	before := len(resp.Body)
	r.apply(&resp.Headers, []*string{&resp.Body}, func(rule Rule) { rule.RedactResponse(resp) }, func(w *walker) { w.response(resp) })
	restore()
	fixLength(resp.Headers, &resp.ContentLength, before, len(resp.Body))
}

// walkers are apply's: a walker is large (its buffers), and most messages are small.
var walkers = sync.Pool{New: func() any { return new(walker) }}

// apply runs the rules in order; value rules in a row share one walk over the message. The
// header rules, dates and azure-ids, which edit the header's values (*h: a rule may replace it)
// but never add or remove one, share one listing of its keys, made when they first need it and
// dropped when any other rule runs. texts are what azure-ids redacts besides the header.
func (r Redactor) apply(h *http.Header, texts []*string, one func(Rule), walk func(*walker)) {
	w := walkers.Get().(*walker) // one for every run of value rules: its values are reused
	defer func() {
		w.forget()
		walkers.Put(w)
	}()
	var keys headerKeys
	w.rules = w.ruleBuf[:0]
	for i := 0; i < len(r); {
		w.rules = w.rules[:0]
		for ; i < len(r); i++ {
			vr, ok := r[i].(valueRule)
			if !ok {
				break
			}
			w.rules = append(w.rules, vr)
		}
		w.quick.made = false // these rules' quick tests are made on the first value
		if len(w.rules) > 0 {
			walk(w) // edits values only: keys stay true
			continue
		}
		switch rule := r[i].(type) {
		case HeaderRule:
			if keys.load(*h) {
				rule.applyKeys(&keys)
			} else {
				one(r[i])
			}
		case datesRule:
			if keys.load(*h) {
				fixDatesKeys(&keys)
			} else {
				one(r[i])
			}
		case *azureIDRule:
			if keys.load(*h) {
				rule.redactKeys(&keys, texts...)
			} else {
				one(r[i])
			}
		default:
			one(r[i])
			keys.listed = false // the rule may have added or removed headers
		}
		i++
	}
}

// headerKeys lists a small header's keys and values (the values are the header's own slices,
// so editing their items edits the header).
type headerKeys struct {
	listed bool // keys and vals are h's, and still true
	n      int
	keys   [16]string
	vals   [16][]string
}

// load lists h's keys unless they are listed already, and reports whether they are (false when
// h is too large to list).
func (k *headerKeys) load(h http.Header) bool {
	if k.listed {
		return true
	}
	if len(h) > len(k.keys) {
		return false
	}
	k.n, k.listed = 0, true
	for key, vals := range h {
		k.keys[k.n], k.vals[k.n] = key, vals
		k.n++
	}
	return true
}

// values are the listed headers' values.
func (k *headerKeys) values() [][]string { return k.vals[:k.n] }

// fixLength keeps recorded lengths true to a body that redaction shortened or lengthened (a stale
// length would also tell how long the secret was).
func fixLength(h http.Header, field *int64, before, after int) {
	if before == after {
		return
	}
	if *field == int64(before) {
		*field = int64(after)
	}
	for k, vals := range h {
		if strings.EqualFold(k, "Content-Length") {
			for i := range vals {
				vals[i] = strconv.Itoa(after)
			}
		}
	}
}

// Interaction redacts both halves, request first: rules learn from the request what to look for
// in the response.
func (r Redactor) Interaction(it *cassette.Interaction) {
	active := r.forRequest(&it.Request)
	active.Request(&it.Request)
	active.Response(&it.Response)
}

// conditional rules apply only to some exchanges, decided by the request as it arrived.
type conditional interface{ appliesTo(*cassette.Request) bool }

func (r Redactor) forRequest(req *cassette.Request) Redactor {
	out := make(Redactor, 0, len(r))
	for _, rule := range r {
		if c, ok := rule.(conditional); !ok || c.appliesTo(req) {
			out = append(out, rule)
		}
	}
	return out
}

// keep saves the values of headers that KeepHeaders rules protect and returns a func restoring them.
func (r Redactor) keep(h http.Header) func() {
	var saved http.Header // made when a kept header is there: most messages keep none
	for _, rule := range r {
		if k, ok := rule.(KeepHeaders); ok {
			for _, name := range k.Headers {
				if vals := headerGet(h, name); vals != nil {
					if saved == nil {
						saved = http.Header{}
					}
					saved[http.CanonicalHeaderKey(name)] = slices.Clone(vals)
				}
			}
		}
	}
	if saved == nil {
		return func() {}
	}
	return func() {
		for name, vals := range saved {
			headerDel(h, name)
			h[name] = vals
		}
	}
}

// KeepHeaders protects the named headers' values from every rule.
type KeepHeaders struct{ Headers []string }

func (KeepHeaders) Name() string                      { return "keep-headers" }
func (KeepHeaders) RedactRequest(*cassette.Request)   {}
func (KeepHeaders) RedactResponse(*cassette.Response) {}

// HeaderRule replaces every value of the named headers, in requests and responses.
type HeaderRule struct {
	RuleName string
	Headers  []string
	Value    string
}

func (h HeaderRule) Name() string                        { return h.RuleName }
func (h HeaderRule) RedactRequest(r *cassette.Request)   { h.apply(r.Headers) }
func (h HeaderRule) RedactResponse(r *cassette.Response) { h.apply(r.Headers) }

// apply walks the header once: every named header's values become the one Value, so the names'
// order does not matter.
func (h HeaderRule) apply(hdr http.Header) {
	for key, vals := range hdr {
		h.edit(key, vals)
	}
}

// applyKeys is apply with the header's keys and values listed.
func (h HeaderRule) applyKeys(k *headerKeys) {
	for j, key := range k.keys[:k.n] {
		h.edit(key, k.vals[j])
	}
}

// edit makes the values of the header called key the one Value, when the rule names it.
func (h HeaderRule) edit(key string, vals []string) {
	for _, name := range h.Headers {
		if strings.EqualFold(key, name) {
			for i := range vals {
				vals[i] = h.Value
			}
			return
		}
	}
}

// headerGet finds a header whatever the case of its name in the map (files may hold any case).
func headerGet(h http.Header, name string) []string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func headerDel(h http.Header, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}

// RecordedRequests returns copies of the interactions whose requests have gone through the
// rules, as live requests do before matching. A recording made by another tool (Microsoft's
// test-proxy, go-vcr) holds what its own sanitizers left; indexed through this it matches live
// requests that these rules redact. Responses are shared, not copied.
func (r Redactor) RecordedRequests(its []*cassette.Interaction) []*cassette.Interaction {
	out := make([]*cassette.Interaction, len(its))
	for i, it := range its {
		cp := *it
		cp.Request.Headers = it.Request.Headers.Clone()
		if it.Request.Form != nil {
			cp.Request.Form = make(map[string][]string, len(it.Request.Form))
			for k, v := range it.Request.Form {
				cp.Request.Form[k] = slices.Clone(v)
			}
		}
		r.Request(&cp.Request)
		out[i] = &cp
	}
	return out
}
