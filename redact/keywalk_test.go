package redact

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// walkKeyedBefore is how the members of a body were listed before walkKeyed validated as it
// went: json.Valid first, then this walk over a text known to be valid.
func walkKeyedBefore(data []byte, fn func(key []byte, escaped bool, start, end int)) {
	// In a valid text, a string followed (after spaces) by ':' is a key.
	for i := 0; i < len(data); {
		c := data[i]
		if c != '"' {
			i++
			continue
		}
		end, escaped := i+1, false
		for end < len(data) && data[end] != '"' {
			if data[end] == '\\' {
				escaped = true
				end++
			}
			end++
		}
		end++ // past the closing quote
		j := end
		for j < len(data) && isJSONSpace(data[j]) {
			j++
		}
		if j >= len(data) || data[j] != ':' {
			i = end // a string value
			continue
		}
		key := data[i:end]
		j++
		for j < len(data) && isJSONSpace(data[j]) {
			j++
		}
		switch data[j] {
		case '{', '[':
			fn(key, escaped, -1, -1)
			i = j
		case '"':
			vend := quotedEnd(data, j)
			fn(key, escaped, j, vend)
			i = vend
		default:
			vend := j
			for vend < len(data) && !isJSONSpace(data[vend]) && data[vend] != ',' && data[vend] != '}' && data[vend] != ']' {
				vend++
			}
			fn(key, escaped, j, vend)
			i = vend
		}
	}
}

// tokenTextBefore is the text the rules saw of a value's token, as a json.Decoder (UseNumber)
// reads it, before keyedValue.seen.
func tokenTextBefore(raw []byte) (string, bool) {
	var tok any
	switch raw[0] {
	case '"':
		tok = unquoteJSON(raw)
	case 't':
		tok = true
	case 'f':
		tok = false
	case 'n':
		return "", false
	default:
		tok = json.Number(raw)
	}
	switch v := tok.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	}
	return "", true
}

type keyedMember struct {
	key        string
	escaped    bool
	start, end int
	seen       string
	ok         bool
}

// checkWalkKeyed holds walkKeyed to json.Valid and the walk before it, and what the rules see of
// each value to what they saw.
func checkWalkKeyed(t *testing.T, s string) {
	t.Helper()
	var got, want []keyedMember
	valid := walkKeyed(s, func(key string, escaped bool, start, end int) {
		m := keyedMember{key: key, escaped: escaped, start: start, end: end}
		if start >= 0 {
			v := keyedValue{start: start, end: end}
			m.seen, m.ok = v.seen(s)
		}
		got = append(got, m)
	})
	if valid != json.Valid([]byte(s)) {
		t.Fatalf("%q: walkKeyed says valid %v, json.Valid %v", s, valid, !valid)
	}
	if !valid {
		return
	}
	walkKeyedBefore([]byte(s), func(key []byte, escaped bool, start, end int) {
		m := keyedMember{key: string(key), escaped: escaped, start: start, end: end}
		if start >= 0 {
			m.seen, m.ok = tokenTextBefore([]byte(s[start:end]))
		}
		want = append(want, m)
	})
	if len(got) != len(want) {
		t.Fatalf("%q: %d members, want %d:\n%+v\n%+v", s, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%q: member %d %+v, want %+v", s, i, got[i], want[i])
		}
	}
}

