// Package matcher decides which recorded interaction answers a live request: the match key,
// first-in-first-out sequencing per key, and the diagnostics that explain a miss.
package matcher

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"sort"
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

var significant = map[string]bool{}

func init() {
	for _, h := range SignificantHeaders {
		significant[http.CanonicalHeaderKey(h)] = true
	}
}

// parts is a request reduced to what identifies it.
type parts struct {
	method  string
	host    string // scheme://host[:port], lower case, default port dropped
	path    string
	query   url.Values
	body    string       // canonical form
	sql     *cosmosQuery // set for Cosmos SQL query bodies
	headers map[string]string
}

func split(r *cassette.Request) (parts, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return parts{}, fmt.Errorf("request url %q: %w", r.URL, err)
	}
	p := parts{
		method:  strings.ToUpper(r.Method),
		host:    canonicalHost(u),
		path:    u.EscapedPath(),
		query:   u.Query(),
		headers: map[string]string{},
	}
	if isQueryBody(r) {
		p.sql, _ = parseCosmosQuery([]byte(r.Body))
	}
	if p.sql != nil {
		p.body = p.sql.canonical()
	} else {
		p.body = canonicalBody([]byte(r.Body))
	}
	if p.path == "" {
		p.path = "/"
	}
	for name, vals := range r.Headers {
		// Recorded files may spell names in any case. An empty value is the same as no header:
		// SDKs send either for "none".
		if h := http.CanonicalHeaderKey(name); significant[h] {
			if v := strings.Join(vals, ","); v != "" {
				p.headers[h] = v
			}
		}
	}
	return p, nil
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
	var b strings.Builder
	b.WriteString(p.method)
	b.WriteByte(' ')
	b.WriteString(p.host)
	b.WriteString(p.path)
	b.WriteByte('?')
	b.WriteString(p.query.Encode()) // Encode sorts by key
	for _, h := range SignificantHeaders {
		if v, ok := p.headers[h]; ok {
			b.WriteString("\n" + h + ": " + v)
		}
	}
	if p.body != "" {
		sum := sha256.Sum256([]byte(p.body))
		b.WriteString("\nbody " + hex.EncodeToString(sum[:16]))
	}
	return b.String()
}

// canonicalBody compares JSON structurally (key order and number spelling ignored) and anything
// else byte for byte.
func canonicalBody(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	v, ok := decodeJSON(body)
	if !ok {
		return string(body)
	}
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func decodeJSON(body []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, false
	}
	return v, true
}

func writeCanonical(b *strings.Builder, v any) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonString(k))
			b.WriteByte(':')
			writeCanonical(b, t[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case json.Number:
		b.WriteString(canonicalNumber(t))
	case string:
		b.WriteString(jsonString(t))
	default: // bool, nil
		data, _ := json.Marshal(t)
		b.Write(data)
	}
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

// canonicalNumber spells equal JSON numbers alike: 1, 1.0, 1e0 and 1E+0 are one value. Integer
// literals are kept exact, others go through float64, and only values beyond float64's range
// need arbitrary precision.
func canonicalNumber(n json.Number) string {
	s := string(n)
	if isIntLiteral(s) {
		if s == "-0" {
			return "0"
		}
		return s
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && significantDigits(s) <= 15 { // exact in float64
		if f == math.Trunc(f) && math.Abs(f) < 1e21 {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	f, ok := new(big.Float).SetPrec(200).SetString(s)
	if !ok || f.IsInf() { // beyond big.Float's exponent range: compare as written
		return s
	}
	if f.IsInt() && f.MantExp(nil) < 400 { // integral and below ~1e120: spelled out like an integer literal
		return f.Text('f', 0)
	}
	return f.Text('g', -1)
}

// significantDigits counts the mantissa digits of a JSON number, leading zeros aside.
func significantDigits(s string) int {
	n, leading := 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' || (leading && c == '0') {
			continue
		}
		leading = false
		n++
	}
	return n
}

func isIntLiteral(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
