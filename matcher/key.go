// Package matcher decides which recorded interaction answers a live request: the match key,
// first-in-first-out sequencing per key, and the diagnostics that explain a miss.
package matcher

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/azvcr/azvcr/cassette"
)

// SignificantHeaders decide the answer to a Cosmos DB or ARM request, so they are part of the key.
// Every other header (Authorization, dates, activity and request ids, user agents, transport
// headers) is volatile and ignored.
var SignificantHeaders = []string{
	"X-Ms-Documentdb-Partitionkey",
	"X-Ms-Continuation",
	"If-None-Match",
	"A-Im",
	"X-Ms-Documentdb-Partitionkeyrangeid",
	"X-Ms-Cosmos-Is-Query-Plan-Request",
	"X-Ms-Documentdb-Isquery",
	"X-Ms-Documentdb-Query",
	"X-Ms-Max-Item-Count",
	"Prefer",
	"X-Ms-Offer-Throughput",
	"X-Ms-Cosmos-Offer-Autopilot-Settings",
	"X-Ms-Consistency-Level",
}

// significant is each significant header's place in SignificantHeaders, plus one (0: none).
var significant = map[string]int{}

// numSignificant is len(SignificantHeaders): a request's values of them are an array.
const numSignificant = 13

func init() {
	if len(SignificantHeaders) != numSignificant {
		panic("matcher: numSignificant is not len(SignificantHeaders)")
	}
	for i, h := range SignificantHeaders {
		if h != http.CanonicalHeaderKey(h) {
			panic("matcher: significant header " + h + " is not spelt canonically")
		}
		significant[h] = i + 1
	}
}

// sigHeaders are a request's values of the significant headers, by their place in
// SignificantHeaders; "" for none (an empty value is the same as no header).
type sigHeaders [numSignificant]string

// get is the value of the significant header called name (canonical), "" for none.
func (s sigHeaders) get(name string) string {
	if i := significant[name]; i > 0 {
		return s[i-1]
	}
	return ""
}

// parts is a request reduced to what identifies it.
type parts struct {
	method  string
	host    string // scheme://host[:port], lower case, default port dropped
	path    string
	query   url.Values
	body    body
	sql     *cosmosQuery // set for Cosmos SQL query bodies
	headers sigHeaders
}

// body is a request body as matching compares it: by a digest of its canonical form (JSON by
// value, a Cosmos query by meaning, anything else byte for byte). The body itself is kept as
// sent or recorded; a miss parses the bodies it compares in detail.
type body struct {
	present bool     // not empty (a body of whitespace is none)
	sum     [16]byte // of the canonical form
	raw     string
	// query says a Cosmos query was read from raw and let go (a recording keeps only its
	// digest): a miss that compares it reads it again (sqlOf).
	query bool
}

// sqlOf is the Cosmos query p's body holds, read again when it was let go.
func (p parts) sqlOf() *cosmosQuery {
	if p.sql == nil && p.body.query {
		_, sql := readBody(p.body.raw, true)
		return sql
	}
	return p.sql
}

func split(r *cassette.Request) (parts, error) {
	return splitWith(r, readBody, nil)
}

// splitWith is split reading the body with read.
func splitWith(r *cassette.Request, read func(string, bool) (body, *cosmosQuery), memo urlMemo) (parts, error) {
	p, err := head(r, memo)
	if err == nil {
		p.body, p.sql = read(r.Body, isQueryBody(r))
	}
	return p, err
}

// urlMemo keeps what URLs were read as, for one indexing worker: a resource is often
// recorded many times (polls, pages, writes to one collection). Entries share the query map
// (never changed once read).
type urlMemo map[string]urlParts

type urlParts struct {
	host, path string
	query      url.Values
}

const urlMemoMax = 4096 // URLs kept; the memo starts again when full

// head is a request's parts but its body. memo, when not nil, keeps what URLs were read as.
func head(r *cassette.Request, memo urlMemo) (parts, error) {
	up, ok := memo[r.URL]
	if !ok {
		var err error
		if up, err = readURL(r.URL); err != nil {
			return parts{}, err
		}
		if memo != nil {
			if len(memo) >= urlMemoMax {
				clear(memo)
			}
			memo[r.URL] = up
		}
	}
	p := parts{
		method: strings.ToUpper(r.Method),
		host:   up.host,
		path:   up.path,
		query:  up.query,
	}
	for name, vals := range r.Headers {
		// Recorded files may spell names in any case. An empty value is the same as no header:
		// SDKs send either for "none".
		if i := significant[http.CanonicalHeaderKey(name)]; i > 0 {
			if v := strings.Join(vals, ","); v != "" {
				p.headers[i-1] = v
			}
		}
	}
	return p, nil
}

