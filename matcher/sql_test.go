package matcher

import (
	"slices"
	"strings"
	"testing"
)

// TestQueryBodyEquivalence: pairs of Cosmos query bodies that must and must not match.
func TestQueryBodyEquivalence(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"identical", `{"query":"SELECT * FROM c"}`, `{"query":"SELECT * FROM c"}`, true},
		{"keyword case", `{"query":"select * from c where c.n > 1"}`, `{"query":"SELECT * FROM c WHERE c.n > 1"}`, true},
		{"mixed keyword case", `{"query":"SeLeCt VALUE c.id FrOm c"}`, `{"query":"SELECT VALUE c.id FROM c"}`, true},
		{"whitespace runs and newlines", "{\"query\":\"SELECT *\\n  FROM c\\tWHERE  c.n > 1\"}", `{"query":"SELECT * FROM c WHERE c.n > 1"}`, true},
		{"no spaces around operators", `{"query":"SELECT * FROM c WHERE c.n>=@min"}`, `{"query":"SELECT * FROM c WHERE c.n >= @min"}`, true},
		{"leading and trailing space", `{"query":"  SELECT * FROM c  "}`, `{"query":"SELECT * FROM c"}`, true},
		{"comments ignored", `{"query":"SELECT * FROM c -- all\n"}`, `{"query":"SELECT * FROM c"}`, true},
		{"string literal spaces kept", `{"query":"SELECT * FROM c WHERE c.s = 'a  b'"}`, `{"query":"SELECT * FROM c WHERE c.s = 'a b'"}`, false},
		{"string literal case kept", `{"query":"SELECT * FROM c WHERE c.s = 'Abc'"}`, `{"query":"SELECT * FROM c WHERE c.s = 'abc'"}`, false},
		{"keyword inside a string untouched", `{"query":"SELECT * FROM c WHERE c.s = 'select'"}`, `{"query":"SELECT * FROM c WHERE c.s = 'SELECT'"}`, false},
		{"escaped quote in string", `{"query":"SELECT * FROM c WHERE c.s = 'it\\'s  x'"}`, `{"query":"select * from c where c.s = 'it\\'s  x'"}`, true},
		{"identifier case kept", `{"query":"SELECT * FROM c WHERE c.Name = 'x'"}`, `{"query":"SELECT * FROM c WHERE c.name = 'x'"}`, false},
		{"property named like a keyword", `{"query":"SELECT c.value FROM c"}`, `{"query":"SELECT c.VALUE FROM c"}`, false},
		{"different operator", `{"query":"SELECT * FROM c WHERE c.n > @min"}`, `{"query":"SELECT * FROM c WHERE c.n >= @min"}`, false},
		{"order direction", `{"query":"SELECT * FROM c ORDER BY c.n ASC"}`, `{"query":"SELECT * FROM c ORDER BY c.n DESC"}`, false},
		{"parameter order", `{"query":"q","parameters":[{"name":"@a","value":1},{"name":"@b","value":2}]}`, `{"query":"q","parameters":[{"name":"@b","value":2},{"name":"@a","value":1}]}`, true},
		{"parameter key order", `{"query":"q","parameters":[{"value":1,"name":"@a"}]}`, `{"parameters":[{"name":"@a","value":1}],"query":"q"}`, true},
		{"empty parameters equal none", `{"query":"q","parameters":[]}`, `{"query":"q"}`, true},
		{"null parameters equal none", `{"query":"q","parameters":null}`, `{"query":"q"}`, true},
		{"parameter value differs", `{"query":"q","parameters":[{"name":"@min","value":5}]}`, `{"query":"q","parameters":[{"name":"@min","value":6}]}`, false},
		{"parameter name differs", `{"query":"q","parameters":[{"name":"@min","value":5}]}`, `{"query":"q","parameters":[{"name":"@max","value":5}]}`, false},
		{"number 1 vs 1.0", `{"query":"q","parameters":[{"name":"@n","value":1}]}`, `{"query":"q","parameters":[{"name":"@n","value":1.0}]}`, true},
		{"number 1 vs 1e0", `{"query":"q","parameters":[{"name":"@n","value":1}]}`, `{"query":"q","parameters":[{"name":"@n","value":1e0}]}`, true},
		{"number vs string", `{"query":"q","parameters":[{"name":"@n","value":1}]}`, `{"query":"q","parameters":[{"name":"@n","value":"1"}]}`, false},
		{"nested object parameter key order", `{"query":"q","parameters":[{"name":"@o","value":{"a":1,"b":[1,{"c":true}]}}]}`, `{"query":"q","parameters":[{"name":"@o","value":{"b":[1,{"c":true}],"a":1}}]}`, true},
		{"nested object parameter differs", `{"query":"q","parameters":[{"name":"@o","value":{"a":1,"b":[1,2]}}]}`, `{"query":"q","parameters":[{"name":"@o","value":{"a":1,"b":[2,1]}}]}`, false},
		{"unicode literal", `{"query":"SELECT * FROM c WHERE c.city = 'Zürich 東京'"}`, `{"query":"select * from c where c.city = 'Zürich 東京'"}`, true},
		{"unicode literal differs", `{"query":"SELECT * FROM c WHERE c.city = 'Zürich'"}`, `{"query":"SELECT * FROM c WHERE c.city = 'Zurich'"}`, false},
		{"unicode escape in JSON", `{"query":"SELECT * FROM c WHERE c.s = '\u00e9'"}`, `{"query":"SELECT * FROM c WHERE c.s = 'é'"}`, true},
		{"double-quoted literal", `{"query":"SELECT * FROM c WHERE c.s = \"A  B\""}`, `{"query":"select * from c where c.s = \"A  B\""}`, true},
		{"true keyword case", `{"query":"SELECT * FROM c WHERE c.ok = true"}`, `{"query":"SELECT * FROM c WHERE c.ok = TRUE"}`, true},
		{"extra field kept", `{"query":"q","parameters":[]}`, `{"query":"q","options":{"x":1}}`, false},
		{"bracket property keeps case", `{"query":"SELECT * FROM c WHERE c['Name'] = 1"}`, `{"query":"SELECT * FROM c WHERE c['name'] = 1"}`, false},
		{"numbers in text as written", `{"query":"SELECT * FROM c WHERE c.n = 1"}`, `{"query":"SELECT * FROM c WHERE c.n = 1.0"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := req("POST", acct+"/dbs/d/colls/c/docs", tt.a, "Content-Type", "application/query+json")
			b := req("POST", acct+"/dbs/d/colls/c/docs", tt.b, "Content-Type", "application/query+json")
			if got := mustKey(t, a) == mustKey(t, b); got != tt.same {
				t.Errorf("same=%v, want %v\n a: %s\n b: %s", got, tt.same, tt.a, tt.b)
			}
		})
	}
	if len(tests) < 25 {
		t.Fatalf("only %d pairs", len(tests))
	}
}

// Only query bodies get SQL normalisation: the same JSON posted as a document keeps its text.
func TestQueryFormOnlyForQueryContentType(t *testing.T) {
	a := req("POST", acct+"/dbs/d/colls/c/docs", `{"query":"select * from c"}`, "Content-Type", "application/json")
	b := req("POST", acct+"/dbs/d/colls/c/docs", `{"query":"SELECT * FROM c"}`, "Content-Type", "application/json")
	if mustKey(t, a) == mustKey(t, b) {
		t.Error("document bodies were compared as SQL")
	}
}

func TestSQLTokens(t *testing.T) {
	got := strings.Join(sqlTokens("select c.id,c.value from c where c.n>=@min and c.s='a b' -- x\nORDER by c.n"), "|")
	want := "SELECT|c|.|id|,|c|.|value|FROM|c|WHERE|c|.|n|>=|@min|AND|c|.|s|=|'a b'|ORDER|BY|c|.|n"
	if got != want {
		t.Errorf("tokens\n got %s\nwant %s", got, want)
	}
}

// A query text read before gives the tokens reading it anew gives, shared.
func TestSQLTextRemembered(t *testing.T) {
	for _, q := range []string{
		"SELECT * FROM c WHERE c.pk = @pk AND c.n >= @min ORDER BY c.n",
		"select value count(1) from c -- comment\n where c.x = 'a''b'",
		"SELECT c.id FROM c /* block */ WHERE c.v != @v",
		"",
	} {
		first, again := sqlTextOf(q), sqlTextOf(strings.Clone(q))
		want := sqlTokens(q)
		if !slices.Equal(first.tokens, want) || !slices.Equal(again.tokens, want) || first.joined != strings.Join(want, " ") {
			t.Errorf("%q: tokens %q and %q, read anew %q", q, first.tokens, again.tokens, want)
		}
		if first != again {
			t.Errorf("%q: read twice, not remembered", q)
		}
	}
	long := "SELECT * FROM c WHERE c.x = '" + strings.Repeat("x", maxSQLText) + "'"
	if sqlTextOf(long) == sqlTextOf(long) {
		t.Error("a text over the bound was remembered")
	}
}
