package matcher

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// sqlKeywords are Cosmos DB NoSQL reserved words. Their case does not matter to the service, so
// it does not matter to matching; identifiers and string literals keep their case.
var sqlKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`AND ARRAY AS ASC BETWEEN BY CASE CAST CONVERT CROSS DESC DISTINCT
		ELSE END ESCAPE EXISTS FALSE FOR FROM GROUP HAVING IN INNER INSERT INTO IS JOIN LEFT LIKE LIMIT
		NOT NULL OFFSET ON OR ORDER OUTER OVER RIGHT SELECT SET THEN TOP TRUE UDF UNDEFINED UPDATE
		VALUE WHEN WHERE WITH`) {
		sqlKeywords[k] = true
	}
}

// sqlTokens splits Cosmos SQL into tokens: whitespace and comments vanish, keywords are upper-cased
// (except after a dot, where they name a property), everything else is kept as written.
func sqlTokens(q string) []string {
	toks := make([]string, 0, len(q)/4+1) // a token and its space are about 4 bytes on average
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(q) && q[i+1] == '-': // line comment
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*': // block comment
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				i = len(q)
			} else {
				i += end + 4
			}
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				if q[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(q))
			toks = append(toks, q[i:j])
			i = j
		case isWordByte(c) || c == '@':
			j := i + 1
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			w := q[i:j]
			if up := strings.ToUpper(w); sqlKeywords[up] && (len(toks) == 0 || toks[len(toks)-1] != ".") {
				w = up
			}
			toks = append(toks, w)
			i = j
		default:
			n := 1
			if i+1 < len(q) && slices.Contains([]string{">=", "<=", "<>", "!=", "||", "??"}, q[i:i+2]) {
				n = 2
			}
			toks = append(toks, q[i:i+n])
			i += n
		}
	}
	return toks
}

// sqlText is a query text read into tokens.
type sqlText struct {
	tokens []string
	joined string
}

// sqlTexts remembers the query texts read (a cassette runs a few queries many times, with other
// parameters): up to maxSQLTexts of them, of up to maxSQLText bytes, for the life of the process.
var (
	sqlTexts     sync.Map // text -> *sqlText
	sqlTextsKept atomic.Int32
)

const (
	maxSQLTexts = 4096
	maxSQLText  = 4 << 10
)

// sqlTextOf is the tokens of query text q, remembered.
func sqlTextOf(q string) *sqlText {
	if v, ok := sqlTexts.Load(q); ok {
		return v.(*sqlText)
	}
	t := &sqlText{tokens: sqlTokens(q)}
	t.joined = strings.Join(t.tokens, " ")
	if len(q) <= maxSQLText && sqlTextsKept.Load() < maxSQLTexts {
		if _, loaded := sqlTexts.LoadOrStore(strings.Clone(q), t); !loaded {
			sqlTextsKept.Add(1)
		}
	}
	return t
}

// isWordByte covers identifiers, numbers and any non-ASCII (UTF-8) byte.
func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// cosmosQuery is a query body ({"query": ..., "parameters": [...]}) in canonical form.
type cosmosQuery struct {
	tokens []string          // read only: shared by the queries of one text (sqlTextOf)
	joined string            // the tokens joined by spaces
	params map[string]string // name -> canonical JSON value
	extra  string            // any other top-level fields, canonical
}

// cosmosQueryOf reads a parsed Cosmos query body; nil when v is not one.
func cosmosQueryOf(v *jsonValue) *cosmosQuery {
	text := v.member("query")
	if text == nil || text.kind != jString {
		return nil
	}
	st := sqlTextOf(text.text)
	q := &cosmosQuery{tokens: st.tokens, joined: st.joined, params: map[string]string{}}
	if list := v.member("parameters"); list != nil && list.kind != jNull {
		if list.kind != jArray {
			return nil
		}
		for _, p := range list.kids {
			name := p.member("name")
			if name == nil || name.kind != jString {
				return nil
			}
			value := "null" // a parameter without a value is null, as a missing field decodes
			if val := p.member("value"); val != nil {
				value = canonicalJSON(val)
			}
			q.params[name.text] = value
		}
	}
	rest := &jsonValue{kind: jObject}
	for i, k := range v.keys {
		if k != "query" && k != "parameters" {
			rest.keys = append(rest.keys, k)
			rest.kids = append(rest.kids, v.kids[i])
		}
	}
	if len(rest.keys) > 0 {
		q.extra = canonicalJSON(rest)
	}
	return q
}

// canonical is the form that goes into the match key.
func (q *cosmosQuery) canonical() string {
	var b strings.Builder
	b.WriteString("sql:")
	b.WriteString(q.joined)
	for _, name := range slices.Sorted(mapsKeys(q.params)) {
		b.WriteString("\nparam " + name + "=" + q.params[name])
	}
	if q.extra != "" {
		b.WriteString("\nextra " + q.extra)
	}
	return b.String()
}

// diff names what differs between a live query (q) and a recorded one (r).
func (q *cosmosQuery) diff(r *cosmosQuery) []string {
	var out []string
	if !slices.Equal(q.tokens, r.tokens) {
		i := 0
		for i < len(q.tokens) && i < len(r.tokens) && q.tokens[i] == r.tokens[i] {
			i++
		}
		out = append(out, fmt.Sprintf("query text differs at token %d: request %q, recorded %q",
			i+1, sqlExcerpt(q.tokens, i), sqlExcerpt(r.tokens, i)))
	}
	names := map[string]bool{}
	for n := range q.params {
		names[n] = true
	}
	for n := range r.params {
		names[n] = true
	}
	for _, n := range slices.Sorted(mapsKeys(names)) {
		a, aok := q.params[n]
		b, bok := r.params[n]
		switch {
		case !aok:
			out = append(out, fmt.Sprintf("parameter %s: absent in the request, %s in the cassette", n, b))
		case !bok:
			out = append(out, fmt.Sprintf("parameter %s: %s in the request, absent in the cassette", n, a))
		case a != b:
			out = append(out, fmt.Sprintf("parameter %s is %s in the request and %s in the cassette", n, a, b))
		}
	}
	if q.extra != r.extra {
		out = append(out, fmt.Sprintf("query body fields: request %s, recorded %s", orNone(q.extra), orNone(r.extra)))
	}
	return out
}

// sqlExcerpt shows the tokens around position i: three before, up to eight from it.
func sqlExcerpt(toks []string, i int) string {
	from := max(0, i-3)
	to := min(len(toks), i+8)
	s := renderSQL(toks[from:to])
	if from > 0 {
		s = "... " + s
	}
	if to < len(toks) {
		s += " ..."
	}
	if i >= len(toks) {
		s += " <end of query>"
	}
	return s
}

// renderSQL joins tokens as SQL is usually written: c.n, f(x), a, b.
func renderSQL(toks []string) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && t != "." && t != "," && t != ")" && t != "]" && toks[i-1] != "." && toks[i-1] != "(" && toks[i-1] != "[" {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
