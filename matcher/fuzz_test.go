package matcher

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzSQL: any query text tokenizes without panic into a canonical form that spacing between
// its tokens does not change, and whose keyword case does not matter.
func FuzzSQL(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM c WHERE c.n > @min ORDER BY c.n",
		"select c.id, c['value'] from c -- note\nwhere c.s = 'it''s' /* block */ and c.x != 1.5e3",
		"SELECT VALUE COUNT(1) FROM c JOIN t IN c.tags WHERE t ?? 'x' || 'y'",
		"'unterminated", "/* open", "c.select.FROM", "a--b", "\"q\\\"\" @p", "é SELECT ü",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		toks := sqlTokens(q)
		respaced := sqlTokens(strings.Join(toks, "  \n "))
		if strings.Join(respaced, "\x00") != strings.Join(toks, "\x00") {
			t.Fatalf("respacing changed the tokens:\n%q\n%q", toks, respaced)
		}
		var words []string
		for i, tok := range toks {
			if sqlKeywords[tok] && (i == 0 || toks[i-1] != ".") { // after a dot, a property name
				tok = strings.ToLower(tok)
			}
			words = append(words, tok)
		}
		if lower := sqlTokens(strings.Join(words, " ")); strings.Join(lower, "\x00") != strings.Join(toks, "\x00") {
			t.Fatalf("keyword case changed the tokens:\n%q\n%q", toks, lower)
		}
	})
}

// FuzzKey: any request body keys without panic; a JSON body's key is the key of the same
// document written another way (decoded and encoded again, keys reordered, spacing changed),
// and its canonical form is JSON that canonicalises to itself.
func FuzzKey(f *testing.F) {
	for _, s := range []string{
		`{"n":1e21,"m":1000000000000000000000,"z":-0,"f":1.50}`, `{"n":1e6666666}`, `{"n":1e20000000}`,
		`{"query":"SELECT * FROM c WHERE c.n = @n","parameters":[{"name":"@n","value":1.0}]}`,
		`{"b":[1,{"c":"\u00e9\ud83d\ude80"}],"a":null,"a":true}`, `[[[[[[[[[[1]]]]]]]]]]`,
		strings.Repeat(`{"a":`, 2000) + "1" + strings.Repeat("}", 2000), `"\ud800"`, "\"\xff\"", `{"a":1} {"b":2}`, `12.5e-1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := req("POST", acct+"/dbs/d/colls/c/docs", body, "Content-Type", "application/query+json")
		k, err := Key(r)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := parseJSON(body)
		if !ok {
			return
		}
		canonical := canonicalJSON(v)
		again, ok := parseJSON(canonical)
		if !ok || canonicalJSON(again) != canonical || !json.Valid([]byte(canonical)) {
			t.Fatalf("canonical form %q of %q is not a fixed point", canonical, body)
		}
		// The digest (what keys use) and the tree (what a miss shows) agree.
		if d1, _ := jsonDigest(body); d1 != func() [16]byte { d2, _ := jsonDigest(canonical); return d2 }() {
			t.Fatalf("%q and its canonical form %q digest differently", body, canonical)
		}
		// encoding/json reads the same document (up to its nesting limit): written back its
		// way, it keys the same.
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var decoded any
		if dec.Decode(&decoded) != nil {
			return
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "   ")
		if enc.Encode(decoded) != nil {
			return
		}
		if k2, _ := Key(req("POST", acct+"/dbs/d/colls/c/docs", buf.String(), "Content-Type", "application/query+json")); k2 != k {
			t.Fatalf("%q and its re-encoding %q key differently", body, buf.String())
		}
	})
}
