package redact

import (
	"encoding/json"
	"strings"
	"testing"
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