// maxQueryBody bounds the query bodies read as Cosmos SQL; a query is a few hundred bytes.
const maxQueryBody = 1 << 20

// readBody reads a body once, into its digest: as a Cosmos query when the request says it is
// one, else as JSON when it is JSON, else as bytes.
func readBody(raw string, query bool) (body, *cosmosQuery) {
	b := body{raw: raw}
	if strings.TrimSpace(raw) == "" {
		return b, nil
	}
	b.present = true
	if query && len(raw) <= maxQueryBody {
		if v, ok := parseJSON(raw); ok {
			if sql := cosmosQueryOf(v); sql != nil {
				b.sum = digest('q', sql.canonical())
				return b, sql
			}
		}
	}
	if sum, ok := jsonDigest(raw); ok {
		b.sum = sum
	} else {
		b.sum = digest('r', raw)
	}
	return b, nil
}

// digest is the first half of the SHA-256 of a domain tag and s, fed in pieces so a large body
// is not copied whole. The tags keep a query, raw bytes and a JSON value's representation
// (which starts with its own tag) from ever sharing a digest.
func digest(tag byte, s string) [16]byte {
	h := sha256.New()
	h.Write([]byte{tag})
	for len(s) > 0 {
		n := min(len(s), 32<<10)
		h.Write([]byte(s[:n]))
		s = s[n:]
	}
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

// isQueryBody: Cosmos SQL queries are posted as application/query+json.
func isQueryBody(r *cassette.Request) bool {
	for _, ct := range headerValues(r, "Content-Type") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/query+json") {
			return true
		}
	}
	return false
}

func headerValues(r *cassette.Request, name string) []string {
	if v, ok := r.Headers[name]; ok {
		return v
	}
	for k, v := range r.Headers { // recorded files may use any case
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func canonicalHost(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// Key is the identity of a request: requests with equal keys get the same recorded answers.
func Key(r *cassette.Request) (string, error) {
	p, err := split(r)
	if err != nil {
		return "", err
	}
	return p.key(), nil
}

func (p parts) key() string {
	return string(p.appendKey(make([]byte, 0, p.keyLen())))
}

// keyLen is the length of p's key.
func (p parts) keyLen() int {
	n := len(p.method) + len(p.host) + len(p.path) + len(p.encodedQuery()) + 2
	for i, v := range p.headers {
		if v != "" {
			n += len(SignificantHeaders[i]) + len(v) + 3
		}
	}
	if p.body.present {
		n += len("\nbody ") + 2*len(p.body.sum)
	}
	return n
}

// encodedQuery is the query as the key spells it: sorted by name.
func (p parts) encodedQuery() string {
	if len(p.query) == 0 {
		return ""
	}
	return p.query.Encode()
}

// appendKey appends p's key to b.
func (p parts) appendKey(b []byte) []byte {
	b = append(b, p.method...)
	b = append(b, ' ')
	b = append(b, p.host...)
	b = append(b, p.path...)
	b = append(b, '?')
	b = append(b, p.encodedQuery()...)
	for i, v := range p.headers {
		if v != "" {
			b = append(b, '\n')
			b = append(b, SignificantHeaders[i]...)
			b = append(b, ": "...)
			b = append(b, v...)
		}
	}
	if p.body.present {
		b = append(b, "\nbody "...)
		b = hex.AppendEncode(b, p.body.sum[:])
	}
	return b
}

// canonicalBody is a body's canonical text: JSON structurally (key order and number spelling
// ignored), anything else as it is.
func canonicalBody(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	if v, ok := parseJSON(raw); ok {
		return canonicalJSON(v)
	}
	return raw
}

// jsonString quotes s as JSON (not Go) so canonical bodies stay valid JSON, without HTML escaping.
func jsonString(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] != '"' && s[i] != '\\'
	}
	if plain {
		return `"` + s + `"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// queryDiff lists query parameters that differ, sorted by name.
func queryDiff(req, rec url.Values) []string {
	names := map[string]bool{}
	for k := range req {
		names[k] = true
	}
	for k := range rec {
		names[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(mapsKeys(names)) {
		a, b := req[k], rec[k]
		if slices.Equal(a, b) {
			continue
		}
		out = append(out, fmt.Sprintf("query parameter %q: request %s, recorded %s", k, show(a), show(b)))
	}
	return out
}

func show(vals []string) string {
	if len(vals) == 0 {
		return "absent"
	}
	return strconv.Quote(strings.Join(vals, ","))
}