var walkKeyedCases = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, ` {"a" : [1, {"b":true}] , "c":null} `, `{"a":1,}`, `[1,]`, `{,}`, `{"a"}`, `{"a":}`,
	`{"a":1 "b":2}`, `{"a":1}{"b":2}`, `{"a":1}x`, `"s"`, `1`, `-`, `-0`, `-01`, `01`, `1.`, `1.5`, `1e`, `1e+`, `1E-5`, `1.5e10`,
	`tru`, `true`, `truex`, `[true,false,null]`, `[nul]`, `{"a":"\u00e9\n\"\\\/\b\f\r\t"}`, `{"a":"\u00g0"}`, `{"a":"\x"}`,
	"{\"a\":\"\x01\"}", "{\"a\":\"\x7f\xff\"}", `{"\u0069d":"x","i\"d":2}`, `{"a":"unterminated}`, `{"a":"\`, `{"a":"\u12`,
	`[1 2]`, `{"a":[}`, `[{]}`, `{"a":{"b":{"c":[1,2,{"d":"e"}]}}}`, "{\"a\":1}\n", "\t[\r\n]", `{"a":1]`, `[1}`, `{"a":-}`,
	`{"id":"order-1","n":1e5,"ok":false,"x":{"y":[{"id":2}]}}`, `{"a":"\ud800"}`, `{"a":"` + "\xed\xa0\x80" + `"}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 9999) + `{}` + strings.Repeat("}", 9999), strings.Repeat(`{"a":`, 10000) + `{}` + strings.Repeat("}", 10000),
}

func TestWalkKeyedAsBefore(t *testing.T) {
	for _, s := range walkKeyedCases {
		checkWalkKeyed(t, s)
	}
}

func FuzzWalkKeyed(f *testing.F) {
	for _, s := range walkKeyedCases {
		if len(s) < 1000 {
			f.Add(s)
		}
	}
	f.Fuzz(checkWalkKeyed)
}

// keyRunRules are body-key rules of every shape a key run treats apart: $..name paths (one
// name twice), paths through several names, indices, wildcards and unions, a key with an
// escape, and regexes that change some values and not others.
func keyRunRules(t testing.TB) []*SanitizerRule {
	var rules []*SanitizerRule
	for _, s := range []struct{ path, re, value string }{
		{"$..id", ".+", "S"},
		{"$..adminPassword.value", ".+", "S"},
		{"$.value[*].key", ".+", "K"},
		{"$..name", "(?<n>a)", "bb"},
		{"$.properties.secret", ".+", "S"},
		{"$..id", "S", "SS"},
		{"$.a[0].b", "x", "y"},
		{"$..['a/b','c']", ".+", "S"},
		{"$..*.deep", ".+", "D"},
		{"$..token", "t", "T\""},
		{"$..n", "1", "one"},
	} {
		r, err := NewSanitizerRule(Sanitizer{Parts: PartBody, JSONPath: s.path, Regex: s.re, Value: s.value})
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	return rules
}

// checkKeyRun holds a key run to its rules one by one over one body, as request and response.
func checkKeyRun(t *testing.T, rules []*SanitizerRule, set *SanitizerSet, body string) {
	t.Helper()
	isText := func(h http.Header) bool { return h.Get("Content-Type") != "binary" }
	mk := func() *cassette.Interaction {
		return &cassette.Interaction{
			Request: cassette.Request{Method: "PUT", URL: "https://x/", Body: body,
				Headers: http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(body))}}},
			Response: cassette.Response{Body: body, Headers: http.Header{"Content-Length": {"0"}, "content-length": {"1"}}},
		}
	}
	got, want := mk(), mk()
	set.Sanitize(got, SanitizeOptions{Bodies: true, IsText: isText})
	for _, r := range rules {
		r.Sanitize(want, SanitizeOptions{Bodies: true, IsText: isText})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body %q:\n got %+v\nwant %+v", body, got, want)
	}
}

var keyRunBodies = []string{
	`{"id":"a","name":"banana","n":1}`,
	`{"adminPassword":{"value":"p"},"value":"v"}`, `{"value":"v","x":{"adminPassword":1}}`,
	`{"value":[{"key":"k1"},{"key":"k2"}],"key":"top"}`, `{"key":"k","value":{"key":"k"}}`,
	`{"properties":{"secret":"s","id":"S"}}`, `{"secret":"s","properties":{}}`,
	`{"a":[{"b":"x"},{"b":"x"}]}`, `{"a":{"b":"x"}}`, `{"a/b":1,"c":[true,null],"d":{"c":false}}`,
	`{"x":{"deep":"d"},"deep":"top"}`, `{"\u0069d":"escaped","na\u006de":"aaa"}`, `{"token":"tt","id":null}`,
	`not json {"id":"x"}`, `{"id":"x"}{"id":"y"}`, `["id",{"id":1}]`, `{"n":11,"id":"\u00e9"}`, `{"id":"` + "\xff" + `"}`,
}

func TestKeyRunAsOneByOne(t *testing.T) {
	rules := keyRunRules(t)
	set := NewSanitizerSet(rules)
	if len(set.steps) != 1 || set.steps[0].keys == nil {
		t.Fatalf("the rules are not one key run")
	}
	for _, body := range keyRunBodies {
		checkKeyRun(t, rules, set, body)
	}
}

func FuzzKeyRun(f *testing.F) {
	for _, body := range keyRunBodies {
		f.Add(body)
	}
	rules := keyRunRules(f)
	set := NewSanitizerSet(rules)
	f.Fuzz(func(t *testing.T, body string) { checkKeyRun(t, rules, set, body) })
}
