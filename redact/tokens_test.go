package redact

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// FuzzListTokens: selecting from the tokens listed once selects what selecting from a
// json.Decoder does, and fails where it fails.
func FuzzListTokens(f *testing.F) {
	for _, seed := range []struct{ doc, path string }{
		{`{"id":"a","name":"n","properties":{"primaryKey":"k","etag":"e"}}`, `$..id`},
		{`{"value":[{"key":"k1"},{"key":"k2","token":"t"}],"\u0069d":"esc\u00e9\ud800"}`, `$.value[*].key`},
		{` [1, -2.5e+3, true, false, null, {"a": {"b": [ "x" ]}}] `, `$..b`},
		{`{"a":1}{"a":2}`, `$..a`},
		{`{"a":"\xff\xfe"}`, `$.a`},
		{`"top"`, `$..*`},
		{`{"a":[1,2,3],"b":{"a":"x"}}`, `$.a[1:]`},
		{`{"a":}`, `$.a`},
		{``, `$..a`},
	} {
		f.Add(seed.doc, seed.path)
	}
	f.Fuzz(func(t *testing.T, doc, path string) {
		j, err := ParseJSONPath(path)
		if err != nil {
			return
		}
		data := []byte(doc)
		want, wantOK := selectJSON(data, j, false)
		got, gotOK := selectTokens(data, listTokens(data), j, false)
		if gotOK != wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("%q on %q: %v %+v, want %v %+v", path, doc, gotOK, got, wantOK, want)
		}
	})
}

// FuzzEditedTokens: the tokens that follow an edit of selected values are those listed anew from
// the edited body.
func FuzzEditedTokens(f *testing.F) {
	f.Add(`{"id":"a","n":[{"id":1},{"id":true}],"x":{"id":null}}`, `$..id`, "S\u00e9\"q")
	f.Add(` [ "a" , "b" ] `, `$[1]`, "")
	f.Add(`{"id":"\u0041","k":"v"}`, `$.id`, "x\xffy")
	f.Fuzz(func(t *testing.T, doc, path, with string) {
		j, err := ParseJSONPath(path)
		if err != nil {
			return
		}
		var facts partFacts
		facts.of(doc)
		leaves, ok := facts.selectJSON(j)
		if !ok {
			return
		}
		var edits []edit
		for i, l := range leaves {
			edits = append(edits, edit{l.start, l.end, jsonQuote(fmt.Sprint(with, i))})
		}
		out := splice(doc, edits)
		facts.edited(out, edits)
		if facts.tokens == nil {
			t.Fatalf("%q on %q: the tokens were not carried over", path, doc)
		}
		if want := listTokens([]byte(out)); !reflect.DeepEqual(facts.tokens, want) {
			t.Errorf("%q on %q:\n got %+v\nwant %+v", path, doc, facts.tokens, want)
		}
	})
}

func TestJSONQuoteAsEncoder(t *testing.T) {
	for _, s := range []string{"", "plain text", `q"uote`, `back\slash`, "tab\t", "\x7f", "<html>&", "é", "\u2028", "\xff", "\x00"} {
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got, want := jsonQuote(s), strings.TrimSuffix(buf.String(), "\n"); got != want {
			t.Errorf("jsonQuote(%q) = %s, want %s", s, got, want)
		}
	}
}
