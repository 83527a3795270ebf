package redact

import (
	"reflect"
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
